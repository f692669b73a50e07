"""Store tables of self-assessments (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``assess1`` (store/migrations/versions/0002_assessments.py) creates them.

- ``assessment``: one self-assessment of an organisation against one catalog (framework + catalog version),
  for a scope and a set of roles; the approver and date once declared; JC-STAR label fields and validity.
- ``assessment_answer``: per catalog item the status, SSDF level (0-3), owner, due date and reason.
- ``assessment_evidence``: a file (SHA-256, size, modification time), a URL, or a mamori artifact
  (an SBOM, a scan report, triage records, VEX) attached to an item.
- ``assessment_proposal``: evidence mamori found for an item, with a suggested status, waiting for a person.
- ``assessment_history``: every change (who, when, field, old and new value, from CLI / XLSX / proposal).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class AssessmentRow(Base):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    framework: Mapped[str] = mapped_column(String(40))
    catalog_version: Mapped[str] = mapped_column(String(20))
    organization: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated, catalog.ROLES order
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))
    approver: Mapped[str | None] = mapped_column(Text)
    declared_on: Mapped[str | None] = mapped_column(String(10))
    valid_from: Mapped[str | None] = mapped_column(String(10))
    valid_until: Mapped[str | None] = mapped_column(String(10))
    label_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AnswerRow(Base):
    __tablename__ = "assessment_answer"

    assessment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str | None] = mapped_column(String(20))
    level: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(Text)
    due: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[str] = mapped_column(String(32))


class EvidenceRow(Base):
    __tablename__ = "assessment_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # file | url | artifact
    ref: Mapped[str] = mapped_column(Text)  # path, URL or artifact reference
    artifact_kind: Mapped[str | None] = mapped_column(String(20))  # sbom | scan | vex | triage
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    file_time: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_assessment_evidence_assessment_item", "assessment_id", "item_id"),)


class ProposalRow(Base):
    __tablename__ = "assessment_proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(40))
    artifact_kind: Mapped[str] = mapped_column(String(20))
    artifact_ref: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(Text)
    suggested_status: Mapped[str] = mapped_column(String(20))
    suggested_level: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[dict[str, str]] = mapped_column(JSON)  # {"ja": ..., "en": ...}
    state: Mapped[str] = mapped_column(String(10))  # pending | confirmed | rejected
    created_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_assessment_proposal_assessment_state", "assessment_id", "state"),)


class HistoryRow(Base):
    __tablename__ = "assessment_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"))
    item_id: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(20))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(10))  # cli | xlsx | proposal

    __table_args__ = (Index("ix_assessment_history_assessment_id", "assessment_id"),)

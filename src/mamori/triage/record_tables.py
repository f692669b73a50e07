"""The tables of triage records (``triage_record``, ``triage_history``) on the store's shared ``Base``.

Apart from :mod:`mamori.triage.records` so that reading records (a scan does) needs no SQLAlchemy; the
records module still offers both names.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class TriageRecordRow(Base):
    __tablename__ = "triage_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(200))
    release: Mapped[str] = mapped_column(String(100))
    component_purl: Mapped[str] = mapped_column(Text)
    vuln_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str | None] = mapped_column(String(64))
    responses: Mapped[str | None] = mapped_column(String(200))  # comma-separated CycloneDX labels
    detail: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(8), server_default="user")  # user | vex
    source: Mapped[str | None] = mapped_column(Text)  # vex: the document (file name, id)

    __table_args__ = (
        UniqueConstraint(
            "product",
            "release",
            "component_purl",
            "vuln_id",
            "origin",
            name="uq_triage_record_subject_origin",
        ),
        Index("ix_triage_record_product_release", "product", "release"),
    )


class TriageHistoryRow(Base):
    __tablename__ = "triage_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("triage_record.id", name="fk_triage_history_record_id"),  # as migration 0003 names it
    )
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # created | updated
    status: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str | None] = mapped_column(String(64))
    responses: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("record_id", "version", name="uq_triage_history_record_version"),)

"""Store tables of supplier contracts (Alembic migration ``0017_F_contract``).

- ``contract_terms``: per supplier the agreed SBOM transaction-model terms (JSON of
  :meth:`mamori.contract.terms.Terms.to_dict`), where they were read from, when and by whom.
- ``contract_questionnaire``: per supplier and framework the assessment that holds the supplier's answers to
  the questionnaire we sent (an assessment of the store whose organisation is the supplier).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.compliance import records as _assessment_tables  # noqa: F401  (``assessment``)
from mamori.store.schema import Base


class ContractTermsRow(Base):
    __tablename__ = "contract_terms"

    supplier: Mapped[str] = mapped_column(String(200), primary_key=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[str] = mapped_column(String(32))
    set_by: Mapped[str | None] = mapped_column(Text)


class ContractQuestionnaireRow(Base):
    __tablename__ = "contract_questionnaire"

    supplier: Mapped[str] = mapped_column(String(200), primary_key=True)
    framework: Mapped[str] = mapped_column(String(40), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("assessment.id", name="fk_contract_questionnaire_assessment", ondelete="CASCADE")
    )
    sent_at: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[str | None] = mapped_column(String(32))


class ContractTeamTermsRow(Base):
    """The terms a team of the team server agreed with a supplier (migration ``0018_J_supplier_teams``):
    two teams may name the same supplier with different terms; ``contract_terms`` stays the command line's."""

    __tablename__ = "contract_team_terms"

    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_team.id", ondelete="CASCADE"), primary_key=True
    )
    supplier: Mapped[str] = mapped_column(String(200), primary_key=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[str] = mapped_column(String(32))
    set_by: Mapped[str | None] = mapped_column(Text)

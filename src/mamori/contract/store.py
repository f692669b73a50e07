"""Reading and writing the contract tables (:mod:`mamori.contract.tables`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mamori.contract.tables import ContractQuestionnaireRow, ContractTermsRow
from mamori.contract.terms import Terms, from_dict
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def supplier_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InputError(None, _("SUPPLIER must be a name of 1-200 printable characters"))
    return text


def set_terms(store: Store, terms: Terms, actor: str | None = None) -> None:
    """Store (or replace) the supplier's terms."""
    with Session(store.engine) as session, session.begin():
        row = session.get(ContractTermsRow, terms.supplier)
        if row is None:
            row = ContractTermsRow(supplier=terms.supplier)
            session.add(row)
        row.terms, row.source, row.set_at, row.set_by = terms.to_dict(), terms.source, now(), actor


def get_terms(store: Store, supplier: str) -> Terms | None:
    with Session(store.engine) as session:
        row = session.get(ContractTermsRow, supplier)
        return from_dict(row.terms) if row is not None else None


def suppliers(store: Store) -> list[str]:
    from sqlalchemy import select

    with Session(store.engine) as session:
        return list(session.scalars(select(ContractTermsRow.supplier).order_by(ContractTermsRow.supplier)))


def link_questionnaire(store: Store, supplier: str, framework: str, assessment_id: int) -> None:
    with Session(store.engine) as session, session.begin():
        row = session.get(ContractQuestionnaireRow, (supplier, framework))
        if row is None:
            session.add(
                ContractQuestionnaireRow(
                    supplier=supplier, framework=framework, assessment_id=assessment_id, sent_at=now()
                )
            )
        else:
            row.assessment_id, row.sent_at, row.imported_at = assessment_id, now(), None


def questionnaire(store: Store, supplier: str, framework: str) -> int | None:
    """The id of the assessment holding the supplier's answers for ``framework``, if one was sent."""
    with Session(store.engine) as session:
        row = session.get(ContractQuestionnaireRow, (supplier, framework))
        return row.assessment_id if row is not None else None


def mark_imported(store: Store, supplier: str, framework: str) -> None:
    with Session(store.engine) as session, session.begin():
        row = session.get(ContractQuestionnaireRow, (supplier, framework))
        if row is not None:
            row.imported_at = now()


# -- the terms of the team server's teams (table contract_team_terms) --------------------------------
def set_team_terms(store: Store, team_id: int, terms: Terms, actor: str | None = None) -> None:
    """Store (or replace) the terms the team agreed with ``terms.supplier``."""
    from mamori.contract.tables import ContractTeamTermsRow

    with Session(store.engine) as session, session.begin():
        row = session.get(ContractTeamTermsRow, (team_id, terms.supplier))
        if row is None:
            row = ContractTeamTermsRow(team_id=team_id, supplier=terms.supplier)
            session.add(row)
        row.terms, row.source, row.set_at, row.set_by = terms.to_dict(), terms.source, now(), actor


def team_terms(
    store: Store, team_ids: list[int] | None, supplier: str | None = None
) -> list[tuple[int, Terms, str]]:
    """(team id, terms, set at) of the teams given (None: every team), of one supplier when given; by
    supplier, then team."""
    from sqlalchemy import select

    from mamori.contract.tables import ContractTeamTermsRow as R

    query = select(R).order_by(R.supplier, R.team_id)
    if team_ids is not None:
        query = query.where(R.team_id.in_(team_ids))
    if supplier is not None:
        query = query.where(R.supplier == supplier)
    with Session(store.engine) as session:
        return [(r.team_id, from_dict(r.terms), r.set_at) for r in session.scalars(query)]

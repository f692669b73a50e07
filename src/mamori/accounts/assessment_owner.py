"""Which team owns a self-assessment, and the declaration the team server made of it.

Table ``assessment_owner`` (Alembic migration ``assessment_owner``, 0012_assessment_owner.py): one row per
assessment made or claimed on the team server — the owning team, optionally the product it is about, the
last self-conformity declaration made on the server (the JSON of :func:`mamori.compliance.declaration.build`,
kept as it was declared) and when it was published to the team's customers.

An assessment without a row (made with ``mamori assess new`` on the command line) belongs to no team: only
an administrator sees it on the server, and can give it to a team.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from mamori.accounts import tables as _account_tables  # noqa: F401  (``account_team``)
from mamori.compliance import records as _assessment_tables  # noqa: F401  (``assessment``)
from mamori.store import Store
from mamori.store.schema import Base


class AssessmentOwnerRow(Base):
    __tablename__ = "assessment_owner"

    assessment_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("assessment.id", name="fk_assessment_owner_assessment", ondelete="CASCADE"),
        primary_key=True,
    )
    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_team.id", name="fk_assessment_owner_team"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("product.id", name="fk_assessment_owner_product")
    )
    declaration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    declared_at: Mapped[str | None] = mapped_column(String(32))
    declared_by: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(32))
    published_by: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class Owner:
    assessment_id: int
    team_id: int
    team: str
    product_id: int | None
    declaration: dict[str, Any] | None
    declared_at: str | None
    declared_by: str | None
    published_at: str | None
    published_by: str | None

    @property
    def published(self) -> bool:
        return self.published_at is not None and self.declaration is not None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def owners(store: Store, ids: list[int] | None = None) -> dict[int, Owner]:
    """The owner of each assessment that has one (of ``ids``, or every one)."""
    from mamori.accounts.tables import TeamRow

    o, tt = AssessmentOwnerRow.__table__, TeamRow.__table__
    stmt = select(o, tt.c.name.label("team")).join(tt, tt.c.id == o.c.team_id)
    if ids is not None:
        if not ids:
            return {}
        stmt = stmt.where(o.c.assessment_id.in_(sorted(set(ids))))
    with store.engine.connect() as conn:
        return {
            row.assessment_id: Owner(
                row.assessment_id,
                row.team_id,
                row.team,
                row.product_id,
                row.declaration,
                row.declared_at,
                row.declared_by,
                row.published_at,
                row.published_by,
            )
            for row in conn.execute(stmt)
        }


def owner(store: Store, assessment_id: int) -> Owner | None:
    return owners(store, [assessment_id]).get(assessment_id)


def set_owner(store: Store, assessment_id: int, team_id: int, product_id: int | None) -> None:
    """Give the assessment to a team (and a product); a declaration made before stays."""
    o = AssessmentOwnerRow.__table__
    with store.engine.begin() as conn:
        found = conn.execute(select(o.c.assessment_id).where(o.c.assessment_id == assessment_id)).first()
        if found is None:
            conn.execute(
                o.insert().values(assessment_id=assessment_id, team_id=team_id, product_id=product_id)
            )
        else:
            conn.execute(
                o.update()
                .where(o.c.assessment_id == assessment_id)
                .values(team_id=team_id, product_id=product_id)
            )


def save_declaration(store: Store, assessment_id: int, declaration: dict[str, Any], who: str) -> None:
    """Keep the declaration just made; it replaces the one before, and is not published until
    :func:`publish` (a published one is withdrawn by a new declaration)."""
    o = AssessmentOwnerRow.__table__
    with store.engine.begin() as conn:
        conn.execute(
            o.update()
            .where(o.c.assessment_id == assessment_id)
            .values(
                declaration=declaration,
                declared_at=_now(),
                declared_by=who,
                published_at=None,
                published_by=None,
            )
        )


def publish(store: Store, assessment_id: int, who: str) -> bool:
    """Publish the kept declaration to the team's customers; False when there is none."""
    o = AssessmentOwnerRow.__table__
    with store.engine.begin() as conn:
        done = conn.execute(
            o.update()
            .where(o.c.assessment_id == assessment_id, o.c.declaration.is_not(None))
            .values(published_at=_now(), published_by=who)
        )
    return bool(done.rowcount)

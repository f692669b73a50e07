"""Store tables of the deployed inventory (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``0017_G_inventory`` (store/migrations/versions/0017_G_inventory.py) creates them.

- ``deployment``: one place a supplier's product release runs: the site and system, notes on the
  environment, the SSVC context of *that* place (system exposure, mission impact, safety impact), the
  network placement, the owner's contact, since when it runs, an end-of-support date for this deployment
  when it differs from the release's, and whether it is ``active`` or ``retired`` (with when and by whom).
- ``release_support``: the end of support the supplier announced for a product release (one date per
  release, with where it was read and who set it).

Dates are ISO 8601 (``YYYY-MM-DD``); times UTC ISO 8601 strings, as in the other tables.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class DeploymentRow(Base):
    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product_release.id", name="fk_deployment_release")
    )
    site: Mapped[str] = mapped_column(String(200))
    system: Mapped[str | None] = mapped_column(String(200))
    environment: Mapped[str | None] = mapped_column(Text)
    system_exposure: Mapped[str | None] = mapped_column(String(32))  # small | controlled | open
    mission_impact: Mapped[str | None] = mapped_column(String(32))
    safety_impact: Mapped[str | None] = mapped_column(String(32))
    network: Mapped[str | None] = mapped_column(String(200))  # network placement, free text
    owner: Mapped[str | None] = mapped_column(Text)
    deployed_since: Mapped[str | None] = mapped_column(String(10))
    end_of_support: Mapped[str | None] = mapped_column(String(10))  # this deployment's, over the release's
    status: Mapped[str] = mapped_column(String(16))  # active | retired
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[str] = mapped_column(String(32))
    retired_at: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_deployment_release_id", "release_id"),
        Index("ix_deployment_site", "site"),
    )


class ReleaseSupportRow(Base):
    __tablename__ = "release_support"

    release_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product_release.id", name="fk_release_support_release"), primary_key=True
    )
    end_of_support: Mapped[str] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[str] = mapped_column(String(32))

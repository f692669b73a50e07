"""The source package of an OS package in the portfolio: ``portfolio_component.source_name``,
``source_version`` and ``source_name_key`` (indexed with ``ecosystem``), so stored components are
matched through their source package and a new advisory for a source finds the binaries built from
it (table ``portfolio_component`` of mamori.portfolio.tables). Components stored before keep NULL:
storing their SBOM again fills them.

Revision ID: portfolio_source1
Revises: coverage1
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "portfolio_source1"
down_revision = "coverage1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portfolio_component") as batch:
        batch.add_column(sa.Column("source_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source_version", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source_name_key", sa.Text(), nullable=True))
    op.create_index(
        "ix_portfolio_component_ecosystem_source", "portfolio_component", ["ecosystem", "source_name_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_portfolio_component_ecosystem_source", table_name="portfolio_component")
    with op.batch_alter_table("portfolio_component") as batch:
        batch.drop_column("source_name_key")
        batch.drop_column("source_version")
        batch.drop_column("source_name")

"""The portfolio dashboard's stored counts: table ``portfolio_memo`` of mamori.portfolio.tables (what the
findings lists and the dashboard count across the portfolio, with a digest of the store's state they
were counted at), so that a server just started reads them instead of counting every open finding.

Revision ID: 0019_F_portfolio_memo
Revises: 0019_B_bundle_jobs_team_keys
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_F_portfolio_memo"
down_revision = "0019_B_bundle_jobs_team_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolio_memo",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("portfolio_memo")

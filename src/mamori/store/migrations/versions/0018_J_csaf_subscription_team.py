"""The teams a CSAF subscription belongs to: table ``csaf_subscription_team`` of
mamori.advisory.subscription_tables.

Revision ID: 0018_J_csaf_subscription_team
Revises: 0017_C_csaf_subscription
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_J_csaf_subscription_team"
down_revision = "0017_C_csaf_subscription"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csaf_subscription_team",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["csaf_subscription.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "team_id"),
    )
    op.create_index(
        "ix_csaf_subscription_team_subscription_id", "csaf_subscription_team", ["subscription_id"]
    )
    op.create_index("ix_csaf_subscription_team_team_id", "csaf_subscription_team", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_csaf_subscription_team_team_id", table_name="csaf_subscription_team")
    op.drop_index("ix_csaf_subscription_team_subscription_id", table_name="csaf_subscription_team")
    op.drop_table("csaf_subscription_team")

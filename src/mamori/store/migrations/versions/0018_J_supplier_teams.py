"""The supplier side of the team server: the teams a CSAF subscription belongs to (table
``csaf_subscription_team`` of mamori.advisory.subscription_tables) and the contract terms each team agreed with
its suppliers (table ``contract_team_terms`` of mamori.contract.tables).

Revision ID: 0018_J_supplier_teams
Revises: 0017_C_csaf_subscription
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_J_supplier_teams"
down_revision = "0018_K_csaf_source_names"
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
    op.create_table(
        "contract_team_terms",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "supplier"),
    )


def downgrade() -> None:
    op.drop_table("contract_team_terms")
    op.drop_index("ix_csaf_subscription_team_team_id", table_name="csaf_subscription_team")
    op.drop_index("ix_csaf_subscription_team_subscription_id", table_name="csaf_subscription_team")
    op.drop_table("csaf_subscription_team")

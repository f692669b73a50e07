"""Incremental notification events: tables ``notify_watermark`` (the store-wide state the last computation
of events saw) and ``notify_finding_input`` (each open finding it saw, with the digest of its rows) of
mamori.notify.tables; the dashboard's stored SSVC outcomes: ``portfolio_ssvc_outcome`` of
mamori.portfolio.tables.

Revision ID: 0017_H_notify_watermark
Revises: 0016_F_psirt
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_H_notify_watermark"
down_revision = "0017_G_inventory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_watermark",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "notify_finding_input",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("release_id", "match_id"),
    )
    op.create_table(
        "portfolio_ssvc_outcome",
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("vuln_id", sa.String(200), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("variant", "vuln_id"),
    )


def downgrade() -> None:
    op.drop_table("portfolio_ssvc_outcome")
    op.drop_table("notify_finding_input")
    op.drop_table("notify_watermark")

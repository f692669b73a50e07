"""Subscriptions to suppliers' CSAF providers: tables ``csaf_subscription``, ``csaf_subscription_key`` and
``csaf_advisory`` of mamori.advisory.subscription_tables.

Revision ID: 0017_C_csaf_subscription
Revises: 0016_F_psirt
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_C_csaf_subscription"
down_revision = "0017_F_contract"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csaf_subscription",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("metadata_url", sa.Text(), nullable=False),
        sa.Column("given", sa.Text(), nullable=False),
        sa.Column("found_by", sa.String(16), nullable=False),
        sa.Column("publisher", sa.Text(), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("last_pull", sa.String(32), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("deviations", sa.Text(), nullable=False),
        sa.Column("watermarks", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("metadata_url"),
    )
    op.create_table(
        "csaf_subscription_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("armored", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["csaf_subscription.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "fingerprint"),
    )
    op.create_table(
        "csaf_advisory",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("tracking_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("current_release_date", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(16), nullable=False),
        sa.Column("pulled_at", sa.String(32), nullable=False),
        sa.Column("doc", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["csaf_subscription.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "url"),
    )
    op.create_index("ix_csaf_advisory_subscription_id", "csaf_advisory", ["subscription_id"])


def downgrade() -> None:
    op.drop_index("ix_csaf_advisory_subscription_id", table_name="csaf_advisory")
    op.drop_table("csaf_advisory")
    op.drop_table("csaf_subscription_key")
    op.drop_table("csaf_subscription")

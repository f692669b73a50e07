"""Notifications (tables of mamori.notify.tables): teams' subscriptions, events computed from the store,
deliveries (one per subscription and event: the dedup key), the delivery log, and what the last
computation saw of each finding and SBOM revision.

Revision ID: notify
Revises: assessment_owner
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "notify"
down_revision = "assessment_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_subscription",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("products", sa.Text(), nullable=True),
        sa.Column("min_severity", sa.String(16), nullable=True),
        sa.Column("ssvc_outcomes", sa.Text(), nullable=True),
        sa.Column("kev_only", sa.Boolean(), nullable=False),
        sa.Column("events", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], name="fk_notify_subscription_team"),
        sa.PrimaryKeyConstraint("id", name="pk_notify_subscription"),
    )
    op.create_index("ix_notify_subscription_team_id", "notify_subscription", ["team_id"])
    op.create_table(
        "notify_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("product", sa.String(200), nullable=True),
        sa.Column("release", sa.String(100), nullable=True),
        sa.Column("vuln_id", sa.String(200), nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("ssvc_outcome", sa.String(32), nullable=True),
        sa.Column("kev", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notify_event"),
        sa.UniqueConstraint("key", name="uq_notify_event_key"),
    )
    op.create_table(
        "notify_delivery",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.String(32), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["notify_subscription.id"], name="fk_notify_delivery_subscription"
        ),
        sa.ForeignKeyConstraint(["event_id"], ["notify_event.id"], name="fk_notify_delivery_event"),
        sa.PrimaryKeyConstraint("id", name="pk_notify_delivery"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_notify_delivery_subscription_event"),
    )
    op.create_index("ix_notify_delivery_state", "notify_delivery", ["state", "next_at"])
    op.create_table(
        "notify_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("error_class", sa.String(64), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notify_attempt"),
    )
    op.create_index("ix_notify_attempt_subscription_id", "notify_attempt", ["subscription_id"])
    op.create_table(
        "notify_finding_state",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("kev", sa.Boolean(), nullable=False),
        sa.Column("epss", sa.Float(), nullable=True),
        sa.Column("ssvc_outcome", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_notify_finding_state"),
    )
    op.create_table(
        "notify_sbom_score",
        sa.Column("sbom_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sbom_id", name="pk_notify_sbom_score"),
    )


def downgrade() -> None:
    op.drop_table("notify_sbom_score")
    op.drop_table("notify_finding_state")
    op.drop_table("notify_attempt")
    op.drop_index("ix_notify_delivery_state", table_name="notify_delivery")
    op.drop_table("notify_delivery")
    op.drop_table("notify_event")
    op.drop_index("ix_notify_subscription_team_id", table_name="notify_subscription")
    op.drop_table("notify_subscription")

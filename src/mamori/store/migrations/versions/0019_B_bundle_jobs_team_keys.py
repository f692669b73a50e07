"""Bundles received by the team server as background jobs (table ``bundle_job`` of mamori.bundle.tables) and
the OpenPGP keys each team pins for a CSAF subscription, with each advisory's signature state per team
(tables ``csaf_subscription_team_key`` and ``csaf_advisory_team`` of mamori.advisory.subscription_tables).

The keys a subscription had before are copied to each of its teams (they trusted them already); an
advisory's state per team starts as its shared state and is checked again by the next pull.

Revision ID: 0019_B_bundle_jobs_team_keys
Revises: 0019_G_knowledge_change
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_B_bundle_jobs_team_keys"
down_revision = "0019_G_knowledge_change"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_job",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("every_product", sa.Boolean(), nullable=False),
        sa.Column("bundle_sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.String(200), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["account_team.id"], name="fk_bundle_job_team", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_bundle_job_team_id", "bundle_job", ["team_id"])
    op.create_index("ix_bundle_job_state", "bundle_job", ["state"])
    op.create_table(
        "csaf_subscription_team_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("armored", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["csaf_subscription.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "team_id", "fingerprint"),
    )
    op.create_index(
        "ix_csaf_subscription_team_key_subscription_id", "csaf_subscription_team_key", ["subscription_id"]
    )
    op.create_index("ix_csaf_subscription_team_key_team_id", "csaf_subscription_team_key", ["team_id"])
    op.create_table(
        "csaf_advisory_team",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("advisory_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["advisory_id"], ["csaf_advisory.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("advisory_id", "team_id"),
    )
    op.create_index("ix_csaf_advisory_team_advisory_id", "csaf_advisory_team", ["advisory_id"])
    op.create_index("ix_csaf_advisory_team_team_id", "csaf_advisory_team", ["team_id"])
    op.execute(
        "INSERT INTO csaf_subscription_team_key (subscription_id, team_id, fingerprint, armored) "
        "SELECT k.subscription_id, t.team_id, k.fingerprint, k.armored FROM csaf_subscription_key k "
        "JOIN csaf_subscription_team t ON t.subscription_id = k.subscription_id"
    )
    op.execute(
        "INSERT INTO csaf_advisory_team (advisory_id, team_id, signature) "
        "SELECT a.id, t.team_id, a.signature FROM csaf_advisory a "
        "JOIN csaf_subscription_team t ON t.subscription_id = a.subscription_id"
    )


def downgrade() -> None:
    op.drop_index("ix_csaf_advisory_team_team_id", table_name="csaf_advisory_team")
    op.drop_index("ix_csaf_advisory_team_advisory_id", table_name="csaf_advisory_team")
    op.drop_table("csaf_advisory_team")
    op.drop_index("ix_csaf_subscription_team_key_team_id", table_name="csaf_subscription_team_key")
    op.drop_index("ix_csaf_subscription_team_key_subscription_id", table_name="csaf_subscription_team_key")
    op.drop_table("csaf_subscription_team_key")
    op.drop_index("ix_bundle_job_state", table_name="bundle_job")
    op.drop_index("ix_bundle_job_team_id", table_name="bundle_job")
    op.drop_table("bundle_job")

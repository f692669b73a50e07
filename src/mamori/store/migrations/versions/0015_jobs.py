"""Background jobs and their dedup keys: tables ``job`` and ``job_dedup`` of mamori.jobs.tables.

Revision ID: jobs
Revises: notify
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "jobs"
down_revision = "notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_kind", "job", ["kind"])
    op.create_index("ix_job_state", "job", ["state"])
    op.create_table(
        "job_dedup",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("done_at", sa.String(32), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("job_dedup")
    op.drop_index("ix_job_state", table_name="job")
    op.drop_index("ix_job_kind", table_name="job")
    op.drop_table("job")

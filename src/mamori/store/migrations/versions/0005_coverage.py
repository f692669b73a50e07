"""Coverage of the knowledge base: per source and scope (an OSV ecosystem, or ``cpe`` for the
CPE-keyed feeds NVD, CVE 5 and JVN), whether a complete feed of it was imported, from where and when
(table ``coverage`` of mamori.store.schema).

Revision ID: coverage1
Revises: portfolio1
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "coverage1"
down_revision = "portfolio1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("complete_at", sa.String(32), nullable=True),
        sa.Column("complete_origin", sa.Text(), nullable=True),
        sa.Column("partial_at", sa.String(32), nullable=True),
        sa.Column("partial_origin", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "scope", name="pk_coverage"),
    )


def downgrade() -> None:
    op.drop_table("coverage")

"""The team that owns a self-assessment on the team server, the product it is about, and the declaration
the server made of it (table ``assessment_owner`` of mamori.accounts.assessment_owner). Assessments made
before (or on the command line) have no row: they belong to no team, and only administrators see them.

Revision ID: assessment_owner
Revises: finding_priority
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_owner"
down_revision = "finding_priority"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_owner",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("declaration", sa.JSON(), nullable=True),
        sa.Column("declared_at", sa.String(32), nullable=True),
        sa.Column("declared_by", sa.Text(), nullable=True),
        sa.Column("published_at", sa.String(32), nullable=True),
        sa.Column("published_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name="fk_assessment_owner_assessment", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], name="fk_assessment_owner_team"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name="fk_assessment_owner_product"),
        sa.PrimaryKeyConstraint("assessment_id", name="pk_assessment_owner"),
    )
    op.create_index("ix_assessment_owner_team_id", "assessment_owner", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_owner_team_id", table_name="assessment_owner")
    op.drop_table("assessment_owner")

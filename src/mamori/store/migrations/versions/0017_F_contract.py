"""Supplier contracts: tables ``contract_terms`` and ``contract_questionnaire`` of mamori.contract.tables.

Revision ID: 0017_F_contract
Revises: 0016_F_psirt
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_F_contract"
down_revision = "0017_H_notify_watermark"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_terms",
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("supplier"),
    )
    op.create_table(
        "contract_questionnaire",
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("framework", sa.String(40), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.String(32), nullable=False),
        sa.Column("imported_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name="fk_contract_questionnaire_assessment",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("supplier", "framework"),
    )


def downgrade() -> None:
    op.drop_table("contract_questionnaire")
    op.drop_table("contract_terms")

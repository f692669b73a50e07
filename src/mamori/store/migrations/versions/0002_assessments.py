"""Self-assessments: assessments, answers per item, evidence, proposed evidence and change history
(tables of mamori.compliance.records).

Revision ID: assess1
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assess1"
down_revision = "0001"
branch_labels = None
depends_on = None

_ITEM = sa.String(40)


def _assessment_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("framework", sa.String(40), nullable=False),
        sa.Column("catalog_version", sa.String(20), nullable=False),
        sa.Column("organization", sa.Text(), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("approver", sa.Text(), nullable=True),
        sa.Column("declared_on", sa.String(10), nullable=True),
        sa.Column("valid_from", sa.String(10), nullable=True),
        sa.Column("valid_until", sa.String(10), nullable=True),
        sa.Column("label_fields", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_assessment"),
    )
    op.create_table(
        "assessment_answer",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", _ITEM, nullable=False),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("due", sa.String(10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=False),
        _assessment_fk(),
        sa.PrimaryKeyConstraint("assessment_id", "item_id", name="pk_assessment_answer"),
    )
    op.create_table(
        "assessment_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", _ITEM, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("artifact_kind", sa.String(20), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("file_time", sa.String(32), nullable=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _assessment_fk(),
        sa.PrimaryKeyConstraint("id", name="pk_assessment_evidence"),
    )
    op.create_index(
        "ix_assessment_evidence_assessment_item", "assessment_evidence", ["assessment_id", "item_id"]
    )
    op.create_table(
        "assessment_proposal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", _ITEM, nullable=False),
        sa.Column("artifact_kind", sa.String(20), nullable=False),
        sa.Column("artifact_ref", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("suggested_status", sa.String(20), nullable=False),
        sa.Column("suggested_level", sa.Integer(), nullable=True),
        sa.Column("reason", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        _assessment_fk(),
        sa.PrimaryKeyConstraint("id", name="pk_assessment_proposal"),
    )
    op.create_index(
        "ix_assessment_proposal_assessment_state", "assessment_proposal", ["assessment_id", "state"]
    )
    op.create_table(
        "assessment_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", _ITEM, nullable=True),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("via", sa.String(10), nullable=False),
        _assessment_fk(),
        sa.PrimaryKeyConstraint("id", name="pk_assessment_history"),
    )
    op.create_index("ix_assessment_history_assessment_id", "assessment_history", ["assessment_id"])


def downgrade() -> None:
    for table in (
        "assessment_history",
        "assessment_proposal",
        "assessment_evidence",
        "assessment_answer",
        "assessment",
    ):
        op.drop_table(table)

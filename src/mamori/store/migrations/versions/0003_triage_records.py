"""Triage records per (product, release, component purl, vulnerability) and their append-only history
(tables of mamori.triage.records).

Revision ID: triage1
Revises: assess1
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "triage1"
down_revision = "assess1"
branch_labels = None
depends_on = None


def _values() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("justification", sa.String(64), nullable=True),
        sa.Column("responses", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "triage_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("release", sa.String(100), nullable=False),
        sa.Column("component_purl", sa.Text(), nullable=False),
        sa.Column("vuln_id", sa.String(200), nullable=False),
        *_values(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_triage_record"),
        sa.UniqueConstraint(
            "product", "release", "component_purl", "vuln_id", name="uq_triage_record_subject"
        ),
    )
    op.create_index("ix_triage_record_product_release", "triage_record", ["product", "release"])
    op.create_table(
        "triage_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        *_values(),
        sa.ForeignKeyConstraint(["record_id"], ["triage_record.id"], name="fk_triage_history_record_id"),
        sa.PrimaryKeyConstraint("id", name="pk_triage_history"),
        sa.UniqueConstraint("record_id", "version", name="uq_triage_history_record_version"),
    )


def downgrade() -> None:
    op.drop_table("triage_history")
    op.drop_index("ix_triage_record_product_release", table_name="triage_record")
    op.drop_table("triage_record")

"""PSIRT cases: tables ``psirt_case``, ``psirt_case_event``, ``psirt_case_product``, ``psirt_timer`` and
``psirt_advisory_revision`` of mamori.psirt.tables.

Revision ID: 0016_F_psirt
Revises: jobs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_F_psirt"
down_revision = "jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "psirt_case",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("reporter_name", sa.Text(), nullable=True),
        sa.Column("reporter_contact", sa.Text(), nullable=True),
        sa.Column("credit", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_ref", sa.Text(), nullable=True),
        sa.Column("coordinator", sa.String(200), nullable=True),
        sa.Column("embargo_until", sa.String(32), nullable=True),
        sa.Column("cve_id", sa.String(40), nullable=True),
        sa.Column("component", sa.Text(), nullable=True),
        sa.Column("affected_range", sa.Text(), nullable=True),
        sa.Column("fixed_version", sa.String(100), nullable=True),
        sa.Column("cwe", sa.String(16), nullable=True),
        sa.Column("cvss_v3", sa.String(200), nullable=True),
        sa.Column("cvss_v4", sa.String(300), nullable=True),
        sa.Column("ssvc_outcome", sa.String(32), nullable=True),
        sa.Column("ssvc", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.String(40), nullable=True),
        sa.Column("texts", sa.Text(), nullable=False),
        sa.Column("fix_url", sa.Text(), nullable=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("state_since", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_psirt_case_state", "psirt_case", ["state"])
    op.create_index("ix_psirt_case_cve_id", "psirt_case", ["cve_id"])
    op.create_table(
        "psirt_case_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["psirt_case.id"], name="fk_psirt_case_event_case"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_psirt_case_event_case_id", "psirt_case_event", ["case_id"])
    op.create_table(
        "psirt_case_product",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("release", sa.String(100), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("component_version", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["psirt_case.id"], name="fk_psirt_case_product_case"),
        sa.PrimaryKeyConstraint("case_id", "product", "release"),
    )
    op.create_table(
        "psirt_timer",
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("timer", sa.String(32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team", "timer"),
    )
    op.create_table(
        "psirt_advisory_revision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("date", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["psirt_case.id"], name="fk_psirt_advisory_revision_case"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "number", name="uq_psirt_advisory_revision_number"),
    )


def downgrade() -> None:
    op.drop_table("psirt_advisory_revision")
    op.drop_table("psirt_timer")
    op.drop_table("psirt_case_product")
    op.drop_index("ix_psirt_case_event_case_id", table_name="psirt_case_event")
    op.drop_table("psirt_case_event")
    op.drop_index("ix_psirt_case_cve_id", table_name="psirt_case")
    op.drop_index("ix_psirt_case_state", table_name="psirt_case")
    op.drop_table("psirt_case")

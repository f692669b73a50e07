"""Deployed inventory: tables ``deployment`` and ``release_support`` of mamori.inventory.tables.

Revision ID: 0017_G_inventory
Revises: 0016_F_psirt
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_G_inventory"
down_revision = "0017_E_bundle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("system", sa.String(200), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("system_exposure", sa.String(32), nullable=True),
        sa.Column("mission_impact", sa.String(32), nullable=True),
        sa.Column("safety_impact", sa.String(32), nullable=True),
        sa.Column("network", sa.String(200), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("deployed_since", sa.String(10), nullable=True),
        sa.Column("end_of_support", sa.String(10), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("retired_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["product_release.id"], name="fk_deployment_release"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deployment_release_id", "deployment", ["release_id"])
    op.create_index("ix_deployment_site", "deployment", ["site"])
    op.create_table(
        "release_support",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("end_of_support", sa.String(10), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["product_release.id"], name="fk_release_support_release"),
        sa.PrimaryKeyConstraint("release_id"),
    )


def downgrade() -> None:
    op.drop_table("release_support")
    op.drop_index("ix_deployment_site", table_name="deployment")
    op.drop_index("ix_deployment_release_id", table_name="deployment")
    op.drop_table("deployment")

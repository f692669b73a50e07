"""The triage context of a product, set once: one row per SSVC context point (system exposure, mission
impact, safety impact …) with its value, the reason given, who set it and when (table of
mamori.portfolio.tables, ``product_context``).

Revision ID: product_context
Revises: purl2cpe2
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "product_context"
down_revision = "purl2cpe2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_context",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.String(64), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name="fk_product_context_product"),
        sa.PrimaryKeyConstraint("product_id", "point", name="pk_product_context"),
    )


def downgrade() -> None:
    op.drop_table("product_context")

"""Knowledge base changes for notifications: table ``knowledge_change`` of mamori.store.schema (the ids
whose merged record, KEV entry or EPSS score an import changed, until the next computation of events
reads them).

Revision ID: 0019_G_knowledge_change
Revises: 0018_J_supplier_teams
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_G_knowledge_change"
down_revision = "0018_J_supplier_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_change",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("knowledge_change")

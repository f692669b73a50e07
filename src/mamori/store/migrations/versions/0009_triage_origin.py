"""Where a triage record comes from: the user's own decision (``origin`` = user) or a statement of an
imported VEX document (``origin`` = vex, ``source`` naming the document). A subject may hold one record
of each origin; the history rows keep the document each version came from.

Revision ID: triage_origin
Revises: product_context
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "triage_origin"
down_revision = "product_context"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("triage_record") as batch:
        batch.add_column(sa.Column("origin", sa.String(8), nullable=False, server_default="user"))
        batch.add_column(sa.Column("source", sa.Text(), nullable=True))
        batch.drop_constraint("uq_triage_record_subject", type_="unique")
        batch.create_unique_constraint(
            "uq_triage_record_subject_origin",
            ["product", "release", "component_purl", "vuln_id", "origin"],
        )
    with op.batch_alter_table("triage_history") as batch:
        batch.add_column(sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute(
        "DELETE FROM triage_history WHERE record_id IN (SELECT id FROM triage_record WHERE origin <> 'user')"
    )
    op.execute("DELETE FROM triage_record WHERE origin <> 'user'")
    with op.batch_alter_table("triage_history") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("triage_record") as batch:
        batch.drop_constraint("uq_triage_record_subject_origin", type_="unique")
        batch.create_unique_constraint(
            "uq_triage_record_subject", ["product", "release", "component_purl", "vuln_id"]
        )
        batch.drop_column("source")
        batch.drop_column("origin")

"""A failed upload's and a failed bundle job's refusal kept language-neutral: column ``error_message`` of
``sbom_upload`` and ``bundle_job`` (JSON: the gettext msgid and its values, mamori.store.jobrecord), read
in the reader's language; ``error`` keeps the English line (rows written before keep theirs only).

Revision ID: 0020_Q_refusal_message
Revises: 0019_F_portfolio_memo
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_Q_refusal_message"
down_revision = "0019_F_portfolio_memo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("sbom_upload", "bundle_job"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("error_message", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ("sbom_upload", "bundle_job"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("error_message")

"""Indexes for what every scan reads, so that it does not read whole tables:

- ``source_record.modified`` (the newest record, read by every scan to tell imports apart);
- ``source_record (source, vuln_id, record_id, withdrawn)``: the records and withdrawn ones per source
  and the CVE ids per source a scan's status and coverage count, read from the index instead of the
  rows that carry each record's document;
- ``purl_cpe (purl_type, <name with case and -_. left out>)``: the purl2cpe links of a few packages
  looked up by name (an expression index, on SQLite and PostgreSQL alike).

Revision ID: read_indexes
Revises: triage_origin
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "read_indexes"
down_revision = "triage_origin"
branch_labels = None
depends_on = None

# as mamori.store.query.SQUASHED_NAME when this revision was written
_SQUASHED_NAME = "replace(replace(replace(lower(purl_name), '-', ''), '_', ''), '.', '')"


def upgrade() -> None:
    op.create_index("ix_source_record_modified", "source_record", ["modified"])
    op.create_index(
        "ix_source_record_source_vuln_id", "source_record", ["source", "vuln_id", "record_id", "withdrawn"]
    )
    op.create_index("ix_purl_cpe_purl_type_squashed_name", "purl_cpe", ["purl_type", sa.text(_SQUASHED_NAME)])


def downgrade() -> None:
    op.drop_index("ix_purl_cpe_purl_type_squashed_name", table_name="purl_cpe")
    op.drop_index("ix_source_record_source_vuln_id", table_name="source_record")
    op.drop_index("ix_source_record_modified", table_name="source_record")

"""Initial knowledge-base schema: source records, merged vulnerabilities, aliases, match indexes, KEV, EPSS,
purl2cpe and per-source state.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "source_record",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("feed", sa.String(32), nullable=False),
        sa.Column("vuln_id", _ID, nullable=False),
        sa.Column("modified", sa.String(32), nullable=True),
        sa.Column("withdrawn", sa.String(32), nullable=True),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("doc", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("source", "record_id", "feed", name="pk_source_record"),
    )
    op.create_index("ix_source_record_vuln_id", "source_record", ["vuln_id"])
    op.create_table(
        "vulnerability",
        sa.Column("id", _ID, nullable=False),
        sa.Column("sources", sa.String(100), nullable=False),
        sa.Column("published", sa.String(32), nullable=True),
        sa.Column("modified", sa.String(32), nullable=True),
        sa.Column("withdrawn", sa.String(32), nullable=True),
        sa.Column("doc", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vulnerability"),
    )
    op.create_index("ix_vulnerability_modified", "vulnerability", ["modified"])
    op.create_table(
        "alias",
        sa.Column("alias_key", _ID, nullable=False),
        sa.Column("vuln_id", _ID, nullable=False),
        sa.Column("alias", _ID, nullable=False),
        sa.PrimaryKeyConstraint("alias_key", "vuln_id", name="pk_alias"),
    )
    op.create_index("ix_alias_vuln_id", "alias", ["vuln_id"])
    op.create_table(
        "affected_package",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vuln_id", _ID, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(64), nullable=False),
        sa.Column("ecosystem_variant", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("purl", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_affected_package"),
    )
    op.create_index("ix_affected_package_vuln_id", "affected_package", ["vuln_id"])
    op.create_index("ix_affected_package_ecosystem_name_key", "affected_package", ["ecosystem", "name_key"])
    op.create_table(
        "affected_cpe",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vuln_id", _ID, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(1), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("cpe", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("start_including", sa.Text(), nullable=True),
        sa.Column("start_excluding", sa.Text(), nullable=True),
        sa.Column("end_including", sa.Text(), nullable=True),
        sa.Column("end_excluding", sa.Text(), nullable=True),
        sa.Column("version_type", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_affected_cpe"),
    )
    op.create_index("ix_affected_cpe_vuln_id", "affected_cpe", ["vuln_id"])
    op.create_index("ix_affected_cpe_vendor_product", "affected_cpe", ["vendor", "product"])
    op.create_table(
        "kev",
        sa.Column("cve_id", sa.String(32), nullable=False),
        sa.Column("date_added", sa.String(10), nullable=True),
        sa.Column("due_date", sa.String(10), nullable=True),
        sa.Column("known_ransomware_use", sa.String(16), nullable=True),
        sa.Column("doc", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cve_id", name="pk_kev"),
    )
    op.create_table(
        "epss",
        sa.Column("cve_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("date", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("cve_id", name="pk_epss"),
    )
    op.create_table(
        "purl_cpe",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("purl_type", sa.String(32), nullable=False),
        sa.Column("purl_namespace", sa.Text(), nullable=False),
        sa.Column("purl_name", sa.Text(), nullable=False),
        sa.Column("purl", sa.Text(), nullable=False),
        sa.Column("cpe_vendor", sa.Text(), nullable=False),
        sa.Column("cpe_product", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_purl_cpe"),
        sa.UniqueConstraint("purl", "cpe_vendor", "cpe_product", name="uq_purl_cpe_link"),
    )
    op.create_index("ix_purl_cpe_purl_type_name", "purl_cpe", ["purl_type", "purl_namespace", "purl_name"])
    op.create_index("ix_purl_cpe_cpe_vendor_product", "purl_cpe", ["cpe_vendor", "cpe_product"])
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", name="pk_source_state"),
    )


def downgrade() -> None:
    for table in (
        "source_state",
        "purl_cpe",
        "epss",
        "kev",
        "affected_cpe",
        "affected_package",
        "alias",
        "vulnerability",
        "source_record",
    ):
        op.drop_table(table)

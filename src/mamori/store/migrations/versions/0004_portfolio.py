"""Product portfolio: products, releases, stored SBOMs with provenance, component identities and their
lookup keys, matches and findings per release with first-seen/resolved runs, matching runs, and the
record digests ``rematch --changed-only`` compares against (tables of mamori.portfolio.tables).

Revision ID: portfolio1
Revises: triage1
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "portfolio1"
down_revision = "triage1"
branch_labels = None
depends_on = None

_ID = sa.String(200)


def _fk(column: str, target: str, name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target], name=name)


def upgrade() -> None:
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("supplier", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_product"),
        sa.UniqueConstraint("name", name="uq_product_name"),
    )
    op.create_table(
        "product_release",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("current_sbom_id", sa.Integer(), nullable=True),
        _fk("product_id", "product.id", "fk_product_release_product"),
        sa.PrimaryKeyConstraint("id", name="pk_product_release"),
        sa.UniqueConstraint("product_id", "version", name="uq_product_release_version"),
    )
    op.create_table(
        "release_sbom",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("spec_version", sa.String(16), nullable=True),
        sa.Column("serial_number", sa.Text(), nullable=True),
        sa.Column("sbom_timestamp", sa.String(40), nullable=True),
        sa.Column("tools", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("importer", sa.String(64), nullable=False),
        sa.Column("components", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _fk("release_id", "product_release.id", "fk_release_sbom_release"),
        sa.PrimaryKeyConstraint("id", name="pk_release_sbom"),
        sa.UniqueConstraint("release_id", "revision", name="uq_release_sbom_revision"),
    )
    op.create_index("ix_release_sbom_sha256", "release_sbom", ["sha256"])
    op.create_table(
        "portfolio_component",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("component_group", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("purl", sa.Text(), nullable=True),
        sa.Column("purl_base", sa.Text(), nullable=True),
        sa.Column("cpes", sa.Text(), nullable=True),
        sa.Column("ecosystem", sa.String(64), nullable=True),
        sa.Column("name_key", sa.Text(), nullable=True),
        sa.Column("link_type", sa.String(32), nullable=True),
        sa.Column("link_namespace", sa.Text(), nullable=True),
        sa.Column("link_name", sa.Text(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("matched_run", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_portfolio_component"),
        sa.UniqueConstraint("key", name="uq_portfolio_component_key"),
    )
    op.create_index(
        "ix_portfolio_component_ecosystem_name_key", "portfolio_component", ["ecosystem", "name_key"]
    )
    op.create_index(
        "ix_portfolio_component_link", "portfolio_component", ["link_type", "link_namespace", "link_name"]
    )
    op.create_table(
        "portfolio_component_cpe",
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        _fk("component_id", "portfolio_component.id", "fk_portfolio_component_cpe_component"),
        sa.PrimaryKeyConstraint("component_id", "vendor", "product", name="pk_portfolio_component_cpe"),
    )
    op.create_index(
        "ix_portfolio_component_cpe_vendor_product", "portfolio_component_cpe", ["vendor", "product"]
    )
    op.create_table(
        "sbom_component",
        sa.Column("sbom_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        _fk("sbom_id", "release_sbom.id", "fk_sbom_component_sbom"),
        _fk("component_id", "portfolio_component.id", "fk_sbom_component_component"),
        sa.PrimaryKeyConstraint("sbom_id", "component_id", name="pk_sbom_component"),
    )
    op.create_index("ix_sbom_component_component_id", "sbom_component", ["component_id"])
    op.create_table(
        "portfolio_match",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("vuln_id", _ID, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=True),
        sa.Column("method", sa.String(24), nullable=True),
        sa.Column("confidence", sa.String(8), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("fixed", sa.Text(), nullable=True),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("digest", sa.String(32), nullable=False),
        _fk("component_id", "portfolio_component.id", "fk_portfolio_match_component"),
        sa.PrimaryKeyConstraint("id", name="pk_portfolio_match"),
        sa.UniqueConstraint("component_id", "vuln_id", name="uq_portfolio_match_component_vuln"),
    )
    op.create_index("ix_portfolio_match_vuln_id", "portfolio_match", ["vuln_id"])
    op.create_table(
        "portfolio_finding",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("first_run", sa.Integer(), nullable=False),
        sa.Column("last_run", sa.Integer(), nullable=True),
        sa.Column("resolved_run", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(24), nullable=True),
        _fk("release_id", "product_release.id", "fk_portfolio_finding_release"),
        _fk("match_id", "portfolio_match.id", "fk_portfolio_finding_match"),
        sa.PrimaryKeyConstraint("release_id", "match_id", name="pk_portfolio_finding"),
    )
    op.create_index("ix_portfolio_finding_match_id", "portfolio_finding", ["match_id"])
    op.create_table(
        "portfolio_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("link_mark", sa.Integer(), nullable=True),
        sa.Column("sbom_mark", sa.Integer(), nullable=True),
        sa.Column("vulnerabilities", sa.Integer(), nullable=False),
        sa.Column("components", sa.Integer(), nullable=False),
        sa.Column("placements", sa.Integer(), nullable=False),
        sa.Column("releases", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portfolio_run"),
    )
    op.create_table(
        "portfolio_record_seen",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("feed", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("vuln_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("source", "record_id", "feed", name="pk_portfolio_record_seen"),
    )


def downgrade() -> None:
    for table in (
        "portfolio_record_seen",
        "portfolio_run",
        "portfolio_finding",
        "portfolio_match",
        "sbom_component",
        "portfolio_component_cpe",
        "portfolio_component",
        "release_sbom",
        "product_release",
        "product",
    ):
        op.drop_table(table)

"""Supplier release bundles: tables ``bundle_import``, ``bundle_document`` and ``bundle_trusted_key`` of
mamori.bundle.tables.

Revision ID: 0017_E_bundle
Revises: 0016_F_psirt
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_E_bundle"
down_revision = "0016_F_psirt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_import",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("release", sa.String(100), nullable=False),
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("bundle_sha256", sa.String(64), nullable=False),
        sa.Column("statement_sha256", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name="fk_bundle_import_product"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bundle_import_product_id", "bundle_import", ["product_id"])
    op.create_table(
        "bundle_document",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["bundle_import.id"], name="fk_bundle_document_import"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bundle_document_import_id", "bundle_document", ["import_id"])
    op.create_table(
        "bundle_trusted_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("supplier", "key_id", name="uq_bundle_trusted_key"),
    )
    op.create_index("ix_bundle_trusted_key_supplier", "bundle_trusted_key", ["supplier"])


def downgrade() -> None:
    op.drop_index("ix_bundle_trusted_key_supplier", table_name="bundle_trusted_key")
    op.drop_table("bundle_trusted_key")
    op.drop_index("ix_bundle_document_import_id", table_name="bundle_document")
    op.drop_table("bundle_document")
    op.drop_index("ix_bundle_import_product_id", table_name="bundle_import")
    op.drop_table("bundle_import")

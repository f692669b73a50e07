"""SBOM uploads with their processing state, and the stable UUID of each product release (what
Dependency-Track clients call a project's ``uuid``): tables ``sbom_upload`` and ``release_uuid`` of
mamori.portfolio.upload_tables.

Revision ID: uploads
Revises: accounts
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "uploads"
down_revision = "accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sbom_upload",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token", sa.String(36), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("auto_create", sa.Boolean(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("sbom_id", sa.Integer(), nullable=True),
        sa.Column("sbom_format", sa.String(40), nullable=True),
        sa.Column("components", sa.Integer(), nullable=True),
        sa.Column("open_findings", sa.Integer(), nullable=True),
        sa.Column("unchanged", sa.Boolean(), nullable=True),
        sa.Column("submitted_at", sa.String(32), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sbom_upload"),
        sa.UniqueConstraint("token", name="uq_sbom_upload_token"),
    )
    op.create_index("ix_sbom_upload_state", "sbom_upload", ["state"])
    op.create_table(
        "release_uuid",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["product_release.id"], name="fk_release_uuid_release"),
        sa.PrimaryKeyConstraint("release_id", name="pk_release_uuid"),
        sa.UniqueConstraint("uuid", name="uq_release_uuid_uuid"),
    )


def downgrade() -> None:
    op.drop_table("release_uuid")
    op.drop_index("ix_sbom_upload_state", table_name="sbom_upload")
    op.drop_table("sbom_upload")

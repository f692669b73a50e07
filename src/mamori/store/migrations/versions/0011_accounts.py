"""Accounts of the team server (tables of mamori.accounts.tables): teams and the products they own, users,
memberships (a role per team, optionally limited to products), API keys (the SHA-256 of the secret only),
sessions (the SHA-256 of the cookie only), sign-in attempts, OpenID Connect sign-ins under way, and the
audit log.

Revision ID: accounts
Revises: read_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts"
down_revision = "read_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_team",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_team"),
        sa.UniqueConstraint("name", name="uq_account_team_name"),
    )
    op.create_table(
        "account_team_product",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], name="fk_account_team_product_team"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name="fk_account_team_product_product"),
        sa.PrimaryKeyConstraint("team_id", "product_id", name="pk_account_team_product"),
    )
    op.create_table(
        "account_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("oidc_subject", sa.String(500), nullable=True),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.String(32), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_user"),
        sa.UniqueConstraint("name", name="uq_account_user_name"),
        sa.UniqueConstraint("oidc_subject", name="uq_account_user_oidc_subject"),
    )
    op.create_table(
        "account_membership",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("products", sa.Text(), nullable=True),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["account_user.id"], name="fk_account_membership_user"),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], name="fk_account_membership_team"),
        sa.PrimaryKeyConstraint("id", name="pk_account_membership"),
        sa.UniqueConstraint("user_id", "team_id", name="uq_account_membership_user_team"),
    )
    op.create_table(
        "account_api_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=True),
        sa.Column("last_used_at", sa.String(32), nullable=True),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["account_team.id"], name="fk_account_api_key_team"),
        sa.PrimaryKeyConstraint("id", name="pk_account_api_key"),
        sa.UniqueConstraint("prefix", name="uq_account_api_key_prefix"),
    )
    op.create_table(
        "account_session",
        sa.Column("id_sha256", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("last_seen_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["account_user.id"], name="fk_account_session_user"),
        sa.PrimaryKeyConstraint("id_sha256", name="pk_account_session"),
    )
    op.create_index("ix_account_session_user_id", "account_session", ["user_id"])
    op.create_table(
        "account_login_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_login_attempt"),
    )
    op.create_index("ix_account_login_attempt_name_at", "account_login_attempt", ["name", "at"])
    op.create_index("ix_account_login_attempt_remote_addr_at", "account_login_attempt", ["remote_addr", "at"])
    op.create_table(
        "account_oidc_state",
        sa.Column("state_sha256", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(200), nullable=False),
        sa.Column("nonce", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("state_sha256", name="pk_account_oidc_state"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_team_id", "audit_log", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_team_id", table_name="audit_log")
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("account_oidc_state")
    op.drop_index("ix_account_login_attempt_remote_addr_at", table_name="account_login_attempt")
    op.drop_index("ix_account_login_attempt_name_at", table_name="account_login_attempt")
    op.drop_table("account_login_attempt")
    op.drop_index("ix_account_session_user_id", table_name="account_session")
    op.drop_table("account_session")
    op.drop_table("account_api_key")
    op.drop_table("account_membership")
    op.drop_table("account_user")
    op.drop_table("account_team_product")
    op.drop_table("account_team")

"""Store tables of the team server's accounts (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``accounts`` (store/migrations/versions/0011_accounts.py) creates them.

- ``account_team``: a team; ``account_team_product``: the products a team owns (what its members see).
- ``account_user``: a local or OpenID Connect user; the argon2 hash of a local user's password, the
  failures since the last sign-in and until when the account is locked; ``oidc_subject`` (issuer + ``sub``)
  for a user who signs in through OpenID Connect; the language the user chose.
- ``account_membership``: a user's role in a team, optionally limited to some of the team's products
  (``products``: comma-separated product ids; NULL = every product of the team); ``origin`` ``local`` or
  ``oidc`` (memberships from the identity provider's groups are replaced at each sign-in).
- ``account_api_key``: an API key scoped to one team and one role: the public prefix the key is looked up
  by, the SHA-256 of its secret (never the secret), expiry, last use and revocation.
- ``account_session``: a signed-in browser: the SHA-256 of the cookie's value, the CSRF token of its forms,
  idle and absolute expiry.
- ``account_login_attempt``: every sign-in attempt (name, address, success), for throttling and lockout.
- ``account_oidc_state``: an OpenID Connect sign-in under way (state, PKCE verifier, nonce), for minutes.
- ``audit_log``: every change: when, who (kind, id, name), what (action, target, detail), from where,
  and the team it belongs to (when it belongs to one).

Times are UTC ISO 8601 strings of one fixed width (``2026-12-06T21:00:00.000000Z``), so they sort and
compare as text on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.portfolio import tables as _portfolio_tables  # noqa: F401  (``product``, which teams own)
from mamori.store.schema import Base


class TeamRow(Base):
    __tablename__ = "account_team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[str] = mapped_column(String(32))


class TeamProductRow(Base):
    __tablename__ = "account_team_product"

    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_team.id", name="fk_account_team_product_team"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("product.id", name="fk_account_team_product_product"), primary_key=True
    )


class UserRow(Base):
    __tablename__ = "account_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    oidc_subject: Mapped[str | None] = mapped_column(String(500), unique=True)
    lang: Mapped[str | None] = mapped_column(String(8))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))


class MembershipRow(Base):
    __tablename__ = "account_membership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_user.id", name="fk_account_membership_user")
    )
    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_team.id", name="fk_account_membership_team")
    )
    role: Mapped[str] = mapped_column(String(32))
    products: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(8), default="local")

    __table_args__ = (UniqueConstraint("user_id", "team_id", name="uq_account_membership_user_team"),)


class ApiKeyRow(Base):
    __tablename__ = "account_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_team.id", name="fk_account_api_key_team")
    )
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[str | None] = mapped_column(String(32))
    last_used_at: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[str | None] = mapped_column(String(32))


class SessionRow(Base):
    __tablename__ = "account_session"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account_user.id", name="fk_account_session_user"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    last_seen_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32))
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class LoginAttemptRow(Base):
    __tablename__ = "account_login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_account_login_attempt_name_at", "name", "at"),
        Index("ix_account_login_attempt_remote_addr_at", "remote_addr", "at"),
    )


class OidcStateRow(Base):
    __tablename__ = "account_oidc_state"

    state_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(32))


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # user | apikey | cli | system | anonymous
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON object
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    # the team the change belongs to, when it belongs to one: what a team's auditor may read
    team_id: Mapped[int | None] = mapped_column(Integer, index=True)

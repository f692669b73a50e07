"""The accounts API (see :mod:`mamori.accounts`)."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, select, update

from mamori.accounts import tables as t
from mamori.accounts.roles import ROLE_NAMES
from mamori.errors import InputError
from mamori.i18n import _

if TYPE_CHECKING:
    from mamori.store import Store

NAME_LIMIT = 200
PASSWORD_MIN = 12  # OWASP ASVS 2.1.1
PASSWORD_MAX = 128  # ASVS 2.1.2 allows at least 64; longer is refused before hashing
API_KEY_PREFIX = "mamori_"
_KEY_ID_LENGTH = 12  # hex characters of the public part the key is looked up by
LAST_USED_EVERY = 60.0  # seconds: the last-used time of a key or a session is written at most this often
OIDC_STATE_SECONDS = 600
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_iso(at: datetime | None = None) -> str:
    """UTC time as stored: ISO 8601 of one fixed width, so that times compare as text."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime(_TIME)


def _parse(value: str) -> datetime:
    return datetime.strptime(value, _TIME).replace(tzinfo=UTC)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so that the time taken does not tell."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher().hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


# -- values ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a signed-in user, an API key, the command line, the server itself."""

    kind: str  # user | apikey | cli | system | anonymous
    name: str
    id: int | None = None


def cli_actor() -> Actor:
    """The person at the command line: ``MAMORI_USER``, else the login name."""
    try:
        name = os.environ.get("MAMORI_USER") or getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor("cli", name[:NAME_LIMIT])


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    name: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Membership:
    team_id: int
    team: str
    role: str
    products: frozenset[int] | None = None  # None: every product of the team
    origin: str = "local"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    lang: str | None
    disabled: bool
    local: bool  # has a password (not only OpenID Connect)
    created_at: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    prefix: str
    team_id: int
    team: str
    role: str
    name: str | None
    created_at: str
    created_by: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now_iso())

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prefix": API_KEY_PREFIX + self.prefix,
            "team": self.team,
            "role": self.role,
            "name": self.name,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    created_at: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str
    actor_kind: str
    actor_id: int | None
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None
    remote_addr: str | None
    team_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": {"kind": self.actor_kind, "id": self.actor_id, "name": self.actor},
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "remote_addr": self.remote_addr,
            "team_id": self.team_id,
        }


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Sign-in throttling: an account is locked for ``lock_seconds`` after ``account_failures`` failures
    in a row; an address is refused after ``address_failures`` failures within ``window_seconds``."""

    account_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 900
    lock_seconds: int = 900


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    reason: str  # ok | unknown | wrong_password | locked | address_throttled | disabled | no_password
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.user is not None


# -- checks ------------------------------------------------------------------------------------------
def _name(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > NAME_LIMIT or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InputError(
            None, _("{what}: give 1 to 200 characters without control characters").format(what=what)
        )
    return text


def _role(value: str) -> str:
    if value not in ROLE_NAMES:
        raise InputError(
            None, _("unknown role {role!r} (one of: {roles})").format(role=value, roles=", ".join(ROLE_NAMES))
        )
    return value


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InputError(
            None,
            _("a password has {low} to {high} characters").format(low=PASSWORD_MIN, high=PASSWORD_MAX),
        )
    return password


# -- audit -------------------------------------------------------------------------------------------
def _audit(
    conn: Connection,
    actor: Actor,
    action: str,
    target: str | None,
    detail: Mapping[str, Any] | None,
    remote_addr: str | None,
    team_id: int | None = None,
) -> None:
    conn.execute(
        t.AuditRow.__table__.insert().values(
            at=now_iso(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor=actor.name[:NAME_LIMIT],
            action=action[:64],
            target=target,
            detail=json.dumps(dict(detail), ensure_ascii=False, sort_keys=True) if detail else None,
            remote_addr=(remote_addr or None) and remote_addr[:64],
            team_id=team_id,
        )
    )


def record_audit(
    store: Store,
    actor: Actor,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
    remote_addr: str | None = None,
    team_id: int | None = None,
) -> None:
    """One line of the audit log: who (``actor``), when (now), what (``action`` on ``target``, with a
    JSON-able ``detail``; never a secret), from where (``remote_addr``); ``team_id``: the team the change
    belongs to (a team's auditor reads only its team's lines)."""
    with _write(store) as conn:
        _audit(conn, actor, action, target, detail, remote_addr, team_id)


def list_audit(
    store: Store,
    *,
    limit: int = 100,
    offset: int = 0,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    team_ids: Iterable[int] | None = None,
) -> list[AuditEntry]:
    """The audit log, newest first, filtered by action, actor name, time (``since``, ISO 8601) and the
    teams the lines belong to (``team_ids``; None: every line)."""
    a = t.AuditRow.__table__
    stmt = select(a).order_by(a.c.id.desc()).limit(max(1, min(limit, 1000))).offset(max(0, offset))
    if action:
        stmt = stmt.where(a.c.action == action)
    if actor:
        stmt = stmt.where(a.c.actor == actor)
    if since:
        stmt = stmt.where(a.c.at >= since)
    if team_ids is not None:
        stmt = stmt.where(a.c.team_id.in_(list(team_ids)))
    with store.engine.connect() as conn:
        return [
            AuditEntry(
                r.id,
                r.at,
                r.actor_kind,
                r.actor_id,
                r.actor,
                r.action,
                r.target,
                json.loads(r.detail) if r.detail else None,
                r.remote_addr,
                r.team_id,
            )
            for r in conn.execute(stmt)
        ]


def _write(store: Store) -> Any:
    """One write transaction (a context manager giving the connection)."""

    @contextlib.contextmanager
    def transaction() -> Any:
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            yield conn

    return transaction()


# -- teams -------------------------------------------------------------------------------------------
def _team_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(t.TeamRow.__table__).where(t.TeamRow.name == name)).first()


def create_team(store: Store, name: str, actor: Actor | None = None, remote_addr: str | None = None) -> Team:
    """A new team; a name already taken is an error."""
    name = _name(name, _("team name"))
    actor = actor or cli_actor()
    with _write(store) as conn:
        if _team_row(conn, name) is not None:
            raise InputError(None, _("team {name!r} exists already").format(name=name))
        at = now_iso()
        team_id = int(
            conn.execute(t.TeamRow.__table__.insert().values(name=name, created_at=at)).inserted_primary_key[
                0
            ]
        )
        _audit(conn, actor, "team.create", f"team:{name}", None, remote_addr, team_id)
    return Team(team_id, name, at)


def get_team(store: Store, name: str) -> Team | None:
    with store.engine.connect() as conn:
        row = _team_row(conn, name.strip())
    return Team(row.id, row.name, row.created_at) if row is not None else None


def _require_team(conn: Connection, name: str) -> Any:
    row = _team_row(conn, (name or "").strip())
    if row is None:
        raise InputError(None, _("no team {name!r} (add it with `mamori team add`)").format(name=name))
    return row


def _require_user_id(conn: Connection, name: str) -> int:
    u = t.UserRow.__table__
    user_id = conn.scalar(select(u.c.id).where(u.c.name == name.strip()))
    if user_id is None:
        raise InputError(None, _("no user {name!r}").format(name=name))
    return int(user_id)


def _grant(
    conn: Connection,
    user_id: int,
    team_row: Any,
    role: str,
    products: Sequence[str] | None,
    actor: Actor,
    action: str,
    target: str,
    remote_addr: str | None,
) -> None:
    """Give the user a local membership of ``team_row`` with ``role`` and write its audit line."""
    conn.execute(
        t.MembershipRow.__table__.insert().values(
            user_id=user_id,
            team_id=team_row.id,
            role=role,
            products=_product_ids(conn, products),
            origin="local",
        )
    )
    _audit(conn, actor, action, target, {"team": team_row.name, "role": role}, remote_addr, team_row.id)


def list_teams(store: Store, ids: Iterable[int] | None = None) -> list[Team]:
    """Every team (or those of ``ids``), by name."""
    tt = t.TeamRow.__table__
    stmt = select(tt).order_by(tt.c.name)
    if ids is not None:
        stmt = stmt.where(tt.c.id.in_(list(ids)))
    with store.engine.connect() as conn:
        return [Team(r.id, r.name, r.created_at) for r in conn.execute(stmt)]


def assign_product(
    store: Store, team: str, product: str | int, actor: Actor | None = None, remote_addr: str | None = None
) -> int:
    """Give ``team`` the product (by name or id): its members see it as their role allows. Returns the
    product's id."""
    from mamori.portfolio.tables import ProductRow

    actor = actor or cli_actor()
    with _write(store) as conn:
        team_row = _require_team(conn, team)
        p = ProductRow.__table__
        where = p.c.id == product if isinstance(product, int) else p.c.name == str(product).strip()
        row = conn.execute(select(p.c.id, p.c.name).where(where)).first()
        if row is None:
            raise InputError(None, _("no product {name!r}").format(name=str(product)))
        tp = t.TeamProductRow.__table__
        exists = conn.execute(
            select(tp.c.team_id).where(tp.c.team_id == team_row.id, tp.c.product_id == row.id)
        ).first()
        if exists is None:
            conn.execute(tp.insert().values(team_id=team_row.id, product_id=row.id))
            _audit(
                conn,
                actor,
                "team.product.add",
                f"team:{team_row.name}",
                {"product": row.name},
                remote_addr,
                team_row.id,
            )
        return int(row.id)


def team_products(store: Store, team_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The products each team owns."""
    tp = t.TeamProductRow.__table__
    ids = list(team_ids)
    out: dict[int, set[int]] = {i: set() for i in ids}
    if ids:
        with store.engine.connect() as conn:
            for team_id, product_id in conn.execute(
                select(tp.c.team_id, tp.c.product_id).where(tp.c.team_id.in_(ids))
            ):
                out[team_id].add(product_id)
    return {k: frozenset(v) for k, v in out.items()}


# -- users -------------------------------------------------------------------------------------------
def _user(row: Any) -> User:
    return User(row.id, row.name, row.lang, bool(row.disabled), row.password_hash is not None, row.created_at)


def _products(value: str | None) -> frozenset[int] | None:
    if value is None:
        return None
    return frozenset(int(p) for p in value.split(",") if p.strip())


def find_user(store: Store, name: str | None = None, user_id: int | None = None) -> User | None:
    u = t.UserRow.__table__
    stmt = select(u).where(u.c.id == user_id) if user_id is not None else select(u).where(u.c.name == name)
    with store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    return _user(row) if row is not None else None


def list_users(store: Store) -> list[tuple[User, list[Membership]]]:
    u = t.UserRow.__table__
    with store.engine.connect() as conn:
        users = [_user(r) for r in conn.execute(select(u).order_by(u.c.name))]
        return [(user, _memberships(conn, user.id)) for user in users]


def _memberships(conn: Connection, user_id: int) -> list[Membership]:
    m, tt = t.MembershipRow.__table__, t.TeamRow.__table__
    rows = conn.execute(
        select(m.c.team_id, tt.c.name, m.c.role, m.c.products, m.c.origin)
        .join(tt, tt.c.id == m.c.team_id)
        .where(m.c.user_id == user_id)
        .order_by(tt.c.name)
    )
    return [Membership(r.team_id, r.name, r.role, _products(r.products), r.origin) for r in rows]


def memberships(store: Store, user_id: int) -> list[Membership]:
    """A user's roles in teams."""
    with store.engine.connect() as conn:
        return _memberships(conn, user_id)


def _product_ids(conn: Connection, names: Sequence[str] | None) -> str | None:
    if names is None:
        return None
    from mamori.portfolio.tables import ProductRow

    p = ProductRow.__table__
    ids = []
    for name in names:
        pid = conn.scalar(select(p.c.id).where(p.c.name == name.strip()))
        if pid is None:
            raise InputError(None, _("no product {name!r}").format(name=name))
        ids.append(int(pid))
    return ",".join(str(i) for i in sorted(set(ids)))


def create_user(
    store: Store,
    name: str,
    password: str | None,
    team: str,
    role: str,
    *,
    products: Sequence[str] | None = None,
    actor: Actor | None = None,
    remote_addr: str | None = None,
) -> tuple[User, str | None]:
    """A new local user with ``role`` in ``team`` (optionally limited to ``products`` of it). Without a
    password one is generated and returned (to show once); only its argon2 hash is stored."""
    name = _name(name, _("user name"))
    role = _role(role)
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(18)
    check_password(password)
    hashed = _hasher().hash(password)
    actor = actor or cli_actor()
    with _write(store) as conn:
        team_row = _require_team(conn, team)
        u = t.UserRow.__table__
        if conn.scalar(select(u.c.id).where(u.c.name == name)) is not None:
            raise InputError(None, _("user {name!r} exists already").format(name=name))
        at = now_iso()
        user_id = int(
            conn.execute(
                u.insert().values(
                    name=name, password_hash=hashed, disabled=False, failed_logins=0, created_at=at
                )
            ).inserted_primary_key[0]
        )
        _grant(conn, user_id, team_row, role, products, actor, "user.create", f"user:{name}", remote_addr)
    return User(user_id, name, None, False, True, at), generated


def set_password(
    store: Store,
    name: str,
    password: str | None,
    *,
    actor: Actor | None = None,
    remote_addr: str | None = None,
) -> str | None:
    """Give the local user ``name`` a new password (generated and returned when None); the account's
    failures and lock are cleared, and every session of the user ends."""
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(18)
    check_password(password)
    hashed = _hasher().hash(password)
    actor = actor or cli_actor()
    u = t.UserRow.__table__
    with _write(store) as conn:
        user_id = _require_user_id(conn, name)
        conn.execute(
            update(u)
            .where(u.c.id == user_id)
            .values(password_hash=hashed, failed_logins=0, locked_until=None)
        )
        conn.execute(delete(t.SessionRow.__table__).where(t.SessionRow.user_id == user_id))
        _audit(conn, actor, "user.password", f"user:{name.strip()}", None, remote_addr)
    return generated


def add_membership(
    store: Store,
    user: str,
    team: str,
    role: str,
    *,
    products: Sequence[str] | None = None,
    actor: Actor | None = None,
    remote_addr: str | None = None,
) -> None:
    """Give ``user`` the ``role`` in ``team`` (replacing the role the user had there)."""
    role = _role(role)
    actor = actor or cli_actor()
    with _write(store) as conn:
        team_row = _require_team(conn, team)
        m = t.MembershipRow.__table__
        user_id = _require_user_id(conn, user)
        conn.execute(delete(m).where(m.c.user_id == user_id, m.c.team_id == team_row.id))
        _grant(
            conn,
            user_id,
            team_row,
            role,
            products,
            actor,
            "membership.set",
            f"user:{user.strip()}",
            remote_addr,
        )


def set_user_lang(store: Store, user_id: int, lang: str) -> None:
    if lang not in ("ja", "en"):
        return
    with _write(store) as conn:
        conn.execute(update(t.UserRow.__table__).where(t.UserRow.id == user_id).values(lang=lang))


def _recent_address_failures(conn: Connection, remote_addr: str | None, since: str) -> int:
    if not remote_addr:
        return 0
    a = t.LoginAttemptRow.__table__
    return int(
        conn.scalar(
            select(func.count()).where(
                a.c.remote_addr == remote_addr, a.c.at >= since, a.c.success.is_(False)
            )
        )
        or 0
    )


def verify_password(
    store: Store,
    name: str,
    password: str,
    remote_addr: str | None = None,
    policy: LockoutPolicy = LockoutPolicy(),
) -> LoginResult:
    """Check a sign-in with a password: throttled per address, locked per account after repeated failures,
    argon2 verified (and the hash renewed when the hasher's parameters changed since), every attempt recorded
    and audited. The ``reason`` is for the log and the tests; a person is told only that it failed."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    name = (name or "").strip()[:NAME_LIMIT]
    now = datetime.now(UTC)
    since = now_iso(now - timedelta(seconds=policy.window_seconds))
    u = t.UserRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(select(u).where(u.c.name == name)).first()
        throttled = _recent_address_failures(conn, remote_addr, since) >= policy.address_failures
    reason = "ok"
    hasher = _hasher()
    if throttled:
        reason = "address_throttled"
    elif row is None:
        reason = "unknown"
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(), password)
    elif row.locked_until is not None and row.locked_until > now_iso(now):
        reason = "locked"
    elif row.password_hash is None:
        reason = "no_password"
    else:
        try:
            hasher.verify(row.password_hash, password[: PASSWORD_MAX * 4])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            reason = "wrong_password"
        else:
            if row.disabled:
                reason = "disabled"
    success = reason == "ok"
    with _write(store) as conn:
        conn.execute(
            t.LoginAttemptRow.__table__.insert().values(
                at=now_iso(now),
                name=name,
                remote_addr=(remote_addr or None) and remote_addr[:64],
                success=success,
            )
        )
        values: dict[str, Any] = {}
        if row is not None and success:
            values = {"failed_logins": 0, "locked_until": None}
            if hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = hasher.hash(password)
        elif row is not None and reason == "wrong_password":
            failures = int(row.failed_logins or 0) + 1
            values = {"failed_logins": failures}
            if failures >= policy.account_failures:
                values["locked_until"] = now_iso(now + timedelta(seconds=policy.lock_seconds))
                values["failed_logins"] = 0
        if values:
            conn.execute(update(u).where(u.c.id == row.id).values(**values))
        actor = Actor("user", row.name, row.id) if row is not None else Actor("anonymous", name)
        detail = None if success else {"reason": reason}
        if values.get("locked_until"):
            detail = {"reason": reason, "locked_until": values["locked_until"]}
        _audit(
            conn,
            actor,
            "signin.success" if success else "signin.failure",
            f"user:{name}",
            detail,
            remote_addr,
        )
        found = _memberships(conn, row.id) if success else []
    return LoginResult(_user(row) if success else None, reason, tuple(found))


def sync_oidc_user(
    store: Store,
    issuer: str,
    subject: str,
    name: str,
    grants: Sequence[tuple[str, str]],
    remote_addr: str | None = None,
) -> User:
    """The user who signed in through OpenID Connect (``issuer`` and ``sub``), created on first sign-in;
    the memberships that came from the identity provider's groups are replaced by ``grants`` (team, role);
    memberships given locally stay."""
    key = f"{issuer}|{subject}"[:500]
    u, m = t.UserRow.__table__, t.MembershipRow.__table__
    with _write(store) as conn:
        row = conn.execute(select(u).where(u.c.oidc_subject == key)).first()
        if row is None:
            base = _name(name or subject, _("user name"))
            chosen, n = base, 1
            while conn.scalar(select(u.c.id).where(u.c.name == chosen)) is not None:
                n += 1
                chosen = f"{base[: NAME_LIMIT - 8]}#{n}"
            user_id = int(
                conn.execute(
                    u.insert().values(
                        name=chosen,
                        password_hash=None,
                        oidc_subject=key,
                        disabled=False,
                        failed_logins=0,
                        created_at=now_iso(),
                    )
                ).inserted_primary_key[0]
            )
            _audit(
                conn,
                Actor("system", "oidc"),
                "user.create",
                f"user:{chosen}",
                {"issuer": issuer},
                remote_addr,
            )
            row = conn.execute(select(u).where(u.c.id == user_id)).first()
        local = {
            r.team_id
            for r in conn.execute(select(m.c.team_id).where(m.c.user_id == row.id, m.c.origin == "local"))
        }
        conn.execute(delete(m).where(m.c.user_id == row.id, m.c.origin == "oidc"))
        given = []
        for team, role in grants:
            team_row = _team_row(conn, team)
            if team_row is None or team_row.id in local or role not in ROLE_NAMES:
                continue
            conn.execute(
                m.insert().values(
                    user_id=row.id, team_id=team_row.id, role=role, products=None, origin="oidc"
                )
            )
            local.add(team_row.id)
            given.append(f"{team_row.name}:{role}")
        conn.execute(
            t.LoginAttemptRow.__table__.insert().values(
                at=now_iso(),
                name=row.name,
                remote_addr=(remote_addr or None) and remote_addr[:64],
                success=True,
            )
        )
        _audit(
            conn,
            Actor("user", row.name, row.id),
            "signin.success",
            f"user:{row.name}",
            {"method": "oidc", "memberships": given},
            remote_addr,
        )
    return _user(row)


# -- API keys ----------------------------------------------------------------------------------------
def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.prefix,
        row.team_id,
        row.team,
        row.role,
        row.name,
        row.created_at,
        row.created_by,
        row.expires_at,
        row.last_used_at,
        row.revoked_at,
    )


def _key_select() -> Any:
    k, tt = t.ApiKeyRow.__table__, t.TeamRow.__table__
    return select(k, tt.c.name.label("team")).join(tt, tt.c.id == k.c.team_id)


def create_api_key(
    store: Store,
    team: str,
    role: str,
    expires: int | datetime | None = None,
    name: str | None = None,
    *,
    actor: Actor | None = None,
    remote_addr: str | None = None,
) -> tuple[ApiKey, str]:
    """A new API key for ``team`` with ``role``; ``expires``: days from now, or a time. Returns the key's
    record and its plaintext, which is never stored (only its SHA-256) and cannot be shown again."""
    role = _role(role)
    if name is not None:
        name = _name(name, _("key name"))
    if isinstance(expires, int):
        if expires < 1:
            raise InputError(None, _("the expiry is a number of days of at least 1"))
        expires = datetime.now(UTC) + timedelta(days=expires)
    actor = actor or cli_actor()
    key_id = secrets.token_hex(_KEY_ID_LENGTH // 2)
    plaintext = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with _write(store) as conn:
        team_row = _require_team(conn, team)
        new_id = int(
            conn.execute(
                t.ApiKeyRow.__table__.insert().values(
                    prefix=key_id,
                    secret_sha256=_sha256(plaintext),
                    team_id=team_row.id,
                    role=role,
                    name=name,
                    created_at=now_iso(),
                    created_by=actor.name[:NAME_LIMIT],
                    expires_at=now_iso(expires) if expires is not None else None,
                )
            ).inserted_primary_key[0]
        )
        _audit(
            conn,
            actor,
            "apikey.create",
            f"apikey:{new_id}",
            {"team": team_row.name, "role": role, "prefix": API_KEY_PREFIX + key_id, "name": name},
            remote_addr,
            team_row.id,
        )
        row = conn.execute(_key_select().where(t.ApiKeyRow.id == new_id)).first()
    return _api_key(row), plaintext


def list_api_keys(store: Store, team_ids: Iterable[int] | None = None) -> list[ApiKey]:
    stmt = _key_select().order_by(t.ApiKeyRow.id)
    if team_ids is not None:
        stmt = stmt.where(t.ApiKeyRow.team_id.in_(list(team_ids)))
    with store.engine.connect() as conn:
        return [_api_key(r) for r in conn.execute(stmt)]


def revoke_api_key(
    store: Store, key_id: int, *, actor: Actor | None = None, remote_addr: str | None = None
) -> ApiKey:
    """Revoke a key (from now on it is refused); revoking a revoked key changes nothing."""
    actor = actor or cli_actor()
    k = t.ApiKeyRow.__table__
    with _write(store) as conn:
        row = conn.execute(_key_select().where(k.c.id == key_id)).first()
        if row is None:
            raise InputError(None, _("no API key {id}").format(id=key_id))
        if row.revoked_at is None:
            conn.execute(update(k).where(k.c.id == key_id).values(revoked_at=now_iso()))
            _audit(
                conn,
                actor,
                "apikey.revoke",
                f"apikey:{key_id}",
                {"team": row.team, "prefix": API_KEY_PREFIX + row.prefix},
                remote_addr,
                row.team_id,
            )
        row = conn.execute(_key_select().where(k.c.id == key_id)).first()
    return _api_key(row)


def authenticate_api_key(store: Store, plaintext: str) -> ApiKey | None:
    """The active key ``plaintext`` is, or None (unknown, wrong secret, revoked, expired). The key is found
    by its public part and its secret compared in constant time; its last-used time is updated (at most
    once a minute)."""
    if not plaintext or len(plaintext) > 200 or not plaintext.startswith(API_KEY_PREFIX):
        return None
    rest = plaintext[len(API_KEY_PREFIX) :]
    key_id, sep, _secret = rest.partition("_")
    if not sep or len(key_id) != _KEY_ID_LENGTH:
        return None
    k = t.ApiKeyRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(_key_select().where(k.c.prefix == key_id)).first()
    digest = _sha256(plaintext)
    if row is None or not hmac.compare_digest(digest, row.secret_sha256):
        return None
    key = _api_key(row)
    if not key.active:
        return None
    now = datetime.now(UTC)
    if key.last_used_at is None or (now - _parse(key.last_used_at)).total_seconds() >= LAST_USED_EVERY:
        with _write(store) as conn:
            conn.execute(update(k).where(k.c.id == key.id).values(last_used_at=now_iso(now)))
    return key


# -- sessions ----------------------------------------------------------------------------------------
def create_session(
    store: Store,
    user_id: int,
    absolute_seconds: int,
    remote_addr: str | None = None,
    replaces: str | None = None,
) -> tuple[str, str]:
    """A new session for the user (the session presented before, ``replaces``, ends: the id is rotated at
    sign-in). Returns the cookie's value and the CSRF token; only the value's SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    s = t.SessionRow.__table__
    with _write(store) as conn:
        if replaces:
            conn.execute(delete(s).where(s.c.id_sha256 == _sha256(replaces)))
        conn.execute(delete(s).where(s.c.expires_at < now_iso(now)))
        conn.execute(
            s.insert().values(
                id_sha256=_sha256(token),
                user_id=user_id,
                csrf_token=csrf,
                created_at=now_iso(now),
                last_seen_at=now_iso(now),
                expires_at=now_iso(now + timedelta(seconds=absolute_seconds)),
                remote_addr=(remote_addr or None) and remote_addr[:64],
            )
        )
    return token, csrf


def load_session(store: Store, token: str, idle_seconds: int) -> Session | None:
    """The live session of the cookie value ``token``, or None (unknown, idle too long, past its absolute
    expiry, or its user disabled); an expired session is deleted. Refreshes the idle timer."""
    if not token or len(token) > 100:
        return None
    s, u = t.SessionRow.__table__, t.UserRow.__table__
    key = _sha256(token)
    now = datetime.now(UTC)
    with store.engine.connect() as conn:
        row = conn.execute(
            select(
                s, u.c.name, u.c.lang, u.c.disabled, u.c.password_hash, u.c.created_at.label("user_created")
            )
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.id_sha256 == key)
        ).first()
    if row is None:
        return None
    idle_end = _parse(row.last_seen_at) + timedelta(seconds=idle_seconds)
    if row.disabled or now >= _parse(row.expires_at) or now >= idle_end:
        with _write(store) as conn:
            conn.execute(delete(s).where(s.c.id_sha256 == key))
        return None
    if (now - _parse(row.last_seen_at)).total_seconds() >= min(LAST_USED_EVERY, idle_seconds / 10):
        with _write(store) as conn:
            conn.execute(update(s).where(s.c.id_sha256 == key).values(last_seen_at=now_iso(now)))
    user = User(
        row.user_id, row.name, row.lang, bool(row.disabled), row.password_hash is not None, row.user_created
    )
    return Session(user, row.csrf_token, row.created_at, row.expires_at)


def delete_session(store: Store, token: str) -> None:
    s = t.SessionRow.__table__
    with _write(store) as conn:
        conn.execute(delete(s).where(s.c.id_sha256 == _sha256(token)))


# -- OpenID Connect sign-ins under way ---------------------------------------------------------------
def save_oidc_state(store: Store, state: str, code_verifier: str, nonce: str) -> None:
    o = t.OidcStateRow.__table__
    now = datetime.now(UTC)
    with _write(store) as conn:
        conn.execute(delete(o).where(o.c.created_at < now_iso(now - timedelta(seconds=OIDC_STATE_SECONDS))))
        conn.execute(
            o.insert().values(
                state_sha256=_sha256(state), code_verifier=code_verifier, nonce=nonce, created_at=now_iso(now)
            )
        )


def pop_oidc_state(store: Store, state: str) -> tuple[str, str] | None:
    """The PKCE verifier and nonce of a sign-in under way (used once), or None when unknown or too old."""
    if not state or len(state) > 200:
        return None
    o = t.OidcStateRow.__table__
    key = _sha256(state)
    limit = now_iso(datetime.now(UTC) - timedelta(seconds=OIDC_STATE_SECONDS))
    with _write(store) as conn:
        row = conn.execute(select(o).where(o.c.state_sha256 == key)).first()
        if row is None:
            return None
        conn.execute(delete(o).where(o.c.state_sha256 == key))
    if row.created_at < limit:
        return None
    return row.code_verifier, row.nonce

"""The accounts API on SQLite and PostgreSQL: argon2 hashes at rest (renewed when the parameters change),
lockout per account and per address, API keys shown once and stored as SHA-256 (revoked and expired keys
refused), sessions (rotation, idle and absolute expiry), the audit log; and the administration commands."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update

from mamori import accounts
from mamori.accounts import LockoutPolicy, core
from mamori.accounts import tables as t
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.store import Store
from server_support import BACKENDS, backend_store

PASSWORD = "correct horse battery staple"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with backend_store(request.param, tmp_path) as opened:
        accounts.create_team(opened, "psirt")
        accounts.create_team(opened, "other")
        yield opened


def _all_text(store: Store) -> str:
    """Every value of every accounts table, as text (to prove a secret is nowhere in the store)."""
    out = []
    with store.engine.connect() as conn:
        for table in t.TeamRow.metadata.sorted_tables:
            if table.name.startswith(("account_", "audit_")):
                out.extend(str(v) for row in conn.execute(select(table)) for v in row)
    return "\n".join(out)


@pytest.mark.argon2_default
def test_passwords_are_argon2_hashes_and_are_renewed_when_the_parameters_change(store: Store) -> None:
    user, generated = accounts.create_user(store, "alice", PASSWORD, "psirt", "developer")
    assert generated is None
    with store.engine.connect() as conn:
        stored = conn.scalar(select(t.UserRow.password_hash).where(t.UserRow.id == user.id))
    assert stored.startswith("$argon2id$") and PASSWORD not in _all_text(store)
    assert PasswordHasher().verify(stored, PASSWORD)
    result = accounts.verify_password(store, "alice", PASSWORD, "192.0.2.1")
    assert result.ok and result.user is not None and result.user.name == "alice"
    assert [(m.team, m.role) for m in result.memberships] == [("psirt", "developer")]

    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with store.engine.begin() as conn:
        conn.execute(update(t.UserRow.__table__).where(t.UserRow.id == user.id).values(password_hash=weak))
    assert accounts.verify_password(store, "alice", PASSWORD).ok
    with store.engine.connect() as conn:
        renewed = conn.scalar(select(t.UserRow.password_hash).where(t.UserRow.id == user.id))
    assert renewed != weak and not PasswordHasher().check_needs_rehash(renewed)
    assert PasswordHasher().verify(renewed, PASSWORD)


def test_a_generated_password_is_returned_once_and_short_passwords_are_refused(store: Store) -> None:
    _user, generated = accounts.create_user(store, "bob", None, "psirt", "auditor")
    assert generated and len(generated) >= 20 and generated not in _all_text(store)
    assert accounts.verify_password(store, "bob", generated).ok
    with pytest.raises(InputError, match="12 to 128"):
        accounts.create_user(store, "carol", "short", "psirt", "auditor")
    with pytest.raises(InputError, match="unknown role"):
        accounts.create_user(store, "carol", PASSWORD, "psirt", "root")
    with pytest.raises(InputError, match="no team"):
        accounts.create_user(store, "carol", PASSWORD, "nobody", "auditor")
    with pytest.raises(InputError, match="exists already"):
        accounts.create_user(store, "bob", PASSWORD, "psirt", "auditor")


def test_an_account_is_locked_after_repeated_failures_and_unlocked_after_the_lock_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts.create_user(store, "alice", PASSWORD, "psirt", "developer")
    # the lock lasts long enough that a slow argon2 check on a loaded machine cannot outlive it; the
    # clock is then moved past it (no sleep, no race with the machine's speed)
    policy = LockoutPolicy(account_failures=3, address_failures=100, window_seconds=600, lock_seconds=120)
    reasons = [
        accounts.verify_password(store, "alice", "wrong password!", "192.0.2.1", policy).reason
        for _ in range(3)
    ]
    assert reasons == ["wrong_password"] * 3
    locked = accounts.verify_password(store, "alice", PASSWORD, "192.0.2.2", policy)
    assert not locked.ok and locked.reason == "locked"
    later = datetime.now(UTC) + timedelta(seconds=121)

    class _Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return later if tz is not None else later.replace(tzinfo=None)

    monkeypatch.setattr(core, "datetime", _Later)
    assert accounts.verify_password(store, "alice", PASSWORD, "192.0.2.2", policy).ok
    assert accounts.verify_password(store, "nobody", PASSWORD, "192.0.2.2", policy).reason == "unknown"
    failures = accounts.list_audit(store, action="signin.failure")
    assert len(failures) == 5 and failures[0].detail == {"reason": "unknown"}
    assert failures[1].detail == {"reason": "locked"} and failures[1].remote_addr == "192.0.2.2"
    assert failures[2].detail is not None and failures[2].detail["reason"] == "wrong_password"
    assert "locked_until" in failures[2].detail and failures[2].remote_addr == "192.0.2.1"


def test_an_address_with_many_failures_is_throttled_for_every_account(store: Store) -> None:
    accounts.create_user(store, "alice", PASSWORD, "psirt", "developer")
    policy = LockoutPolicy(account_failures=100, address_failures=3, window_seconds=60, lock_seconds=60)
    for name in ("x", "y", "z"):
        assert (
            accounts.verify_password(store, name, "guess guess guess", "198.51.100.7", policy).reason
            == "unknown"
        )
    throttled = accounts.verify_password(store, "alice", PASSWORD, "198.51.100.7", policy)
    assert not throttled.ok and throttled.reason == "address_throttled"
    assert accounts.verify_password(store, "alice", PASSWORD, "198.51.100.8", policy).ok


def test_api_keys_are_shown_once_stored_as_sha256_and_refused_when_revoked_or_expired(store: Store) -> None:
    key, plaintext = accounts.create_api_key(store, "psirt", "developer", expires=30, name="ci")
    assert plaintext.startswith("mamori_" + key.prefix + "_") and len(plaintext) > 50
    secret = plaintext.removeprefix("mamori_" + key.prefix + "_")  # may itself hold "_" (URL-safe base64)
    everything = _all_text(store)
    assert plaintext not in everything and secret not in everything
    assert hashlib.sha256(plaintext.encode()).hexdigest() in everything
    assert key.expires_at is not None and key.expires_at > accounts.now_iso(
        datetime.now(UTC) + timedelta(days=29)
    )

    found = accounts.authenticate_api_key(store, plaintext)
    assert found is not None and (found.team, found.role, found.name) == ("psirt", "developer", "ci")
    assert accounts.list_api_keys(store)[0].last_used_at is not None
    assert (
        accounts.authenticate_api_key(store, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    )
    assert accounts.authenticate_api_key(store, "mamori_000000000000_" + secret) is None
    assert accounts.authenticate_api_key(store, "") is None

    accounts.revoke_api_key(store, key.id)
    assert accounts.authenticate_api_key(store, plaintext) is None
    assert not accounts.list_api_keys(store)[0].active

    old, old_plain = accounts.create_api_key(
        store, "psirt", "auditor", expires=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert accounts.authenticate_api_key(store, old_plain) is None and not old.active
    with pytest.raises(InputError):
        accounts.revoke_api_key(store, 9999)
    actions = [e.action for e in accounts.list_audit(store)]
    assert actions.count("apikey.create") == 2 and "apikey.revoke" in actions


def test_sessions_rotate_and_expire(store: Store) -> None:
    user, _ = accounts.create_user(store, "alice", PASSWORD, "psirt", "developer")
    first, csrf = accounts.create_session(store, user.id, 3600, "192.0.2.1")
    session = accounts.load_session(store, first, 60)
    assert session is not None and session.user.name == "alice" and session.csrf_token == csrf
    assert first not in _all_text(store)
    second, _csrf = accounts.create_session(store, user.id, 3600, "192.0.2.1", replaces=first)
    assert accounts.load_session(store, first, 60) is None
    assert accounts.load_session(store, second, 60) is not None

    short, _ = accounts.create_session(store, user.id, 1)
    time.sleep(1.2)
    assert accounts.load_session(store, short, 60) is None  # past its absolute expiry
    idle, _ = accounts.create_session(store, user.id, 3600)
    time.sleep(1.2)
    assert accounts.load_session(store, idle, 1) is None  # idle too long
    with store.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM account_session")).scalar()
    assert left == 1  # expired sessions are deleted


def test_audit_lines_say_who_what_when_and_where_and_belong_to_teams(store: Store) -> None:
    actor = accounts.Actor("user", "alice", 7)
    psirt = accounts.get_team(store, "psirt")
    assert psirt is not None
    accounts.record_audit(
        store, actor, "sbom.upload", "product:1", {"format": "cyclonedx"}, "203.0.113.9", psirt.id
    )
    newest = accounts.list_audit(store, limit=1)[0]
    assert (newest.actor, newest.actor_kind, newest.actor_id, newest.action) == (
        "alice",
        "user",
        7,
        "sbom.upload",
    )
    assert newest.detail == {"format": "cyclonedx"} and newest.remote_addr == "203.0.113.9"
    assert newest.at.endswith("Z") and newest.at[:4] == str(datetime.now(UTC).year)
    other = accounts.get_team(store, "other")
    assert other is not None
    assert {e.action for e in accounts.list_audit(store, team_ids=[other.id])} == {"team.create"}
    assert all(e.team_id == psirt.id for e in accounts.list_audit(store, team_ids=[psirt.id]))


def test_the_administration_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "cli.db")
    monkeypatch.setenv("MAMORI_USER", "root-at-cli")
    assert main(["team", "add", "psirt", "--db", db]) == 0
    assert capsys.readouterr().out == "team psirt added\n"
    assert (
        main(["apikey", "create", "--team", "psirt", "--role", "developer", "--name", "ci", "--db", db]) == 0
    )
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("mamori_")
    plaintext = out.strip()
    assert main(["user", "add", "alice", "--team", "psirt", "--role", "auditor", "--db", db]) == 0
    captured = capsys.readouterr()
    password = captured.out.strip().rsplit(" ", 1)[-1]
    assert "alice" in captured.err and len(password) >= 20

    from mamori.store import open_store

    with open_store(db) as opened:
        assert accounts.verify_password(opened, "alice", password).ok
        assert accounts.authenticate_api_key(opened, plaintext) is not None
        assert {e.actor for e in accounts.list_audit(opened) if e.action != "signin.success"} == {
            "root-at-cli"
        }
    assert main(["apikey", "list", "--db", db, "--format", "json"]) == 0
    listed = capsys.readouterr().out
    assert '"prefix": "mamori_' in listed and plaintext not in listed
    assert main(["apikey", "revoke", "1", "--db", db]) == 0
    capsys.readouterr()
    with open_store(db) as opened:
        assert accounts.authenticate_api_key(opened, plaintext) is None

    assert main(["user", "add", "bob", "--team", "psirt", "--role", "root", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown role 'root'" in err
    assert main(["apikey", "revoke", "42", "--db", db]) == 2
    assert main(["team", "add", "psirt", "--db", db]) == 2
    assert main(["user", "add", "bob", "--team", "psirt", "--db", db]) == 2  # --role missing

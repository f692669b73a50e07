"""Serving the Dependency-Track-compatible endpoints in the tests: the real application
(:func:`mamori.server.app.create_app`) over the test's store, with real API keys made by
:mod:`mamori.accounts` (team ``ci``: ``odt_ci`` an administrator's key, ``odt_reader`` an auditor's).

``KEYS`` maps those names to the keys' plaintext of the store last given to :func:`build_app`; ``CI`` is
the ``X-Api-Key`` header of ``odt_ci``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mamori import accounts

ROLES = {"odt_ci": "admin", "odt_reader": "auditor"}
KEYS: dict[str, str] = {}
CI: dict[str, str] = {}
_MADE: dict[str, dict[str, str]] = {}


def keys_of(store: Any) -> dict[str, str]:
    """The test keys of ``store`` (made the first time)."""
    made = _MADE.get(store.url)
    if made is None or accounts.get_team(store, "ci") is None:
        actor = accounts.Actor("cli", "test")
        accounts.create_team(store, "ci", actor=actor)
        made = {
            name: accounts.create_api_key(store, "ci", role, actor=actor)[1] for name, role in ROLES.items()
        }
        _MADE[store.url] = made
    KEYS.clear()
    KEYS.update(made)
    CI["X-Api-Key"] = made["odt_ci"]
    return made


def build_app(store: Any) -> Any:
    """The server's application over ``store``, its test keys made."""
    from mamori.server.app import create_app
    from mamori.server.settings import ServerSettings

    keys_of(store)
    return create_app(ServerSettings(), store)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port (lifespan on); its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def wait_done(store: Any, token: str, timeout: float = 120.0) -> Any:
    """The upload's status once it is no longer processing."""
    from mamori.portfolio.uploads import upload_status

    deadline = time.monotonic() + timeout
    while True:
        status = upload_status(store, token)
        if status is not None and not status.processing:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(token)
        time.sleep(0.05)


def audit_actions(store: Any) -> list[tuple[str, str, str | None]]:
    """(actor, action, target) of every audit line, oldest first."""
    return [(e.actor, e.action, e.target) for e in reversed(accounts.list_audit(store, limit=1000))]

"""Helpers of the team server's tests: a store on SQLite or PostgreSQL (own throw-away database when
MAMORI_TEST_PG_URL is set), a real uvicorn server on a free loopback port in a thread, and sign-in."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mamori.server.app import create_app
from mamori.server.settings import ServerSettings
from mamori.store import Store, open_store
from mamori.store.throwaway import throwaway_postgres

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]


@contextlib.contextmanager
def backend_store(kind: str, tmp_path: Path) -> Iterator[Store]:
    """A new, empty store: a SQLite file, or a throw-away PostgreSQL database."""
    if kind == "sqlite":
        with open_store(str(tmp_path / "server.db")) as store:
            yield store
        return
    assert PG_URL
    with throwaway_postgres(PG_URL) as url, open_store(url) as store:
        yield store


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")  # type: ignore[arg-type]
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextlib.contextmanager
def live(store: Store, **settings: object) -> Iterator[LiveServer]:
    app = create_app(ServerSettings(**settings), store)  # type: ignore[arg-type]
    with LiveServer(app) as server:
        yield server


def signin_token(client: httpx.Client) -> str:
    page = client.get("/signin")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    assert client.cookies.get("mamori_signin") == found.group(1)
    return found.group(1)


def signin(client: httpx.Client, name: str, password: str) -> httpx.Response:
    token = signin_token(client)
    return client.post("/signin", data={"name": name, "password": password, "csrf_token": token, "next": "/"})


def csrf_of(client: httpx.Client) -> str:
    """The CSRF token of the signed-in session (from the start page's forms)."""
    page = client.get("/")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)

"""A store with the bundled demo product scanned into the portfolio, and a webhook receiver on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mamori import accounts
from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
from mamori.portfolio import add_product, match_release, store_sbom
from mamori.store import Store, open_store

SECRET = "s3cret-for-the-test-receiver-0123"


def demo_store(tmp_path: Path, team: str = "psirt", db: str | None = None) -> Store:
    """The demo vulnerability set, product ``shop`` release 2.1.0 (the demo SBOM) matched, and a team
    that owns the product (in ``tmp_path``/notify.db, or the database ``db``)."""
    db = db or str(tmp_path / "notify.db")
    load_demo_vulnerabilities(db)
    store = open_store(db)
    add_product(store, "shop", "ACME")
    stored = store_sbom(store, "shop", "2.1.0", demo_data() / DEMO_SBOM, who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)
    accounts.create_team(store, team)
    accounts.assign_product(store, team, "shop")
    return store


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    requests: list[Received] = field(default_factory=list)
    location: str | None = None  # sent with a 3xx status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that records every POST and answers the statuses given."""
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            if 300 <= status < 400 and state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

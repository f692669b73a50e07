"""The world of the native API's tests: the test knowledge base (tests/portfolio_support.py, SQLite or
PostgreSQL), the JVN records of ../shared/data/jvn, and two teams with a product each whose release was
uploaded and matched like ``PUT /api/v1/bom`` does:

- team ``psirt`` owns ``web`` (release ``1.0``: django 1.11.0, requests 2.19.0, jinja2 2.10) and holds
  API keys of every role but admin; the user ``alice`` is its security manager;
- team ``other`` owns ``secret-product`` (release ``9``: django 1.11.0 too) and has a developer key;
- team ``ops`` has an administrator's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES
from mamori.portfolio import uploads
from mamori.store import Store
from portfolio_support import SHARED_DATA, kb, knowledge_template, sbom_file
from server_support import LiveServer, live

__all__ = ["kb", "knowledge_template"]

PASSWORD = "correct horse battery staple"
WEB = ["pkg:pypi/django@1.11.0", "pkg:pypi/requests@2.19.0", "pkg:pypi/jinja2@2.10"]
SECRET = "secret-product"


@dataclass
class World:
    store: Store
    server: LiveServer
    keys: dict[str, str]  # role → plaintext (team psirt); "admin" (team ops); "other" (team other)
    web: int  # product ids
    secret: int
    web_release: int  # release ids
    secret_release: int

    def client(self, who: str) -> httpx.Client:
        return self.server.client(headers={"X-Api-Key": self.keys[who]})


def upload(
    store: Store, tmp_path: Path, product: str, version: str, purls: list[str]
) -> uploads.UploadStatus:
    data = sbom_file(tmp_path / f"{product}-{version}.cdx.json", purls).read_bytes()
    token = uploads.submit_upload(store, data, f"{product}.cdx.json", product, version, True, "test")
    status = uploads.process_upload(store, token)
    assert status is not None and status.state == "done", status
    return status


def _import_jvn(store: Store) -> None:
    from mamori.vulndb.importer import import_path

    import_path(store, SHARED_DATA / "jvn")


@pytest.fixture
def world(kb: Store, tmp_path: Path) -> Iterator[World]:
    from mamori.portfolio import add_product

    _import_jvn(kb)
    for team in ("psirt", "other", "ops"):
        accounts.create_team(kb, team)
    web = add_product(kb, "web", "Example K.K.", who="test")
    secret = add_product(kb, SECRET, who="test")
    accounts.assign_product(kb, "psirt", "web")
    accounts.assign_product(kb, "other", SECRET)
    web_status = upload(kb, tmp_path, "web", "1.0", WEB)
    secret_status = upload(kb, tmp_path, SECRET, "9", ["pkg:pypi/django@1.11.0"])
    keys = {role: accounts.create_api_key(kb, "psirt", role)[1] for role in ROLE_NAMES if role != "admin"}
    keys["admin"] = accounts.create_api_key(kb, "ops", "admin")[1]
    keys["other"] = accounts.create_api_key(kb, "other", "developer")[1]
    accounts.create_user(kb, "alice", PASSWORD, "psirt", "security_manager")
    assert web_status.release_id is not None and secret_status.release_id is not None
    with live(kb) as server:
        yield World(kb, server, keys, web, secret, web_status.release_id, secret_status.release_id)
    uploads.shutdown_workers(wait=True)


def items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) - {"next", "next_cursor"} == {"total", "limit", "offset", "items"}  # findings: cursors
    return body["items"]  # type: ignore[no-any-return]

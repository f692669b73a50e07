"""The multipart SBOM upload of the Dependency-Track-compatible endpoints (``POST /api/v1/bom``) from a
signed-in browser session rather than an API key: the session cookie holds only with the session's CSRF
token (the ``X-CSRF-Token`` header, or the ``csrf_token`` field of the multipart form itself); without it
the cookie is refused with 403 and nothing is stored. Dependency-Track clients send an API key and no
cookie; this is the path a page script or a hand-made form would take."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtrack_support import audit_actions, build_app, serve, wait_done
from mamori import accounts
from mamori.portfolio.uploads import find_release, list_uploads
from portfolio_support import kb, knowledge_template, sbom_file
from server_support import csrf_of, signin

__all__ = ["kb", "knowledge_template"]

PASSWORD = "a long enough pass phrase 42"


@pytest.fixture
def browser(kb: Any) -> Iterator[tuple[httpx.Client, Any]]:
    from mamori.portfolio.uploads import shutdown_workers

    build_app(kb)  # makes the team "ci"
    accounts.create_user(kb, "dev", PASSWORD, "ci", "developer")
    with serve(build_app(kb)) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert signin(client, "dev", PASSWORD).status_code == 303
        yield client, kb
    shutdown_workers(wait=True)


def _fields(version: str) -> dict[str, str]:
    return {"projectName": "portal", "projectVersion": version, "autoCreate": "true"}


def test_a_session_uploads_with_the_csrf_header(browser: tuple[httpx.Client, Any], tmp_path: Path) -> None:
    client, store = browser
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0"]).read_bytes()
    sent = client.post(
        "/api/v1/bom",
        data=_fields("1"),
        files={"bom": ("portal.json", sbom)},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert sent.status_code == 200, sent.text
    status = wait_done(store, sent.json()["token"])
    assert status.state == "done" and status.file_name == "portal.json"
    assert find_release(store, "portal", "1")[1] is not None
    # the upload is the user's: the audit log and the upload list name the session's user
    assert ("dev", "sbom.upload", "portal 1") in {line[:3] for line in audit_actions(store)}
    uploads, _total = list_uploads(store, ["portal"], None, 10, 0)
    assert [u.submitted_by for u in uploads] == ["dev"]


def test_a_session_uploads_with_the_csrf_form_field(
    browser: tuple[httpx.Client, Any], tmp_path: Path
) -> None:
    client, store = browser
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/jinja2@2.10"]).read_bytes()
    sent = client.post(
        "/api/v1/bom",
        data={**_fields("2"), "csrf_token": csrf_of(client)},
        files={"bom": ("portal.json", sbom)},
    )
    assert sent.status_code == 200, sent.text
    assert wait_done(store, sent.json()["token"]).state == "done"
    assert find_release(store, "portal", "2")[1] is not None


def test_a_session_without_its_csrf_token_is_refused(
    browser: tuple[httpx.Client, Any], tmp_path: Path
) -> None:
    client, store = browser
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0"]).read_bytes()
    files = {"bom": ("portal.json", sbom)}
    refused = [
        client.post("/api/v1/bom", data=_fields("3"), files=files),
        client.post("/api/v1/bom", data=_fields("3"), files=files, headers={"X-CSRF-Token": "guess"}),
        client.post("/api/v1/bom", data={**_fields("3"), "csrf_token": "guess"}, files=files),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all(r.json()["detail"] == "CSRF token missing or wrong" for r in refused)
    # another site's page posting through the user's browser: the cookie goes along, the token cannot
    forged = httpx.post(
        f"{client.base_url}/api/v1/bom",
        data=_fields("3"),
        files=files,
        cookies=dict(client.cookies),
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    assert find_release(store, "portal", "3") == (None, None)
    assert list_uploads(store, ["portal"], None, 10, 0)[1] == 0
    assert not [line for line in audit_actions(store) if line[1] == "sbom.upload"]

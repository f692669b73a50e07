"""Dependency-Track-compatible endpoints (mamori.server.dtrack): real Dependency-Track clients from PyPI
(dtrack-auditor, owasp-dependency-track-client) upload a real SBOM, poll the token, look the project up and
read the findings back, against the router served by uvicorn on loopback; hand-built requests check each
endpoint and its error cases. The principal comes from X-Api-Key through the test app (dtrack_support)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtrack_support import CI, KEYS, audit_actions, build_app, serve, wait_done
from mamori import accounts
from mamori.portfolio import add_product
from mamori.portfolio.views import release
from portfolio_support import DROPWIZARD, kb, knowledge_template, sbom_file
from server_support import csrf_of, signin

__all__ = ["kb", "knowledge_template"]

PASSWORD = "a long enough pass phrase 42"


@pytest.fixture
def server(kb: Any) -> Iterator[tuple[str, Any]]:
    from mamori.portfolio.uploads import shutdown_workers

    with serve(build_app(kb)) as url:
        yield url, kb
    shutdown_workers(wait=True)


def _put(url: str, body: Any, key: str = "odt_ci") -> httpx.Response:
    return httpx.put(f"{url}/api/v1/bom", json=body, headers={"X-Api-Key": KEYS.get(key, key)}, timeout=60)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_dtrack_auditor_uploads_polls_looks_up_and_reads_findings(
    server: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dtrackauditor.auditor import Auditor, AuditorException

    monkeypatch.setattr(AuditorException, "INSTANT_EXIT", False)  # raise instead of sys.exit(1)

    url, store = server
    bom = DROPWIZARD / "bom.json"
    token = Auditor.read_upload_bom(url, KEYS["odt_ci"], "dropwizard", "1.3.15", str(bom), True, wait=True)
    assert token and wait_done(store, token).state == "done"
    project_uuid = Auditor.get_project_with_version_id(url, KEYS["odt_ci"], "dropwizard", "1.3.15")
    assert project_uuid
    assert Auditor.get_project_without_version_id(url, KEYS["odt_ci"], "dropwizard", "1.3.15") == project_uuid
    findings = Auditor.get_project_findings(url, KEYS["odt_ci"], project_uuid)
    view = release(store, "dropwizard", "1.3.15")
    assert len(findings) == view["summary"]["open_findings"] > 0
    counts = Auditor.get_project_finding_severity(findings)
    assert counts["CRITICAL"] == view["summary"]["by_rating"]["critical"]
    assert counts["HIGH"] == view["summary"]["by_rating"]["high"]
    ids = {f["vulnerability"]["vulnId"] for f in findings}
    assert ids == {f["vulnerability"]["id"] for f in view["findings"] if f["in_gate"]}
    first = findings[0]
    assert first["component"]["project"] == project_uuid and first["component"]["purl"]
    assert first["matrix"].startswith(project_uuid + ":")
    # the gate as in DT: a rule over the counts fails
    with pytest.raises(AuditorException):
        Auditor.check_vulnerabilities(url, KEYS["odt_ci"], project_uuid, ["high:1:true"], "FALSE")
    # a second upload of the same release: lastBomImport moves on, the client is satisfied
    again = Auditor.read_upload_bom(url, KEYS["odt_ci"], "dropwizard", "1.3.15", str(bom), False, wait=True)
    assert again != token
    uploads = [line for line in audit_actions(store) if line[1] == "sbom.upload"]
    assert len(uploads) == 2 and uploads[0][2] == "dropwizard 1.3.15"


def test_owasp_client_uploads_multipart_and_reads_typed_findings(
    server: tuple[str, Any], tmp_path: Path
) -> None:
    from owasp_dt import AuthenticatedClient
    from owasp_dt.api.bom import upload_bom
    from owasp_dt.api.event import is_token_being_processed_1
    from owasp_dt.api.finding import get_findings_by_project
    from owasp_dt.api.project import get_project, get_project_by_name_and_version
    from owasp_dt.models import UploadBomBody
    from owasp_dt.types import File

    url, store = server
    client = AuthenticatedClient(
        base_url=f"{url}/api", token=KEYS["odt_ci"], auth_header_name="X-Api-Key", prefix="", timeout=60
    )
    sbom = sbom_file(tmp_path / "web.cdx.json", ["pkg:pypi/django@1.11.0", "pkg:pypi/jinja2@2.10"])
    with sbom.open("rb") as fh:
        body = UploadBomBody(
            project_name="web",
            project_version="2.0",
            auto_create=True,
            bom=File(payload=fh, file_name="web.json"),
        )
        sent = upload_bom.sync_detailed(client=client, body=body)
    assert sent.status_code == 200, sent.content
    token = sent.parsed.token
    wait_done(store, str(token))
    state = is_token_being_processed_1.sync(client=client, uuid=token)
    assert state is not None and state.processing is False and state.status.value == "COMPLETED"
    project = get_project_by_name_and_version.sync(client=client, name="web", version="2.0")
    assert project is not None and project.name == "web" and project.last_bom_import
    assert project.metrics.vulnerabilities > 0
    assert get_project.sync(client=client, uuid=project.uuid).uuid == project.uuid
    findings = get_findings_by_project.sync(client=client, uuid=project.uuid)
    assert findings and len(findings) == project.metrics.vulnerabilities
    names = {f.component.name for f in findings}
    assert names <= {"django", "jinja2"} and "django" in names
    some = findings[0].vulnerability
    assert some.severity in {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNASSIGNED"} and some.vuln_id


def test_put_bom_error_cases(
    server: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, store = server
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/requests@2.19.0"]).read_bytes()
    ok = {"projectName": "svc", "projectVersion": "1", "autoCreate": True, "bom": _b64(sbom)}
    assert httpx.put(f"{url}/api/v1/bom", json=ok, timeout=30).status_code == 401  # no key
    assert _put(url, ok, "odt_reader").status_code == 403  # no sbom.upload
    assert _put(url, {**ok, "bom": "@@not base64@@"}).status_code == 400
    assert _put(url, {**ok, "bom": _b64(b"\x00\x01 not an sbom")}).status_code == 400
    assert _put(url, {"projectName": "svc", "bom": _b64(sbom)}).status_code == 400  # no version
    assert _put(url, {**ok, "projectName": ["svc"]}).status_code == 400  # not text
    assert _put(url, [ok]).status_code == 400  # not an object
    bad = httpx.put(
        f"{url}/api/v1/bom", content=b"{not json", headers={**CI, "Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    missing = _put(url, {**ok, "autoCreate": False})
    assert missing.status_code == 404 and missing.text == "The project could not be found."
    # a membership limited to some products (a signed-in user here) may not create a product
    add_product(store, "limited-one")
    accounts.assign_product(store, "ci", "limited-one")
    accounts.create_user(store, "lim", PASSWORD, "ci", "developer", products=["limited-one"])
    with httpx.Client(base_url=url, timeout=30) as browser:
        assert signin(browser, "lim", PASSWORD).status_code == 303
        csrf = {"X-CSRF-Token": csrf_of(browser)}
        assert browser.put("/api/v1/bom", json=ok, headers=csrf).status_code == 401
        assert browser.put("/api/v1/bom", json=ok).status_code == 403  # no CSRF token
    assert _put(url, {**ok, "project": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    monkeypatch.setenv("MAMORI_MAX_UPLOAD_BYTES", "100")
    assert _put(url, ok).status_code == 413
    monkeypatch.delenv("MAMORI_MAX_UPLOAD_BYTES")
    # the upload that works, then by project UUID
    first = _put(url, ok)
    assert first.status_code == 200 and set(first.json()) == {"token"}
    assert wait_done(store, first.json()["token"]).state == "done"
    lookup = httpx.get(f"{url}/api/v1/project/lookup", params={"name": "svc", "version": "1"}, headers=CI)
    project_uuid = lookup.json()["uuid"]
    by_uuid = _put(url, {"project": project_uuid, "bom": _b64(sbom)})
    assert by_uuid.status_code == 200 and by_uuid.json()["projectUuid"] == project_uuid


def test_post_bom_error_cases_and_token_endpoints(server: tuple[str, Any], tmp_path: Path) -> None:
    url, store = server
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/urllib3@1.24.1"]).read_bytes()
    fields = {"projectName": "lib", "projectVersion": "3", "autoCreate": "true"}
    no_file = httpx.post(f"{url}/api/v1/bom", data=fields, headers=CI)
    assert no_file.status_code == 400
    not_multipart = httpx.post(
        f"{url}/api/v1/bom", content=b"x", headers={**CI, "Content-Type": "text/plain"}
    )
    assert not_multipart.status_code == 400
    sent = httpx.post(f"{url}/api/v1/bom", data=fields, files={"bom": ("s.json", sbom)}, headers=CI)
    assert sent.status_code == 200, sent.text
    token = sent.json()["token"]
    status = wait_done(store, token)
    assert status.state == "done" and status.file_name == "s.json"
    for path in ("bom/token", "event/token"):
        got = httpx.get(f"{url}/api/v1/{path}/{token}", headers=CI)
        assert got.status_code == 200 and got.json() == {"processing": False, "status": "COMPLETED"}
        unknown = httpx.get(f"{url}/api/v1/{path}/00000000-0000-0000-0000-000000000000", headers=CI)
        assert unknown.json() == {"processing": False}
        assert httpx.get(f"{url}/api/v1/{path}/{token}").status_code == 401
    # a malformed SBOM: accepted (it looks like CycloneDX), processed, failed with the reason
    broken = b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": 5, "type": []'
    sent = httpx.post(f"{url}/api/v1/bom", data=fields, files={"bom": ("b.json", broken)}, headers=CI)
    assert sent.status_code == 200, sent.text
    failed = wait_done(store, sent.json()["token"])
    assert failed.state == "failed" and failed.error and "\n" not in failed.error and "b.json" in failed.error
    got = httpx.get(f"{url}/api/v1/bom/token/{sent.json()['token']}", headers=CI).json()
    assert got == {"processing": False, "status": "FAILED"}


def _team_product_names(store: Any, team_id: int) -> list[str]:
    from sqlalchemy import select

    from mamori.portfolio.tables import ProductRow

    ids = accounts.team_products(store, [team_id]).get(team_id, frozenset())
    with store.engine.connect() as conn:
        return list(conn.scalars(select(ProductRow.name).where(ProductRow.id.in_(sorted(ids)))))


def test_projects_and_findings_of_another_team_answer_404(kb: Any, tmp_path: Path) -> None:
    from mamori.portfolio.uploads import find_release, process_upload, shutdown_workers, submit_upload

    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0"]).read_bytes()
    add_product(kb, "ours")
    add_product(kb, "theirs")
    for product in ("ours", "theirs"):
        process_upload(kb, submit_upload(kb, sbom, "s.json", product, "1", True, "setup"))
    assert find_release(kb, "ours", "1")[0] is not None
    accounts.create_team(kb, "team-a")
    accounts.assign_product(kb, "team-a", "ours")
    key = accounts.create_api_key(kb, "team-a", "developer")[1]
    with serve(build_app(kb)) as url:
        h = {"X-Api-Key": key}
        mine = httpx.get(f"{url}/api/v1/project/lookup", params={"name": "ours", "version": "1"}, headers=h)
        assert mine.status_code == 200
        other = httpx.get(
            f"{url}/api/v1/project/lookup", params={"name": "theirs", "version": "1"}, headers=h
        )
        assert other.status_code == 404 and "theirs" not in other.text
        listed = httpx.get(f"{url}/api/v1/project", headers=h)
        assert [p["name"] for p in listed.json()] == ["ours"] and listed.headers["X-Total-Count"] == "1"
        theirs = httpx.get(
            f"{url}/api/v1/project/lookup", params={"name": "theirs", "version": "1"}, headers=CI
        ).json()["uuid"]
        assert httpx.get(f"{url}/api/v1/project/{theirs}", headers=h).status_code == 404
        assert httpx.get(f"{url}/api/v1/finding/project/{theirs}", headers=h).status_code == 404
        assert httpx.get(f"{url}/api/v1/finding/project/not-a-uuid", headers=h).status_code == 404
        body = {"projectName": "theirs", "projectVersion": "2", "autoCreate": True, "bom": _b64(sbom)}
        assert httpx.put(f"{url}/api/v1/bom", json=body, headers=h).status_code == 404
        # a product the team's key creates is the team's: it sees it, another team does not
        body = {"projectName": "new-svc", "projectVersion": "1", "autoCreate": True, "bom": _b64(sbom)}
        created = httpx.put(f"{url}/api/v1/bom", json=body, headers=h)
        assert created.status_code == 200
        assert wait_done(kb, created.json()["token"]).state == "done"
        listed = httpx.get(f"{url}/api/v1/project", headers=h)
        assert sorted(p["name"] for p in listed.json()) == ["new-svc", "ours"]
        assert ("team-a", "new-svc") in {
            (t.name, p) for t in accounts.list_teams(kb) for p in _team_product_names(kb, t.id)
        }
        findings = httpx.get(f"{url}/api/v1/finding/project/{mine.json()['uuid']}", headers=h)
        assert findings.status_code == 200 and findings.json()
        assert json.loads(findings.text)[0]["component"]["projectName"] == "ours"
    shutdown_workers(wait=True)


@pytest.mark.parametrize("fmt", ["cyclonedx-xml", "spdx-tv", "spdx-json", "spdx-lite-xlsx", "spdx-lite-csv"])
def test_every_format_mamori_reads_is_accepted(server: tuple[str, Any], tmp_path: Path, fmt: str) -> None:
    """Not only CycloneDX as in Dependency-Track: SPDX and the SPDX-Lite spreadsheet as well, uploaded by
    multipart; the same packages give the same findings whatever the format."""
    from mamori.model.sbom import Component, Document
    from mamori.sbom import write

    url, store = server
    purls = ["pkg:pypi/django@1.11.0", "pkg:pypi/requests@2.19.0"]
    doc = Document(
        name="multi",
        components=[
            Component(p.split("/")[1].split("@")[0], p.split("@")[1], purl=p, bom_ref=p) for p in purls
        ],
    )
    names = {
        "cyclonedx-xml": "sbom.cdx.xml",
        "spdx-tv": "sbom.spdx",
        "spdx-json": "sbom.spdx.json",
        "spdx-lite-xlsx": "sbom.xlsx",
        "spdx-lite-csv": "sbom.csv",
    }
    path = tmp_path / names[fmt]
    write(doc, path, fmt=fmt)
    fields = {"projectName": "multi", "projectVersion": fmt, "autoCreate": "true"}
    sent = httpx.post(
        f"{url}/api/v1/bom", data=fields, files={"bom": (path.name, path.read_bytes())}, headers=CI
    )
    assert sent.status_code == 200, sent.text
    status = wait_done(store, sent.json()["token"])
    assert status.state == "done", status.error
    assert status.sbom_format == fmt and status.components == 2
    project = httpx.get(
        f"{url}/api/v1/project/lookup", params={"name": "multi", "version": fmt}, headers=CI
    ).json()
    findings = httpx.get(f"{url}/api/v1/finding/project/{project['uuid']}", headers=CI).json()
    assert {f["component"]["name"] for f in findings} == {"django", "requests"}
    assert project["metrics"]["vulnerabilities"] == len(findings) == status.open_findings


def test_an_upload_that_arrives_too_slowly_is_refused(
    server: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    url, _store = server
    monkeypatch.setenv("MAMORI_UPLOAD_SECONDS", "0.5")

    def trickle() -> Iterator[bytes]:
        yield b'{"projectName": "slow", "projectVersion": "1", "bom": "'
        time.sleep(1.5)
        yield b'"}'

    sent = httpx.put(
        f"{url}/api/v1/bom", content=trickle(), headers={**CI, "Content-Type": "application/json"}, timeout=30
    )
    assert sent.status_code == 408
    listed = httpx.get(f"{url}/api/v1/project", headers=CI)
    assert listed.status_code == 200 and listed.json() == [] and listed.headers["X-Total-Count"] == "0"


def test_a_finding_triaged_not_affected_is_suppressed_as_in_dependency_track(
    server: tuple[str, Any], tmp_path: Path
) -> None:
    from mamori.triage.records import set_record, validated

    url, store = server
    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/requests@2.19.0"]).read_bytes()
    body = {"projectName": "app", "projectVersion": "1", "autoCreate": True, "bom": _b64(sbom)}
    wait_done(store, _put(url, body).json()["token"])
    project = httpx.get(
        f"{url}/api/v1/project/lookup", params={"name": "app", "version": "1"}, headers=CI
    ).json()
    findings_url = f"{url}/api/v1/finding/project/{project['uuid']}"
    before = httpx.get(findings_url, headers=CI).json()
    assert before and all(f["analysis"] == {"state": "NOT_SET", "isSuppressed": False} for f in before)
    chosen = before[0]
    set_record(
        store,
        validated(
            "app",
            "1",
            chosen["component"]["purl"],
            chosen["vulnerability"]["vulnId"],
            "not_affected",
            "vulnerable_code_not_in_execute_path",
            who="psirt",
        ),
    )
    after = httpx.get(findings_url, headers=CI).json()
    assert len(after) == len(before) - 1 and chosen["matrix"] not in {f["matrix"] for f in after}
    everything = httpx.get(findings_url, params={"suppressed": "true"}, headers=CI).json()
    hidden = [f for f in everything if f["matrix"] == chosen["matrix"]]
    assert hidden and hidden[0]["analysis"] == {"state": "NOT_AFFECTED", "isSuppressed": True}
    metrics = httpx.get(f"{url}/api/v1/project/{project['uuid']}", headers=CI).json()["metrics"]
    assert metrics["suppressed"] == 1 and metrics["vulnerabilities"] == len(after)


def test_the_openapi_document_describes_the_upload_bodies(kb: Any) -> None:
    document = build_app(kb).openapi()
    paths = document["paths"]
    assert {
        "/api/v1/bom",
        "/api/v1/bom/token/{token}",
        "/api/v1/event/token/{token}",
        "/api/v1/project",
        "/api/v1/project/lookup",
        "/api/v1/project/{uuid}",
        "/api/v1/finding/project/{uuid}",
    } <= set(paths)
    put = paths["/api/v1/bom"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    post = paths["/api/v1/bom"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert put["required"] == ["bom"] and {"projectName", "projectVersion", "autoCreate"} <= set(
        put["properties"]
    )
    assert post["properties"]["bom"]["format"] == "binary"


def test_concurrent_uploads_are_all_accepted_and_processed(server: tuple[str, Any], tmp_path: Path) -> None:
    """Uploads sent at once while earlier ones are being matched: every one accepted, stored in turn."""
    from concurrent.futures import ThreadPoolExecutor

    url, store = server
    sbom = (DROPWIZARD / "bom.json").read_bytes()

    def send(i: int) -> httpx.Response:
        body = {"projectName": f"svc{i % 3}", "projectVersion": str(i), "autoCreate": True, "bom": _b64(sbom)}
        return _put(url, body)

    with ThreadPoolExecutor(max_workers=6) as pool:
        sent = list(pool.map(send, range(12)))
    assert [r.status_code for r in sent] == [200] * 12
    states = [wait_done(store, r.json()["token"], timeout=300) for r in sent]
    assert {s.state for s in states} == {"done"}
    listed = httpx.get(f"{url}/api/v1/project", headers=CI).json()
    assert len(listed) == 12 and len({p["uuid"] for p in listed}) == 12

"""Triage decisions through the native API (SSVC decision points and outcome, justification, evidence,
who decided from the principal), their history and the audit log, and the VEX of the release in
CycloneDX, OpenVEX and CSAF read back by mamori's own VEX reader; over real HTTP with real API keys and a
signed-in user (CSRF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mamori import accounts, vex
from mamori.triage.records import list_records
from server_api_support import PASSWORD, SECRET, World, items, kb, knowledge_template, world
from server_support import csrf_of, signin

__all__ = ["kb", "knowledge_template", "world"]

V1 = "/api/mamori/v1"
POINTS = {
    "exploitation": "active",
    "system_exposure": "open",
    "automatable": "yes",
    "human_impact": "very_high",
}


def _finding(world: World, client: Any) -> dict[str, Any]:
    return items(client.get(f"{V1}/releases/{world.web_release}/findings", params={"component": "django"}))[0]


def test_an_ssvc_decision_is_recorded_with_evidence_and_who_decided(world: World) -> None:
    with world.client("security_manager") as client:
        f = _finding(world, client)
        body = {
            "component": f["component"]["purl"],
            "vulnerability": f["vulnerability"]["id"],
            "status": "affected",
            "responses": ["update"],
            "ssvc": {"role": "user", "points": POINTS},
            "evidence": {"text": "reachable from the login form", "url": "https://tickets.example/PSIRT-7"},
        }
        sent = client.post(f"{V1}/releases/{world.web_release}/triage", json=body)
        assert sent.status_code == 200, sent.text
        out = sent.json()
        assert out["change"] == "created" and out["decision"]["outcome"]["value"] == "immediate"
        record = out["record"]
        assert record["ssvc"]["table"] == "deployer" and record["ssvc"]["outcome"] == "immediate"
        assert POINTS.items() <= record["ssvc"]["points"].items()
        assert record["ssvc"]["points"]["exploitation"] == "active"
        assert record["evidence_url"] == "https://tickets.example/PSIRT-7"
        assert record["detail"].startswith("reachable from the login form\nSSVC deployer: immediate (")
        assert record["who"].startswith("mamori_") and record["version"] == 1
        # the finding's status follows the record; the list and the store hold it
        again = _finding(world, client)
        assert again["status"] == "affected" and again["state"]["origin"]["who"] == record["who"]
        listed = client.get(f"{V1}/releases/{world.web_release}/triage").json()
        assert [(r["vulnerability"], r["status"]) for r in listed] == [(f["vulnerability"]["id"], "affected")]
        stored = list_records(world.store, "web", "1.0")
        assert len(stored) == 1 and stored[0].responses == ("update",)
        # a second decision: a new version, both in the history
        body2 = {
            **body,
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "responses": [],
            "ssvc": None,
            "evidence": {"text": "the admin site is not deployed"},
        }
        second = client.post(f"{V1}/releases/{world.web_release}/triage", json=body2).json()
        assert second["change"] == "updated" and second["record"]["version"] == 2
        assert second["record"]["ssvc"] is None
        history = client.get(
            f"{V1}/releases/{world.web_release}/triage/history",
            params={"component": body["component"], "vulnerability": body["vulnerability"]},
        ).json()
        assert [h["status"] for h in history] == ["affected", "not_affected"]
        assert history[0]["ssvc"]["outcome"] == "immediate"
    lines = accounts.list_audit(world.store, action="triage.record")
    assert len(lines) == 2 and lines[-1].detail["ssvc"] == {"table": "deployer", "outcome": "immediate"}
    assert lines[0].target == f"release:{world.web_release}" and lines[0].remote_addr == "127.0.0.1"


def test_a_signed_in_user_decides_with_the_csrf_token_and_is_named_as_who(world: World) -> None:
    with world.server.client() as browser:
        assert signin(browser, "alice", PASSWORD).status_code == 303
        f = _finding(world, browser)
        body = {
            "component": f["component"]["purl"],
            "vulnerability": f["vulnerability"]["id"],
            "status": "fixed",
        }
        url = f"{V1}/releases/{world.web_release}/triage"
        assert browser.post(url, json=body).status_code == 403  # no CSRF token
        sent = browser.post(url, json=body, headers={"X-CSRF-Token": csrf_of(browser)})
        assert sent.status_code == 200, sent.text
        assert sent.json()["record"]["who"] == "alice"


def test_bad_decisions_are_refused_and_nothing_is_recorded(world: World) -> None:
    url = f"{V1}/releases/{world.web_release}/triage"
    with world.client("security_manager") as client, world.client("developer") as dev:
        f = _finding(world, client)
        ok = {
            "component": f["component"]["purl"],
            "vulnerability": f["vulnerability"]["id"],
            "status": "affected",
        }
        assert client.post(url, json={**ok, "status": "maybe"}).status_code == 422
        missing = client.post(url, json={**ok, "ssvc": {"points": {"exploitation": "active"}}})
        assert missing.status_code == 422 and "missing value" in missing.text
        assert client.post(url, json={**ok, "ssvc": {"points": {"nonsense": "x"}}}).status_code == 422
        bad_just = {**ok, "justification": "component_not_present"}  # only with not_affected
        assert client.post(url, json=bad_just).status_code == 422
        assert client.post(url, json={**ok, "evidence": {"url": "javascript:alert(1)"}}).status_code == 422
        assert client.post(url, json={**ok, "component": "not a purl"}).status_code in (404, 422)
        assert client.post(url, json={**ok, "vulnerability": "CVE-1999-0001"}).status_code == 404
        assert dev.post(url, json=ok).status_code == 403  # developers do not hold triage.write
        other = client.post(f"{V1}/releases/{world.secret_release}/triage", json=ok)
        assert other.status_code == 404 and SECRET not in other.text
    assert list_records(world.store, "web", "1.0") == []
    assert accounts.list_audit(world.store, action="triage.record") == []


@pytest.mark.parametrize("fmt", ["cyclonedx", "openvex", "csaf"])
def test_the_vex_of_the_release_in_every_format(world: World, fmt: str, tmp_path: Path) -> None:
    url = f"{V1}/releases/{world.web_release}/vex"
    params = {"format": fmt, "namespace": "https://psirt.example.jp"}
    with world.client("security_manager") as client, world.client("auditor") as auditor:
        assert auditor.get(url, params=params).status_code == 404  # no records yet
        f = _finding(world, client)
        body = {
            "component": f["component"]["purl"],
            "vulnerability": f["vulnerability"]["id"],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "evidence": {"text": "the admin site is not deployed"},
        }
        assert client.post(f"{V1}/releases/{world.web_release}/triage", json=body).status_code == 200
        got = auditor.get(url, params=params)  # auditors may export VEX
        assert got.status_code == 200, got.text
        assert got.headers["content-disposition"].startswith('attachment; filename="web-1.0.')
        if fmt == "csaf":
            assert auditor.get(url, params={"format": "csaf"}).status_code == 422  # no namespace
        with world.client("customer") as customer:
            assert customer.get(url, params=params).status_code == 403
        assert client.get(f"{V1}/releases/{world.secret_release}/vex", params=params).status_code == 404
    path = tmp_path / f"release.{fmt}.json"
    path.write_bytes(got.content)
    doc = vex.read(path)
    statements = [s for s in doc.statements if s.vulnerability.id == f["vulnerability"]["id"]]
    assert statements and statements[0].status == "not_affected"
    assert statements[0].justification == "vulnerable_code_not_in_execute_path"

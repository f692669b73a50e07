"""The native API of PSIRT cases (/api/mamori/v1/cases) per role: a team's security manager opens a case
(channel api), moves it through the workflow (a refused transition answers 422 and writes nothing), an
auditor reads only, a developer and a customer see nothing; another team's case answers 404 to everyone but
an administrator, and a case opened on the command line (no team) is for administrators only. Changes are in
the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES
from mamori.portfolio.archive import add_product
from mamori.psirt.cases import get_case, new_case
from server_support import BACKENDS, backend_store, live

API = "/api/mamori/v1"
SSVC = {
    "exploitation": "none",
    "utility": "laborious",
    "technical_impact": "partial",
    "public_safety_impact": "minimal",
}


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs", "ops"):
            accounts.create_team(store, team)
        add_product(store, "ours", who="test")
        accounts.assign_product(store, "mine", "ours")
        keys = {
            role: accounts.create_api_key(store, "mine", role)[1] for role in ROLE_NAMES if role != "admin"
        }
        keys["admin"] = accounts.create_api_key(store, "ops", "admin")[1]
        theirs = new_case(store, title="zz-their-secret-case", channel="web", team="theirs", who="x")
        cli = new_case(store, title="opened on the command line", channel="email", who="y")
        with live(store) as server:
            clients = {who: server.client(headers={"X-Api-Key": key}) for who, key in keys.items()}
            yield {"store": store, "clients": clients, "theirs": theirs.key, "cli": cli.key}
            for client in clients.values():
                client.close()


def test_a_security_manager_opens_and_moves_a_case(site: dict[str, Any]) -> None:
    sm, auditor = site["clients"]["security_manager"], site["clients"]["auditor"]
    made = sm.post(
        f"{API}/cases",
        json={"title": "Stored XSS in ours", "reporter_name": "Hanako", "cwe": "CWE-79", "lang": "en"},
    )
    assert made.status_code == 201, made.text
    case = made.json()
    assert (case["team"], case["channel"], case["state"], case["created_by"]) == (
        "mine",
        "api",
        "received",
        case["created_by"],
    )
    key = case["key"]
    refused = sm.post(f"{API}/cases/{key}/transition", json={"state": "disclosed"})
    assert refused.status_code == 422 and "cannot move to disclosed" in refused.text
    assert get_case(site["store"], key).state == "received"
    for state, extra in (("acknowledged", {}), ("triaged", {"ssvc": SSVC, "note": "needs admin access"})):
        moved = sm.post(f"{API}/cases/{key}/transition", json={"state": state, **extra})
        assert moved.status_code == 200, moved.text
    assert moved.json()["ssvc_outcome"] == "defer"
    history = auditor.get(f"{API}/cases/{key}").json()["history"]
    assert [(h["from"], h["to"]) for h in history if h["kind"] == "transition"] == [
        ("received", "acknowledged"),
        ("acknowledged", "triaged"),
    ]
    assert auditor.post(f"{API}/cases/{key}/transition", json={"state": "fix_in_progress"}).status_code == 403
    assert [c["key"] for c in auditor.get(f"{API}/cases").json()] == [key]
    for role in ("developer", "customer"):
        assert site["clients"][role].get(f"{API}/cases").status_code == 403
        assert site["clients"][role].get(f"{API}/cases/{key}").status_code == 403
    lines = accounts.list_audit(site["store"])
    assert {"psirt.case.open", "psirt.case.transition"} <= {line.action for line in lines}


def test_another_teams_case_and_a_command_line_case(site: dict[str, Any]) -> None:
    for who in ("security_manager", "auditor"):
        client = site["clients"][who]
        assert site["theirs"] not in client.get(f"{API}/cases").text
        for key in (site["theirs"], site["cli"], "PSIRT-2026-9999"):
            assert client.get(f"{API}/cases/{key}").status_code == 404
    sm = site["clients"]["security_manager"]
    moved = sm.post(f"{API}/cases/{site['theirs']}/transition", json={"state": "acknowledged"})
    assert moved.status_code == 404
    assert sm.post(f"{API}/cases", json={"title": "x", "team": "theirs"}).status_code == 422
    admin = site["clients"]["admin"]
    assert {c["key"] for c in admin.get(f"{API}/cases").json()} >= {site["theirs"], site["cli"]}
    assert (
        admin.post(f"{API}/cases/{site['cli']}/transition", json={"state": "acknowledged"}).status_code == 200
    )

"""The native API of self-assessments (/api/mamori/v1/assessments) per role: a team's security manager
makes an assessment, answers items, uploads evidence (kept on disk, SHA-256 recorded as ``mamori assess
answer --evidence`` records it), reads gaps and roadmap, makes and publishes the declaration; a developer
answers, an auditor reads only, a customer sees published declarations only; another team's assessment
answers 404 to everyone but an administrator, and one made on the command line (no team) is for
administrators only. Every change is in the audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES
from mamori.compliance.declaration import _validator
from mamori.compliance.repository import Assessments
from mamori.portfolio.archive import add_product
from server_support import BACKENDS, backend_store, live

API = "/api/mamori/v1"
SECRET_ORG = "zz-other-team-organisation-4711"


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs", "ops"):
            accounts.create_team(store, team)
        ours = add_product(store, "ours", who="test")
        secret = add_product(store, "secret", who="test")
        accounts.assign_product(store, "mine", "ours")
        accounts.assign_product(store, "theirs", "secret")
        keys = {
            role: accounts.create_api_key(store, "mine", role)[1] for role in ROLE_NAMES if role != "admin"
        }
        keys["admin"] = accounts.create_api_key(store, "ops", "admin")[1]
        keys["theirs"] = accounts.create_api_key(store, "theirs", "security_manager")[1]
        keys["their_customer"] = accounts.create_api_key(store, "theirs", "customer")[1]
        evidence = tmp_path / "evidence"
        with live(store, evidence_dir=str(evidence)) as server:
            clients = {who: server.client(headers={"X-Api-Key": key}) for who, key in keys.items()}
            yield {"store": store, "clients": clients, "ours": ours, "secret": secret, "evidence": evidence}
            for client in clients.values():
                client.close()


def _make(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {
        "framework": "jcstar1",
        "organization": "Example K.K.",
        "scope": "ours 1.0",
        "roles": ["developer", "supplier"],
        **extra,
    }
    made = client.post(f"{API}/assessments", json=body)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def test_a_team_answers_declares_and_publishes(site: dict[str, Any]) -> None:
    c, store = site["clients"], site["store"]
    made = _make(c["security_manager"], product_id=site["ours"])
    aid = made["id"]
    assert made["team"] == "mine" and made["product_id"] == site["ours"] and made["label_page"]
    assert len(made["items"]) == 16 and made["counts"]["unanswered"] == 16
    first, second = made["items"][0]["id"], made["items"][1]["id"]

    # answer: the fields given are set, the rest stays; the store holds what the CLI reads
    put = c["developer"].put(
        f"{API}/assessments/{aid}/items/{first}",
        json={"status": "implemented", "owner": "Hanako", "due": "2027-03-31", "note": "done in 1.0"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["status"] == "implemented" and put.json()["owner"] == "Hanako"
    again = c["developer"].put(f"{API}/assessments/{aid}/items/{first}", json={"owner": "Taro"})
    assert again.json()["status"] == "implemented" and again.json()["note"] == "done in 1.0"
    stored = Assessments(store).get(aid).answer(first)
    assert (stored.status, stored.owner, stored.due, stored.reason) == (
        "implemented",
        "Taro",
        "2027-03-31",
        "done in 1.0",
    )
    history = Assessments(store).history(aid)
    assert {(h["via"], h["actor"]) for h in history if h["item"] == first} == {
        ("server", h["actor"]) for h in history if h["item"] == first
    }
    assert all(h["via"] == "server" for h in history)

    # refusals: not_applicable without a note, a level outside SSDF, an item that is not the catalog's
    bad = c["developer"].put(f"{API}/assessments/{aid}/items/{second}", json={"status": "not_applicable"})
    assert bad.status_code == 422 and "reason" in bad.text
    assert c["developer"].put(f"{API}/assessments/{aid}/items/{second}", json={"level": 2}).status_code == 422
    assert c["developer"].put(f"{API}/assessments/{aid}/items/PO.1.1", json={"owner": "x"}).status_code == 404
    assert c["auditor"].put(f"{API}/assessments/{aid}/items/{second}", json={"owner": "x"}).status_code == 403

    # evidence: kept on disk, hash recorded
    content = b"%PDF-1.4 test plan\n"
    up = c["security_manager"].post(
        f"{API}/assessments/{aid}/items/{first}/evidence",
        files={"file": ("test plan.pdf", content, "application/pdf")},
        data={"note": "signed"},
    )
    assert up.status_code == 201, up.text
    assert up.json()["sha256"] == hashlib.sha256(content).hexdigest() and up.json()["size"] == len(content)
    assert up.json()["ref"] == "test_plan.pdf"
    kept = list(site["evidence"].rglob("test_plan.pdf"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    ev = Assessments(store).get(aid).answer(first).evidence[0]
    assert (ev.kind, ev.sha256, ev.note) == ("file", hashlib.sha256(content).hexdigest(), "signed")
    empty = c["security_manager"].post(
        f"{API}/assessments/{aid}/items/{first}/evidence", files={"file": ("x.txt", b"", "text/plain")}
    )
    assert empty.status_code == 422

    # gaps and roadmap as mamori assess gaps / roadmap
    gaps = c["auditor"].get(f"{API}/assessments/{aid}/gaps").json()
    assert gaps["total"]["counts"]["implemented"] == 1 and len(gaps["gaps"]) == 15
    roadmap = c["auditor"].get(f"{API}/assessments/{aid}/roadmap").json()
    assert roadmap["covered"] == 1 and roadmap["base"] == 16

    # the label page (a draft: items not met)
    label = c["auditor"].get(f"{API}/assessments/{aid}/label?lang=en")
    assert label.status_code == 200 and label.headers["content-type"].startswith("text/html")
    assert "IoT product label information page" in label.text and 'class="draft"' in label.text

    # declaration: unanswered items refuse it unless allowed; the developer may not declare? (it may)
    path = f"{API}/assessments/{aid}/declaration"
    assert c["security_manager"].post(path, json={"approver": "Yamada Taro, CEO"}).status_code == 422
    assert c["auditor"].post(path, json={"approver": "Yamada Taro, CEO"}).status_code == 403
    assert c["security_manager"].get(path).status_code == 404  # none made yet
    made_decl = c["security_manager"].post(
        path, json={"approver": "Yamada Taro, CEO", "date": "2026-12-01", "allow_unanswered": True}
    )
    assert made_decl.status_code == 201, made_decl.text
    assert (
        made_decl.json()["declared_on"] == "2026-12-01"
        and made_decl.json()["declaration"]["published_at"] is None
    )
    as_json = c["auditor"].get(path, params={"format": "json"})
    assert as_json.status_code == 200 and "attachment" in as_json.headers["content-disposition"]
    document = json.loads(as_json.content)
    assert not list(_validator().iter_errors(document))  # what mamori assess compare reads
    assert document["approver"] == {"name": "Yamada Taro", "title": "CEO"}
    assert [i["evidence"][0]["ref"] for i in document["items"] if i["id"] == first] == ["test_plan.pdf"]
    pdf = c["auditor"].get(path, params={"format": "pdf", "lang": "en"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 2000
    assert pdf.headers["content-disposition"] == f'attachment; filename="declaration-{aid}.en.pdf"'

    # the customer sees nothing before publishing; the developer may not publish
    assert c["customer"].get(f"{API}/assessments").json()["items"] == []
    assert c["customer"].get(path).status_code == 404
    assert c["developer"].post(f"{path}/publish").status_code == 403
    published = c["security_manager"].post(f"{path}/publish")
    assert published.status_code == 200 and published.json()["declaration"]["published_at"]
    listed = c["customer"].get(f"{API}/assessments").json()["items"]
    assert [a["id"] for a in listed] == [aid]
    assert c["customer"].get(path, params={"format": "json"}).status_code == 200
    assert c["customer"].get(f"{API}/assessments/{aid}").status_code == 403  # items: not the customer's
    assert c["customer"].put(f"{API}/assessments/{aid}/items/{first}", json={}).status_code == 403

    # every change is in the audit log, as the team's
    audit = c["admin"].get(f"{API}/audit", params={"limit": 1000}).json()
    actions = [line["action"] for line in audit if line["target"] == f"assessment:{aid}"]
    for action in (
        "assessment.create",
        "assessment.answer",
        "assessment.evidence",
        "assessment.declare",
        "assessment.publish",
    ):
        assert action in actions, action
    mine = accounts.get_team(store, "mine")
    assert mine is not None
    assert {line["team_id"] for line in audit if line["target"] == f"assessment:{aid}"} == {mine.id}


def test_another_teams_assessment_is_not_there(site: dict[str, Any]) -> None:
    c, store = site["clients"], site["store"]
    theirs = _make(c["theirs"], organization=SECRET_ORG, product_id=site["secret"])
    tid, item = theirs["id"], theirs["items"][0]["id"]
    assert (
        c["theirs"]
        .post(f"{API}/assessments/{tid}/declaration", json={"approver": "A B, CEO", "allow_unanswered": True})
        .status_code
        == 201
    )
    assert c["theirs"].post(f"{API}/assessments/{tid}/declaration/publish").status_code == 200
    absent = 987654
    for who in ("security_manager", "developer", "auditor", "customer"):
        client = c[who]
        listing = client.get(f"{API}/assessments")
        assert listing.status_code == 200 and SECRET_ORG not in listing.text
        for method, path, body in (
            ("GET", "", None),
            ("GET", "/gaps", None),
            ("GET", "/roadmap", None),
            ("GET", "/label", None),
            ("GET", "/declaration?format=json", None),
            ("PUT", f"/items/{item}", {"owner": "x"}),
            ("POST", "/declaration", {"approver": "A B, CEO", "allow_unanswered": True}),
            ("POST", "/declaration/publish", None),
        ):
            got = client.request(method, f"{API}/assessments/{tid}{path}", json=body)
            missing = client.request(method, f"{API}/assessments/{absent}{path}", json=body)
            assert got.status_code == 404, (who, method, path, got.text)
            assert (got.status_code, got.text) == (missing.status_code, missing.text)
        assert client.post(
            f"{API}/assessments/{tid}/items/{item}/evidence", files={"file": ("a.txt", b"a", "text/plain")}
        ).status_code in (403, 404)
    # their customer sees their published declaration, not ours
    ours = _make(c["security_manager"])
    assert [a["id"] for a in c["their_customer"].get(f"{API}/assessments").json()["items"]] == [tid]
    assert c["their_customer"].get(f"{API}/assessments/{ours['id']}/declaration").status_code == 404
    # an administrator sees both; nobody changes a thing of theirs
    assert {a["id"] for a in c["admin"].get(f"{API}/assessments").json()["items"]} == {tid, ours["id"]}
    assert Assessments(store).get(tid).answer(item).owner is None
    # a team may not be chosen by someone outside it, nor another team's product
    assert (
        c["security_manager"]
        .post(
            f"{API}/assessments",
            json={
                "framework": "ssdf",
                "organization": "o",
                "scope": "s",
                "roles": ["developer"],
                "team": "theirs",
            },
        )
        .status_code
        == 422
    )
    assert (
        c["security_manager"]
        .post(
            f"{API}/assessments",
            json={
                "framework": "ssdf",
                "organization": "o",
                "scope": "s",
                "roles": ["developer"],
                "product_id": site["secret"],
            },
        )
        .status_code
        == 422
    )
    for who in ("auditor", "customer"):
        assert (
            c[who]
            .post(
                f"{API}/assessments",
                json={"framework": "ssdf", "organization": "o", "scope": "s", "roles": ["developer"]},
            )
            .status_code
            == 403
        )


def test_a_command_line_assessment_is_for_administrators_until_given_to_a_team(site: dict[str, Any]) -> None:
    c, store = site["clients"], site["store"]
    cli = Assessments(store).create("ssdf", "CLI org", ("developer",), "made on the command line")
    for who in ("security_manager", "developer", "auditor", "customer"):
        assert c[who].get(f"{API}/assessments/{cli.id}").status_code == 404
        assert "CLI org" not in c[who].get(f"{API}/assessments").text
    seen = c["admin"].get(f"{API}/assessments/{cli.id}")
    assert seen.status_code == 200 and seen.json()["team"] is None
    # SSDF: a level sets the status as the CLI does
    level = c["admin"].put(f"{API}/assessments/{cli.id}/items/PO.1.1", json={"level": 2})
    assert level.json()["status"] == "implemented" and level.json()["level"] == 2
    assert (
        c["admin"]
        .post(
            f"{API}/assessments/{cli.id}/declaration", json={"approver": "A B, CEO", "allow_unanswered": True}
        )
        .status_code
        == 409
    )
    assert (
        c["security_manager"].put(f"{API}/assessments/{cli.id}/owner", json={"team": "mine"}).status_code
        == 403
    )
    given = c["admin"].put(
        f"{API}/assessments/{cli.id}/owner", json={"team": "mine", "product_id": site["ours"]}
    )
    assert given.status_code == 200 and given.json()["team"] == "mine"
    assert c["auditor"].get(f"{API}/assessments/{cli.id}").json()["items"][0]["level"] == 2
    assert c["admin"].put(f"{API}/assessments/{cli.id}/owner", json={"team": "nope"}).status_code == 422


def test_who_may_do_what_with_an_assessment() -> None:
    from mamori.accounts.assessment_owner import Owner
    from mamori.server.api_compliance import may, visible
    from mamori.server.security import Grant, Principal

    def owner(team_id: int, product_id: int | None, published: bool = False) -> Owner:
        declared = {"date": "2026-12-01"} if published else None
        return Owner(
            1, team_id, "t", product_id, declared, None, None, "2026-12-01" if published else None, None
        )

    def principal(*grants: Grant) -> Principal:
        return Principal("user", 1, "u", grants)

    limited = principal(Grant(1, "t", "developer", frozenset({3}), limited=True))
    assert may(limited, owner(1, 3), "assessment.write") and not may(limited, owner(1, 4), "assessment.read")
    assert not visible(limited, owner(1, None))  # the team's assessment of no product: the whole team's
    whole = principal(Grant(1, "t", "auditor", frozenset({3})))
    assert may(whole, owner(1, None), "assessment.read") and not may(
        whole, owner(1, None), "assessment.write"
    )
    assert not visible(whole, owner(2, None)) and not visible(whole, None)
    customer = principal(Grant(1, "t", "customer", frozenset({3})))
    assert not visible(customer, owner(1, 3)) and visible(customer, owner(1, 3, published=True))
    assert may(customer, owner(1, 3, published=True), "declaration.read")
    assert not may(customer, owner(1, 3, published=True), "assessment.read")
    assert not visible(customer, owner(2, 3, published=True))
    admin = principal(Grant(9, "ops", "admin", frozenset()))
    assert visible(admin, None) and may(admin, owner(5, None), "assessment.write")

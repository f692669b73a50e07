"""Roles and teams: every route of the OpenAPI document × every role (as a signed-in user and as an API key)
× a product of another team answers 401, 403 or 404, or an answer without a trace of the other team's
product and audit lines (0 leaks); and what each role may do in its own team."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES, permissions, roles
from mamori.portfolio.archive import add_product
from mamori.server.security import ALL, Grant, Principal, product_or_404
from server_support import BACKENDS, backend_store, live, signin

PASSWORD = "correct horse battery staple"
SECRET_PRODUCT = "zz-other-team-product-4711"
SECRET_KEY_NAME = "zz-other-team-key-0815"


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Team ``mine`` with product ``ours``; team ``theirs`` with the secret product and an API key of its
    own; in ``mine`` a user and an API key of every role but admin."""
    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs"):
            accounts.create_team(store, team)
        ours = add_product(store, "ours", who="test")
        secret = add_product(store, SECRET_PRODUCT, who="test")
        accounts.assign_product(store, "mine", "ours")
        accounts.assign_product(store, "theirs", SECRET_PRODUCT)
        accounts.create_api_key(store, "theirs", "developer", name=SECRET_KEY_NAME)
        other = _other_release(store, tmp_path)
        other.update(_other_assessment(store, secret))
        other.update(_other_subscription(store))
        other.update(_other_case(store))
        other.update(_other_deployment(store))
        other.update(_other_csaf_subscription(store))
        other.update(_other_contract(store))
        _other_bundle(store, secret)
        other.update(_other_bundle_job(store))
        keys = {}
        for role in ROLE_NAMES:
            if role == "admin":
                continue
            accounts.create_user(store, f"user-{role}", PASSWORD, "mine", role)
            keys[role] = accounts.create_api_key(store, "mine", role)[1]
        yield {
            "store": store,
            "ours": ours,
            "secret": secret,
            "keys": keys,
            "other": {"product_id": secret, **other},
        }


def _other_release(store: Any, tmp_path: Path) -> dict[str, Any]:
    """A release of the other team's product, stored by an upload: its ids for the path parameters."""
    from mamori.portfolio import uploads
    from portfolio_support import sbom_file

    sbom = sbom_file(tmp_path / "secret.cdx.json", ["pkg:pypi/django@1.11.0"]).read_bytes()
    token = uploads.submit_upload(store, sbom, "secret.json", SECRET_PRODUCT, "9.9", True, "theirs")
    status = uploads.process_upload(store, token)
    assert status is not None and status.state == "done", status
    return {"release_id": status.release_id, "token": token, "uuid": status.project_uuid}


def _other_assessment(store: Any, product_id: int) -> dict[str, Any]:
    """A self-assessment of the other team, its declaration made and published to its customers."""
    from mamori.accounts import assessment_owner
    from mamori.compliance.declaration import build
    from mamori.compliance.repository import Assessments

    book = Assessments(store)
    made = book.create("jcstar1", SECRET_PRODUCT, ("developer",), f"{SECRET_PRODUCT} 9.9")
    item = made.items()[0].id
    book.answer(made, item, status="implemented", owner=SECRET_KEY_NAME)
    team = accounts.get_team(store, "theirs")
    assert team is not None
    assessment_owner.set_owner(store, made.id, team.id, product_id)
    declared = build(book.get(made.id), {"name": "A", "title": "B"}, "2026-12-01")
    assessment_owner.save_declaration(store, made.id, declared, "theirs")
    assert assessment_owner.publish(store, made.id, "theirs")
    return {"assessment_id": made.id, "item_id": item}


def _other_subscription(store: Any) -> dict[str, Any]:
    """A notification subscription of the other team, with a line of the delivery log (a failed test
    message: nothing listens on the port)."""
    from mamori.notify import add_subscription, send_test

    sub = add_subscription(
        store,
        "theirs",
        "webhook",
        f"http://127.0.0.1:9/{SECRET_KEY_NAME}",
        secret="zz-other-team-secret-0123456789",
        products=[SECRET_PRODUCT],
    )
    assert not send_test(store, sub.id, sleep=lambda _s: None).ok
    return {"subscription_id": sub.id}


def _other_case(store: Any) -> dict[str, Any]:
    """A PSIRT case of the other team that names its product."""
    from mamori.psirt.cases import new_case, set_product

    case = new_case(
        store, title=f"XSS in {SECRET_PRODUCT}", channel="web", team="theirs", who=SECRET_KEY_NAME
    )
    set_product(store, case.key, SECRET_PRODUCT, "9.9", "known_affected", who=SECRET_KEY_NAME)
    return {"case_key": case.key}


def _other_deployment(store: Any) -> dict[str, Any]:
    """A deployment of the other team's release, at a site that names the other team."""
    from mamori.inventory.deployments import add_deployment

    made = add_deployment(
        store, SECRET_PRODUCT, "9.9", site=f"site of {SECRET_KEY_NAME}", system_exposure="open", who="x"
    )
    return {"deployment_id": made.id}


def _other_csaf_subscription(store: Any) -> dict[str, Any]:
    """A CSAF subscription of the other team to a provider that names it, with one advisory pulled."""
    from sqlalchemy import insert

    from mamori.accounts.core import _write
    from mamori.advisory import subscription_tables as t
    from mamori.advisory.subscribe import link_team

    with _write(store) as conn:
        sid = conn.execute(
            insert(t.SubscriptionRow).values(
                metadata_url=f"https://{SECRET_KEY_NAME}.example/.well-known/csaf/provider-metadata.json",
                given=f"{SECRET_KEY_NAME}.example",
                found_by="well-known",
                publisher=SECRET_KEY_NAME,
                namespace=f"https://{SECRET_KEY_NAME}.example",
                created_at="2026-12-07T00:00:00Z",
                last_pull="2026-12-07T00:00:00Z",
                counts="{}",
                deviations="[]",
                watermarks="{}",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(t.AdvisoryRow).values(
                subscription_id=sid,
                url=f"https://{SECRET_KEY_NAME}.example/white/2026/a.json",
                sha256="0" * 64,
                tracking_id=SECRET_KEY_NAME,
                version="1",
                current_release_date="2026-12-07T00:00:00Z",
                signature="valid",
                pulled_at="2026-12-07T00:00:00Z",
                doc=b"{}",
            )
        )
    link_team(store, int(sid), accounts.get_team(store, "theirs").id)
    return {"csaf_subscription_id": int(sid)}


def _other_contract(store: Any) -> dict[str, Any]:
    """Contract terms the other team agreed with a supplier that names it."""
    from mamori.contract.store import set_team_terms
    from mamori.contract.terms import ItemTerm, Terms

    terms = Terms(SECRET_KEY_NAME, {"TX-01": ItemTerm(True, {"formats": {"spdx": []}}, None, SECRET_PRODUCT)})
    set_team_terms(store, accounts.get_team(store, "theirs").id, terms, SECRET_KEY_NAME)
    return {"supplier": SECRET_KEY_NAME}


def _other_bundle(store: Any, product_id: int) -> None:
    """A release bundle of the other team's product, received from a supplier that names it."""
    from sqlalchemy import insert

    from mamori.accounts.core import _write
    from mamori.bundle.tables import BundleImportRow

    with _write(store) as conn:
        conn.execute(
            insert(BundleImportRow).values(
                product_id=product_id,
                release="9.9",
                supplier=SECRET_KEY_NAME,
                bundle_sha256="0" * 64,
                statement_sha256="0" * 64,
                key_id=SECRET_KEY_NAME,
                imported_at="2026-12-07T00:00:00Z",
                imported_by=SECRET_KEY_NAME,
                findings="[]",
                diff="{}",
            )
        )


def _other_bundle_job(store: Any) -> dict[str, Any]:
    """A bundle the other team sent to the server, its job ended with a report naming the other team."""
    from sqlalchemy import update

    from mamori.accounts.core import _write
    from mamori.bundle.jobs import submit_bundle_job
    from mamori.bundle.tables import BundleJobRow

    team = accounts.get_team(store, "theirs")
    job_id, new = submit_bundle_job(store, SECRET_PRODUCT.encode(), team_id=team.id, who=SECRET_KEY_NAME)
    assert new
    report = f'{{"ok": true, "product": "{SECRET_PRODUCT}", "supplier": "{SECRET_KEY_NAME}"}}'
    with _write(store) as conn:
        conn.execute(
            update(BundleJobRow).where(BundleJobRow.id == job_id).values(state="done", result=report)
        )
    return {"bundle_job_id": job_id}


ABSENT = {
    "bundle_job_id": "00000000-0000-0000-0000-000000000000",
    "supplier": "zz-absent-supplier",
    "csaf_subscription_id": 987654,
    "deployment_id": 987654,
    "case_key": "PSIRT-2026-9999",
    "product_id": 987654,
    "release_id": 987654,
    "assessment_id": 987654,
    "item_id": "STAR1-1",
    "subscription_id": 987654,
    "token": "00000000-0000-0000-0000-000000000000",
}


def _fill(path: str, values: dict[str, Any]) -> str:
    """The path with each parameter set to the other team's value (the product id where none is known)."""
    return re.sub(r"\{([^}]+)\}", lambda m: str(values.get(m.group(1), values["product_id"])), path)


def test_no_route_answers_another_teams_data_to_any_role(world: dict[str, Any]) -> None:
    store, secret = world["store"], world["secret"]
    with live(store) as server:
        document = httpx.get(server.url + "/openapi.json").json()
        routes = [
            (m.upper(), p)
            for p, ops in document["paths"].items()
            for m in ops
            if m in {"get", "post", "put", "patch", "delete"}
        ]
        assert len(routes) >= 5
        clients: dict[str, httpx.Client] = {}
        for role, key in world["keys"].items():
            clients[f"key:{role}"] = server.client(headers={"X-Api-Key": key})
            browser = server.client()
            assert signin(browser, f"user-{role}", PASSWORD).status_code == 303
            clients[f"user:{role}"] = browser
        clients["anonymous"] = server.client()
        checked = leaks = 0
        for who, client in clients.items():
            for method, path in routes:
                url = _fill(path, world["other"])
                body = {} if method in {"POST", "PUT", "PATCH"} else None
                params = {"limit": 1000} if "audit" in path or path.endswith("/log") else None
                response = client.request(method, url, json=body, params=params)
                checked += 1
                if response.status_code in (401, 403, 404, 405, 422):
                    continue
                text = response.text
                found = SECRET_PRODUCT in text or SECRET_KEY_NAME in text or "theirs" in text
                found = found or "zz-other-team-secret" in text
                if "{" in path:
                    # a path naming the other team's things answers no data: at most what a value that
                    # names nothing gets (Dependency-Track's {"processing": false} for an unknown token)
                    absent = client.request(
                        method, _fill(path, {**ABSENT, "uuid": ABSENT["token"]}), json=body
                    )
                    found = found or (response.status_code, text) != (absent.status_code, absent.text)
                if re.search(rf'"id":\s*{secret}\b', text) and "/products" in path:
                    found = True
                other_sub = world["other"]["subscription_id"]
                if re.search(rf'"(subscription|id)":\s*{other_sub}\b', text) and "/notifications" in path:
                    found = True  # a line of the other team's delivery log names only its subscription
                if found:
                    leaks += 1
                    print("LEAK", who, method, url, response.status_code, text[:200])
        for client in clients.values():
            client.close()
    assert checked == len(clients) * len(routes)
    assert leaks == 0


def test_what_each_role_may_do_in_its_own_team(world: dict[str, Any]) -> None:
    store, ours, secret = world["store"], world["ours"], world["secret"]
    accounts.create_team(store, "ops")
    accounts.create_user(store, "root", PASSWORD, "ops", "admin")
    with live(store) as server:

        def get(role: str, path: str) -> httpx.Response:
            return httpx.get(server.url + path, headers={"X-Api-Key": world["keys"][role]})

        for role in ("security_manager", "developer", "auditor"):
            listed = get(role, "/api/mamori/v1/products")
            assert listed.status_code == 200 and [p["name"] for p in listed.json()] == ["ours"]
            assert get(role, f"/api/mamori/v1/products/{ours}").json()["name"] == "ours"
            assert get(role, f"/api/mamori/v1/products/{secret}").status_code == 404
            assert get(role, "/api/mamori/v1/products/999999").status_code == 404  # the same answer
            assert [t["name"] for t in get(role, "/api/mamori/v1/teams").json()] == ["mine"]
        assert get("customer", "/api/mamori/v1/products").status_code == 403
        assert get("customer", f"/api/mamori/v1/products/{ours}").status_code == 403
        assert get("customer", f"/api/mamori/v1/products/{secret}").status_code == 404
        assert get("developer", "/api/mamori/v1/audit").status_code == 403
        audit = get("auditor", "/api/mamori/v1/audit?limit=1000").json()
        assert audit and all(line["team_id"] is not None for line in audit)
        assert not any("theirs" in json.dumps(line) for line in audit)

        admin = server.client()
        signin(admin, "root", PASSWORD)
        names = [p["name"] for p in admin.get("/api/mamori/v1/products").json()]
        assert names == ["ours", SECRET_PRODUCT]
        assert {t["name"] for t in admin.get("/api/mamori/v1/teams").json()} == {"mine", "theirs", "ops"}
        everything = admin.get("/api/mamori/v1/audit?limit=1000").json()
        assert any(
            line["action"] == "signin.success" and line["actor"]["name"] == "root" for line in everything
        )
        assert admin.get("/api/mamori/v1/products/999999").status_code == 404
        admin.close()


def test_the_psirt_pages_show_no_other_teams_case(world: dict[str, Any]) -> None:
    """The web pages of PSIRT (not in the OpenAPI document) for every role: another team's case, its
    forms and its drafts answer 403 or 404 and the list and metrics carry no trace of it."""
    key = world["other"]["case_key"]
    with live(world["store"]) as server:
        for role in world["keys"]:
            browser = server.client()
            assert signin(browser, f"user-{role}", PASSWORD).status_code == 303
            token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/").text)
            assert token
            assert browser.get(f"/psirt/cases/{key}").status_code == 404
            for action in ("transition", "edit", "affected", "products", "csaf", "cve"):
                answer = browser.post(f"/psirt/cases/{key}/{action}", data={"csrf_token": token.group(1)})
                assert answer.status_code in (403, 404), (role, action, answer.status_code)
            for page in ("/psirt", "/psirt/metrics", "/psirt/metrics.csv"):
                answer = browser.get(page)
                assert answer.status_code in (200, 403), (role, page)
                assert SECRET_PRODUCT not in answer.text and key not in answer.text, (role, page)
            browser.close()


def test_the_inventory_pages_show_no_other_teams_deployment(world: dict[str, Any]) -> None:
    """The web pages of the inventory (not in the OpenAPI document) for every role: another team's
    deployment and its forms answer 403 or 404; a deployment of another team's release, from the form or
    an uploaded asset list, is refused as one of a release that does not exist; the list, the patch list
    and the asset list carry no trace of the other team's deployment."""
    from openpyxl import load_workbook

    from mamori.inventory.deployments import get_deployment, list_deployments

    store, deployment = world["store"], world["other"]["deployment_id"]
    before = get_deployment(store, deployment)
    upload = f"product,release,site\n{SECRET_PRODUCT},9.9,x\n".encode()
    with live(store) as server:
        for role in world["keys"]:
            browser = server.client()
            assert signin(browser, f"user-{role}", PASSWORD).status_code == 303
            token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/").text)
            assert token
            form = {"csrf_token": token.group(1), "site": "x"}
            assert browser.get(f"/inventory/{deployment}").status_code in (403, 404), role
            for action in ("edit", "retire"):
                answer = browser.post(f"/inventory/{deployment}/{action}", data=form)
                assert answer.status_code in (403, 404), (role, action, answer.status_code)
            for release in (world["other"]["release_id"], ABSENT["release_id"]):
                added = browser.post("/inventory", data={**form, "release": str(release)})
                assert added.status_code in (400, 403), (role, added.status_code)
                assert SECRET_PRODUCT not in added.text and SECRET_KEY_NAME not in added.text
            files = {"file": ("assets.csv", upload, "text/csv")}
            imported = browser.post("/inventory/import", data=form, files=files)
            assert imported.status_code in (400, 403), (role, imported.status_code)
            for page in ("/inventory", "/inventory?status=all", "/inventory/priorities", "/inventory/export"):
                answer = browser.get(page)
                assert answer.status_code in (200, 403), (role, page)
                assert SECRET_PRODUCT not in answer.text and SECRET_KEY_NAME not in answer.text, (role, page)
            book = browser.get("/inventory/export?format=xlsx")
            assert book.status_code in (200, 403)
            if book.status_code == 200:
                rows = list(load_workbook(io.BytesIO(book.content)).worksheets[0].values)
                assert len(rows) == 1, (role, rows)  # the header only
            browser.close()
    assert get_deployment(store, deployment) == before
    assert [d.id for d in list_deployments(store, status=None)] == [deployment]


def test_the_role_data_and_the_principal() -> None:
    assert tuple(roles()) == ROLE_NAMES
    assert roles()["admin"].permissions == frozenset(permissions())
    assert roles()["customer"].permissions == {"publish.read"}
    assert (
        "audit.read" in roles()["auditor"].permissions
        and "triage.write" not in roles()["auditor"].permissions
    )
    assert all(set(v) == {"en", "ja"} for v in permissions().values())
    limited = Principal("user", 1, "u", (Grant(1, "mine", "developer", frozenset({3}), limited=True),))
    assert limited.can("product.read", 3) and not limited.can("product.read", 4)
    assert (
        limited.visible_products("product.read") == {3}
        and limited.visible_products("audit.read") == frozenset()
    )
    admin = Principal("user", 2, "a", (Grant(1, "ops", "admin", frozenset()),))
    assert admin.visible_products("product.read") is ALL and admin.can("admin.users")
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as other:
        product_or_404(limited, "product.read", 4)
    assert other.value.status_code == 404
    with pytest.raises(HTTPException) as mine:
        product_or_404(limited, "triage.write", 3)
    assert mine.value.status_code == 403


def test_the_documented_matrix_is_the_role_data() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "server-permissions.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_.]+)` \([^\n]*?\) \| (.*) \|$", doc, re.M)
    expected = [
        (name, " | ".join("✓" if name in role.permissions else "—" for role in roles().values()))
        for name in permissions()
    ]
    assert rows == expected * 2  # English and Japanese


def test_background_jobs_run_after_the_answer_and_report_their_state() -> None:
    import threading

    from mamori.server import background

    jobs = background.configure(2)
    release = threading.Event()
    waiting = background.submit(release.wait, 30)
    failing = background.submit(lambda: 1 / 0)
    deadline = 0
    while background.status(failing).state != "failed" and deadline < 500:  # type: ignore[union-attr]
        threading.Event().wait(0.01)
        deadline += 1
    state = background.status(failing)
    assert state is not None and state.state == "failed" and state.error == "ZeroDivisionError"
    assert background.status(waiting).state == "running"  # type: ignore[union-attr]
    release.set()
    jobs.shutdown(wait=True)
    done = background.status(waiting)
    assert done is not None and done.state == "done" and done.result is True and done.finished_at
    assert background.status("no-such-job") is None

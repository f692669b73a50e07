"""The native API of the deployed inventory (/api/mamori/v1/inventory) per role: a team's security manager
records, changes and retires deployments of its products, an auditor reads the list and the patch list
only, a developer and a customer see nothing; another team's deployment answers 404, and the patch list
holds only the principal's deployments. Changes are in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES
from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
from mamori.inventory.deployments import add_deployment, get_deployment
from mamori.portfolio import match_release, store_sbom
from mamori.portfolio.archive import add_product
from server_support import BACKENDS, backend_store, live, signin

API = "/api/mamori/v1"
PASSWORD = "correct horse battery staple"


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs", "ops"):
            accounts.create_team(store, team)
        url = store.engine.url.render_as_string(hide_password=False)
        load_demo_vulnerabilities(store.engine.url.database if store.engine.dialect.name == "sqlite" else url)
        for product, team in (("ours", "mine"), ("zz-their-product", "theirs")):
            add_product(store, product, who="test")
            accounts.assign_product(store, team, product)
            stored = store_sbom(store, product, "1.0", demo_data() / DEMO_SBOM, who="test")
            match_release(store, stored.sbom_id, stored.previous_sbom_id)
        theirs = add_deployment(
            store, "zz-their-product", "1.0", site="zz-their-site", system_exposure="open"
        )
        keys = {
            role: accounts.create_api_key(store, "mine", role)[1] for role in ROLE_NAMES if role != "admin"
        }
        keys["admin"] = accounts.create_api_key(store, "ops", "admin")[1]
        accounts.create_user(store, "sm", PASSWORD, "mine", "security_manager")
        accounts.create_user(store, "dev", PASSWORD, "mine", "developer")
        with live(store) as server:
            clients = {who: server.client(headers={"X-Api-Key": key}) for who, key in keys.items()}
            yield {"store": store, "clients": clients, "theirs": theirs.id, "server": server}
            for client in clients.values():
                client.close()


def test_a_security_manager_records_changes_and_retires(site: dict[str, Any]) -> None:
    sm, auditor = site["clients"]["security_manager"], site["clients"]["auditor"]
    made = sm.post(
        f"{API}/inventory",
        json={
            "product": "ours",
            "release": "1.0",
            "site": "東京",
            "system_exposure": "open",
            "owner": "a@b.jp",
        },
    )
    assert made.status_code == 201, made.text
    d = made.json()
    assert (d["product"], d["release"], d["site"], d["system_exposure"], d["status"]) == (
        "ours",
        "1.0",
        "東京",
        "open",
        "active",
    )
    bad = sm.post(
        f"{API}/inventory", json={"product": "ours", "release": "1.0", "site": "x", "system_exposure": "wide"}
    )
    assert bad.status_code == 422
    assert (
        sm.post(f"{API}/inventory", json={"product": "ours", "release": "7", "site": "x"}).status_code == 422
    )
    changed = sm.patch(
        f"{API}/inventory/{d['id']}", json={"system_exposure": "small", "end_of_support": "2020-01-01"}
    )
    assert changed.status_code == 200 and changed.json()["system_exposure"] == "small"
    assert changed.json()["support_state"] == "ended"
    listed = auditor.get(f"{API}/inventory").json()
    assert [x["id"] for x in listed] == [d["id"]]
    ranked = auditor.get(f"{API}/inventory/priorities", params={"lang": "ja"}).json()
    assert ranked["items"] and {i["product"] for i in ranked["items"]} == {"ours"}
    assert all(i["ssvc"]["inputs"]["system_exposure"] == "small" for i in ranked["items"])
    assert ranked["end_of_support"][0]["support_state"] == "ended"
    assert auditor.post(f"{API}/inventory/{d['id']}/retire").status_code == 403
    assert auditor.patch(f"{API}/inventory/{d['id']}", json={"site": "y"}).status_code == 403
    retired = sm.post(f"{API}/inventory/{d['id']}/retire")
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert get_deployment(site["store"], d["id"]).status == "retired"
    assert auditor.get(f"{API}/inventory").json() == []
    assert [x["id"] for x in auditor.get(f"{API}/inventory", params={"status": "all"}).json()] == [d["id"]]
    for role in ("developer", "customer"):
        assert site["clients"][role].get(f"{API}/inventory").status_code == 403
        assert site["clients"][role].get(f"{API}/inventory/priorities").status_code == 403
    actions = {line.action for line in accounts.list_audit(site["store"])}
    assert {"inventory.add", "inventory.update", "inventory.retire"} <= actions


def test_another_teams_deployment(site: dict[str, Any]) -> None:
    theirs = site["theirs"]
    for who in ("security_manager", "auditor"):
        client = site["clients"][who]
        assert "zz-their" not in client.get(f"{API}/inventory").text
        assert "zz-their" not in client.get(f"{API}/inventory/priorities").text
        assert client.get(f"{API}/inventory/{theirs}").status_code == 404
        assert client.get(f"{API}/inventory/987654").status_code == 404
    sm = site["clients"]["security_manager"]
    assert sm.patch(f"{API}/inventory/{theirs}", json={"site": "x"}).status_code == 404
    assert sm.post(f"{API}/inventory/{theirs}/retire").status_code == 404
    made = sm.post(f"{API}/inventory", json={"product": "zz-their-product", "release": "1.0", "site": "x"})
    assert made.status_code == 422
    admin = site["clients"]["admin"]
    assert [x["site"] for x in admin.get(f"{API}/inventory").json()] == ["zz-their-site"]
    assert admin.get(f"{API}/inventory/{theirs}").status_code == 200


def test_the_pages_in_japanese_and_english(site: dict[str, Any]) -> None:
    store = site["store"]
    internet = add_deployment(store, "ours", "1.0", site="東京DC", system="portal", system_exposure="open")
    add_deployment(store, "ours", "1.0", site="大阪工場", system_exposure="small", mission_impact="degraded")
    browser = site["server"].client()
    assert signin(browser, "sm", PASSWORD).status_code == 303
    page = browser.get("/inventory", params={"lang": "ja"})
    assert page.status_code == 200 and "導入先 (資産台帳)" in page.text
    assert "東京DC" in page.text and "大阪工場" in page.text and "zz-their" not in page.text
    only = browser.get("/inventory", params={"site": "大阪工場", "lang": "en"})
    assert "Deployed inventory" in only.text and "東京DC" not in only.text.split("<table")[1]
    one = browser.get(f"/inventory/{internet.id}")
    assert one.status_code == 200 and "portal" in one.text and "open" in one.text
    assert browser.get(f"/inventory/{site['theirs']}").status_code == 404
    ranked = browser.get("/inventory/priorities", params={"lang": "ja"})
    assert ranked.status_code == 200 and "パッチ適用の優先順位" in ranked.text
    assert "東京DC" in ranked.text and "system_exposure=open" in ranked.text and "zz-their" not in ranked.text
    english = browser.get("/inventory/priorities", params={"lang": "en", "site": "東京DC"})
    assert "What to patch first" in english.text and "大阪工場" not in english.text
    browser.close()
    developer = site["server"].client()
    assert signin(developer, "dev", PASSWORD).status_code == 303
    assert developer.get("/inventory").status_code == 403
    assert 'href="/inventory"' not in developer.get("/portfolio").text
    developer.close()

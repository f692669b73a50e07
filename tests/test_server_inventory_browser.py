"""Suppliers and the deployed inventory in a real browser (Playwright for Python driving Debian's Chromium
against the application served by uvicorn on loopback).

The store holds what a team receives from its suppliers, made the way it is in use: a signed release bundle
of a real SBOM (dropwizard 1.3.15) written by ``mamori bundle create`` on the supplier's side and imported
with the supplier's key pinned, a CSAF subscription to a loopback provider publishing real CSAF 2.0
examples (signed with a key the test makes) pulled once, and contract terms agreed with the supplier; and a
product release matched against the demo vulnerability data. A security manager sees the three lists on
Suppliers; on Inventory records a deployment through the form (its site holding ``<script>``, shown as
text), changes its exposure, sees it ranked on the patch list, retires it (it leaves the list); the pages in
Japanese; no sideways scrolling at 390 px. An auditor sees the same pages without a form, and a post from
its session is refused. Screenshots are kept under the test's temporary folder.

Skipped when Playwright or Chromium (or ../shared/data) is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import Shots
from conftest import SHARED_DATA
from mamori import accounts
from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
from mamori.inventory.deployments import get_deployment, list_deployments
from mamori.portfolio import match_release, store_sbom
from mamori.portfolio.archive import add_product
from mamori.store import open_store
from server_support import live
from test_server_api_suppliers import WHITE, provider  # noqa: F401

MAMORI = Path(sys.executable).with_name("mamori")
DROPWIZARD = SHARED_DATA / "sbom" / "cyclonedx" / "dropwizard-1.3.15" / "bom.json"
SUPPLIER = "Example Corp"
PASSWORD = "correct horse battery staple"
SITE = "<script>document.title='owned'</script> Tokyo DC"

pytestmark = pytest.mark.shared


def _bundle(tmp_path: Path) -> tuple[Path, Any]:
    """A signed bundle of dropwizard 1.3.15 made by ``mamori bundle create`` in a supplier's store; its path
    and the supplier's public key."""
    from mamori.bundle.signing import generate, load_public

    if not DROPWIZARD.is_file():
        pytest.skip("../shared/data/sbom is absent")
    private, public = generate("ed25519")
    key, pub = tmp_path / "supplier.key", tmp_path / "supplier.pub"
    key.write_bytes(private)
    pub.write_bytes(public)
    supplier_db = tmp_path / "supplier.db"
    with open_store(supplier_db) as supplier:
        add_product(supplier, "dropwizard", SUPPLIER)
        store_sbom(supplier, "dropwizard", "1.3.15", DROPWIZARD, who="supplier")
    out = tmp_path / "dropwizard-1.3.15.zip"
    env = {**os.environ, "MAMORI_DB": str(supplier_db), "MAMORI_LANG": "en", "NO_COLOR": "1"}
    run = subprocess.run(
        [str(MAMORI), "bundle", "create", "dropwizard@1.3.15", "-o", str(out), "--key", str(key)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return out, load_public(pub)


@pytest.fixture
def site(tmp_path: Path, provider: dict[str, Any]) -> Iterator[dict[str, Any]]:  # noqa: F811
    from mamori.advisory.pull import pull
    from mamori.advisory.subscribe import link_team, subscribe
    from mamori.bundle import import_bundle
    from mamori.bundle.importer import pin_key
    from mamori.contract.store import set_team_terms
    from mamori.contract.terms import ItemTerm, Terms

    bundle, public = _bundle(tmp_path)
    path = tmp_path / "customer.db"
    with open_store(path) as store:
        for team in ("mine", "theirs"):
            accounts.create_team(store, team)
    load_demo_vulnerabilities(str(path))
    with open_store(path) as store:
        add_product(store, "shop", "Shop Corp", who="test")
        accounts.assign_product(store, "mine", "shop")
        stored = store_sbom(store, "shop", "2.1.0", demo_data() / DEMO_SBOM, who="test")
        match_release(store, stored.sbom_id, stored.previous_sbom_id)
        pin_key(store, SUPPLIER, public, "procurement")
        imported = import_bundle(store, bundle, who="procurement")
        assert (imported.product, imported.release) == ("dropwizard", "1.3.15")
        accounts.assign_product(store, "mine", "dropwizard")
        mine = accounts.get_team(store, "mine")
        assert mine is not None
        cert = tmp_path / "provider.pub.asc"
        cert.write_text(provider["key"], encoding="ascii")
        sub = subscribe(store, f"{provider['base']}/.well-known/csaf/provider-metadata.json", [cert])
        link_team(store, sub.id, mine.id)
        (report,) = pull(store, sub.id)
        assert report.new == len(WHITE) and not report.rejected, report
        terms = Terms(SUPPLIER, {"TX-01": ItemTerm(True, {"formats": {"cyclonedx": []}}, None, "dropwizard")})
        set_team_terms(store, mine.id, terms, "procurement")
        accounts.create_user(store, "sm", PASSWORD, "mine", "security_manager")
        accounts.create_user(store, "aud", PASSWORD, "mine", "auditor")
        with live(store) as server:
            yield {"url": server.url, "store": store, "provider": provider}


def _signin(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def _no_sideways_scroll(page: Any, url: str, paths: list[str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    for path in paths:
        page.goto(url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (path, width)


def test_suppliers_and_the_inventory_in_the_browser(
    browser: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    url, store = site["url"], site["store"]
    shots = Shots(tmp_path)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(dialog.message), dialog.dismiss()))
    _signin(page, url, "sm")

    # Suppliers: the subscription pulled, the bundle received, the terms agreed
    page.get_by_role("link", name="Suppliers").first.click()
    page.wait_for_selector("#subscriptions")
    subscriptions = page.inner_text("#subscriptions")
    assert site["provider"]["base"] in subscriptions and f"{len(WHITE)} new" in subscriptions
    assert f"valid: {len(WHITE)}" in subscriptions  # signed with the pinned key
    bundles = page.inner_text("#bundles")
    assert SUPPLIER in bundles and "dropwizard" in bundles and "1.3.15" in bundles
    assert "procurement" in bundles
    contracts = page.inner_text("#contracts")
    assert SUPPLIER in contracts and "mine" in contracts
    shots.take(page, "suppliers-en")

    # Inventory: record a deployment through the form
    page.get_by_role("link", name="Inventory").first.click()
    page.wait_for_selector("#new-deployment")
    form = page.locator("#new-deployment")
    form.get_by_label("Product and release").select_option(label="shop 2.1.0")
    form.get_by_label("Site").fill(SITE)
    form.get_by_label("System", exact=True).fill("order portal")
    form.get_by_label("System exposure").select_option("open")
    form.get_by_label("Mission impact").select_option("mef_failure")
    form.get_by_label("Owner").fill("ops@example.jp")
    form.get_by_label("Deployed since").fill("2025-04-01")
    form.get_by_role("button", name="Record").click()
    page.wait_for_url("**done=added")
    assert page.inner_text("#message") == "The deployment was recorded."
    assert SITE in page.inner_text("main")  # the site is text, never run
    assert page.title() != "owned" and page.locator("main script").count() == 0
    deployment_id = int(page.url.split("/inventory/")[1].split("?")[0])
    shots.take(page, "deployment-added")

    # a refused change: the problem on the page, the value given shown again
    edit = page.locator("#edit-deployment")
    edit.get_by_label("Site").fill("")
    edit.get_by_label("Site").evaluate("e => e.removeAttribute('required')")
    edit.get_by_role("button", name="Save the changes").click()
    page.wait_for_selector("#message")
    assert page.inner_text("#message") == "Not accepted: a deployment needs a site"
    assert get_deployment(store, deployment_id).site == SITE

    # change it: a controlled exposure
    page.goto(f"{url}/inventory/{deployment_id}")
    page.locator("#edit-deployment").get_by_label("System exposure").select_option("controlled")
    page.locator("#edit-deployment").get_by_role("button", name="Save the changes").click()
    page.wait_for_url("**done=edited")
    assert page.inner_text("#message") == "The deployment was changed."
    assert get_deployment(store, deployment_id).system_exposure == "controlled"

    # ranked on the patch list with its own context
    page.get_by_role("link", name="See what to patch first").click()
    page.wait_for_selector("#priorities")
    ranked = page.locator("#priorities tbody tr")
    assert ranked.count() > 0
    first = ranked.first.inner_text()
    assert SITE in first and "shop 2.1.0" in first
    assert "system_exposure=controlled" in page.inner_text("#priorities")
    shots.take(page, "priorities-en")

    # the pages in Japanese
    page.goto(f"{url}/inventory?lang=ja")
    assert page.inner_text("h1") == "導入先 (資産台帳)"
    assert page.locator("#new-deployment").get_by_label("拠点").count() == 1
    page.goto(f"{url}/inventory/{deployment_id}")
    assert page.inner_text("h2#edit-heading") == "この導入先を変更"
    assert page.locator("#edit-system_exposure option:checked").inner_text() == "制御あり"
    page.goto(f"{url}/inventory/priorities")
    assert page.inner_text("h1") == "パッチ適用の優先順位"
    page.goto(f"{url}/suppliers")
    assert page.inner_text("h1") == "サプライヤー" and "受け取ったリリースバンドル" in page.inner_text("main")
    shots.take(page, "suppliers-ja")
    _no_sideways_scroll(
        page, url, ["/suppliers", "/inventory", f"/inventory/{deployment_id}", "/inventory/priorities"]
    )
    shots.take(page, "priorities-ja-390")

    # retire it: it leaves the patch list
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{url}/inventory/{deployment_id}?lang=en")
    page.locator("#retire-deployment").get_by_role("button", name="Retire").click()
    page.wait_for_url("**done=retired")
    assert page.inner_text("#message") == "The deployment was retired."
    assert page.locator("#retire-deployment").count() == 0
    assert get_deployment(store, deployment_id).status == "retired"
    page.goto(f"{url}/inventory/priorities")
    assert page.locator("#priorities").count() == 0 and page.locator("#cannot-judge").count() == 1
    page.goto(f"{url}/inventory?status=all")
    assert "retired" in page.inner_text("#deployments")
    assert errors == []
    context.close()

    lines = [a.action for a in accounts.list_audit(store) if a.action.startswith("inventory.")]
    assert sorted(lines) == ["inventory.add", "inventory.retire", "inventory.update"]


def test_a_read_only_role_sees_no_form(browser: Any, site: dict[str, Any]) -> None:
    from mamori.inventory.deployments import add_deployment

    url, store = site["url"], site["store"]
    made = add_deployment(store, "shop", "2.1.0", site="Osaka plant", who="test")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    _signin(page, url, "aud")
    for path in ("/inventory", f"/inventory/{made.id}", "/suppliers"):
        page.goto(url + path)
        assert page.locator("main form[method=post]").count() == 0, path
    page.goto(f"{url}/inventory")
    assert "Osaka plant" in page.inner_text("#deployments")
    # a post from the auditor's session, with its CSRF token, is refused
    token = page.locator("input[name=csrf_token]").first.input_value()
    for path in (f"/inventory/{made.id}/retire", f"/inventory/{made.id}/edit", "/inventory"):
        answer = page.request.post(
            url + path, form={"csrf_token": token, "site": "x", "release": "1"}, max_redirects=0
        )
        assert answer.status == 403, (path, answer.status)
    assert [(d.site, d.status) for d in list_deployments(store, status=None)] == [("Osaka plant", "active")]
    context.close()

"""The web interface in a real browser: Playwright for Python driving Debian's Chromium against the
application served by uvicorn on loopback. Sign in, upload a real SBOM, see its findings, triage one,
download the VEX (it holds the decision), switch to Japanese, sign out; component names with markup stay
text (no dialog, no script runs); at 390 px wide no page scrolls sideways. Compliance: open it from the menu,
answer an item, make the declaration and download it (PDF, JSON); the compliance pages at 390 px.

Skipped when Playwright or Chromium is absent. Screenshots are kept under the test's temporary folder (the
path is printed), never in the repository."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import Shots
from mamori.portfolio import match_release, store_sbom
from mamori.store import open_store
from portfolio_support import DROPWIZARD, knowledge_template
from server_support import live
from test_server_web import PASSWORD, populate

__all__ = ["knowledge_template"]


@pytest.fixture
def site(knowledge_template: Path, tmp_path: Path) -> Iterator[tuple[str, Any, dict[str, int]]]:
    """The server over a copy of the test knowledge base (SQLite: the browser tests run once; the pages'
    PostgreSQL runs are in test_server_web.py)."""
    from mamori.portfolio.uploads import shutdown_workers

    path = tmp_path / "kb.db"
    shutil.copy(knowledge_template, path)
    with open_store(path) as store:
        ids = populate(store, tmp_path)
        with live(store) as server:
            yield server.url, store, ids
        shutdown_workers(wait=True)


def _watch(page: Any) -> list[str]:
    """Every dialog the page opens (none should) and every page error, dismissed and listed."""
    seen: list[str] = []

    def on_dialog(dialog: Any) -> None:
        seen.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: seen.append(f"error: {exc}"))
    return seen


def _sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def test_upload_triage_vex_language_sign_out(
    browser: Any, site: tuple[str, Any, dict[str, int]], tmp_path: Path
) -> None:
    url, store, _ids = site
    shots = Shots(tmp_path)
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()
    seen = _watch(page)
    _sign_in(page, url, "alice")
    page.get_by_role("link", name="Portfolio").first.click()
    page.get_by_role("link", name="web", exact=True).click()
    # upload the real dropwizard SBOM as release 3.0 of web
    page.get_by_label("Release (version)").fill("3.0")
    page.get_by_label("SBOM file").set_input_files(str(DROPWIZARD / "bom.json"))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#release-link", timeout=180_000)  # the status page refreshes until done
    assert page.inner_text("#upload-state") == "Done"
    shots.take(page, "1-upload")
    page.click("#release-link")
    assert "dropwizard-core" in page.inner_text("#components")
    page.click("#findings-link")
    page.wait_for_selector("#findings")
    shots.take(page, "2-findings")
    first = page.locator("#findings a", has_text="Triage").first
    first.click()
    vuln = page.locator("dd").first.inner_text()
    page.get_by_label("VEX status").select_option("not_affected")
    page.get_by_label("Justification").select_option("vulnerable_code_not_in_execute_path")
    page.get_by_label("Detail").fill("the affected servlet is never deployed")
    shots.take(page, "3-triage")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("The triage decision was recorded.").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the VEX (openvex)").click()
    vex = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    mine = [s for s in vex["statements"] if s["vulnerability"]["name"] == vuln]
    assert mine and mine[0]["status"] == "not_affected"
    assert mine[0]["justification"] == "vulnerable_code_not_in_execute_path"
    assert "the affected servlet is never deployed" in mine[0]["impact_statement"]
    # switch the language: the same page, in Japanese, remembered for the user
    page.get_by_role("button", name="日本語").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "の検出" in page.inner_text("h1")
    shots.take(page, "4-ja")
    page.get_by_role("button", name="サインアウト").click()
    page.get_by_text("サインアウトしました。").wait_for()
    assert seen == []
    context.close()
    from mamori import accounts
    from mamori.triage.records import list_records

    saved = [r for r in list_records(store, "web", "3.0") if r.vulnerability == vuln]
    assert saved and saved[0].who == "alice" and saved[0].status == "not_affected"
    actions = [(e.actor, e.action) for e in accounts.list_audit(store, limit=50)]
    assert ("alice", "sbom.upload") in actions and ("alice", "triage.record") in actions


def test_markup_in_component_names_renders_inert(
    browser: Any, site: tuple[str, Any, dict[str, int]], tmp_path: Path
) -> None:
    from mamori.model.sbom import Component, Document
    from mamori.portfolio.uploads import find_release
    from mamori.sbom import write

    url, store, _ids = site
    names = ["<script>window.pwned=1;alert(1)</script>", '<img src=x onerror="window.pwned=2;alert(2)">']
    path = tmp_path / "evil.cdx.json"
    write(
        Document(
            name="web",
            components=[
                Component(names[0], "1.0", purl="pkg:pypi/evil@1.0"),
                Component(names[1], "2.0", purl="pkg:pypi/evil2@2.0"),
            ],
        ),
        path,
    )
    stored = store_sbom(store, "web", "6.6", path)
    match_release(store, stored.sbom_id, stored.previous_sbom_id)
    _pid, rid = find_release(store, "web", "6.6")
    shots = Shots(tmp_path)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    seen = _watch(page)
    _sign_in(page, url, "alice")
    page.goto(f"{url}/releases/{rid}")
    page.wait_for_load_state("load")
    text = page.inner_text("#components")
    assert names[0] in text and names[1] in text  # shown as the text it is
    assert page.evaluate("window.pwned") is None
    assert page.locator("#components img").count() == 0 and page.locator("#components script").count() == 0
    shots.take(page, "inert")
    assert seen == []
    context.close()


def test_pages_fit_390_pixels(browser: Any, site: tuple[str, Any, dict[str, int]], tmp_path: Path) -> None:
    url, _store, ids = site
    shots = Shots(tmp_path)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{url}/signin")
    _sign_in_ja(page, url)
    rid = ids["web 1.1"]
    for name, path in (
        ("start", "/"),
        ("portfolio", "/portfolio"),
        ("product", f"/products/{ids['web']}"),
        ("release", f"/releases/{rid}"),
        ("findings", f"/releases/{rid}/findings"),
    ):
        page.goto(url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        shots.take(page, f"390-{name}")
        assert width[0] <= width[1], (name, width)
    link = page.locator("#findings a", has_text="トリアージ").first
    link.click()
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    shots.take(page, "390-triage")
    assert width[0] <= width[1], ("triage", width)
    context.close()


def _sign_in_ja(page: Any, url: str) -> None:
    page.get_by_label("ユーザー名").fill("alice")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{url}/")


def test_compliance_answer_and_declaration_download(
    browser: Any, site: tuple[str, Any, dict[str, int]], tmp_path: Path
) -> None:
    """Open the compliance pages from the navigation, answer one item, make the declaration and download
    it (PDF); the compliance pages fit 390 px too."""
    from mamori import accounts
    from mamori.accounts.assessment_owner import set_owner
    from mamori.compliance.repository import Assessments

    url, store, ids = site
    book = Assessments(store)
    made = book.create("jcstar1", "Example K.K.", ("developer", "supplier"), "web 1.1")
    alpha = accounts.get_team(store, "alpha")
    assert alpha is not None
    set_owner(store, made.id, alpha.id, ids["web"])
    item = made.items()[0]
    shots = Shots(tmp_path)
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()
    seen = _watch(page)
    _sign_in(page, url, "alice")
    page.get_by_role("link", name="Compliance").first.click()
    page.get_by_role("link", name=f"#{made.id}").click()
    shots.take(page, "c1-assessment")
    page.locator(f"#item-{item.id} a").first.click()
    page.get_by_label("Status").select_option("implemented")
    page.get_by_label("Note (for not applicable: the reason)").fill("default passwords are unique per device")
    page.get_by_label("Owner").fill("Hanako")
    shots.take(page, "c2-answer")
    page.get_by_role("button", name="Save the answer").click()
    page.get_by_text(f"The answer to {item.id} was saved.").wait_for()
    assert page.locator(f"#item-{item.id}").inner_text().count("Implemented") == 1
    page.get_by_role("link", name="Declaration").first.click()
    page.get_by_label('Approver from management ("name, title")').fill("Yamada Taro, CEO")
    page.get_by_label("Make it even with unanswered items").check()
    page.get_by_role("button", name="Make the declaration").click()
    page.get_by_text("The declaration was made.").wait_for()
    shots.take(page, "c3-declaration")
    with page.expect_download() as info:
        page.get_by_role("link", name="PDF (English)").click()
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF-")
    assert info.value.suggested_filename == f"declaration-{made.id}.en.pdf"
    with page.expect_download() as info:
        page.get_by_role("link", name="JSON").click()
    declared = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    entry = next(i for i in declared["items"] if i["id"] == item.id)
    assert entry["status"] == "implemented" and entry["owner"] == "Hanako"
    assert declared["approver"] == {"name": "Yamada Taro", "title": "CEO"}
    assert seen == []
    context.close()
    answer = book.get(made.id).answer(item.id)
    assert (answer.status, answer.owner) == ("implemented", "Hanako")
    # the compliance pages at 390 px, in Japanese
    narrow = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
    page = narrow.new_page()
    page.goto(f"{url}/signin")
    _sign_in_ja(page, url)
    base = f"/compliance/{made.id}"
    for name, path in (
        ("list", "/compliance"),
        ("assessment", base),
        ("item", f"{base}/items/{item.id}"),
        ("gaps", f"{base}/gaps"),
        ("roadmap", f"{base}/roadmap"),
        ("declaration", f"{base}/declaration"),
    ):
        page.goto(url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        shots.take(page, f"390-compliance-{name}")
        assert width[0] <= width[1], (name, width)
    narrow.close()


def test_notifications_add_list_test_and_log(
    browser: Any, site: tuple[str, Any, dict[str, int]], tmp_path: Path
) -> None:
    """Open the notification page from the menu, add a webhook subscription (to a receiver on loopback),
    see it listed, send the test message, see it in the delivery log; the page fits 390 px in Japanese."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    Thread(target=hook.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    url, _store, _ids = site
    shots = Shots(tmp_path)
    try:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        seen = _watch(page)
        _sign_in(page, url, "alice")
        page.get_by_role("link", name="Notifications").first.click()
        page.get_by_label("Channel").select_option("webhook")
        page.get_by_label("Target (URL or e-mail address)").fill(target)
        page.get_by_label("Webhook secret (16 characters or more, optional; never shown again)").fill(
            "browser-test-secret-0123456789"
        )
        page.get_by_label("web", exact=True).check()
        page.get_by_label("KEV only").check()
        page.get_by_label("Policy violation").check()
        shots.take(page, "n1-form")
        page.get_by_role("button", name="Add").click()
        page.get_by_text("The subscription was added.").wait_for()
        row = page.locator("#subscriptions tbody tr").first
        assert "webhook (signed)" in row.inner_text() and "policy_violation" in row.inner_text()
        assert "browser-test-secret" not in page.content()
        row.get_by_role("button", name="Send a test").click()
        page.get_by_text("The test message is being sent").wait_for()
        for _ in range(100):  # sent after the answer: its try reaches the log shortly
            if received and page.locator("#delivery-log tbody tr").count():
                break
            page.wait_for_timeout(200)
            page.reload()
        log = page.locator("#delivery-log tbody tr").first.inner_text()
        assert "sent" in log and "204" in log and "test" in log
        assert len(received) == 1 and b'"type": "mamori.notification"' in received[0]
        shots.take(page, "n2-log")
        assert seen == []
        context.close()
        narrow = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
        page = narrow.new_page()
        page.goto(f"{url}/signin")
        _sign_in_ja(page, url)
        page.goto(url + "/notifications")
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        shots.take(page, "390-notifications")
        assert width[0] <= width[1], ("notifications", width)
        assert page.get_by_role("heading", name="配信ログ (新しい順)").is_visible()
        narrow.close()
    finally:
        hook.shutdown()
        hook.server_close()

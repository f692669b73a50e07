"""PSIRT in a real browser (Playwright for Python driving Debian's Chromium against the application served by
uvicorn on loopback, over a portfolio of real SBOMs): sign in, file a case through the web form, move it to
acknowledged, triaged (SSVC inputs and evidence) and fix in progress with the buttons the workflow allows,
draft the CSAF advisory (downloaded, it passes the schema and the mandatory tests) and see its revision on
the case page; the database holds the case, its history with who, and the revision. The pages in Japanese, and at 390 px
wide without sideways scrolling.

Skipped when Playwright or Chromium is absent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori.psirt.cases import get_case, list_cases, revisions
from mamori.store import open_store
from server_support import live
from test_server_psirt_web import JACKSON, PASSWORD, SETTINGS, populate


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    with open_store(tmp_path / "psirt.db") as store:
        populate(store)
        with live(store, **SETTINGS) as server:
            yield server.url, store


def _move(page: Any, to: str) -> None:
    form = page.locator(f'form.transition[data-to="{to}"]')
    form.locator("button[type=submit]").click()
    page.wait_for_url("**done=moved")


def test_file_move_and_draft_a_case_in_the_browser(
    browser: Any, site: tuple[str, Any], tmp_path: Path
) -> None:
    url, store = site
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(dialog.message), dialog.dismiss()))

    page.goto(f"{url}/signin")
    page.get_by_label("User name").fill("sm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    page.get_by_role("link", name="PSIRT").first.click()
    page.wait_for_selector("#new-case")
    assert page.locator("tr.overdue").count() == 1  # the team's old case, never acknowledged

    page.get_by_label("Title").fill("Unsafe deserialization <script>alert(1)</script> in jackson-databind")
    page.get_by_label("Summary").fill("A gadget class lets crafted JSON run code when default typing is on.")
    page.get_by_label("Reporter").fill("Taro Yamada")
    page.get_by_label("Contact").fill("taro@example.jp")
    page.get_by_label("Credit preference").select_option("anonymous")
    page.get_by_label("Embargo until").fill("2027-01-15")
    page.get_by_label("Component (purl)").fill(f"{JACKSON}@2.9.10?type=jar")
    page.get_by_label("Affected version range (vers)").fill("vers:maven/>=2.9.0|<2.9.10.4")
    page.locator("#cwe").fill("CWE-502")
    page.locator("#lang-choice").select_option("en")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url("**done=opened")
    key = page.url.split("/psirt/cases/")[1].split("?")[0]
    assert "<script>" in page.inner_text("h1")  # shown as text
    assert page.inner_text("#case-state").startswith("received")
    assert "dropwizard" in page.inner_text("#releases") and "keycloak" not in page.inner_text("#releases")

    _move(page, "acknowledged")
    triage = page.locator('form.transition[data-to="triaged"]')
    for point, value in (
        ("exploitation", "public_poc"),
        ("utility", "efficient"),
        ("technical_impact", "total"),
        ("public_safety_impact", "minimal"),
    ):
        triage.locator(f"#ssvc-{point}").select_option(value)
    triage.locator("textarea[name=note]").fill("a public gadget chain exists")
    _move(page, "triaged")
    _move(page, "fix_in_progress")
    assert page.inner_text("#case-state").startswith("fix in progress")
    history = page.inner_text("#history")
    assert "triaged → fix in progress" in history and "a public gadget chain exists" in history

    draft = page.locator("#draft-csaf")
    assert draft.get_by_label("Publisher (vendor name)").input_value() == SETTINGS["csaf_publisher"]
    draft.get_by_label("Record a new revision with this summary (optional)").fill("Draft for the coordinator")
    with page.expect_download() as info:
        draft.get_by_role("button", name="Check and download the JSON").click()
    doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    from mamori.advisory.csaf_draft import check_csaf

    assert check_csaf(doc) == [] and doc["document"]["tracking"]["id"] == key
    assert doc["document"]["acknowledgments"]  # anonymous credit: thanked without a name
    assert "Taro" not in json.dumps(doc["document"]["acknowledgments"])
    page.reload()
    assert "Draft for the coordinator" in page.inner_text("#revisions")

    case = get_case(store, key)
    assert (case.state, case.channel, case.credit, case.embargo_until) == (
        "fix_in_progress",
        "web",
        "anonymous",
        "2027-01-15",
    )
    assert [(e.who, e.to_state) for e in case.events if e.kind == "transition"] == [
        ("sm", "acknowledged"),
        ("sm", "triaged"),
        ("sm", "fix_in_progress"),
    ]
    assert [(r["number"], r["status"], r["who"]) for r in revisions(store, key)] == [(1, "draft", "sm")]
    assert len(list_cases(store, team="mine")) == 2

    page.goto(f"{url}/psirt?lang=ja")
    assert page.inner_text("h1") == "PSIRT 案件"
    page.goto(f"{url}/psirt/cases/{key}")
    assert "修正中" in page.inner_text("#case-state")
    page.goto(f"{url}/psirt/metrics")
    assert "PSIRT メトリクス" in page.inner_text("h1")
    # the PSIRT pages at 390 px wide (a phone) do not scroll sideways
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/psirt", f"/psirt/cases/{key}", "/psirt/metrics"):
        page.goto(url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (path, width)
    assert errors == []
    context.close()

"""The web pages of the team server (mamori.server.web_pages, web_admin) over httpx against the real
application served by uvicorn: a team's user sees its products (dashboard, product, release, findings,
triage, VEX download, vulnerability page), another team's product answers 404, a form without the CSRF
token is refused, the administration is for administrators only, input text shows escaped."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.portfolio import add_product, match_release, store_sbom
from portfolio_support import kb, knowledge_template, sbom_file
from server_support import csrf_of, live, signin

__all__ = ["kb", "knowledge_template"]

PASSWORD = "a long enough pass phrase 42"
ACTOR = accounts.Actor("cli", "test")
OLD = ["pkg:pypi/django@1.11.0", "pkg:pypi/jinja2@2.10", "pkg:pypi/requests@2.19.0"]
NEW = ["pkg:pypi/django@1.11.0", "pkg:pypi/jinja2@2.11.3", "pkg:pypi/pyyaml@5.3"]


@dataclass
class Site:
    url: str
    store: Any
    ids: dict[str, int]  # product and release ids by name ("web", "web 1.1", "secret", ...)


def _release_id(store: Any, product: str, version: str) -> int:
    from mamori.portfolio.uploads import find_release

    _pid, rid = find_release(store, product, version)
    assert rid is not None
    return rid


def populate(store: Any, folder: Path) -> dict[str, int]:
    """Teams alpha (product web, two releases) and beta (product secret); alice manages alpha's products,
    bob is beta's developer, root is an administrator."""
    for team in ("alpha", "beta"):
        accounts.create_team(store, team, actor=ACTOR)
    ids = {}
    for product, team, releases in (
        ("web", "alpha", (("1.0", OLD), ("1.1", NEW))),
        ("secret", "beta", (("9.0", OLD),)),
    ):
        ids[product] = add_product(store, product)
        accounts.assign_product(store, team, product, actor=ACTOR)
        for version, purls in releases:
            path = sbom_file(folder / f"{product}-{version}.cdx.json", purls, product)
            stored = store_sbom(store, product, version, path)
            match_release(store, stored.sbom_id, stored.previous_sbom_id)
            ids[f"{product} {version}"] = _release_id(store, product, version)
    accounts.create_user(store, "alice", PASSWORD, "alpha", "security_manager", actor=ACTOR)
    accounts.create_user(store, "bob", PASSWORD, "beta", "developer", actor=ACTOR)
    accounts.create_user(store, "root", PASSWORD, "alpha", "admin", actor=ACTOR)
    return ids


@pytest.fixture
def site(kb: Any, tmp_path: Path) -> Iterator[Site]:
    from mamori.portfolio.uploads import shutdown_workers

    ids = populate(kb, tmp_path)
    with live(kb) as server:
        yield Site(server.url, kb, ids)
    shutdown_workers(wait=True)


@contextlib.contextmanager
def client(site: Site, name: str, lang: str = "en") -> Iterator[httpx.Client]:
    """A browser-like client (HTML, language ``lang``) signed in as ``name``."""
    headers = {"Accept": "text/html", "Accept-Language": lang}
    with httpx.Client(base_url=site.url, timeout=60, headers=headers) as c:
        assert signin(c, name, PASSWORD).status_code == 303
        yield c


def _vuln_of(page: str) -> tuple[str, str]:
    """(component purl, vulnerability id) of the first triage link of a findings page."""
    found = re.search(r'/triage\?component=([^&"]+)&amp;vulnerability=([^&"]+)"', page)
    assert found, page
    from urllib.parse import unquote

    return unquote(found.group(1)), unquote(found.group(2))


def test_dashboard_lists_own_products_by_risk_with_trend(site: Site) -> None:
    with client(site, "alice") as c:
        page = c.get("/portfolio")
        assert page.status_code == 200
        assert f'href="/products/{site.ids["web"]}"' in page.text
        assert "secret" not in page.text  # another team's product is not listed
        assert "1.0: " in page.text and "1.1: " in page.text  # the trend across releases
        assert f'<a href="/releases/{site.ids["web 1.1"]}">1.1</a>' in page.text  # the latest release
        assert "Open findings" in page.text
    with client(site, "root") as c:
        page = c.get("/portfolio").text
        assert "secret" in page and ">web<" in page


def test_product_and_release_pages(site: Site) -> None:
    with client(site, "alice") as c:
        product = c.get(f"/products/{site.ids['web']}")
        assert product.status_code == 200
        assert f"/releases/{site.ids['web 1.1']}" in product.text
        assert 'enctype="multipart/form-data"' in product.text
        release = c.get(f"/releases/{site.ids['web 1.1']}")
        assert release.status_code == 200
        text = release.text
        assert "pkg:pypi/pyyaml@5.3" in text and "NTIA" in text
        # the diff with 1.0: pyyaml added, requests removed, jinja2 2.10 → 2.11.3
        diff = text[text.index("Changes since the previous release") :]
        assert "Compared with release 1.0" in diff
        assert re.search(r"Added</h3>\s*<ul><li>pyyaml 5.3", diff)
        assert re.search(r"Removed</h3>\s*<ul><li>requests 2.19.0", diff)
        assert "jinja2: 2.10 → 2.11.3" in diff
        for fmt, check in (
            ("cyclonedx-json", lambda b: json.loads(b)["bomFormat"] == "CycloneDX"),
            ("spdx-json", lambda b: json.loads(b)["spdxVersion"].startswith("SPDX-")),
            ("cyclonedx-xml", lambda b: b"<bom" in b),
            ("spdx-tv", lambda b: b"SPDXVersion:" in b),
            ("spdx-lite-csv", lambda b: b"pyyaml" in b),
            ("spdx-lite-xlsx", lambda b: b[:2] == b"PK"),
        ):
            got = c.get(f"/releases/{site.ids['web 1.1']}/sbom", params={"format": fmt})
            assert got.status_code == 200, fmt
            assert "attachment" in got.headers["content-disposition"]
            assert check(got.content), fmt


def test_another_teams_product_answers_404_everywhere(site: Site) -> None:
    rid, pid = site.ids["secret 9.0"], site.ids["secret"]
    with client(site, "alice") as c:
        for path in (
            f"/products/{pid}",
            f"/releases/{rid}",
            f"/releases/{rid}/findings",
            f"/releases/{rid}/sbom",
            f"/releases/{rid}/vex",
            f"/releases/{rid}/triage?component=pkg:pypi/django@1.11.0&vulnerability=x",
            "/products/999999",
            "/releases/999999",
            "/admin",
        ):
            got = c.get(path)
            assert got.status_code == 404, path
            assert "Not found." in got.text
        token = csrf_of(c)
        refused = c.post(f"/products/{pid}/upload", data={"csrf_token": token, "version": "1"})
        assert refused.status_code == 404


def test_findings_filters_triage_and_vex(site: Site) -> None:
    rid = site.ids["web 1.1"]
    with client(site, "alice") as c:
        page = c.get(f"/releases/{rid}/findings")
        assert page.status_code == 200
        rows = page.text.count("/triage?component=")
        assert rows > 0
        ratings = re.findall(r"<td>(Critical|High|Medium|Low|None|Unknown)", page.text)
        assert len(ratings) == rows
        shown = ratings[0]
        filtered = c.get(f"/releases/{rid}/findings", params={"severity": shown.lower()}).text
        assert filtered.count("/triage?component=") == ratings.count(shown)
        assert set(re.findall(r"<td>(Critical|High|Medium|Low|None|Unknown)", filtered)) == {shown}
        none_fixed = c.get(f"/releases/{rid}/findings", params={"status": "fixed"}).text
        assert "No finding matches." in none_fixed
        purl, vuln = _vuln_of(page.text)
        form = c.get(f"/releases/{rid}/triage", params={"component": purl, "vulnerability": vuln})
        assert form.status_code == 200
        assert 'name="ssvc.' in form.text  # the SSVC questions of the variant
        high = c.get(
            f"/releases/{rid}/triage",
            params={"component": purl, "vulnerability": vuln, "role": "user", "skill": "high"},
        ).text
        assert high.count("<fieldset>") > form.text.count("<fieldset>")  # high skill answers every point
        token = csrf_of(c)
        data = {
            "csrf_token": token,
            "component": purl,
            "vulnerability": vuln,
            "role": "developer",
            "skill": "low",
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "detail": "the template engine is never given user input",
        }
        # without the CSRF token: refused, nothing recorded
        no_token = c.post(
            f"/releases/{rid}/triage", data={k: v for k, v in data.items() if k != "csrf_token"}
        )
        assert no_token.status_code == 403
        bad = c.post(f"/releases/{rid}/triage", data={**data, "status": "affected"})
        assert bad.status_code == 400  # a justification only goes with not_affected
        assert "justification" in bad.text
        done = c.post(f"/releases/{rid}/triage", data=data)
        assert done.status_code == 303
        after = c.get(done.headers["location"]).text
        assert "The triage decision was recorded." in after
        vex = c.get(f"/releases/{rid}/vex", params={"format": "openvex"})
        assert vex.status_code == 200
        statements = json.loads(vex.content)["statements"]
        mine = [s for s in statements if s["vulnerability"]["name"] == vuln]
        assert mine and mine[0]["status"] == "not_affected"
        assert mine[0]["justification"] == "vulnerable_code_not_in_execute_path"
        assert "SSVC developer-low" in mine[0]["impact_statement"]
    from mamori.triage.records import list_records

    saved = [r for r in list_records(site.store, "web", "1.1") if r.vulnerability == vuln]
    assert saved and saved[0].who == "alice"
    lines = [e for e in accounts.list_audit(site.store, action="triage.record")]
    assert lines and lines[0].actor == "alice" and lines[0].detail["vulnerability"] == vuln


def test_vulnerability_page_where_am_i_affected(site: Site) -> None:
    with client(site, "alice") as c:
        _purl, vuln = _vuln_of(c.get(f"/releases/{site.ids['web 1.0']}/findings").text)
        page = c.get(f"/vulnerabilities/{vuln}")
        assert page.status_code == 200
        assert "Where am I affected?" in page.text
        assert f"/releases/{site.ids['web 1.0']}/findings" in page.text
        assert "secret" not in page.text  # the same vulnerability in beta's product is not shown
        assert c.get("/vulnerabilities/NO-SUCH-1").status_code == 404
    with client(site, "root") as c:
        assert "secret" in c.get(f"/vulnerabilities/{vuln}").text


def test_vulnerability_findings_are_those_of_the_whole_view(site: Site) -> None:
    """The vulnerability page's findings, picked in SQL, are those the whole portfolio view lists for the
    id or an alias, in the same order."""
    from mamori.portfolio import views

    everything = views.findings(site.store)["findings"]
    with_alias = [f for f in everything if f["vulnerability"]["aliases"]]
    assert everything and with_alias

    def ids_of(f: dict[str, Any]) -> set[str]:
        return {f["vulnerability"]["id"].upper(), *(a.upper() for a in f["vulnerability"]["aliases"])}

    for f in [*everything[:3], with_alias[0], with_alias[-1]]:
        for query in (
            {f["vulnerability"]["id"].lower()},
            {f["vulnerability"]["aliases"][0]} if f in with_alias else set(),
        ):
            if not query:
                continue
            wanted = {q.upper() for q in query}
            expected = [x for x in everything if ids_of(x) & wanted]
            assert expected and views.vulnerability_findings(site.store, query) == expected
            web = [x for x in expected if x["product"] == "web"]
            assert views.vulnerability_findings(site.store, query, {"web"}) == web
    assert views.vulnerability_findings(site.store, {"NO-SUCH-1"}) == []
    assert views.vulnerability_findings(site.store, {everything[0]["vulnerability"]["id"]}, set()) == []


def test_upload_form_stores_and_matches_the_sbom(site: Site, tmp_path: Path) -> None:
    from dtrack_support import wait_done

    path = sbom_file(tmp_path / "up.cdx.json", NEW, "web")
    with client(site, "alice") as c:
        token = csrf_of(c)
        sent = c.post(
            f"/products/{site.ids['web']}/upload",
            data={"csrf_token": token, "version": "2.0"},
            files={"sbom": ("up.cdx.json", path.read_bytes(), "application/json")},
        )
        assert sent.status_code == 303
        upload = sent.headers["location"].rsplit("/", 1)[1]
        assert wait_done(site.store, upload).state == "done"
        page = c.get(sent.headers["location"]).text
        assert "Done" in page and 'id="release-link"' in page
        junk = c.post(
            f"/products/{site.ids['web']}/upload",
            data={"csrf_token": token, "version": "2.1"},
            files={"sbom": ("x.json", b"not an sbom", "application/json")},
        )
        assert junk.status_code == 400 and "The upload was refused" in junk.text
        no_token = c.post(
            f"/products/{site.ids['web']}/upload",
            data={"version": "2.2"},
            files={"sbom": ("up.cdx.json", path.read_bytes(), "application/json")},
        )
        assert no_token.status_code == 403
    assert any(e.target == "web 2.0" for e in accounts.list_audit(site.store, action="sbom.upload"))


def test_markup_in_component_names_is_shown_as_text(site: Site, tmp_path: Path) -> None:
    from mamori.model.sbom import Component, Document
    from mamori.sbom import write

    evil = Document(
        name="web",
        components=[
            Component("<script>alert(1)</script>", "1.0", purl="pkg:pypi/evil@1.0"),
            Component('<img src=x onerror="alert(2)">', "2.0", purl="pkg:pypi/evil2@2.0"),
        ],
    )
    path = tmp_path / "evil.cdx.json"
    write(evil, path)
    stored = store_sbom(site.store, "web", "6.6", path)
    match_release(site.store, stored.sbom_id, stored.previous_sbom_id)
    with client(site, "alice") as c:
        page = c.get(f"/releases/{_release_id(site.store, 'web', '6.6')}").text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page


def test_language_switch_comes_back_in_japanese(site: Site) -> None:
    with client(site, "alice") as c:
        token = csrf_of(c)
        back = f"/releases/{site.ids['web 1.1']}"
        switched = c.post("/lang", data={"csrf_token": token, "lang": "ja", "next": back})
        assert switched.status_code == 303 and switched.headers["location"] == back
        page = c.get(back).text
        assert '<html lang="ja">' in page and "コンポーネント" in page
        assert c.get("/portfolio").text.count("ポートフォリオ") >= 2
        # the SSVC questions and answers of the triage form in Japanese, as the catalog words them
        from html import unescape

        from mamori.triage.variants import question_dict

        rid = site.ids["web 1.1"]
        purl, vuln = _vuln_of(c.get(f"/releases/{rid}/findings").text)
        for role in ("developer", "user"):
            form = c.get(
                f"/releases/{rid}/triage",
                params={"component": purl, "vulnerability": vuln, "role": role, "skill": "high"},
            ).text
            points = re.findall(r'name="ssvc\.([a-z_]+)"', form)
            assert points
            question = question_dict(points[0], "ja")
            assert question["question"] in unescape(form)
            assert all(a["name"] in unescape(form) for a in question["answers"])


def test_administration_users_teams_keys_audit(site: Site) -> None:
    with client(site, "bob") as c:
        assert c.get("/admin").status_code == 404
    with client(site, "root") as c:
        page = c.get("/admin")
        assert page.status_code == 200 and "Audit log" in page.text
        token = csrf_of(c)
        team = c.post("/admin/teams", data={"csrf_token": token, "name": "gamma"})
        assert team.status_code == 200 and "Team gamma created." in team.text
        user = c.post(
            "/admin/users", data={"csrf_token": token, "name": "carol", "team": "gamma", "role": "auditor"}
        )
        assert user.status_code == 200
        password = re.search(r'<code id="secret">([^<]+)</code>', user.text)
        assert password and user.headers["cache-control"] == "no-store"
        key = c.post(
            "/admin/apikeys", data={"csrf_token": token, "team": "gamma", "role": "auditor", "name": "ci"}
        )
        plaintext = re.search(r'<code id="secret">([^<]+)</code>', key.text)
        assert plaintext
        assert accounts.authenticate_api_key(site.store, plaintext.group(1)) is not None
        assert plaintext.group(1) not in c.get("/admin").text  # shown once
        made = next(k for k in accounts.list_api_keys(site.store) if k.name == "ci")
        assert c.post(f"/admin/apikeys/{made.id}/revoke", data={"csrf_token": token}).status_code == 200
        assert accounts.authenticate_api_key(site.store, plaintext.group(1)) is None
        assert c.post("/admin/teams", data={"name": "delta"}).status_code == 403  # no CSRF token
    actions = {e.action for e in accounts.list_audit(site.store, actor="root", limit=100)}
    assert {"team.create", "user.create", "apikey.create", "apikey.revoke"} <= actions


def test_dashboard_counts_are_the_release_views(site: Site) -> None:
    from mamori.portfolio.ssvc_view import add_ssvc
    from mamori.portfolio.views import products, release
    from mamori.server.security import Principal, grants
    from mamori.server.web_pages import dashboard_rows

    def found_in(name: str, version: str) -> list[dict[str, Any]]:
        return release(site.store, name, version)["findings"]

    user = accounts.find_user(site.store, "root")
    assert user is not None
    root = Principal(
        "user", user.id, user.name, grants(site.store, accounts.memberships(site.store, user.id))
    )

    def check() -> dict[str, dict[str, Any]]:
        rows = dashboard_rows(site.store, root, "en")
        priorities = [r["priority"] for r in rows]
        assert priorities == sorted(priorities, reverse=True)  # the riskiest first
        by_name = {r["name"]: r for r in rows}
        assert set(by_name) == {"web", "secret"}
        for name, version in (("web", "1.1"), ("secret", "9.0")):
            summary = release(site.store, name, version)["summary"]
            row = by_name[name]
            assert row["latest"] == version
            assert row["open"] == summary["open_findings"] > 0
            assert row["kev"] == summary["kev"]
            assert row["ratings"]["critical"] == summary["by_rating"]["critical"]
            assert row["immediate"] + row["out_of_cycle"] <= row["open"]
            # the SSVC counts: those of the latest release's open findings decided on their own
            open_ = [dict(f, product=name, release=version) for f in found_in(name, version) if f["in_gate"]]
            add_ssvc(site.store, open_, role="user", lang="en")
            outcomes = [(f.get("ssvc") or {}).get("outcome", "").replace("-", "_").lower() for f in open_]
            assert (row["immediate"], row["out_of_cycle"]) == (
                outcomes.count("immediate"),
                outcomes.count("out_of_cycle"),
            )
            # the trend (counted in SQL): the open findings of each release as the products view counts them
            listed = next(p for p in products(site.store) if p["name"] == name)["releases"]
            assert row["trend"] == [(r["version"], r["open_findings"]) for r in reversed(listed)]
        return by_name

    by_name = check()  # no product has a stored context: each vulnerability decided once
    from mamori.portfolio.context import clear_context, set_context

    set_context(site.store, "secret", {"system_exposure": "small"}, reason="test", who="test")
    try:
        check()  # secret has one: its findings decided one by one, web's still per vulnerability
    finally:
        clear_context(site.store, "secret")
    assert [v for v, _n in by_name["web"]["trend"]] == ["1.0", "1.1"]


def test_dashboard_remembered_counts_follow_a_new_release_and_kev(site: Site, tmp_path: Path) -> None:
    """The dashboard keeps its counts and SSVC outcomes between calls: a re-match run (a new release) and a
    KEV change are seen at once."""
    from sqlalchemy import delete

    from mamori.model.vulnerability import Kev
    from mamori.portfolio.ssvc_view import add_ssvc
    from mamori.portfolio.views import release
    from mamori.server.security import Principal, grants
    from mamori.server.web_pages import dashboard_rows
    from mamori.store import schema

    user = accounts.find_user(site.store, "root")
    assert user is not None
    root = Principal(
        "user", user.id, user.name, grants(site.store, accounts.memberships(site.store, user.id))
    )

    def rows() -> dict[str, dict[str, Any]]:
        return {r["name"]: r for r in dashboard_rows(site.store, root, "en")}

    def same_as_release(row: dict[str, Any], name: str, version: str) -> None:
        found = release(site.store, name, version)
        summary = found["summary"]
        assert (row["latest"], row["open"], row["kev"]) == (version, summary["open_findings"], summary["kev"])
        assert row["ratings"]["critical"] == summary["by_rating"]["critical"]
        open_ = [dict(f, product=name, release=version) for f in found["findings"] if f["in_gate"]]
        add_ssvc(site.store, open_, role="user", lang="en")
        outcomes = [(f.get("ssvc") or {}).get("outcome", "").replace("-", "_").lower() for f in open_]
        assert (row["immediate"], row["out_of_cycle"]) == (
            outcomes.count("immediate"),
            outcomes.count("out_of_cycle"),
        )

    first = rows()
    assert rows() == first  # the second call answers from what the first kept
    same_as_release(first["web"], "web", "1.1")
    # web 1.2 lists secret 9.0's components: its counts become secret's
    path = sbom_file(tmp_path / "web-1.2.cdx.json", OLD, "web")
    stored = store_sbom(site.store, "web", "1.2", path)
    match_release(site.store, stored.sbom_id, stored.previous_sbom_id)
    second = rows()
    same_as_release(second["web"], "web", "1.2")
    keys = ("open", "kev", "immediate", "out_of_cycle", "ratings")
    assert {k: second["web"][k] for k in keys} == {k: second["secret"][k] for k in keys}
    assert second["web"]["open"] != first["web"]["open"]
    assert second["web"]["trend"][-1] == ("1.2", second["web"]["open"])
    # a CVE of secret's open findings enters the KEV catalogue, then leaves it: seen at once each time
    assert second["secret"]["kev"] == 0
    found = release(site.store, "secret", "9.0")["findings"]
    cve = next(
        i
        for f in found
        if f["in_gate"]
        for i in [f["vulnerability"]["id"], *f["vulnerability"].get("aliases", [])]
        if i.startswith("CVE-")
    )
    with site.store.writer() as w:
        w.put_kev([Kev(cve, date_added="2024-01-02")])
    third = rows()
    assert third["secret"]["kev"] == third["web"]["kev"] > 0
    same_as_release(third["secret"], "secret", "9.0")
    same_as_release(third["web"], "web", "1.2")
    kev = schema.KevEntry.__table__
    with site.store.engine.begin() as conn:
        conn.execute(delete(kev).where(kev.c.cve_id == cve))
    assert rows() == second


def test_vulnerability_page_shows_the_jvn_japanese_text(site: Site) -> None:
    from conftest import SHARED_DATA
    from mamori.vulndb import import_path

    import_path(site.store, SHARED_DATA / "jvn" / "get_vuln_detail_info.xml")
    found = site.store.lookup("JVNDB-2020-006469")
    assert found is not None and found.vulnerability.summaries.get("ja")
    japanese = found.vulnerability.summaries["ja"]
    with client(site, "alice", "ja") as c:
        page = c.get("/vulnerabilities/JVNDB-2020-006469")  # by its JVN id: an alias of the CVE
        assert page.status_code == 200
        assert f"<h1>{found.vulnerability.id}</h1>" in page.text
        assert "JVNDB-2020-006469" in page.text
        from html import escape

        assert escape(japanese, quote=False) in page.text.replace("&#34;", '"').replace("&#39;", "'")
        assert "影響を受ける箇所" in page.text

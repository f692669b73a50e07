"""The native API's findings (filters, sort, pagination, SSVC, EPSS) and vulnerabilities (any alias,
KEV/EPSS, JVN's Japanese text, "where am I affected?") over real HTTP; the same answers as the
portfolio views the CLI prints, and never another team's release."""

from __future__ import annotations

from typing import Any

from mamori.portfolio.views import release
from server_api_support import SECRET, World, items, kb, knowledge_template, world

__all__ = ["kb", "knowledge_template", "world"]

V1 = "/api/mamori/v1"


def _all(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    return items(client.get(path, params={"limit": 500, **params}))


def test_findings_are_the_views_findings_of_the_visible_releases_only(world: World) -> None:
    view = release(world.store, "web", "1.0")
    expected = {(f["component"]["purl"], f["vulnerability"]["id"]) for f in view["findings"]}
    with world.client("developer") as dev, world.client("admin") as admin, world.client("customer") as cust:
        mine = _all(dev, f"{V1}/findings")
        assert {(f["component"]["purl"], f["vulnerability"]["id"]) for f in mine} == expected
        assert {(f["product"], f["release"], f["release_id"]) for f in mine} == {
            ("web", "1.0", world.web_release)
        }
        per_release = _all(dev, f"{V1}/releases/{world.web_release}/findings")
        assert [(f["component"]["purl"], f["vulnerability"]["id"]) for f in per_release] == [
            (f["component"]["purl"], f["vulnerability"]["id"]) for f in mine
        ]
        everything = _all(admin, f"{V1}/findings")
        assert {f["product"] for f in everything} == {"web", SECRET}
        assert cust.get(f"{V1}/findings").status_code == 403
        assert dev.get(f"{V1}/findings", params={"product_id": world.secret}).status_code == 404
        assert SECRET not in dev.get(f"{V1}/findings", params={"product_id": world.secret}).text
        assert dev.get(f"{V1}/findings", params={"product_id": 987654}).status_code == 404


def test_filters_sort_and_pages(world: World) -> None:
    with world.client("security_manager") as client:
        base = f"{V1}/releases/{world.web_release}/findings"
        every = _all(client, base)
        assert len(every) >= 3
        # pages: total counts every match, items one page of the same order
        first = client.get(base, params={"limit": 2}).json()
        second = client.get(base, params={"limit": 2, "offset": 2}).json()
        assert first["total"] == second["total"] == len(every)
        assert [f["vulnerability"]["id"] for f in first["items"] + second["items"]] == [
            f["vulnerability"]["id"] for f in every[:4]
        ]
        assert client.get(base, params={"limit": 0}).status_code == 422
        assert client.get(base, params={"limit": 501}).status_code == 422
        # severity, component, vulnerability (by an alias), KEV
        for ratings in ("critical,high", "unknown", "medium,low,none"):
            wanted = set(ratings.split(","))
            kept = _all(client, base, severity=ratings.upper())
            assert [f["vulnerability"]["id"] for f in kept] == [
                f["vulnerability"]["id"]
                for f in every
                if (f["vulnerability"]["rating"] or "unknown") in wanted
            ]
        assert sum(
            len(_all(client, base, severity=r)) for r in ("critical,high", "unknown", "medium,low,none")
        ) == len(every)
        django = _all(client, base, component="django")
        assert django and all("django" in f["component"]["purl"] for f in django)
        some = next(f for f in every if f["vulnerability"]["aliases"])
        alias = some["vulnerability"]["aliases"][0]
        by_alias = _all(client, base, vulnerability=alias.lower())
        assert some["vulnerability"]["id"] in {f["vulnerability"]["id"] for f in by_alias}
        kev = _all(client, base, kev="true")
        assert all(f["vulnerability"]["kev"] for f in kev)
        assert len(kev) + len(_all(client, base, kev="false")) == len(every)
        # sort: severity (score, highest first), epss (highest first), published (newest first)
        scores = [f["vulnerability"]["score"] or -1 for f in _all(client, base, sort="severity")]
        assert scores == sorted(scores, reverse=True)
        by_epss = _all(client, base, sort="epss")
        epss = [f["vulnerability"]["epss"] or -1 for f in by_epss]
        assert epss == sorted(epss, reverse=True)
        published = [f["vulnerability"]["published"] or "" for f in _all(client, base, sort="published")]
        assert published == sorted(published, reverse=True) and published[0]
        assert client.get(base, params={"sort": "random"}).status_code == 422


def test_ssvc_outcomes_and_the_ssvc_filter(world: World) -> None:
    with world.client("security_manager") as client:
        base = f"{V1}/releases/{world.web_release}/findings"
        every = _all(client, base)
        outcomes = {f["ssvc"]["outcome"] for f in every if f["ssvc"]}
        assert outcomes, "the findings have SSVC outcomes"
        chosen = sorted(outcomes)[0]
        kept = _all(client, base, ssvc=chosen.upper())
        assert kept and {f["ssvc"]["outcome"] for f in kept} == {chosen}
        assert len(kept) == sum(1 for f in every if f["ssvc"] and f["ssvc"]["outcome"] == chosen)
        supplier = _all(client, base, ssvc_role="developer")
        assert {f["ssvc"]["table"] for f in supplier if f["ssvc"]} != {
            f["ssvc"]["table"] for f in every if f["ssvc"]
        }


def test_a_vulnerability_under_any_alias_and_where_it_affects_me(world: World) -> None:
    with world.client("developer") as dev, world.client("admin") as admin:
        finding = _all(dev, f"{V1}/findings", component="django")[0]
        vuln = finding["vulnerability"]
        for name in [vuln["id"], *vuln["aliases"]]:
            got = dev.get(f"{V1}/vulnerabilities/{name}")
            assert got.status_code == 200, (name, got.text)
            body = got.json()
            assert name.upper() in {i.upper() for i in [body["id"], *body["aliases"]]}
            assert vuln["id"] in [body["id"], *body["aliases"], *body["also"]]
            assert body["sources"] and body["sources"][0]["source"] in {"osv", "nvd", "cve5", "jvn"}
        where = dev.get(f"{V1}/vulnerabilities/{vuln['id']}/affected").json()
        # the other team's release has the same finding: not told to this team, told to the admin
        assert [(r["product"], r["release"], r["release_id"]) for r in where["releases"]] == [
            ("web", "1.0", world.web_release)
        ]
        assert where["releases"][0]["components"] == ["pkg:pypi/django@1.11.0"]
        assert SECRET not in dev.get(f"{V1}/vulnerabilities/{vuln['id']}/affected").text
        everywhere = admin.get(f"{V1}/vulnerabilities/{vuln['id']}/affected").json()
        assert {r["product"] for r in everywhere["releases"]} == {"web", SECRET}
        assert dev.get(f"{V1}/vulnerabilities/CVE-1999-99999999").status_code == 404
        assert dev.get(f"{V1}/vulnerabilities/CVE-1999-99999999/affected").status_code == 404


def test_jvn_japanese_text_kev_and_epss(world: World) -> None:
    with world.client("auditor") as client:
        jvn = client.get(f"{V1}/vulnerabilities/JVNDB-2020-006469")
        assert jvn.status_code == 200, jvn.text
        body = jvn.json()
        assert body["titles"].get("ja") and any(
            "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in body["titles"]["ja"]
        )
        assert "jvn" in {s["source"] for s in body["sources"]}
        assert body["id"] == "CVE-2020-5595" and "JVNDB-2020-006469" in body["aliases"]
        assert "三菱電機" in body["summaries"]["ja"] and body["severities"][0]["score"] == 9.8
        by_cve = client.get(f"{V1}/vulnerabilities/cve-2020-5595")
        assert by_cve.status_code == 200 and by_cve.json()["titles"]["ja"] == body["titles"]["ja"]
        kev_finding = next(iter(_all(client, f"{V1}/findings", kev="true")), None)
        if kev_finding is not None:
            record = client.get(f"{V1}/vulnerabilities/{kev_finding['vulnerability']['id']}").json()
            assert record["kev"] and record["kev"][0]["cve_id"].startswith("CVE-")

"""PSIRT on the team server, through the web forms and the native API, over a portfolio of real SBOMs
(dropwizard 1.3.15 ships jackson-databind 2.9.10 and belongs to the team; keycloak 10.0.2 belongs to another
team): a case filed with the intake form gets the team's affected release computed (never the other team's),
moves through the workflow from its buttons (a refused move changes nothing), is edited, gets a release set
by a person, and drafts its CSAF advisory (schema and mandatory tests pass; the revision shows on the case
page) and its CVE record; the overdue case is highlighted in the list; the metrics page and CSV count the
team's cases only. The API does the same edits with the same checks."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import SHARED_DATA
from mamori import accounts
from mamori.portfolio.archive import add_product, store_sbom
from mamori.psirt.cases import get_case, new_case, revisions
from server_support import BACKENDS, backend_store, csrf_of, live, signin

SBOMS = SHARED_DATA / "sbom" / "cyclonedx"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
PASSWORD = "correct horse battery staple 42"
API = "/api/mamori/v1"
SETTINGS = {
    "csaf_publisher": "Example Corp",
    "csaf_namespace": "https://psirt.example.com",
    "cna_org_id": "b3476cb9-2e3d-41a6-98d0-0f47421a65b6",
    "cna_short_name": "examplecorp",
}


def populate(store: Any) -> None:
    if not SBOMS.is_dir():
        pytest.skip("../shared/data is absent")
    for team in ("mine", "theirs"):
        accounts.create_team(store, team)
    add_product(store, "dropwizard", "Example Corp")
    add_product(store, "keycloak", "Other Corp")
    store_sbom(store, "dropwizard", "1.3.15", SBOMS / "dropwizard-1.3.15" / "bom.json", who="tester")
    store_sbom(store, "keycloak", "10.0.2", SBOMS / "keycloak-10.0.2" / "bom.json", who="tester")
    accounts.assign_product(store, "mine", "dropwizard")
    accounts.assign_product(store, "theirs", "keycloak")
    accounts.create_user(store, "sm", PASSWORD, "mine", "security_manager")
    accounts.create_user(store, "aud", PASSWORD, "mine", "auditor")
    late = new_case(
        store,
        title="zz-their-late-case",
        channel="email",
        team="theirs",
        who="x",
        received_at=datetime.now(UTC) - timedelta(days=30),
    )
    assert late.state == "received"
    new_case(
        store,
        title="an old report of ours",
        channel="email",
        team="mine",
        who="x",
        received_at=datetime.now(UTC) - timedelta(days=10),
    )


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    with backend_store(request.param, tmp_path) as store:
        populate(store)
        with live(store, **SETTINGS) as server:
            yield store, server


def _form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf_of(client)})


def test_a_case_from_the_web_form_to_its_advisory(site: tuple[Any, Any]) -> None:
    store, server = site
    sm = server.client()
    assert signin(sm, "sm", PASSWORD).status_code == 303
    listed = sm.get("/psirt")
    assert listed.status_code == 200 and "zz-their-late-case" not in listed.text
    # the team's own old case is past its acknowledge timer: highlighted
    assert re.search(r'<tr class="overdue" data-case="PSIRT-\d{4}-\d{4}">', listed.text)

    opened = _form(
        sm,
        "/psirt",
        {
            "team": "mine",
            "title": "Unsafe deserialization in the bundled jackson-databind",
            "description": "A gadget class lets crafted JSON run code when default typing is enabled.",
            "reporter_name": "Taro Yamada",
            "reporter_contact": "taro@example.jp",
            "credit": "named",
            "embargo_until": "2027-01-15",
            "component": f"{JACKSON}@2.9.10?type=jar",
            "affected_range": "vers:maven/>=2.9.0|<2.9.10.4",
            "cwe": "CWE-502",
            "lang": "en",
        },
    )
    assert opened.status_code == 303, opened.text
    path = opened.headers["location"].split("?")[0]
    key = path.rsplit("/", 1)[1]
    case = get_case(store, key)
    assert (case.team, case.channel, case.embargo_until, case.created_by) == (
        "mine",
        "web",
        "2027-01-15",
        "sm",
    )
    # computed from the team's products only: keycloak ships jackson-databind 2.10.1 (out of range) and is
    # another team's anyway
    assert [(p.product, p.release, p.component_version) for p in case.products] == [
        ("dropwizard", "1.3.15", "2.9.10")
    ]

    refused = _form(sm, f"{path}/transition", {"state": "disclosed"})
    assert refused.status_code == 400 and "cannot move to disclosed" in refused.text
    assert get_case(store, key).state == "received"
    page = sm.get(path).text
    assert 'data-to="acknowledged"' in page and 'data-to="triaged"' not in page

    assert _form(sm, f"{path}/transition", {"state": "acknowledged"}).status_code == 303
    no_evidence = _form(sm, f"{path}/transition", {"state": "triaged", "ssvc_exploitation": "public_poc"})
    assert no_evidence.status_code == 400
    triaged = _form(
        sm,
        f"{path}/transition",
        {
            "state": "triaged",
            "ssvc_exploitation": "public_poc",
            "ssvc_utility": "efficient",
            "ssvc_technical_impact": "total",
            "ssvc_public_safety_impact": "minimal",
            "note": "a public gadget chain exists",
        },
    )
    assert triaged.status_code == 303
    case = get_case(store, key)
    assert case.state == "triaged" and case.ssvc_outcome is not None
    assert [(e.who, e.from_state, e.to_state) for e in case.events if e.kind == "transition"] == [
        ("sm", "received", "acknowledged"),
        ("sm", "acknowledged", "triaged"),
    ]

    edited = _form(
        sm,
        f"{path}/edit",
        {
            "cve_id": "CVE-2020-10672",
            "fixed_version": "2.9.10.4",
            "text_workaround": "Disable default typing.",
        },
    )
    assert edited.status_code == 303
    case = get_case(store, key)
    assert (case.cve_id, case.fixed_version, case.texts["en"]["workaround"]) == (
        "CVE-2020-10672",
        "2.9.10.4",
        "Disable default typing.",
    )
    bad = _form(sm, f"{path}/edit", {"cwe": "not a cwe"})
    assert bad.status_code == 400 and get_case(store, key).cwe == "CWE-502"
    assert (
        _form(
            sm, f"{path}/products", {"product": "dropwizard", "release": "2.0.0", "status": "fixed"}
        ).status_code
        == 303
    )
    assert {(p.release, p.status, p.source) for p in get_case(store, key).products} == {
        ("1.3.15", "known_affected", "computed"),
        ("2.0.0", "fixed", "person"),
    }

    drafted = _form(
        sm,
        f"{path}/csaf",
        {
            "publisher": "Example Corp",
            "namespace": "https://psirt.example.com",
            "tlp": "WHITE",
            "revision": "Initial public draft",
        },
    )
    assert drafted.status_code == 200, drafted.text[:500]
    assert drafted.headers["content-type"].startswith("application/json")
    assert "attachment" in drafted.headers["content-disposition"]
    doc = drafted.json()
    from mamori.advisory.csaf_draft import check_csaf

    assert check_csaf(doc) == []
    assert doc["document"]["tracking"]["id"] == key
    assert doc["vulnerabilities"][0]["cve"] == "CVE-2020-10672"
    assert [r["summary"] for r in revisions(store, key)] == ["Initial public draft"]
    assert "Initial public draft" in sm.get(path).text

    record = _form(
        sm, f"{path}/cve", {"references": "https://github.com/FasterXML/jackson-databind/issues/2659"}
    )
    assert record.status_code == 200, record.text[:500]
    assert record.json()["cveMetadata"]["cveId"] == "CVE-2020-10672"

    metrics = sm.get("/psirt/metrics")
    assert metrics.status_code == 200 and "zz-their-late-case" not in metrics.text
    rows = list(csv.reader(io.StringIO(sm.get("/psirt/metrics.csv").text)))
    assert ["cases", "", "", "2"] in rows
    assert not any("zz-their" in cell for row in rows for cell in row)

    auditor = server.client()
    signin(auditor, "aud", PASSWORD)
    assert auditor.get(path).status_code == 200
    assert _form(auditor, f"{path}/transition", {"state": "fix_in_progress"}).status_code == 403
    assert "draft-csaf" not in auditor.get(path).text
    assert get_case(store, key).state == "triaged"
    for client in (sm, auditor):
        client.close()


def test_the_api_edits_drafts_and_counts(site: tuple[Any, Any]) -> None:
    store, server = site
    key = accounts.create_api_key(store, "mine", "security_manager")[1]
    auditor_key = accounts.create_api_key(store, "mine", "auditor")[1]
    api = server.client(headers={"X-Api-Key": key})
    made = api.post(
        f"{API}/cases",
        json={
            "title": "jackson-databind gadget",
            "component": JACKSON,
            "affected_range": "vers:maven/>=2.9.0|<2.9.10.4",
        },
    ).json()
    case_key = made["key"]
    assert [p["product"] for p in made["products"]] == ["dropwizard"]
    edited = api.patch(
        f"{API}/cases/{case_key}",
        json={"values": {"cwe": "502", "cve_id": "CVE-2020-10672"}, "texts": {"ja": {"description": "説明"}}},
    )
    assert edited.status_code == 200 and edited.json()["cwe"] == "CWE-502"
    assert edited.json()["texts"]["ja"]["description"] == "説明"
    assert api.patch(f"{API}/cases/{case_key}", json={"values": {"team": "theirs"}}).status_code == 422
    assert api.patch(f"{API}/cases/{case_key}", json={"values": {"state": "closed"}}).status_code == 422
    put = api.put(
        f"{API}/cases/{case_key}/products",
        json={"product": "dropwizard", "release": "1.3.15", "status": "known_not_affected"},
    )
    assert put.status_code == 200
    assert [(p["status"], p["source"]) for p in put.json()["products"]] == [("known_not_affected", "person")]
    again = api.post(f"{API}/cases/{case_key}/affected")
    assert [(p["status"], p["source"]) for p in again.json()["products"]] == [
        ("known_not_affected", "person")
    ]
    csaf = api.post(f"{API}/cases/{case_key}/advisory/csaf", json={"lang": "ja"})
    assert csaf.status_code == 200, csaf.text
    assert csaf.json()["document"]["publisher"]["namespace"] == "https://psirt.example.com"
    assert csaf.json()["document"]["lang"] == "ja"
    refs = {"references": ["https://github.com/FasterXML/jackson-databind/issues/2659"]}
    assert "reference" in api.post(f"{API}/cases/{case_key}/advisory/cve", json={}).text
    cve = api.post(f"{API}/cases/{case_key}/advisory/cve", json=refs)
    assert cve.status_code == 200, cve.text
    assert cve.json()["cveMetadata"]["assignerShortName"] == "examplecorp"
    no_cve = new_case(store, title="no CVE yet", channel="web", team="mine", who="x")
    refused = api.post(f"{API}/cases/{no_cve.key}/advisory/cve", json=refs)
    assert refused.status_code == 422 and "no CVE ID" in refused.text
    auditor = server.client(headers={"X-Api-Key": auditor_key})
    assert auditor.post(f"{API}/cases/{case_key}/advisory/csaf", json={}).status_code == 403
    m = auditor.get(f"{API}/psirt/metrics").json()
    assert m["cases"] == 3 and all(not c["title"].startswith("zz-") for c in m["per_case"])
    assert auditor.get(f"{API}/psirt/metrics", params={"team": "theirs"}).status_code == 404
    assert auditor.get(f"{API}/psirt/metrics.csv").headers["content-type"].startswith("text/csv")
    assert [c["state"] for c in auditor.get(f"{API}/cases", params={"state": "received"}).json()] == [
        "received"
    ] * 3
    api.close()
    auditor.close()

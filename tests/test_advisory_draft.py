"""Advisories drafted from a PSIRT case on a portfolio of real SBOMs: CSAF 2.0 security advisories and VEX in
English and Japanese (a translation with ``source_lang``) that pass the CSAF schema with formats and the
mandatory tests of section 6.1 (mamori's and, where node is present, @secvisogram/csaf-validator-lib's), the
revision history draft → interim → final, and a CVE JSON 5 record checked against the CVE record schema that
cvelib ships (which real CVE records from ../shared/data/cve5 pass too). The CLI is run as a subprocess.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from csaf_peer import mandatory_failures, validator_lib
from mamori.advisory.csaf_draft import check_csaf, draft_csaf
from mamori.advisory.cve_record import cve_problems, draft_cve
from mamori.errors import InputError
from mamori.psirt import cases
from mamori.store import Store
from test_psirt import FIXTURES, JACKSON, SSVC, jackson_case, portfolio, store

__all__ = ["store"]  # fixture

MAMORI = str(Path(sys.executable).with_name("mamori"))
ORG = "8254265b-2729-46b6-b9e3-3dfca2d5bfca"
NS = "https://psirt.example.co.jp"


def prepared(store: Store) -> cases.Case:
    portfolio(store)
    case = jackson_case(store)
    cases.update_case(store, case.key, values={"affected_range": "vers:maven/>=2.9.0|<2.10.2"})
    cases.compute_affected(store, case.key)
    cases.set_product(store, case.key, "keycloak", "10.0.2", "known_not_affected", who="bob")
    cases.transition(store, case.key, "acknowledged")
    return cases.transition(store, case.key, "triaged", ssvc=SSVC, note="public PoC")


def _ids(doc: dict, status: str) -> list[str]:
    return doc["vulnerabilities"][0]["product_status"].get(status, [])


def _names(doc: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def walk(branches: list[dict]) -> None:
        for b in branches:
            if "product" in b:
                out[b["product"]["product_id"]] = {
                    "branch": b["category"],
                    "version": b["name"],
                    **b["product"],
                }
            walk(b.get("branches", []))

    walk(doc["product_tree"]["branches"])
    return out


def test_csaf_advisory_in_english(store: Store) -> None:
    case = prepared(store)
    doc = draft_csaf(store, case.key, publisher="Example Corp", namespace=NS)
    assert check_csaf(doc) == []
    d = doc["document"]
    assert (d["category"], d["lang"], d["tracking"]["status"], d["tracking"]["version"]) == (
        "csaf_security_advisory",
        "en",
        "draft",
        "1",
    )
    assert "source_lang" not in d and d["tracking"]["id"] == case.key
    assert d["acknowledgments"] == [
        {"names": ["Taro Yamada"], "summary": "We thank Taro Yamada for reporting this vulnerability."},
        {"organization": "JPCERT/CC", "summary": "Coordinated by JPCERT/CC."},
    ]
    products = _names(doc)
    affected = {products[p]["name"] for p in _ids(doc, "known_affected")}
    assert affected == {
        "Example Corp dropwizard 1.3.15",
        "jackson-databind vers:maven/>=2.9.0|<2.10.2",
        "jackson-databind 2.9.10",
    }
    assert {products[p]["name"] for p in _ids(doc, "known_not_affected")} == {"Example Corp keycloak 10.0.2"}
    assert {products[p]["name"] for p in _ids(doc, "fixed")} == {"jackson-databind 2.9.10.4"}
    helpers = {p["name"]: p.get("product_identification_helper") for p in products.values()}
    assert helpers["jackson-databind 2.9.10"]["purl"] == f"{JACKSON}@2.9.10"
    assert helpers["jackson-databind vers:maven/>=2.9.0|<2.10.2"] == {"purl": JACKSON}
    v = doc["vulnerabilities"][0]
    assert v["cve"] == "CVE-2020-10672" and v["cwe"]["id"] == "CWE-502"
    assert v["cwe"]["name"] == "Deserialization of Untrusted Data"
    assert v["scores"][0]["cvss_v3"]["baseScore"] == 8.1
    assert set(v["scores"][0]["products"]) == set(_ids(doc, "known_affected"))
    categories = {r["category"]: r for r in v["remediations"]}
    assert categories["vendor_fix"]["url"] == "https://github.com/FasterXML/jackson-databind/issues/2659"
    assert categories["vendor_fix"]["details"] == "Update jackson-databind to 2.9.10.4 or later."
    assert categories["workaround"]["details"] == "Disable default typing."
    assert {t["category"] for t in v["threats"]} == {"exploit_status", "impact"}
    assert any(n["text"].startswith("CVSS v4.0 base score") for n in v["notes"])
    # the check is real: a product status naming a product the tree lacks fails test 6.1.1
    broken = copy.deepcopy(doc)
    broken["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-9999")
    assert any("6.1.1" in p for p in check_csaf(broken))


def test_japanese_translation_and_vex(store: Store, tmp_path: Path) -> None:
    case = prepared(store)
    ja = draft_csaf(store, case.key, publisher="Example Corp", namespace=NS, lang="ja")
    vex = draft_csaf(store, case.key, publisher="Example Corp", namespace=NS, vex=True)
    vex_ja = draft_csaf(
        store, case.key, publisher="Example Corp", namespace=NS, vex=True, lang="ja", tlp="GREEN"
    )
    for doc in (ja, vex, vex_ja):
        assert check_csaf(doc) == []
    assert (ja["document"]["lang"], ja["document"]["source_lang"]) == ("ja", "en")
    assert ja["document"]["title"] == "同梱の jackson-databind における安全でないデシリアライゼーション"
    notes = ja["vulnerabilities"][0]["notes"]
    assert notes[0]["text"].startswith("デフォルト型付けが有効な場合")
    assert notes[0]["title"] != "Description"  # mamori's own words are Japanese too
    assert vex["document"]["category"] == "csaf_vex"
    assert vex_ja["document"]["distribution"]["tlp"]["label"] == "GREEN"
    if shutil.which("node") is None or (lib := validator_lib()) is None:
        pytest.skip("node or @secvisogram/csaf-validator-lib absent")
    files = []
    for name, doc in (("ja", ja), ("vex", vex), ("vex_ja", vex_ja)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        files.append(path)
    assert mandatory_failures(lib, files, tmp_path) == {f: {} for f in files}


def test_revisions_draft_interim_final(store: Store) -> None:
    case = prepared(store)
    assert cases.add_revision(store, case.key, "draft", "First draft for the coordinator") == 1
    assert cases.add_revision(store, case.key, "interim", "Workaround published") == 2
    with pytest.raises(InputError, match="cannot go back to draft"):
        cases.add_revision(store, case.key, "draft", "again")
    assert cases.add_revision(store, case.key, "final", "Fix released") == 3
    doc = draft_csaf(store, case.key, publisher="Example Corp", namespace=NS)
    tracking = doc["document"]["tracking"]
    assert (tracking["status"], tracking["version"]) == ("final", "3")
    assert [r["summary"] for r in tracking["revision_history"]] == [
        "First draft for the coordinator",
        "Workaround published",
        "Fix released",
    ]
    assert check_csaf(doc) == []


def test_cve_record(store: Store) -> None:
    case = prepared(store)
    record = draft_cve(store, case.key, org_id=ORG, short_name="example", vendor="Example Corp")
    assert cve_problems(record) == []
    cna = record["containers"]["cna"]
    assert record["cveMetadata"]["cveId"] == "CVE-2020-10672"
    assert cna["affected"][0]["versions"] == [
        {"version": "2.9.0", "lessThan": "2.10.2", "status": "affected", "versionType": "maven"}
    ]
    assert {
        (a["product"], v["version"], v["status"]) for a in cna["affected"][1:] for v in a["versions"]
    } == {
        ("dropwizard", "1.3.15", "affected"),
        ("keycloak", "10.0.2", "unaffected"),
    }
    v4 = next(m for m in cna["metrics"] if "cvssV4_0" in m)["cvssV4_0"]
    assert (v4["baseScore"], v4["baseSeverity"]) == (9.2, "CRITICAL")
    assert cna["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-502"
    assert {c["type"] for c in cna["credits"]} == {"finder", "coordinator"}
    assert {d["lang"] for d in cna["descriptions"]} == {"en", "ja"}
    broken = copy.deepcopy(record)
    del broken["containers"]["cna"]["references"]
    assert cve_problems(broken) != []
    with pytest.raises(InputError, match="not a UUID"):
        draft_cve(store, case.key, org_id="example", short_name="example", vendor="Example Corp")
    no_cve = jackson_case(store, cve_id=None, title="Another")
    with pytest.raises(InputError, match="has no CVE ID yet"):
        draft_cve(store, no_cve.key, org_id=ORG, short_name="example", vendor="Example Corp")


@pytest.mark.shared
def test_real_cve_records_pass_the_schema() -> None:
    files = sorted((SHARED_DATA / "cve5" / "2022").rglob("CVE-*.json"))[:25]
    if not files:
        pytest.skip("../shared/data/cve5 is absent")
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert cve_problems(record) == [], path


def _run(*args: str, db: Path, user: str = "alice") -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "HOME": "/nonexistent", "MAMORI_DB": str(db)}
    env |= {"MAMORI_USER": user, "MAMORI_LANG": "en"}
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=600, env=env, check=False)


def test_cli(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    new = _run(
        "psirt", "case", "new", "--eml", str(FIXTURES / "jpcert-jvnvu.eml"), "--lang", "ja",
        "--component", JACKSON, "--range", "vers:maven/>=2.9.0|<2.9.10.4", "--format", "json", db=db,
    )  # fmt: skip
    assert new.returncode == 0, new.stderr
    made = json.loads(new.stdout)
    key = made["key"]
    assert (made["channel"], made["coordinator"], made["channel_ref"], made["cve"]) == (
        "coordinator",
        "JPCERT/CC",
        "JVNVU#98765432",
        "CVE-2020-10672",
    )
    refused = _run("psirt", "case", "update", key, "--state", "fix_released", db=db)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "cannot move to fix_released" in refused.stderr
    late = _run("psirt", "overdue", db=db)  # received 2026-11-02, acknowledge timer 3 days
    assert late.returncode == 1 and key in late.stdout
    ok = _run(
        "psirt", "case", "update", key, "--state", "acknowledged", "--note", "acknowledged to JPCERT/CC",
        "--affected", "example-portal@3.2", "--description", "A crafted JSON runs code.", "--lang", "en",
        "--translated-title", "Unsafe deserialization in example-portal", db=db, user="bob",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "received -> acknowledged" in ok.stdout and "example-portal@3.2  known_affected" in ok.stdout
    out = tmp_path / "advisory.json"
    made_csaf = _run(
        "advisory", "new", "--case", key, "-o", str(out), "--publisher", "Example Corp", "--namespace", NS,
        "--lang", "en", db=db,
    )  # fmt: skip
    assert made_csaf.returncode == 0, made_csaf.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["document"]["lang"] == "en" and doc["document"]["source_lang"] == "ja"
    assert check_csaf(doc) == []
    record = tmp_path / "cve.json"
    made_cve = _run(
        "advisory", "cve", "--case", key, "-o", str(record), "--org-id", ORG, "--short-name", "example",
        "--vendor", "Example Corp", "--reference", "https://jvn.jp/vu/JVNVU98765432/", db=db,
    )  # fmt: skip
    assert made_cve.returncode == 0, made_cve.stderr
    assert cve_problems(json.loads(record.read_text(encoding="utf-8"))) == []
    metrics_csv = tmp_path / "metrics.csv"
    assert _run("psirt", "metrics", "--format", "csv", "-o", str(metrics_csv), db=db).returncode == 0
    assert "by_channel,2.5-M4,coordinator,1" in metrics_csv.read_text(encoding="utf-8-sig")
    txt = _run(
        "psirt", "security-txt", "--domain", "example.co.jp", "--contact", "mailto:psirt@example.co.jp", db=db
    )
    assert (
        txt.returncode == 0
        and "CSAF: https://example.co.jp/.well-known/csaf/provider-metadata.json" in txt.stdout
    )
    bad = _run("psirt", "case", "new", "--eml", str(tmp_path), db=db)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1

"""`mamori csaf apply` / apply_advisory: suppliers' CSAF 2.0 advisories applied to the whole inventory.

The inventory is built from real SBOMs (dropwizard 1.3.15, ../shared/data/sbom) stored as releases of
several products. Real advisories: CISA's VA-24-201-01 (AdminerEvo: product_version branches, vendor_fix
with URLs, fixed, and a free-text "all versions" range), the CSAF VEX examples 2022-EVD-UC-07-001
(vers: ranges, impact statements) and SEC-VEX-2022-0001 (a flag, a free-text range), BSI-2022-0001 (CPE
helpers). No real advisory gives purl helpers or a relationship into an SBOM, so those two cases use small
hand-made documents; the CPE case uses a small hand-made SBOM (no real SBOM lists the converter), and the
flag case edits SEC-VEX-2022-0001's range into vers: form (each says so where it is made).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from mamori.cli.main import main

DW = "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar"
RELEASES = {
    ("AdminerEvo", "AdminerEvo"): ("4.8.3", "4.8.4"),
    ("ABC", "Example Company"): ("2.6", "3.0", "4.2", "5.0"),
    ("JKL", "Example Company"): ("4.0", "5.1"),
    ("Secvisogram", "Secvisogram"): ("1.11.0", "2.0.0"),
    ("csaf-gateway", "Example Company"): ("1.0",),
    ("XYZ", "Example Co., Ltd."): ("1.0",),
}


def _gateway_sbom(folder: Path) -> Path:
    """Hand-made: a release listing the CVRF-CSAF converter with its CPE (no real SBOM lists it)."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "csaf-gateway", "version": "1.0"}},
        "components": [
            {
                "type": "library",
                "name": "cvrf2csaf",
                "version": "1.0.0-rc1",
                "purl": "pkg:pypi/cvrf2csaf@1.0.0rc1",
                "cpe": "cpe:2.3:a:csaf-tools:cvrf-csaf-converter:1.0.0-rc1:*:*:*:*:*:*:*",
            }
        ],
    }
    path = folder / "gateway.cdx.json"
    path.write_text(json.dumps(bom), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inventory_db(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    from mamori.portfolio.archive import add_product, store_sbom
    from mamori.store import open_store

    folder = tmp_path_factory.mktemp("csaf-apply")
    dropwizard = shared_data / "sbom" / "cyclonedx" / "dropwizard-1.3.15" / "bom.json"
    path = folder / "inventory.db"
    with open_store(str(path)) as store:
        for (product, supplier), versions in RELEASES.items():
            add_product(store, product, supplier, who="test")
            sbom = _gateway_sbom(folder) if product == "csaf-gateway" else dropwizard
            for version in versions:
                store_sbom(store, product, version, sbom, who="test")
    return path


@pytest.fixture
def db(inventory_db: Path, tmp_path: Path) -> str:
    path = tmp_path / "db.sqlite"
    shutil.copyfile(inventory_db, path)
    return str(path)


def _csaf(shared: Path, *parts: str) -> dict[str, Any]:
    return json.loads((shared / "csaf").joinpath(*parts).read_text(encoding="utf-8"))


def _apply(db: str, document: dict[str, Any], name: str = "advisory.json", supplier: str | None = None):
    from mamori.portfolio.csafin import apply_advisory
    from mamori.store import open_store

    with open_store(db) as store:
        return apply_advisory(store, document, supplier, name)


def _records(db: str) -> dict[tuple[str, str, str, str], Any]:
    from mamori.store import open_store
    from mamori.triage.records import records_of_releases

    with open_store(db) as store:
        return {r.subject: r for r in records_of_releases(store)}


VA = ("cisa", "IT", "white", "2024", "va-24-201-01.json")


def test_cisa_advisory_by_name_and_version_with_remediation_urls(db: str, shared_data: Path) -> None:
    done = _apply(db, _csaf(shared_data, *VA), "va-24-201-01.json")
    assert done.advisory == "VA-24-201-01" and done.category == "csaf_vex"
    assert done.matched == {"name_version": {"releases": 2, "components": 0}}
    assert done.statuses == {"affected": 2, "fixed": 3} and done.created == 5 and not done.rejected
    # "Adminer (all versions)" is a free-text range: reported, never guessed
    assert done.unparsed == 3 and done.unparsed_examples[0].endswith("Adminer all versions")
    records = _records(db)
    affected = records[("AdminerEvo", "4.8.3", "*", "CVE-2023-45195")]
    assert affected.status == "affected" and affected.origin == "vex"
    assert "https://github.com/adminerevo/adminerevo/releases/tag/v4.8.4" in (affected.detail or "")
    assert "update" in affected.responses
    assert affected.who == "CISA (https://www.cisa.gov/)"
    assert affected.source is not None and affected.source.startswith("CSAF VA-24-201-01 version 1")
    assert records[("AdminerEvo", "4.8.3", "*", "CVE-2023-45197")].status == "fixed"
    assert records[("AdminerEvo", "4.8.4", "*", "CVE-2023-45195")].status == "fixed"
    assert not any(k[0] == "ABC" for k in records)
    again = _apply(db, _csaf(shared_data, *VA), "va-24-201-01.json")  # the same advisory: nothing changes
    assert (again.unchanged, again.created, again.updated) == (5, 0, 0)


def test_vers_ranges_in_and_out_and_impact_statements(db: str, shared_data: Path) -> None:
    done = _apply(db, _csaf(shared_data, "examples", "csaf", "csaf_vex", "2022-evd-uc-07-001.json"))
    records = _records(db)
    vid = "CVE-2021-44228"
    status = {(p, r): records[(p, r, "*", vid)].status for p, r, _c, v in records if v == vid}
    assert status == {
        ("ABC", "2.6"): "affected",  # product_version 2.6
        ("ABC", "3.0"): "affected",  # vers:generic/>=2.9|<=4.1
        ("ABC", "4.2"): "not_affected",  # product_version 4.2
        ("JKL", "4.0"): "not_affected",  # vers:generic/>=1.0|<=4.4
        ("JKL", "5.1"): "fixed",
    }  # ABC 5.0 is in no range: no record
    assert done.matched["range"] == {"releases": 2, "components": 0}
    assert done.matched["name_version"]["releases"] == 3
    assert (
        records[("ABC", "4.2", "*", vid)].detail == "Class with vulnerable code was removed before shipping."
    )
    assert records[("ABC", "3.0", "*", vid)].detail == "vendor_fix: Update to version 4.2 or later."
    # ABC 2.4, 2.5, 1.0-2.3, 2.7-2.8 and JKL 4.5-5.0 name products of the inventory but none of their releases
    assert done.out_of_range == 5 and "CVE-2021-44228: ABC 2.4" in done.out_of_range_examples
    assert done.unmatched == 0


def _purl_advisory(version: str = "1", when: str = "2026-11-01T00:00:00Z") -> dict[str, Any]:
    """Hand-made (no real advisory gives purl helpers): one full_product_name with a versioned purl,
    branches with vers: ranges (one includes 2.9.10, one does not) and a free-text range, and a
    relationship naming the library inside ABC 2.6 only."""
    lib = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": "jackson-databind in Example Company products",
            "publisher": {
                "category": "vendor",
                "name": "Example PSIRT",
                "namespace": "https://psirt.example.com",
            },
            "references": [
                {
                    "category": "self",
                    "url": "https://psirt.example.com/csaf/ex-2026-0001.json",
                    "summary": "this advisory",
                }
            ],
            "tracking": {
                "id": "EX-2026-0001",
                "version": version,
                "status": "final",
                "initial_release_date": "2026-11-01T00:00:00Z",
                "current_release_date": when,
                "revision_history": [{"number": version, "date": when, "summary": "revision"}],
            },
        },
        "product_tree": {
            "full_product_names": [
                {
                    "name": "jackson-databind 2.9.10",
                    "product_id": "LIB-2910",
                    "product_identification_helper": {"purl": f"{lib}@2.9.10"},
                },
                {"name": "jackson-databind 2.9.10 (SBOM name)", "product_id": "LIB-NAME"},
            ],
            "branches": [
                {
                    "category": "vendor",
                    "name": "FasterXML",
                    "branches": [
                        {
                            "category": "product_name",
                            "name": "jackson-databind",
                            "branches": [
                                {
                                    "category": "product_version_range",
                                    "name": "vers:maven/>=2.9.0|<2.9.10.1",
                                    "product": {
                                        "name": "jackson-databind 2.9.x",
                                        "product_id": "LIB-29X",
                                        "product_identification_helper": {"purl": lib},
                                    },
                                },
                                {
                                    "category": "product_version_range",
                                    "name": "< 2.9.11",
                                    "product": {
                                        "name": "jackson-databind before 2.9.11",
                                        "product_id": "LIB-FREE",
                                        "product_identification_helper": {"purl": lib},
                                    },
                                },
                                {
                                    "category": "product_version_range",
                                    "name": "vers:maven/>=2.10.0|<2.12.0",
                                    "product": {
                                        "name": "jackson-databind 2.10-2.11",
                                        "product_id": "LIB-210",
                                        "product_identification_helper": {"purl": lib},
                                    },
                                },
                            ],
                        },
                    ],
                },
                {
                    "category": "vendor",
                    "name": "Example Company",
                    "branches": [
                        {
                            "category": "product_name",
                            "name": "ABC",
                            "branches": [
                                {
                                    "category": "product_version",
                                    "name": "2.6",
                                    "product": {"name": "ABC 2.6", "product_id": "ABC-26"},
                                },
                            ],
                        },
                    ],
                },
            ],
            "relationships": [
                {
                    "category": "default_component_of",
                    "product_reference": "LIB-2910",
                    "relates_to_product_reference": "ABC-26",
                    "full_product_name": {"name": "jackson-databind in ABC 2.6", "product_id": "ABC-26-LIB"},
                },
            ],
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2020-8840",
                "product_status": {"known_affected": ["LIB-2910"]},
                "remediations": [
                    {
                        "category": "vendor_fix",
                        "details": "Update jackson-databind to 2.9.10.3.",
                        "url": "https://github.com/FasterXML/jackson-databind/issues/2620",
                        "product_ids": ["LIB-2910"],
                    }
                ],
            },
            {"cve": "CVE-2019-16942", "product_status": {"under_investigation": ["LIB-29X", "LIB-210"]}},
            {"cve": "CVE-2019-14540", "product_status": {"under_investigation": ["LIB-FREE"]}},
            {
                "ids": [{"system_name": "Example PSIRT", "text": "EX-VULN-7"}],
                "product_status": {"known_not_affected": ["ABC-26-LIB"]},
                "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["ABC-26-LIB"]}],
            },
        ],
    }


def test_purl_across_releases_vers_ranges_and_a_relationship(db: str, shared_data: Path) -> None:
    done = _apply(db, _purl_advisory())
    records = _records(db)
    dropwizard = [(p, r) for (p, _s), versions in RELEASES.items() for r in versions if p != "csaf-gateway"]
    for p, r in dropwizard:  # every release whose SBOM lists jackson-databind 2.9.10
        fix = records[(p, r, DW, "CVE-2020-8840")]
        assert fix.status == "affected" and "issues/2620" in (fix.detail or "")
        assert (
            records[(p, r, DW, "CVE-2019-16942")].status == "under_investigation"
        )  # 2.9.10 in >=2.9.0|<2.9.10.1
    assert done.matched["purl"] == {"releases": len(dropwizard), "components": len(dropwizard)}
    assert done.unmatched == 1 and done.unmatched_examples == [
        "CVE-2019-16942: jackson-databind vers:maven/>=2.10.0|<2.12.0"
    ]
    # a purl under a free-text range is not taken for every version: reported, nothing applied
    assert done.unparsed_examples == ["CVE-2019-14540: jackson-databind < 2.9.11"]
    assert not [k for k in records if k[3] == "CVE-2019-14540"]
    # the relationship: the library inside ABC 2.6, not in the other releases; the advisory's own id names it
    inside = [k for k in records if k[3] == "EX-VULN-7"]
    assert inside == [("ABC", "2.6", DW, "EX-VULN-7")]
    assert records[inside[0]].justification == "vulnerable_code_not_in_execute_path"
    assert done.matched["relationship"] == {"releases": 1, "components": 1}


def test_cpe_helper_against_the_sboms_cpe(db: str, shared_data: Path) -> None:
    done = _apply(db, _csaf(shared_data, "examples", "csaf", "bsi-2022-0001.json"))
    assert done.category == "csaf_security_advisory"  # not a VEX document: applied all the same
    assert done.matched == {"cpe": {"releases": 1, "components": 1}}
    records = _records(db)
    (key,) = [k for k in records if k[3] == "CVE-2022-27193"]
    assert key == ("csaf-gateway", "1.0", "pkg:pypi/cvrf2csaf@1.0.0rc1", "CVE-2022-27193")
    assert records[key].status == "affected"  # CPE 2.2 URI …:1.0.0-rc1 names the SBOM's CPE 2.3 …:1.0.0-rc1
    assert done.unmatched == 5  # the other versions: not in the inventory


def test_not_affected_with_its_flag_shown_with_the_supplier_named(db: str, shared_data: Path) -> None:
    from mamori.scan.result import ComponentRef
    from mamori.store import open_store
    from mamori.triage.records import records_of_releases
    from mamori.triage.state import Resolver

    original = _csaf(shared_data, "examples", "csaf", "csaf_vex", "sec-vex-2022-0001.json")
    assert _apply(db, original).unparsed == 3  # "<=1.14.0" is not vers: nothing applied
    assert _records(db) == {}
    edited = copy.deepcopy(original)  # hand edit: the same range in vers: form
    text = json.dumps(edited).replace('"<=1.14.0"', '"vers:generic/<=1.14.0"')
    done = _apply(db, json.loads(text))
    assert done.matched == {"range": {"releases": 1, "components": 0}} and done.out_of_range == 0
    with open_store(db) as store:
        resolver = Resolver(records_of_releases(store))
    log4j = ComponentRef("log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    state = resolver.state(log4j, ["CVE-2021-44228"], ("Secvisogram", "1.11.0"))
    assert state.status == "not_affected" and state.justification == "component_not_present"
    shown = state.summary("en")
    assert (
        "Secvisogram (https://github.com/secvisogram)" in shown
        and "CSAF SEC-VEX-2022-0001 version 1" in shown
    )
    assert "Secvisogram (https://github.com/secvisogram)" in state.summary("ja")
    assert resolver.state(log4j, ["CVE-2021-44228"], ("Secvisogram", "2.0.0")).status == "open"


def test_a_newer_revision_supersedes_the_older_one(db: str, shared_data: Path) -> None:
    first = _apply(db, _csaf(shared_data, *VA), "va-24-201-01.json")
    assert first.created == 5
    newer = _csaf(shared_data, *VA)  # hand edit: revision 2 fixes 4.8.3 and drops CVE-2023-45197
    newer["document"]["tracking"]["version"] = "2"
    newer["document"]["tracking"]["current_release_date"] = "2024-10-01T00:00:00Z"
    newer["vulnerabilities"] = [v for v in newer["vulnerabilities"] if v["cve"] != "CVE-2023-45197"]
    status = newer["vulnerabilities"][0]["product_status"]
    status["known_affected"].remove("CSAFPID-0007")
    status["fixed"].append("CSAFPID-0007")
    done = _apply(db, newer, "va-24-201-01.json")
    records = _records(db)
    changed = records[("AdminerEvo", "4.8.3", "*", "CVE-2023-45195")]
    assert changed.status == "fixed" and changed.version == 2
    assert all(
        r.source.startswith("CSAF VA-24-201-01 version 2")
        for k, r in records.items()
        if k[3] != "CVE-2023-45197"
    )
    assert done.updated == 4 and done.created == 0
    assert done.not_restated == 1 and done.not_restated_examples[0].startswith("CVE-2023-45197: AdminerEvo")
    older = _apply(db, _csaf(shared_data, *VA), "va-24-201-01.json")  # revision 1 again: it does not win
    assert older.updated == 0 and older.created == 0
    assert _records(db)[("AdminerEvo", "4.8.3", "*", "CVE-2023-45195")].status == "fixed"


def test_cli_rejects_one_bad_statement_alone_and_reports_in_both_languages(
    db: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _csaf(shared_data, "examples", "csaf", "csaf_vex", "2022-evd-uc-07-001.json")
    threats = doc["vulnerabilities"][0]["threats"]  # hand edit: JKL 1.0-4.4 loses its impact statement
    doc["vulnerabilities"][0]["threats"] = [t for t in threats if "CSAFPID-0009" not in t["product_ids"]]
    bad = tmp_path / "uc-07-bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    va = shared_data.joinpath("csaf", *VA)
    capsys.readouterr()
    assert main(["csaf", "apply", str(bad), str(va), "--db", db, "--format", "json"]) == 1
    captured = capsys.readouterr()
    reports = json.loads(captured.out)
    assert [r["advisory"] for r in reports] == ["2022-EVD-UC-07-001", "VA-24-201-01"]
    (rejected,) = reports[0]["rejected"]
    assert rejected["vulnerability"] == "CVE-2021-44228" and "not_affected" in rejected["problem"]
    assert "uc-07-bad.json: " in captured.err and len(captured.err.strip().splitlines()) == 1
    records = _records(db)
    assert ("JKL", "4.0", "*", "CVE-2021-44228") not in records  # the rejected statement alone
    assert records[("ABC", "4.2", "*", "CVE-2021-44228")].status == "not_affected"
    assert reports[1]["created"] == 5
    assert main(["csaf", "apply", str(va), "--db", db, "--lang", "ja"]) == 0
    table = capsys.readouterr().out
    assert "VA-24-201-01" in table and "変更なし" in table and "名前とバージョン" in table
    assert main(["csaf", "apply", str(va), "--db", db, "--lang", "en"]) == 0
    english = capsys.readouterr().out
    assert "name and version" in english and "5 unchanged" in english


def test_applied_advisory_raises_supplier_document(db: str, shared_data: Path) -> None:
    from mamori.notify import compute_events
    from mamori.store import open_store

    with open_store(db) as store:
        compute_events(store, baseline=True)
    _apply(db, _csaf(shared_data, *VA), "va-24-201-01.json")
    with open_store(db) as store:
        events = [e for e in compute_events(store).events if e.kind == "supplier_document"]
    assert {(e.product, e.release) for e in events} == {("AdminerEvo", "4.8.3"), ("AdminerEvo", "4.8.4")}
    assert all(e.payload["author"] == "CISA (https://www.cisa.gov/)" for e in events)
    assert all(e.payload["source"].startswith("CSAF VA-24-201-01 version 1") for e in events)
    from mamori.notify.render import one

    subject = one(events[0], "en").subject
    assert subject.startswith(
        "[mamori] CSAF advisory received from CISA (https://www.cisa.gov/): AdminerEvo 4.8."
    )
    assert "CISA" in one(events[0], "ja").subject and "CSAF アドバイザリ" in one(events[0], "ja").subject


def test_supplier_option_names_the_vendor_as_the_inventory_spells_it(db: str, shared_data: Path) -> None:
    """2022-EVD-UC-05-001: vendor "Example Company", product XYZ, vers:all/*; the inventory's XYZ is
    supplied by "Example Co., Ltd.": it matches only when --supplier says that is the vendor."""
    doc = _csaf(shared_data, "examples", "csaf", "csaf_vex", "2022-evd-uc-05-001.json")
    alone = _apply(db, doc)
    assert (alone.records, alone.unmatched, alone.out_of_range) == (0, 1, 0)
    told = _apply(db, doc, supplier="example co.,  LTD.")
    assert told.matched == {"range": {"releases": 1, "components": 0}}
    assert _records(db)[("XYZ", "1.0", "*", "CVE-2021-44228")].status == "under_investigation"


@pytest.mark.skipif(not os.environ.get("MAMORI_TEST_PG_URL"), reason="MAMORI_TEST_PG_URL not set")
def test_on_postgresql_apply_again_and_a_newer_revision(shared_data: Path) -> None:
    from mamori.portfolio.archive import add_product, store_sbom
    from mamori.store import open_store
    from mamori.store.throwaway import throwaway_postgres

    dropwizard = shared_data / "sbom" / "cyclonedx" / "dropwizard-1.3.15" / "bom.json"
    with throwaway_postgres(os.environ["MAMORI_TEST_PG_URL"]) as url:
        with open_store(url) as store:
            add_product(store, "AdminerEvo", "AdminerEvo", who="test")
            for version in ("4.8.3", "4.8.4"):
                store_sbom(store, "AdminerEvo", version, dropwizard, who="test")
        assert _apply(url, _csaf(shared_data, *VA)).created == 5
        assert _apply(url, _csaf(shared_data, *VA)).unchanged == 5
        newer = _csaf(shared_data, *VA)
        newer["document"]["tracking"]["current_release_date"] = "2024-10-01T00:00:00Z"
        newer["document"]["tracking"]["version"] = "2"
        newer["vulnerabilities"] = newer["vulnerabilities"][:2]
        done = _apply(url, newer)
        assert (done.updated, done.not_restated) == (4, 1)
        assert {r.source.split(" <")[0] for r in _records(url).values()} == {
            "CSAF VA-24-201-01 version 2",
            "CSAF VA-24-201-01 version 1.0.1",
        }


def test_file_hash_helper(db: str, shared_data: Path) -> None:
    """Hand-made (no real advisory gives file hashes of a library): the SHA-256 of jackson-databind's jar as
    dropwizard's real SBOM records it, uppercase, no purl or CPE."""
    doc = _purl_advisory()
    digest = "49BB71A73FCDCDF59C40A1A01D7245F41D3A8BA96EA6182B720F0C6167241757"
    doc["product_tree"] = {
        "full_product_names": [
            {
                "name": "jackson-databind-2.9.10.jar",
                "product_id": "JAR",
                "product_identification_helper": {
                    "hashes": [
                        {
                            "filename": "jackson-databind-2.9.10.jar",
                            "file_hashes": [{"algorithm": "sha256", "value": digest}],
                        }
                    ]
                },
            }
        ]
    }
    doc["vulnerabilities"] = [
        {
            "cve": "CVE-2020-8840",
            "product_status": {"fixed": ["JAR"]},
        }
    ]
    done = _apply(db, doc)
    dropwizard = sum(len(v) for (p, _s), v in RELEASES.items() if p != "csaf-gateway")
    assert done.matched == {"hash": {"releases": dropwizard, "components": dropwizard}}
    assert {r.status for k, r in _records(db).items() if k[2] == DW} == {"fixed"}

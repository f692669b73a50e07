"""Evidence proposals from artifacts: SBOM (NTIA verdict decides), scan report, VEX; confirm and reject."""

from __future__ import annotations

import importlib.util

import pytest

from assess_helpers import DEMO_SBOM, book_at, new_assessment, run
from conftest import SHARED_DATA, requires_shared
from mamori.compliance.artifacts import FileArtifacts, sbom_artifact, scan_artifact
from mamori.compliance.proposals import evidence_map, propose
from mamori.errors import InputError
from mamori.sbom import formats
from mamori.sbom.check import check_document

KEYCLOAK = SHARED_DATA / "sbom" / "cyclonedx" / "keycloak-10.0.2" / "bom.json"
VEX = SHARED_DATA / "vex" / "cyclonedx" / "vex.json"


def _suggested(proposals):
    return {p.item_id: (p.suggested_status, p.suggested_level) for p in proposals}


def test_map_items_exist_in_the_catalogs():
    data = evidence_map()  # loading checks every item id, status, level and fact
    assert set(data["artifacts"]) == {"sbom", "scan", "vex", "triage"}


def test_demo_sbom_meets_ntia_so_provenance_item_is_implemented(tmp_path):
    verdict = check_document(formats.read(DEMO_SBOM)).ntia.passed
    assert verdict is True
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Mamori Demo K.K.", ("developer", "supplier"), "shop-portal 2.1.0")
        artifacts, proposals = propose(a, [FileArtifacts(sboms=[DEMO_SBOM])])
        assert artifacts[0].facts["components"] == 15 and artifacts[0].matches_scope(a.scope) is True
        assert _suggested(proposals) == {
            "S(2)-1.1": ("partial", None),
            "S(2)-1.3": ("partial", None),
            "S(2)-2.3": ("implemented", None),
        }
        s = book.create("ssdf", "Mamori Demo K.K.", ("developer",), "shop-portal 2.1.0")
        _, ssdf = propose(s, [FileArtifacts(sboms=[DEMO_SBOM])])
        assert _suggested(ssdf) == {"PW.4.1": ("partial", 1), "PS.3.2": ("implemented", 1)}
        c = book.create("checklist", "Mamori Demo K.K.", ("developer", "supplier"), "shop-portal 2.1.0")
        _, checklist = propose(c, [FileArtifacts(sboms=[DEMO_SBOM])])
        assert _suggested(checklist)["T13-12"] == ("implemented", None)
        assert {"T13-10", "T13-40", "T13-47", "T13-55"} <= set(_suggested(checklist))


def test_real_sbom_without_suppliers_gives_partial(tmp_path):
    requires_shared(KEYCLOAK)
    report = check_document(formats.read(KEYCLOAK))
    artifact = sbom_artifact(KEYCLOAK)
    assert artifact.facts["ntia_pass"] is report.ntia.passed is False
    assert artifact.subject == "keycloak-parent 10.0.2" and artifact.facts["components"] == report.components
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example", ("developer", "supplier"), "keycloak 10.0.2")
        assert artifact.matches_scope(a.scope) is False  # keycloak-parent is not named in the scope
        _, proposals = propose(a, [FileArtifacts(sboms=[KEYCLOAK])])
        assert _suggested(proposals)["S(2)-2.3"] == ("partial", None)
        # both SBOMs confirmed together: the strongest suggestion wins
        _, more = propose(a, [FileArtifacts(sboms=[DEMO_SBOM])])
        book.add_proposals(a, proposals + more)
        book.settle_proposals(a, book.proposals(a.id, "pending"), accept=True)
        answer = book.get(a.id).answer("S(2)-2.3")
        assert answer.status == "implemented" and len(answer.evidence) == 2


def test_confirm_keeps_a_given_status_unless_override_and_reject_adds_nothing(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example", ("developer", "supplier"), "shop-portal 2.1.0")
        book.answer(a, "S(2)-1.1", status="not_implemented")
        a = book.get(a.id)
        _, proposals = propose(a, [FileArtifacts(sboms=[DEMO_SBOM])])
        added = book.add_proposals(a, proposals)
        assert (
            len(added) == 3 and book.add_proposals(a, proposals) == []
        )  # same content is not proposed twice
        by_item = {p.item_id: p for p in added}
        book.settle_proposals(a, [by_item["S(2)-1.1"], by_item["S(2)-2.3"]], accept=True)
        book.settle_proposals(a, [by_item["S(2)-1.3"]], accept=False)
        a = book.get(a.id)
        assert a.answer("S(2)-1.1").status == "not_implemented" and len(a.answer("S(2)-1.1").evidence) == 1
        assert a.answer("S(2)-2.3").status == "implemented"
        assert a.answer("S(2)-1.3").status is None and a.answer("S(2)-1.3").evidence == []
        assert [p.state for p in book.proposals(a.id)] == ["confirmed", "rejected", "confirmed"]
        with pytest.raises(InputError, match="not pending"):
            book.settle_proposals(a, [by_item["S(2)-1.1"]], accept=True)
        # a new SBOM for the same item with --override replaces the status
        other = tmp_path / "other.cdx.json"
        other.write_bytes(DEMO_SBOM.read_bytes().replace(b'"version": 1', b'"version": 2', 1))
        _, again = propose(a, [FileArtifacts(sboms=[other])])
        fresh = book.add_proposals(a, [p for p in again if p.item_id == "S(2)-1.1"])
        book.settle_proposals(a, fresh, accept=True, override=True)
        assert book.get(a.id).answer("S(2)-1.1").status == "partial"


def test_vex_serves_the_response_items(tmp_path):
    requires_shared(VEX)
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example", ("developer",), "product 1")
        _, proposals = propose(a, [FileArtifacts(vexes=[VEX])])
        # without a scan report the VEX's coverage of the findings is unknown: partial, and the reason says so
        assert _suggested(proposals) == {
            "S(3)-2.1": ("partial", None),
            "S(3)-2.2": ("partial", None),
            "S(3)-2.3": ("partial", None),
        }


def test_scan_report_checks_and_proposals(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"vulnerabilities": []}')
    with pytest.raises(InputError, match="not a mamori scan report"):
        scan_artifact(bad)
    if importlib.util.find_spec("mamori.scan.run") is None:
        pytest.skip("mamori scan is not in this build")
    report = tmp_path / "scan.json"
    scan = ["scan", str(DEMO_SBOM), "--format", "json", "-o", str(report), "--db", str(tmp_path / "kb.db")]
    assert run(capsys, *scan)[0] == 3  # an empty knowledge base: cannot judge
    assert run(capsys, *scan, "--allow-partial")[0] == 0
    artifact = scan_artifact(report)
    assert artifact.facts["all_evaluated"] is False  # nothing was checked: never "implemented"
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example", ("developer", "supplier"), "shop-portal 2.1.0")
        _, proposals = propose(a, [FileArtifacts(scans=[report])])
    expected = "implemented" if artifact.facts["all_evaluated"] else "partial"
    assert _suggested(proposals) == {"S(2)-1.4": (expected, None), "S(3)-1.3": ("partial", None)}


def test_propose_and_confirm_from_the_cli(tmp_path, capsys):
    db = str(tmp_path / "m.db")
    assert new_assessment(capsys, db, "ssdf", "Demo", "developer", "shop-portal 2.1.0")[0] == 0
    code, out, _ = run(capsys, "assess", "propose", "1", "--sbom", str(DEMO_SBOM), "--db", db, "--lang", "ja")
    assert code == 0 and "PS.3.2" in out and "実施済" in out and "L1" in out
    code, out, _ = run(capsys, "assess", "confirm", "1", "--db", db, "--lang", "en")
    assert code == 0 and "#1" in out and "#2" in out
    code, out, err = run(capsys, "assess", "confirm", "1", "--proposal", "9", "--db", db)
    assert code == 2 and "no pending proposal #9" in err
    code, out, _ = run(capsys, "assess", "confirm", "1", "--item", "PS.3.2", "--db", db, "--lang", "en")
    assert code == 0 and "Confirmed 1 proposals" in out
    code, out, _ = run(capsys, "assess", "show", "1", "--format", "json", "--db", db)
    import json

    items = {i["id"]: i for i in json.loads(out)["items"]}
    assert items["PS.3.2"]["status"] == "implemented" and items["PS.3.2"]["level"] == 1
    assert items["PS.3.2"]["evidence"][0]["artifact_kind"] == "sbom"
    assert items["PW.4.1"]["status"] is None  # still pending


def test_triage_records_in_the_store_are_proposed_for_the_scope(tmp_path, capsys):
    if importlib.util.find_spec("mamori.triage.records") is None:
        pytest.skip("triage records are not in this build")
    from mamori.compliance.artifacts import StoreTriage
    from mamori.triage.records import TriageRecord, set_record

    store, book = book_at(tmp_path / "m.db")
    with store:
        purl = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        for product, release, status in (
            ("shop-portal", "2.1.0", "affected"),
            ("shop-portal", "2.0.0", "fixed"),
            ("other-app", "2.1.0", "not_affected"),
        ):
            record = TriageRecord(
                product,
                release,
                purl,
                "CVE-2021-44228",
                status,
                responses=("update",) if status == "affected" else (),
                detail="component not loaded" if status == "not_affected" else None,
                who="tester",
                at="2026-11-01T00:00:00Z",
            )
            set_record(store, record)
        a = book.create("guideline", "Demo", ("developer",), "shop-portal 2.1.0")
        artifacts = StoreTriage(store.engine).artifacts(a.scope)
        assert [(x.ref, x.facts["records"], x.facts["statuses"]) for x in artifacts] == [
            ("store:triage/shop-portal@2.1.0", 1, {"affected": 1})
        ]
    code, out, _ = run(capsys, "assess", "propose", "1", "--db", str(tmp_path / "m.db"), "--lang", "en")
    assert code == 0 and "store:triage/shop-portal@2.1.0" in out and "S(3)-2.1" in out and "S(3)-2.2" in out


def test_store_without_triage_table_lists_nothing(tmp_path):
    from sqlalchemy import create_engine

    from mamori.compliance.artifacts import StoreTriage

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert StoreTriage(engine).artifacts("anything") == []

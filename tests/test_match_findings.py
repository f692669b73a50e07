"""One finding per (component, vulnerability) across sources and aliases; "not evaluated" never safe."""

from __future__ import annotations

import json

import pytest

from conftest import SHARED_DATA
from mamori.match.matcher import Hit
from mamori.model.sbom import Component
from mamori.scan.finding import group_hits
from mamori.scan.run import scan_document
from mamori.vulndb import cve5, osv
from match_support import build_store, cve_file, document, purl2cpe_subset

PYSEC = SHARED_DATA / "osv" / "pypi" / "reportlab" / "PYSEC-2019-117.yaml"
CVE = "CVE-2019-17626"
GHSA = "GHSA-qpg2-vx7j-3869"


@pytest.fixture(scope="module")
def store(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("findings")
    files = [PYSEC, cve_file(CVE), purl2cpe_subset(folder, ["pkg:pypi/reportlab"])]
    with build_store(folder, files, complete=True) as kb:  # PyPI and cpe held whole
        yield kb


def _scan(store, *components: Component):
    return scan_document(document(*components), store, target="test", sbom_format="cyclonedx-json")


def test_pysec_ghsa_and_cve_give_one_finding(store) -> None:
    result = _scan(store, Component("reportlab", "3.5.26", purl="pkg:pypi/reportlab@3.5.26"))
    (finding,) = result.findings
    v = finding.vulnerability
    assert {v.id, *v.aliases} == {CVE, GHSA, "PYSEC-2019-117"}
    assert {"osv", "cve5"} <= set(v.sources)
    methods = [e.method for e in finding.evidence]
    assert methods[0] == "purl-range" and "purl2cpe" in methods  # best evidence first
    assert finding.match.confidence == "high"
    assert {e.source for e in finding.evidence} == {"osv", "cve5"}
    assert finding.nearest_fixed == "3.5.28"  # PYSEC's fix event (the CVE only says "through 3.5.26")


def test_each_source_decides_by_its_own_statement(store) -> None:
    # 3.5.27: inside PYSEC's range (fixed 3.5.28), outside CISA ADP's "≤ 3.5.26": one finding, one evidence.
    (finding,) = _scan(store, Component("reportlab", "3.5.27", purl="pkg:pypi/reportlab@3.5.27")).findings
    assert [e.method for e in finding.evidence] == ["purl-range"]
    assert _scan(store, Component("reportlab", "3.5.28", purl="pkg:pypi/reportlab@3.5.28")).findings == []


def test_records_naming_each_other_fold_into_one_finding(shared_data) -> None:
    pysec = osv.parse_record(osv.load(PYSEC.name, PYSEC.read_bytes()), str(PYSEC))
    cve = cve5.parse_record(json.loads(cve_file(CVE).read_text(encoding="utf-8")), cve_file(CVE).name)
    records = {pysec.id: pysec, cve.id: cve}  # as if they were two vulnerabilities of the store
    hits = [
        Hit(0, pysec.id, "purl-range", "high", "", "osv", pysec.id),
        Hit(0, cve.id, "purl2cpe", "low", "", "cve5", cve.id),
    ]
    assert group_hits(hits, records) == {0: {CVE: [CVE, pysec.id]}}


def test_components_that_cannot_be_evaluated_are_reported_never_safe(store) -> None:
    components = [
        Component("no-version", purl="pkg:pypi/reportlab"),
        Component("unknown-type", "1.0", purl="pkg:foo/bar@1.0"),
        Component("bad-purl", "1.0", purl="pkg:pypi"),
        Component("nothing", "1.0"),
        Component("reportlab", "not a version!", purl="pkg:pypi/reportlab@not%20a%20version%21"),
        Component("left-pad", "1.3.0", purl="pkg:npm/left-pad@1.3.0"),
    ]
    result = _scan(store, *components)
    reasons: dict[str, str] = {}
    codes: dict[str, set[str]] = {}
    for n in result.not_evaluated:
        reasons[n.component.name] = (reasons.get(n.component.name, "") + " | " + n.reason).strip(" |")
        codes.setdefault(n.component.name, set()).add(n.code)
    assert codes == {
        "no-version": {"no-version"},
        "unknown-type": {"unknown-ecosystem"},
        "bad-purl": {"bad-identifier"},
        "nothing": {"no-identifier"},
        "reportlab": {"cannot-compare"},
        "left-pad": {"coverage"},
    }
    assert reasons["no-version"] == "no version"
    assert "no ecosystem" in reasons["unknown-type"] and "'foo'" in reasons["unknown-type"]
    assert "is not valid" in reasons["bad-purl"]
    assert reasons["nothing"] == "no purl or CPE to look it up by"
    assert "PYSEC-2019-117: version 'not a version!' is not a valid PyPI version" in reasons["reportlab"]
    assert (
        "CVE-2019-17626: reportlab:reportlab: installed version 'not a version!' cannot be compared"
        in reasons["reportlab"]
    )
    assert reasons["left-pad"] == "no npm data in the knowledge base"
    (left_pad,) = [n for n in result.not_evaluated if n.component.name == "left-pad"]
    assert left_pad.text("ja") == "ナレッジベースに npm のデータがありません"
    assert result.findings == []
    assert result.components_not_evaluated() == len(components)


def test_a_kept_matcher_reuses_its_caches_until_the_store_changes(shared_data, tmp_path) -> None:
    from mamori.match import Matcher

    component = Component("reportlab", "3.5.26", purl="pkg:pypi/reportlab@3.5.26")
    with build_store(tmp_path, [PYSEC]) as kb:
        matcher = Matcher(kb)
        first = scan_document(document(component), kb, target="t", sbom_format="x", matcher=matcher)
        again = scan_document(document(component), kb, target="t", sbom_format="x", matcher=matcher)
        assert [f.vulnerability.id for f in again.findings] == [f.vulnerability.id for f in first.findings]
        assert [f.vulnerability.id for f in first.findings] == [
            "CVE-2019-17626"
        ]  # canonical id: the CVE alias
        from mamori.vulndb import import_path

        import_path(kb, PYSEC.with_name("PYSEC-2021-146.yaml"))  # a second reportlab advisory
        after = scan_document(document(component), kb, target="t", sbom_format="x", matcher=matcher)
        assert len(after.findings) == 2

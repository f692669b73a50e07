"""Triage on a ScanResult: enrich with SSVC and score, VEX statements matched to findings, the policy gate,
and the stored record's CISA ADP points used when a store is at hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from mamori.model.sbom import Component
from mamori.model.vex import VexDocument, VexProduct, VexStatement, VexVulnerability
from mamori.scan.result import (
    ComponentRef,
    EpssInfo,
    Evidence,
    Finding,
    KevInfo,
    ScanResult,
    SeverityInfo,
    SourceInfo,
    VulnerabilityInfo,
)
from mamori.triage import integrate
from mamori.triage.policy import parse_policy
from mamori.triage.variants import variant

LOG4J = ComponentRef(
    "log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", bom_ref="log4j"
)
LODASH = ComponentRef("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", bom_ref="lodash")
ROOT = Component("shop-portal", "2.1.0", purl="pkg:generic/example/shop-portal@2.1.0")


def _finding(
    component: ComponentRef, vid: str, aliases: list[str], score: float, kev: bool, epss: float | None = None
) -> Finding:
    info = VulnerabilityInfo(
        id=vid,
        aliases=aliases,
        severity=SeverityInfo("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", score, "critical"),
        kev=KevInfo(vid, "2021-12-10") if kev else None,
        epss=EpssInfo(aliases[0], epss, 0.5) if epss is not None else None,
    )
    return Finding(component, info, [Evidence("purl-range", "high", "", "osv", vid)])


def _result() -> ScanResult:
    return ScanResult(
        target="shop.cdx.json",
        sbom_format="cyclonedx",
        components=2,
        sources={"osv": SourceInfo(2), "kev": SourceInfo(1)},
        findings=[
            _finding(LOG4J, "CVE-2021-44228", ["GHSA-jfh8-c2jp-5v3q"], 10.0, True),
            _finding(LODASH, "GHSA-p6mc-m468-83gw", ["CVE-2020-8203"], 7.4, False, epss=0.04),
        ],
    )


def _doc(*statements: VexStatement, when: str = "2026-01-01T00:00:00+00:00") -> VexDocument:
    return VexDocument(statements=list(statements), timestamp=datetime.fromisoformat(when))


def _st(vid: str, status: str, *products: VexProduct, **kw: object) -> VexStatement:
    return VexStatement(VexVulnerability(vid), status, list(products), **kw)  # type: ignore[arg-type]


def test_enrich_gives_every_finding_ssvc_and_score() -> None:
    result = _result()
    extra = integrate.enrich(result, variant("user", "low"), product="shop-portal")
    log4j, lodash = (extra[id(f)] for f in result.findings)
    assert log4j.ssvc is not None and log4j.ssvc["outcome"] == "immediate" and log4j.priority_score == 20.0
    assert lodash.ssvc is not None and lodash.ssvc["inputs"]["exploitation"]["basis"] == "absence"
    assert lodash.priority_score == round(1.2 * 7.4, 2)
    assert result.findings[1].priority_score == lodash.priority_score  # also on the scan's finding
    assert set(log4j.ssvc) >= {"table", "outcome", "inputs", "path"}


def test_vex_statements_match_by_alias_purl_version_and_product() -> None:
    result = _result()
    na = _st(
        "CVE-2020-8203",  # the finding's alias
        "not_affected",
        VexProduct(purl="pkg:npm/lodash"),  # no version: every version
        justification="vulnerable_code_not_in_execute_path",
    )
    other_version = _st(
        "CVE-2021-44228", "fixed", VexProduct(purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1")
    )
    extra = integrate.apply_vex(result, [("a.json", _doc(na, other_version))], root=ROOT)
    assert extra[id(result.findings[1])].vex == {
        "status": "not_affected",
        "source": "a.json",
        "justification": "vulnerable_code_not_in_execute_path",
    }
    assert id(result.findings[0]) not in extra  # a statement about 2.17.1 says nothing about 2.14.1
    # the product as a whole (no subcomponents) covers its components; a version range is evaluated
    whole = _st("CVE-2021-44228", "under_investigation", VexProduct(name="shop-portal", version="2.1.0"))
    ranged = _st(
        "CVE-2021-44228",
        "affected",
        VexProduct(
            name="shop-portal",
            subcomponents=[
                VexProduct(
                    purl="pkg:maven/org.apache.logging.log4j/log4j-core",
                    version_range="vers:maven/>=2.0|<2.15.0",
                )
            ],
        ),
        action_statement="update to 2.17.1",
    )
    later = _doc(ranged, when="2026-02-01T00:00:00+00:00")
    extra = integrate.apply_vex(result, [("b.json", _doc(whole)), ("c.json", later)], root=ROOT)
    assert extra[id(result.findings[0])].vex["status"] == "affected"  # the later statement wins
    assert extra[id(result.findings[0])].vex["action_statement"] == "update to 2.17.1"
    extra = integrate.apply_vex(result, [("b.json", _doc(whole))], root=ROOT)
    assert extra[id(result.findings[0])].vex["status"] == "under_investigation"
    outside = _st(
        "CVE-2021-44228",
        "not_affected",
        VexProduct(purl="pkg:maven/org.apache.logging.log4j/log4j-core", version_range="vers:maven/>=2.15.0"),
        justification="component_not_present",
    )
    assert id(result.findings[0]) not in integrate.apply_vex(result, [("d.json", _doc(outside))], root=ROOT)
    # a statement about the component inside another product says nothing about this one
    elsewhere = _st(
        "CVE-2021-44228",
        "not_affected",
        VexProduct(name="other-product", version="1.0", subcomponents=[VexProduct(purl=LOG4J.purl)]),
        justification="component_not_present",
    )
    assert id(result.findings[0]) not in integrate.apply_vex(result, [("e.json", _doc(elsewhere))], root=ROOT)
    assert id(result.findings[0]) in integrate.apply_vex(result, [("e.json", _doc(elsewhere))], root=None)
    named = integrate.apply_vex(result, [("e.json", _doc(elsewhere))], root=ROOT, product="Other Product")
    assert named[id(result.findings[0])].vex["status"] == "not_affected"


def test_policy_gate_on_a_scan_with_vex_and_licences() -> None:
    result = _result()
    extra = integrate.enrich(result, variant("user", "low"))
    policy = parse_policy(
        {
            "rules": [
                {"id": "kev", "action": "fail", "kev": True},
                {"id": "gpl", "action": "warn", "license_denied": ["GPL-3.0-only"]},
            ]
        },
        "p.yaml",
    )
    components = [
        Component("log4j-core", "2.14.1", license_declared="Apache-2.0"),
        Component("x", "1", license_declared="GPL-3.0-only"),
    ]
    violations, notices = integrate.evaluate_policy(policy, result, extra, components)
    assert notices == []
    assert [(v.rule, v.vulnerability or v.component) for v in violations] == [
        ("kev", "CVE-2021-44228"),
        ("gpl", "x@1"),
    ]
    fixed = _st("CVE-2021-44228", "fixed", VexProduct(purl=LOG4J.purl))
    integrate.apply_vex(result, [("fixed.json", _doc(fixed))], extra=extra)
    assert not extra[id(result.findings[0])].in_gate
    violations, _ = integrate.evaluate_policy(policy, result, extra, components)
    assert [v.rule for v in violations] == ["gpl"]


def test_stored_cisa_adp_points_reach_the_decision(shared_data: Path, tmp_path: Path) -> None:
    """CVE-2019-17626 (ReportLab) carries CISA ADP points; with the store at hand they are evidence."""
    from mamori.model.sbom import Document
    from mamori.scan.run import scan_document
    from match_support import build_store, cve_file

    store = build_store(
        tmp_path,
        [shared_data / "osv" / "pypi" / "reportlab" / "PYSEC-2019-117.yaml", cve_file("CVE-2019-17626")],
    )
    try:
        doc = Document(
            name="t", components=[Component("reportlab", "3.5.26", purl="pkg:pypi/reportlab@3.5.26")]
        )
        result = scan_document(doc, store, target="t", sbom_format="cyclonedx")
        records = integrate.stored_records(store, result)
    finally:
        store.close()
    (finding,) = result.findings
    extra = integrate.enrich(result, variant("developer", "low"), records=records)
    inputs = extra[id(finding)].ssvc["inputs"]
    assert inputs["exploitation"]["source"] == "cve5-adp"
    assert (
        inputs["automatable"]["source"] == "cve5-adp" and inputs["technical_impact"]["source"] == "cve5-adp"
    )
    without = integrate.enrich(result, variant("developer", "low"))
    assert without[id(finding)].ssvc["inputs"]["automatable"]["source"] == "cvss"

"""The four variants on one finding, evidence recording, --set rules by skill, the context file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.scan.result import ComponentRef, ScanResult
from mamori.triage.context import load_context, parse_context
from mamori.triage.engine import Subject, triage
from mamori.triage.facts import AdpSsvc, Cvss, Facts
from mamori.triage.inputs import gather
from mamori.triage.report import TriageReport, as_data, as_text
from mamori.triage.variants import assess, overrides, variant

# CVE-2022-42889 (Apache Commons Text "Text4Shell"): NVD's CVSS 3.1 vector, CISA ADP exploitation=poc
TEXT4SHELL = Facts(
    vuln_id="CVE-2022-42889",
    cvss=Cvss("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
    adp=AdpSsvc("poc", None, None, "CISA-ADP", "2.0.3", "2023-11-07T00:00:00Z"),
    kev_checked=True,
)
COMPONENT = ComponentRef(
    name="commons-text", version="1.9", purl="pkg:maven/org.apache.commons/commons-text@1.9"
)
CONTEXT = {
    "products": {
        "shop-portal": {
            "system_exposure": "open",
            "safety_impact": "negligible",
            "mission_impact": {"value": "mef_failure", "reason": "orders stop"},
            "value_density": "concentrated",
        }
    }
}


def _one(role: str, skill: str, context: dict | None = CONTEXT, sets: dict[str, str] | None = None):
    v = variant(role, skill)
    ctx = parse_context(context, "ctx.yaml") if context is not None else None
    return triage([Subject(TEXT4SHELL, COMPONENT, "shop-portal")], v, ctx, overrides(v, sets or {}))[0]


def test_role_picks_the_tree_and_changes_the_outcome() -> None:
    dev = _one("developer", "low")
    user = _one("user", "low")
    assert dev.assessment.decision.table.id == "supplier" and user.assessment.decision.table.id == "deployer"
    assert dev.outcome.id == "out_of_cycle"  # PoC and super-effective utility
    assert user.outcome.id == "scheduled"  # PoC, open, automatable, medium human impact
    dev_path = [s.point.id for s in dev.assessment.decision.path]
    assert dev_path == ["exploitation", "utility", "technical_impact", "public_safety_impact"]
    ev = dev.assessment.inputs
    assert (ev["exploitation"].basis, ev["exploitation"].source) == ("evidence", "cve5-adp")
    assert (ev["automatable"].basis, ev["automatable"].source) == ("derived", "cvss")
    assert (
        ev["value_density"].basis == "context"
        and "products.shop-portal.value_density" in ev["value_density"].detail
    )
    assert dev.assessment.assumed == []
    data = user.assessment.ssvc_dict()
    assert data["outcome"] == "scheduled" and data["table"] == "deployer"
    assert data["inputs"]["mission_impact"]["detail"].endswith("(orders stop)")
    assert data["path"][3]["via"]["table"] == "human_impact"


def test_skill_changes_what_is_explained_and_what_may_be_set() -> None:
    low = _one("user", "low", context=None)
    high = _one("user", "high", context=None)
    # both take the most cautious value for what nobody answered...
    assert [i.point for i in low.assessment.assumed] == ["system_exposure", "safety_impact", "mission_impact"]
    assert low.outcome.id == high.outcome.id == "out_of_cycle"
    result = ScanResult(target="shop.json", sbom_format="cyclonedx", components=1)
    low_text = as_text(TriageReport(result, variant("user", "low"), [low], "ja", "shop-portal"))
    high_text = as_text(TriageReport(result, variant("user", "high"), [high], "en", "shop-portal"))
    # ...but low skill gets each question in plain words with every possible answer
    assert "影響を受けるシステムに到達できるのは誰ですか" in low_text
    assert "- controlled (制御あり):" in low_text and "悪用あり" not in low_text
    assert "Who can reach" not in high_text and "--set POINT=VALUE" in high_text
    assert as_data(TriageReport(result, variant("user", "low"), [low], "en", "p"))["questions"][0]["answers"]
    # low skill answers the context questions only; evidence stays
    with pytest.raises(InputError, match="--skill high"):
        overrides(variant("user", "low"), {"exploitation": "none"})
    assert _one("user", "low", context=None, sets={"exposure": "small"}).outcome.id == "scheduled"
    # high skill may override evidence (recorded) and set intermediate points
    high_set = _one("developer", "high", sets={"exploitation": "none", "utility": "laborious"})
    assert high_set.outcome.id == "scheduled"
    assert [o.source for o in high_set.assessment.overridden] == ["cve5-adp"]
    assert high_set.assessment.inputs["utility"].basis == "set"
    assert "automatable" not in high_set.assessment.inputs  # utility was given, its inputs are not used


def test_set_names_are_checked_against_the_tree() -> None:
    with pytest.raises(InputError, match="unknown decision point 'technical_impact'"):
        overrides(variant("user", "high"), {"technical_impact": "total"})
    with pytest.raises(InputError, match="unknown value"):
        overrides(variant("developer", "high"), {"exploitation": "maybe"})
    with pytest.raises(InputError, match="--role"):
        variant("auditor", "low")
    assert variant("supplier", "high").role == "developer" and variant("deployer", "low").role == "user"


def test_unknown_exploitation_is_assumed_active_and_said_so() -> None:
    facts = Facts(vuln_id="GHSA-xxxx", cvss=TEXT4SHELL.cvss)  # no KEV catalog consulted, no ADP
    a = assess(variant("user", "low"), gather(facts))
    assumed = {i.point: i.value for i in a.assumed}
    assert assumed["exploitation"] == "active"
    assert a.outcome.id == "immediate"
    assert any("最も慎重" in line for line in a.explanations("ja"))


def test_context_file_resolution_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "context.yaml"
    path.write_text(
        "version: 1\n"
        "default: {system_exposure: controlled, safety_impact: 軽微}\n"
        "products:\n"
        "  Shop-Portal:\n"
        "    system_exposure: {value: Open, reason: public web shop}\n"
        "    components:\n"
        "      pkg:npm/lodash: {system_exposure: small}\n"
        "      pkg:npm/minimist@1.2.5: {system_exposure: controlled}\n",
        encoding="utf-8",
    )
    ctx = load_context(path)
    assert {k: e.value for k, e in ctx.entries("shop-portal").items()} == {
        "system_exposure": "open",
        "safety_impact": "negligible",
    }
    assert ctx.entries("shop-portal", "pkg:npm/lodash@4.17.15")["system_exposure"].value == "small"
    assert ctx.entries("shop-portal", "pkg:npm/minimist@1.2.6")["system_exposure"].value == "open"
    assert ctx.entries("shop-portal", "pkg:npm/minimist@1.2.5")["system_exposure"].value == "controlled"
    assert ctx.entries("other")["system_exposure"].value == "controlled"
    bad = {
        "products:\n  a: {exploitation: active}\n": "not a context point",
        "products:\n  a: {system_exposure: internet2}\n": "unknown value 'internet2'",
        "default: {system_exposure: [open]}\n": "expected a value",
        "colour: red\n": "unknown top-level key",
        "products:\n  a:\n    components: {not-a-purl: {system_exposure: small}}\n": "not a package URL",
        "default: [\n": "not valid YAML",
    }
    for text, problem in bad.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=problem) as info:
            load_context(path)
        assert info.value.path == str(path)


def test_scan_lists_assumed_points_in_triage_order_without_sorting_when_it_cannot_matter() -> None:
    from mamori.triage.engine import ordered
    from mamori.triage.integrate import _points_order
    from mamori.triage.notice import assumed_context

    lodash = ComponentRef(name="lodash", version="4.17.20", purl="pkg:npm/lodash@4.17.20")
    ctx = parse_context(
        {"products": {"shop": {"components": {"pkg:npm/lodash": {"system_exposure": "small"}}}}}, "c.yaml"
    )
    v = variant("user", "low")
    subjects = [Subject(TEXT4SHELL, COMPONENT, "shop"), Subject(TEXT4SHELL, lodash, "shop")]
    for given in (ctx, None):  # the points assumed differ between the two findings, then they do not
        unsorted = triage(subjects, v, given, in_order=False)
        assert [t.subject for t in unsorted] == subjects
        chosen = _points_order(unsorted)
        assert assumed_context(chosen) == assumed_context(triage(subjects, v, given))
        assert (chosen is unsorted) == (given is None)
        assert chosen == (unsorted if given is None else ordered(unsorted))
    points = [a["point"] for a in assumed_context(_points_order(triage(subjects, v, ctx, in_order=False)))]
    assert "system_exposure" in points and len(points) == len(set(points))

"""Propose evidence from artifacts mamori holds: the artifact → item map is data (data/compliance/evidence-map.yaml).

``propose(assessment, sources)`` lists, for every artifact the sources hold for the assessment's scope, the
applicable items it serves with the status (and SSDF level) the map suggests from the artifact's facts.
Nothing is written to the answers until a person confirms (``Assessments.settle_proposals``).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from mamori.compliance import catalog as cat
from mamori.compliance.artifacts import Artifact, ArtifactSource, vex_coverage
from mamori.compliance.assessment import LEVELS, STATUSES, Assessment, applies
from mamori.compliance.messages import both
from mamori.compliance.repository import Proposal
from mamori.errors import InputError
from mamori.i18n import _

MAP_PATH = "data/compliance/evidence-map.yaml"
FACTS = {
    "sbom": ("ntia_pass", "standard_format"),
    "scan": ("all_evaluated",),
    "vex": ("has_statements", "covers_all_findings"),
    "triage": (),
}


@cache
def evidence_map() -> dict[str, Any]:
    """The artifact → item map, checked: known artifact kinds, items that exist, valid statuses and facts."""
    text = resources.files("mamori").joinpath(MAP_PATH).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for kind, spec in data["artifacts"].items():
        if kind not in FACTS:
            raise InputError(MAP_PATH, _("unknown artifact kind {kind!r}").format(kind=kind))
        for rule in spec["rules"]:
            catalog = cat.load(rule["framework"])
            for item_id in rule["items"]:
                if catalog.get(item_id) is None:
                    raise InputError(
                        MAP_PATH,
                        _("{kind}: no item {item_id!r} in {framework}").format(
                            kind=kind, item_id=item_id, framework=rule["framework"]
                        ),
                    )
            _check_choice(kind, rule.get("status"), STATUSES, "status", required=True)
            _check_choice(kind, rule.get("level"), LEVELS, "level", required=False)
            if not (rule.get("reason") or {}).get("ja") or not rule["reason"].get("en"):
                raise InputError(
                    MAP_PATH, _("{kind}: every rule needs a reason in ja and en").format(kind=kind)
                )
    return data


def _check_choice(kind: str, value: Any, allowed: tuple[Any, ...], what: str, required: bool) -> None:
    if value is None and not required:
        return
    options = [value["then"], value["else"]] if isinstance(value, dict) else [value]
    if isinstance(value, dict) and value.get("if") not in FACTS[kind]:
        raise InputError(
            MAP_PATH,
            _("{kind}: {what} tests unknown fact {fact!r}").format(
                kind=kind, what=what, fact=value.get("if")
            ),
        )
    if any(option not in allowed for option in options):
        raise InputError(
            MAP_PATH,
            _("{kind}: {what} must be one of {allowed}, not {value!r}").format(
                kind=kind, what=what, allowed=allowed, value=value
            ),
        )


def _choose(value: Any, facts: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return value["then"] if facts.get(value["if"]) else value["else"]
    return value


def artifact_label(kind: str, lang: cat.Lang) -> str:
    return evidence_map()["artifacts"][kind]["label"][lang]


def proposals_for(assessment: Assessment, artifact: Artifact) -> list[Proposal]:
    spec = evidence_map()["artifacts"].get(artifact.kind)
    if spec is None:
        return []
    catalog = assessment.catalog
    out: list[Proposal] = []
    for rule in spec["rules"]:
        if rule["framework"] != assessment.framework:
            continue
        for item_id in rule["items"]:
            item = catalog.get(item_id)
            if item is None or not applies(item, assessment.roles):
                continue
            level = _choose(rule.get("level"), artifact.facts) if assessment.framework == "ssdf" else None
            out.append(
                Proposal(
                    item_id=item.id,
                    artifact_kind=artifact.kind,
                    artifact_ref=artifact.ref,
                    sha256=artifact.sha256,
                    subject=artifact.subject,
                    suggested_status=_choose(rule["status"], artifact.facts),
                    suggested_level=level,
                    reason=_reason(rule["reason"], coverage_text(artifact)),
                )
            )
    return out


def _with_coverage(artifact: Artifact, scans: list[Artifact]) -> Artifact:
    """A VEX with the facts of its coverage of the scan reports' findings (``covers_all_findings`` is true
    only when a scan report was given, it has findings and the VEX names every one of them)."""
    if artifact.kind != "vex":
        return artifact
    coverage = vex_coverage(artifact, scans)
    facts = dict(artifact.facts)
    facts["coverage"] = coverage
    facts["covers_all_findings"] = coverage is not None and coverage[1] > 0 and coverage[0] == coverage[1]
    return replace(artifact, facts=facts)


def coverage_text(artifact: Artifact) -> dict[str, str] | None:
    """The sentence, in both languages, stating what a VEX proposal is based on."""
    if artifact.kind != "vex":
        return None
    coverage = artifact.facts.get("coverage")
    statements = artifact.facts.get("statements", 0)
    if coverage is None:
        return both("propose.coverage_unknown")
    covered, total = coverage
    pair = both("propose.coverage")
    return {
        lang: text.format(statements=statements, covered=covered, total=total) for lang, text in pair.items()
    }


def _reason(reason: dict[str, str], note: dict[str, str] | None) -> dict[str, str]:
    if note is None:
        return dict(reason)
    return {
        lang: f"{reason[lang]} {note[lang]}" if lang == "en" else f"{reason[lang]}{note[lang]}"
        for lang in reason
    }


def propose(assessment: Assessment, sources: list[ArtifactSource]) -> tuple[list[Artifact], list[Proposal]]:
    """Artifacts the sources hold for the assessment's scope and the proposals they give, in catalog order.

    A VEX is judged against the findings of the scan reports given with it: it suggests implemented only when
    it covers every finding, and each of its proposals states the coverage it is based on."""
    artifacts = [a for source in sources for a in source.artifacts(assessment.scope)]
    scans = [a for a in artifacts if a.kind == "scan"]
    artifacts = [_with_coverage(a, scans) for a in artifacts]
    proposals = [p for a in artifacts for p in proposals_for(assessment, a)]
    order = {item.id: n for n, item in enumerate(assessment.catalog.items)}
    proposals.sort(key=lambda p: order.get(p.item_id, len(order)))
    return artifacts, proposals

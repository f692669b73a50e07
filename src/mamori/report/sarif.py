"""SARIF 2.1.0: one rule per vulnerability, one result per finding, located at the SBOM file.

Levels: critical and high → ``error``, medium → ``warning``, low, none and unknown → ``note``.
``properties.security-severity`` carries the CVSS base score (what code-scanning UIs sort by).
``runs[0].properties.coverage`` is the JSON report's ``coverage`` object (complete or partial per
scope, data age, components not evaluated and why); a partial result also says so in
``runs[0].invocations[0].toolExecutionNotifications``.

A finding a triage record or VEX statement calls ``not_affected`` or ``fixed`` carries a suppression
(``kind`` external, ``status`` accepted, the justification and who said it): GitHub code scanning and other
SARIF consumers show it as suppressed, not as an open alert. One ``under_investigation`` carries a
suppression under review (``status`` underReview), which leaves the result open. ``properties.status``
and ``properties.state`` carry the triage state as the JSON report does.
"""

from __future__ import annotations

from typing import Any

import orjson

from mamori import __version__
from mamori.report.json_report import coverage_dict, triage_fields
from mamori.report.messages import text
from mamori.scan.result import Finding, ScanResult, VulnerabilityInfo
from mamori.triage.texts import state_label

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning"}


def _rule(v: VulnerabilityInfo, lang: str) -> dict[str, Any]:
    summary = v.summary(lang) or v.id
    rule: dict[str, Any] = {
        "id": v.id,
        "name": v.id.replace("-", ""),
        "shortDescription": {"text": (v.titles.get(lang) or v.titles.get("en") or summary)[:1000]},
        "fullDescription": {"text": summary[:4000]},
        "defaultConfiguration": {"level": _LEVEL.get(v.rating, "note")},
        "properties": {
            "tags": ["security", "vulnerability", *v.cwes],
            "aliases": v.aliases,
            "sources": v.sources,
        },
    }
    if v.references:
        rule["helpUri"] = v.references[0].url
    if v.score is not None:
        rule["properties"]["security-severity"] = f"{v.score:.1f}"
    return rule


def _message(f: Finding, lang: str) -> str:
    v = f.vulnerability
    label = f.component.label
    fix = (
        text(lang, "text", "upgrade", component=label, fixed=f.nearest_fixed)
        if f.nearest_fixed
        else text(lang, "text", "no_fix")
    )
    return f"{v.id} ({text(lang, 'ratings', v.rating)}) in {label}. {fix}"


def _suppressions(f: Finding, lang: str) -> list[dict[str, Any]]:
    status = f.status
    if status not in ("not_affected", "fixed", "under_investigation"):
        return []
    state = f.state
    parts = [state_label(status, lang)]
    if state is not None:
        why = state.justification_label(lang)
        if why:
            parts.append(why)
        if state.detail:
            parts.append(" ".join(state.detail.split())[:1000])
        if state.origin is not None:
            parts.append(state.origin.describe(lang))
    elif f.vex:
        parts.extend(str(f.vex[k]) for k in ("justification", "source") if f.vex.get(k))
    return [
        {
            "kind": "external",
            "status": "underReview" if status == "under_investigation" else "accepted",
            "justification": " — ".join(parts),
        }
    ]


def sarif_dict(result: ScanResult, lang: str = "en") -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for f in result.findings:
        v = f.vulnerability
        if v.id not in index:
            index[v.id] = len(rules)
            rules.append(_rule(v, lang))
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": result.target.replace("\\", "/")}},
            "logicalLocations": [
                {"name": f.component.label, "fullyQualifiedName": f.component.purl or f.component.label}
            ],
        }
        results.append(
            {
                "ruleId": v.id,
                "ruleIndex": index[v.id],
                "level": _LEVEL.get(v.rating, "note"),
                "message": {"text": _message(f, lang)},
                "locations": [location],
                "partialFingerprints": {
                    "mamori/component-vulnerability": f"{f.component.purl or f.component.label}|{v.id}"
                },
                "properties": {
                    "match": {
                        "method": f.match.method,
                        "confidence": f.match.confidence,
                        "detail": f.match.detail,
                    },
                    "fixedVersions": f.fixed_versions,
                    "kev": v.kev is not None,
                    **triage_fields(f, lang),
                },
            }
        )
        suppressions = _suppressions(f, lang)
        if suppressions:
            results[-1]["suppressions"] = suppressions
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mamori",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [_invocation(result, lang)],
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {"coverage": coverage_dict(result, lang)},
            }
        ],
    }


def _invocation(result: ScanResult, lang: str) -> dict[str, Any]:
    """The scan ran; a partial result (empty or stale store, components not evaluated) is a warning."""
    invocation: dict[str, Any] = {"executionSuccessful": True}
    problems = result.problems()
    if problems:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "warning",
                "descriptor": {"id": f"mamori/coverage/{p.code}"},
                "message": {"text": p.text(lang)},
            }
            for p in problems
        ]
    return invocation


def render(result: ScanResult, lang: str = "en") -> bytes:
    return orjson.dumps(sarif_dict(result, lang), option=orjson.OPT_INDENT_2) + b"\n"

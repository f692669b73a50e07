"""The JSON report, in the shape issue 5 gives (plus ``not_evaluated``, which the issue asks to show).

``{"target", "sbom": {"format", "components"}, "database": {"sources": {src: {"records", "updated"}}},
"findings": [{"component": {...}, "vulnerability": {...}, "match": {...}}], "not_evaluated": [...],
"warnings": [...], "summary": {"by_rating", "components_affected", "components_not_evaluated"}}``

``warnings``: the flaws in single fields of the SBOM that the scan read past (file, component, field,
code, value, message in the report's language; see mamori.sbom.problems).
"""

from __future__ import annotations

from typing import Any

import orjson

from mamori.sbom.problems import warning_dict
from mamori.scan.result import ComponentRef, Finding, ScanResult


def component_dict(c: ComponentRef) -> dict[str, Any]:
    """The component; ``locations`` (file relative to the scanned folder, line or null) when the scan
    knows where it is declared (a folder or lockfile scanned, or an SBOM with evidence occurrences)."""
    out: dict[str, Any] = {"name": c.name, "version": c.version, "purl": c.purl, "cpe": c.cpe}
    if c.occurrences:
        out["locations"] = [{"file": o.location, "line": o.line} for o in c.occurrences]
    return out


def finding_dict(f: Finding, lang: str) -> dict[str, Any]:
    v = f.vulnerability
    severity = v.severity
    return {
        "component": component_dict(f.component),
        "vulnerability": {
            "id": v.id,
            "aliases": v.aliases,
            "sources": v.sources,
            "summary": v.summary(lang),
            "severity": {
                "version": severity.version,
                "vector": severity.vector,
                "score": severity.score,
                "rating": severity.rating,
            }
            if severity is not None
            else None,
            "cwe": v.cwes,
            "kev": {
                "date_added": v.kev.date_added,
                "due_date": v.kev.due_date,
                "known_ransomware_use": v.kev.known_ransomware_use,
                "source": v.kev.source,
            }
            if v.kev is not None
            else None,
            "epss": {"score": v.epss.score, "percentile": v.epss.percentile, "date": v.epss.date}
            if v.epss is not None
            else None,
            "fixed_versions": f.fixed_versions,
            "references": [{"url": r.url, "type": r.type} for r in v.references],
        },
        "match": {"method": f.match.method, "confidence": f.match.confidence, "detail": f.match.detail},
        **triage_fields(f, lang),
    }


def triage_fields(f: Finding, lang: str) -> dict[str, Any]:
    """``ssvc``, ``priority_score`` and ``vex`` when mamori.triage set them on the finding."""
    if f.ssvc is None and f.vex is None:
        return {}
    ssvc = f.ssvc.ssvc_dict(lang) if hasattr(f.ssvc, "ssvc_dict") else f.ssvc
    return {"ssvc": ssvc, "priority_score": f.priority_score, "vex": f.vex}


def result_dict(result: ScanResult, lang: str = "en") -> dict[str, Any]:
    return {
        "target": result.target,
        "sbom": {"format": result.sbom_format, "components": result.components},
        "database": {
            "sources": {
                name: {"records": info.records, "updated": info.updated}
                for name, info in sorted(result.sources.items())
            }
        },
        "findings": [finding_dict(f, lang) for f in result.findings],
        "not_evaluated": [
            {
                "component": component_dict(n.component),
                "reason": n.reason,
                "vulnerability": n.vulnerability_id,
            }
            for n in result.not_evaluated
        ],
        "warnings": [warning_dict(w, lang) for w in result.warnings],
        "summary": {
            "by_rating": result.by_rating(),
            "components_affected": result.components_affected(),
            "components_not_evaluated": result.components_not_evaluated(),
        },
    }


def render(result: ScanResult, lang: str = "en") -> bytes:
    return orjson.dumps(result_dict(result, lang), option=orjson.OPT_INDENT_2) + b"\n"

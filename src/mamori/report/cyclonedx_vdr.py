"""CycloneDX 1.6 VDR (vulnerability disclosure report): the affected components and
``vulnerabilities[]`` with ``affects``, ratings, CWEs, advisories and the recommended fix.

One vulnerability entry per vulnerability id, affecting every component it was found in. Facts
CycloneDX has no field for (KEV, EPSS, how it matched) travel as ``mamori:`` properties; so does the
coverage, in ``metadata.properties``: ``mamori:coverage:complete`` (true when nothing keeps the result
from being judged), per scope ``mamori:coverage:<scope>`` (complete, demo, partial or none) with
``…:source``, ``…:complete-at``, ``…:age-days``, ``…:records``, ``…:components``, ``…:not-evaluated``
and ``…:stale``, then ``mamori:coverage:not-evaluated`` (components) and one
``mamori:coverage:not-evaluated:<reason code>`` per reason, and each ``mamori:coverage:problem``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import orjson

from mamori import __version__
from mamori.model.references import web_url
from mamori.report.messages import text
from mamori.scan.result import ComponentRef, Finding, ScanResult, VulnerabilityInfo

_METHOD = {"2.0": "CVSSv2", "3.0": "CVSSv3", "3.1": "CVSSv31", "4.0": "CVSSv4"}
_SOURCE = {
    "CVE": ("NVD", "https://nvd.nist.gov/vuln/detail/{id}"),
    "GHSA": ("GitHub", "https://github.com/advisories/{id}"),
    "PYSEC": ("PyPA", "https://osv.dev/vulnerability/{id}"),
    "GO": ("Go", "https://pkg.go.dev/vuln/{id}"),
    "JVNDB": (
        "JVN iPedia",
        "https://jvndb.jvn.jp/search/index.php?mode=_vulnerability_search_IA_VulnSearch&keyword={id}",
    ),
}


def _source(identifier: str) -> dict[str, str]:
    prefix = identifier.split("-", 1)[0].upper()
    name, url = _SOURCE.get(prefix, ("OSV", "https://osv.dev/vulnerability/{id}"))
    return {"name": name, "url": url.format(id=quote(identifier, safe=""))}


def _component(ref: str, c: ComponentRef) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "library", "bom-ref": ref, "name": c.name}
    if c.group and not c.purl:
        entry["group"] = c.group
    if c.version:
        entry["version"] = c.version
    if c.cpe:
        entry["cpe"] = c.cpe
    if c.purl:
        entry["purl"] = c.purl
    return entry


def _cwe(identifier: str) -> int | None:
    number = identifier.upper().removeprefix("CWE-")
    # CWE ids are small numbers; CycloneDX (and orjson) take integers up to 64 bits
    return int(number) if number.isascii() and number.isdigit() and len(number) <= 9 else None


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def _date_time(value: str) -> str | None:
    """The value as the RFC 3339 date-time CycloneDX requires (a date alone: its midnight UTC); None
    when it is neither (a record's date field may hold anything)."""
    if _DATE_TIME.fullmatch(value):
        return value
    return f"{value}T00:00:00Z" if _DATE.fullmatch(value) else None


def _vulnerability(v: VulnerabilityInfo, findings: list[tuple[str, Finding]], lang: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"bom-ref": f"vuln:{v.id}", "id": v.id, "source": _source(v.id)}
    if v.aliases:
        entry["references"] = [{"id": a, "source": _source(a)} for a in v.aliases]
    if v.severity is not None and v.severity.version in _METHOD:
        rating: dict[str, Any] = {"source": {"name": v.severity.provider or v.severity.source or "unknown"}}
        if v.severity.score is not None:
            rating["score"] = v.severity.score
        rating.update(
            {
                "severity": v.severity.rating,
                "method": _METHOD[v.severity.version],
                "vector": v.severity.vector,
            }
        )
        entry["ratings"] = [rating]
    cwes = [n for n in (_cwe(c) for c in v.cwes) if n is not None]
    if cwes:
        entry["cwes"] = cwes
    summary = v.summary(lang)
    if summary:
        entry["description"] = summary
    fixes = [
        text(lang, "text", "upgrade", component=f.component.label, fixed=f.nearest_fixed)
        for _, f in findings
        if f.nearest_fixed
    ]
    if fixes:
        entry["recommendation"] = " ".join(dict.fromkeys(fixes))
    advisories = [{"url": r.url} for r in v.references if web_url(r.url)]  # http(s) only
    if advisories:
        entry["advisories"] = advisories
    if v.published and _date_time(v.published):
        entry["published"] = _date_time(v.published)
    if v.modified and _date_time(v.modified):
        entry["updated"] = _date_time(v.modified)
    entry["affects"] = [
        {"ref": ref, "versions": [{"version": f.component.version, "status": "affected"}]}
        if f.component.version
        else {"ref": ref}
        for ref, f in findings
    ]
    props = [
        {"name": "mamori:match", "value": f"{f.component.label}: {f.match.method} ({f.match.confidence})"}
        for _, f in findings
    ]
    if v.kev is not None:
        props.append({"name": "mamori:kev:date-added", "value": v.kev.date_added or "yes"})
    if v.epss is not None:
        props.append({"name": "mamori:epss", "value": f"{v.epss.score:.5f}"})
    entry["properties"] = props
    return entry


def coverage_properties(result: ScanResult, lang: str = "en") -> list[dict[str, str]]:
    """The coverage as CycloneDX name/value properties (see the module's note)."""
    cov = result.coverage
    problems = result.problems()
    props: list[tuple[str, object]] = [("mamori:coverage:complete", not problems)]
    if result.demo:
        props.append(("mamori:coverage:demo", True))
    props += [
        ("mamori:coverage:empty", cov.empty),
        ("mamori:coverage:updated", cov.updated),
        ("mamori:coverage:newest-record", cov.newest_record),
        ("mamori:coverage:max-age-days", cov.max_age_days),
    ]
    for s in cov.scopes:
        state = (
            ("demo" if result.demo else "complete") if s.complete else ("partial" if s.records else "none")
        )
        key = f"mamori:coverage:{s.scope}"
        props += [
            (key, state),
            (f"{key}:source", s.source or ", ".join(s.sources)),
            (f"{key}:complete-at", s.complete_at),
            (f"{key}:age-days", s.age_days),
            (f"{key}:records", s.records),
            (f"{key}:components", s.components),
            (f"{key}:not-evaluated", s.not_evaluated),
            (f"{key}:stale", s.stale),
        ]
    props.append(("mamori:coverage:not-evaluated", result.components_not_evaluated()))
    for code, count in result.not_evaluated_by_reason().items():
        props.append((f"mamori:coverage:not-evaluated:{code}", count))
    props += [("mamori:coverage:problem", p.text(lang)) for p in problems]
    return [
        {"name": name, "value": str(value).lower() if isinstance(value, bool) else str(value)}
        for name, value in props
        if value is not None and value != ""
    ]


def vdr_dict(result: ScanResult, lang: str = "en") -> dict[str, Any]:
    refs: dict[tuple[str | None, ...], str] = {}
    components: list[dict[str, Any]] = []
    used: set[str] = set()
    by_vuln: dict[str, list[tuple[str, Finding]]] = {}
    for f in result.findings:
        c = f.component
        key = (c.bom_ref, c.purl, c.name, c.version)
        if key not in refs:
            ref = base = c.bom_ref or c.purl or c.label
            n = 2
            while ref in used:
                ref, n = f"{base}#{n}", n + 1
            used.add(ref)
            refs[key] = ref
            components.append(_component(ref, c))
        by_vuln.setdefault(f.vulnerability.id, []).append((refs[key], f))
    generated = _date_time(result.generated_at) if result.generated_at else None
    metadata: dict[str, Any] = {
        "tools": {"components": [{"type": "application", "name": "mamori", "version": __version__}]},
        "component": {"type": "application", "bom-ref": "scan-target", "name": result.target},
        "properties": coverage_properties(result, lang),
    }
    if generated:
        metadata["timestamp"] = generated
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": metadata,
        "components": components,
        "vulnerabilities": [
            _vulnerability(items[0][1].vulnerability, items, lang) for items in by_vuln.values()
        ],
    }


def render(result: ScanResult, lang: str = "en") -> bytes:
    return orjson.dumps(vdr_dict(result, lang), option=orjson.OPT_INDENT_2) + b"\n"

"""SARIF 2.1.0: one rule per vulnerability, one result per finding and file that declares the component.

Where a result points (``locations[0].physicalLocation``), so that code-scanning annotations land where
the fix is made:

- a folder or a lockfile was scanned (or an SBOM whose components carry evidence occurrences): the
  lockfile or manifest that declares the component, ``uri`` relative to the scan root with
  ``uriBaseId`` ``%SRCROOT%`` (``run.originalUriBaseIds`` gives the root as a ``file:`` URI) and
  ``region.startLine`` when the file gives a line. A component declared in several files (two
  lockfiles of a monorepo) gives one result per file, since code scanning shows only the first
  location of a result;
- otherwise: the SBOM file, as given on the command line (an absolute path inside the working folder
  made relative to it).

``partialFingerprints`` hold the component, the vulnerability and (for a declaring file) that file, not
the line, so a result keeps its identity from run to run while the lockfile changes around it.
Warnings of a lenient SBOM read are ``invocations[0].toolExecutionNotifications``.

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

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from mamori import __version__
from mamori.model.references import web_url
from mamori.report.json_report import coverage_dict, triage_fields
from mamori.report.messages import text
from mamori.sbom.problems import message as warning_message
from mamori.scan.result import Finding, ScanResult, VulnerabilityInfo
from mamori.triage.texts import state_label

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _rule(v: VulnerabilityInfo, lang: str) -> dict[str, Any]:
    summary = v.summary(lang) or v.id
    rule: dict[str, Any] = {
        "id": v.id,
        "name": v.id.replace("-", ""),
        "shortDescription": {"text": (v.titles.get(lang) or v.titles.get("en") or summary)[:1000]},
        "fullDescription": {"text": summary[:4000]},
        "defaultConfiguration": {"level": _LEVEL.get(v.rating, "note")},
        "properties": {
            "tags": list(dict.fromkeys(["security", "vulnerability", *v.cwes])),  # SARIF: unique
            "aliases": v.aliases,
            "sources": v.sources,
        },
    }
    link = next((r.url for r in v.references if web_url(r.url)), None)
    if link:  # http(s) only: an advisory's javascript:, data: or file: reference is never a link
        rule["helpUri"] = link
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


def relative_uri(location: str) -> str | None:
    """``location`` as a URI reference relative to the scan root, or None when it is not a plain
    relative path (absolute, a URL, climbing out with ``..``: an SBOM's evidence is input too)."""
    text_ = location.replace("\\", "/").strip()
    parts = text_.split("/")
    if not text_ or text_.startswith("/") or _SCHEME.match(text_) or ".." in parts:
        return None
    return quote("/".join(p for p in parts if p not in ("", ".")), safe="/-._~@+")


def declaring_files(f: Finding) -> list[tuple[str, int | None]]:
    """(uri relative to the scan root, first line or None) of each file that declares the component."""
    files: dict[str, int | None] = {}
    for occurrence in f.component.occurrences:
        uri = relative_uri(occurrence.location)
        if not uri:
            continue
        line = occurrence.line if occurrence.line is not None and occurrence.line >= 1 else None
        known = files.get(uri)
        if uri not in files or (line is not None and (known is None or line < known)):
            files[uri] = line
    return list(files.items())


def target_uri(target: str) -> str:
    """The scanned SBOM file as a result's location: as given, an absolute path inside the working
    folder made relative to it (code scanning resolves relative paths from the repository root)."""
    path = Path(target)
    if path.is_absolute():
        try:
            return quote(path.resolve().relative_to(Path.cwd().resolve()).as_posix(), safe="/-._~@+")
        except (ValueError, OSError):
            pass
    return target.replace("\\", "/")


def _physical(uri: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT}}
    if line is not None:
        physical["region"] = {"startLine": line}
    return physical


def sarif_dict(result: ScanResult, lang: str = "en") -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    rooted = False
    for f in result.findings:
        v = f.vulnerability
        if v.id not in index:
            index[v.id] = len(rules)
            rules.append(_rule(v, lang))
        logical = [{"name": f.component.label, "fullyQualifiedName": f.component.purl or f.component.label}]
        identity = f"{f.component.purl or f.component.label}|{v.id}"
        files = declaring_files(f) if result.root else []
        rooted = rooted or bool(files)
        places: list[tuple[dict[str, Any], str]] = [
            ({"physicalLocation": _physical(uri, line), "logicalLocations": logical}, f"{identity}|{uri}")
            for uri, line in files
        ] or [
            (
                {
                    "physicalLocation": {"artifactLocation": {"uri": target_uri(result.target)}},
                    "logicalLocations": logical,
                },
                identity,
            )
        ]
        for location, fingerprint in places:
            results.append(
                {
                    "ruleId": v.id,
                    "ruleIndex": index[v.id],
                    "level": _LEVEL.get(v.rating, "note"),
                    "message": {"text": _message(f, lang)},
                    "locations": [location],
                    "partialFingerprints": {"mamori/component-vulnerability": fingerprint},
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
    run: dict[str, Any] = {
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
    if result.filters is not None:
        run["properties"]["filters"] = result.filters
    ignored = (result.triage or {}).get("ignorefile")
    if ignored:
        run["properties"]["ignorefile"] = ignored
        run["invocations"][0].setdefault("toolExecutionNotifications", []).extend(
            {
                "level": "warning",
                "descriptor": {"id": "mamori/ignorefile/expired"},
                "message": {
                    "text": f"{ignored['path']} ({e['where']}): {e['id']} expired on {e['expired_at']}; "
                    "the entry no longer applies"
                },
            }
            for e in ignored["expired"]
        )
    if rooted:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": Path(result.root).resolve().as_uri().rstrip("/") + "/"}}
    if result.warnings:
        run["invocations"][0].setdefault("toolExecutionNotifications", []).extend(
            [
                {
                    "level": "warning",
                    "descriptor": {"id": w.code},
                    "message": {
                        "text": f"{w.component + ': ' if w.component else ''}{w.field}: "
                        + warning_message(lang, w.code, w.value, w.detail)
                    },
                    "locations": [
                        {"physicalLocation": {"artifactLocation": {"uri": w.file.replace("\\", "/")}}}
                    ],
                }
                for w in result.warnings
            ]
        )
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


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

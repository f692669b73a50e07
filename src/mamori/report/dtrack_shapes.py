"""mamori's portfolio in the JSON shapes of Dependency-Track's REST API v1 (``Project``, ``Finding``), so
that the clients and CI uploaders written for Dependency-Track read it unchanged.

A Dependency-Track *project* is a mamori product release: ``name`` is the product, ``version`` the
release, ``uuid`` the release's stable UUID (:func:`mamori.portfolio.uploads.release_uuid`). A finding's
component and vulnerability UUIDs are derived (UUID 5) from the project UUID and the component's
reference, and from the vulnerability id, so they stay the same from one request to the next.

Fields as Dependency-Track fills them: ``severity`` one of CRITICAL, HIGH, MEDIUM, LOW, INFO, UNASSIGNED;
``lastBomImport`` and other times in milliseconds since the epoch; ``analysis.state`` from mamori's
triage status (open → NOT_SET, under_investigation → IN_TRIAGE, affected → EXPLOITABLE, not_affected →
NOT_AFFECTED, fixed → RESOLVED); a finding a triage record or VEX statement calls not_affected or fixed
is ``isSuppressed`` (it is out of the gate, as in ``mamori scan``); ``metrics`` count the open findings
in the gate per severity, and ``suppressed`` the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from packageurl import PackageURL
from sqlalchemy import func, select

from mamori.model.vulnerability import Vulnerability
from mamori.portfolio import tables as t
from mamori.portfolio.upload_tables import UploadRow
from mamori.store import Store

NAMESPACE = uuid.UUID("5b0c8f5e-3a0e-5d7c-9a53-6d616d6f7269")  # mamori's namespace of derived UUIDs
SEVERITY = {
    "critical": "CRITICAL",
    "high": "HIGH",
    "medium": "MEDIUM",
    "low": "LOW",
    "none": "INFO",
    "unknown": "UNASSIGNED",
}
SEVERITY_RANK = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "INFO": 4, "UNASSIGNED": 5}
ANALYSIS_STATE = {
    "open": "NOT_SET",
    "under_investigation": "IN_TRIAGE",
    "affected": "EXPLOITABLE",
    "not_affected": "NOT_AFFECTED",
    "fixed": "RESOLVED",
}
FORMAT_NAMES = {"cyclonedx": "CycloneDX", "spdx": "SPDX"}


def millis(timestamp: str | None) -> int | None:
    """An ISO 8601 time (as the store keeps them) in milliseconds since the epoch."""
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def derived_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def _format_name(fmt: str | None, spec_version: str | None) -> str | None:
    if not fmt:
        return None
    family = next((name for key, name in FORMAT_NAMES.items() if fmt.startswith(key)), fmt)
    return f"{family} {spec_version}" if spec_version else family


def releases(store: Store, name: str | None = None, release_id: int | None = None) -> list[dict[str, Any]]:
    """Every release (of the product ``name``, or the one release, if given) with what a project carries:
    ids, product, version, created, its current SBOM's format and import time (that of the latest upload
    when it is later: the same SBOM uploaded again is an import all the same)."""
    p, r, s = t.ProductRow.__table__, t.ReleaseRow.__table__, t.SbomRow.__table__
    u = UploadRow.__table__
    stmt = (
        select(
            r.c.id,
            r.c.product_id,
            p.c.name,
            p.c.supplier,
            r.c.version,
            r.c.created_at,
            s.c.format,
            s.c.spec_version,
            s.c.imported_at,
            s.c.components,
        )
        .join(p, p.c.id == r.c.product_id)
        .outerjoin(s, s.c.id == r.c.current_sbom_id)
        .order_by(p.c.name, r.c.id)
    )
    if name is not None:
        stmt = stmt.where(p.c.name == name)
    if release_id is not None:
        stmt = stmt.where(r.c.id == release_id)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
        ids = [row.id for row in rows]
        uploads = (
            dict(
                conn.execute(
                    select(u.c.release_id, func.max(u.c.finished_at))
                    .where(u.c.state == "done", u.c.release_id.in_(ids))
                    .group_by(u.c.release_id)
                ).all()
            )
            if ids
            else {}
        )
        newest = dict(conn.execute(select(r.c.product_id, func.max(r.c.id)).group_by(r.c.product_id)).all())
    return [
        {
            "release_id": row.id,
            "product_id": row.product_id,
            "product": row.name,
            "supplier": row.supplier,
            "version": row.version,
            "created_at": row.created_at,
            "format": _format_name(row.format, row.spec_version),
            "imported_at": max(filter(None, (row.imported_at, uploads.get(row.id))), default=None),
            "components": row.components or 0,
            "latest": newest.get(row.product_id) == row.id,
        }
        for row in rows
    ]


def project_uuids(store: Store, release_ids: Iterable[int]) -> dict[int, str]:
    """The stable UUID of each release, given one where it has none yet."""
    from mamori.portfolio.uploads import release_uuids

    return release_uuids(store, release_ids)


def metrics(release: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """Dependency-Track's ``ProjectMetrics`` from a release view's summary."""
    by = summary.get("by_rating", {})
    counts = {
        "critical": by.get("critical", 0),
        "high": by.get("high", 0),
        "medium": by.get("medium", 0),
        "low": by.get("low", 0),
        "unassigned": by.get("unknown", 0),
    }
    vulnerabilities = summary.get("open_findings", 0)
    suppressed = summary.get("not_affected_or_fixed", 0)
    stamp = millis(release["imported_at"]) or millis(release["created_at"]) or 0
    return {
        **counts,
        "vulnerabilities": vulnerabilities,
        "vulnerableComponents": summary.get("components_affected", 0),
        "components": release["components"],
        "suppressed": suppressed,
        "findingsTotal": vulnerabilities + suppressed,
        "findingsAudited": suppressed,
        "findingsUnaudited": vulnerabilities,
        "inheritedRiskScore": float(
            counts["critical"] * 10
            + counts["high"] * 5
            + counts["medium"] * 3
            + counts["low"]
            + counts["unassigned"] * 5
        ),
        "policyViolationsFail": 0,
        "policyViolationsWarn": 0,
        "policyViolationsInfo": 0,
        "policyViolationsTotal": 0,
        "firstOccurrence": millis(release["created_at"]) or stamp,
        "lastOccurrence": stamp,
    }


def project(release: dict[str, Any], project_uuid: str, summary: dict[str, Any] | None) -> dict[str, Any]:
    """Dependency-Track's ``Project`` for a release (:func:`releases`); with ``metrics`` when the release's
    summary is given (a list of projects leaves them out rather than show counts it did not read)."""
    out = {
        "uuid": project_uuid,
        "name": release["product"],
        "version": release["version"],
        "classifier": "APPLICATION",
        "active": True,
        "isLatest": release["latest"],
        "tags": [],
        "properties": [],
        "lastBomImport": millis(release["imported_at"]),
        "lastBomImportFormat": release["format"],
    }
    if summary is not None:
        counts = metrics(release, summary)
        out["metrics"] = counts
        out["lastInheritedRiskScore"] = counts["inheritedRiskScore"]
    return out


# Dependency-Track's alias field and vulnerability source of an id, by its prefix (else the last value)
_ALIAS_KEYS = (
    ("CVE-", "cveId"),
    ("GHSA-", "ghsaId"),
    ("GSD-", "gsdId"),
    ("SNYK-", "snykId"),
    ("JVNDB-", "internalId"),
)
_SOURCES = (("CVE-", "NVD"), ("GHSA-", "GITHUB"), ("JVNDB-", "JVN"))


def _by_prefix(identifier: str, table: tuple[tuple[str, str], ...], default: str) -> str:
    upper = identifier.upper()
    return next((value for prefix, value in table if upper.startswith(prefix)), default)


def _alias_key(identifier: str) -> str:
    return _by_prefix(identifier, _ALIAS_KEYS, "osvId")


def source_of(identifier: str) -> str:
    """The Dependency-Track ``source`` a vulnerability id belongs to."""
    return _by_prefix(identifier, _SOURCES, "OSV")


def aliases(vuln_id: str, others: Iterable[str]) -> list[dict[str, str]]:
    """Dependency-Track's alias pairs: the finding's own id beside each of its aliases."""
    own = _alias_key(vuln_id)
    out = []
    for other in others:
        pair = {own: vuln_id}
        pair[_alias_key(other)] = other
        out.append(pair)
    return out


def _cwe(identifier: str) -> int | None:
    digits = identifier.upper().removeprefix("CWE-")
    return int(digits) if digits.isdigit() else None


def _scores(v: Vulnerability | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if v is None:
        return out
    for method, score_key, vector_key in (
        ("CVSS_V3", "cvssV3BaseScore", "cvssV3Vector"),
        ("CVSS_V2", "cvssV2BaseScore", "cvssV2Vector"),
        ("CVSS_V4", "cvssV4Score", "cvssV4Vector"),
    ):
        found = [s for s in v.severities if s.method == method and s.score is not None]
        if found:
            best = max(found, key=lambda s: s.score or 0.0)
            out[score_key], out[vector_key] = best.score, best.vector
    if v.epss:
        best_epss = max(v.epss, key=lambda e: e.score)
        out["epssScore"], out["epssPercentile"] = best_epss.score, best_epss.percentile
    cwes = [c for c in (_cwe(x) for x in v.cwes) if c is not None]
    if cwes:
        out["cweId"] = cwes[0]
        out["cwes"] = [{"cweId": c} for c in cwes]
    return out


def _text(texts: dict[str, str], lang: str) -> str | None:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), None)


def _group(purl: str | None) -> str | None:
    if not purl:
        return None
    try:
        return PackageURL.from_string(purl).namespace or None
    except ValueError:
        return None


def finding(
    item: dict[str, Any],
    release: dict[str, Any],
    project_uuid: str,
    vulnerability: Vulnerability | None,
    lang: str,
) -> dict[str, Any]:
    """Dependency-Track's ``Finding`` for one finding of a release view (:func:`mamori.portfolio.views.release`)."""
    comp, vuln = item["component"], item["vulnerability"]
    component_uuid = derived_uuid(project_uuid, comp["ref"])
    vuln_uuid = derived_uuid("vulnerability", vuln["id"])
    severity = SEVERITY.get(vuln["rating"], "UNASSIGNED")
    body: dict[str, Any] = {
        "uuid": vuln_uuid,
        "vulnId": vuln["id"],
        "source": source_of(vuln["id"]),
        "aliases": aliases(vuln["id"], vuln["aliases"]),
        "severity": severity,
        "severityRank": SEVERITY_RANK[severity],
        "isKev": vuln["kev"],
    }
    if vulnerability is not None:
        title = _text(vulnerability.titles, lang)
        description = _text(vulnerability.summaries, lang)
        if title:
            body["title"] = title
        if description:
            body["description"] = description
        if vulnerability.published:
            body["published"] = millis(vulnerability.published)
    body.update(_scores(vulnerability))
    if "cvssV3BaseScore" not in body and "cvssV2BaseScore" not in body and vuln["score"] is not None:
        body["cvssV3BaseScore"] = vuln["score"]
    if item["fixed_versions"]:
        body["recommendation"] = ", ".join(item["fixed_versions"])
        body["patchedVersions"] = ", ".join(item["fixed_versions"])
    return {
        "component": {
            "uuid": component_uuid,
            "name": comp["name"],
            "group": _group(comp["purl"]),
            "version": comp["version"],
            "purl": comp["purl"],
            "project": project_uuid,
            "projectName": release["product"],
            "projectVersion": release["version"],
        },
        "vulnerability": body,
        "analysis": {
            "state": ANALYSIS_STATE.get(item["status"], "NOT_SET"),
            "isSuppressed": not item["in_gate"],
        },
        "attribution": {
            "analyzerIdentity": "INTERNAL_ANALYZER",
            "attributedOn": millis(item["first_seen"]),
            "alternateIdentifier": item["match"]["method"],
        },
        "matrix": f"{project_uuid}:{component_uuid}:{vuln_uuid}",
    }


def findings(
    store: Store, release: dict[str, Any], project_uuid: str, suppressed: bool, lang: str
) -> list[dict[str, Any]]:
    """The release's open findings as Dependency-Track ``Finding`` objects (with the suppressed ones:
    those a triage record or VEX statement took out of the gate, when ``suppressed``)."""
    from mamori.portfolio.views import release as release_view
    from mamori.store import reader

    view = release_view(store, release["product"], release["version"], lang=lang)
    items = [f for f in view["findings"] if suppressed or f["in_gate"]]
    loaded: dict[str, Vulnerability | None] = {}
    with store.read() as conn:
        for item in items:
            vid = item["vulnerability"]["id"]
            if vid not in loaded:
                loaded[vid] = reader.load(conn, vid)
    return [finding(item, release, project_uuid, loaded[item["vulnerability"]["id"]], lang) for item in items]


def summary_of(store: Store, release: dict[str, Any]) -> dict[str, Any]:
    """The release view's summary (counts of open and suppressed findings per severity)."""
    from mamori.portfolio.views import release as release_view

    view = release_view(store, release["product"], release["version"])
    return dict(view["summary"])

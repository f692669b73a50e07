"""NVD CVE API 2.0 JSON: an API page / data feed (``vulnerabilities`` array) or one ``{"cve": ...}`` item."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.references import typed_reference
from mamori.model.timestamps import iso_date, iso_utc
from mamori.model.vulnerability import (
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    Kev,
    Severity,
    SourceRef,
    Vulnerability,
)
from mamori.vulndb import shapes
from mamori.vulndb.rejected import Rejected, guarded
from mamori.vulndb.severity import make_severity

SOURCE = "nvd"
_METRIC_KEYS = ("cvssMetricV2", "cvssMetricV30", "cvssMetricV31", "cvssMetricV40")


def _severities(metrics: dict[str, Any]) -> list[Severity]:
    out: list[Severity] = []
    for key in _METRIC_KEYS:
        for metric in metrics.get(key) or []:
            data = metric.get("cvssData") or {}
            vector = data.get("vectorString")
            if not isinstance(vector, str):
                continue
            out.append(
                make_severity(
                    vector,
                    source=SOURCE,
                    version=str(data.get("version") or "") or None,
                    source_score=data.get("baseScore"),
                    source_rating=data.get("baseSeverity") or metric.get("baseSeverity"),
                    provider=metric.get("source"),
                    kind=metric.get("type"),
                )
            )
    return out


def _configurations(entries: list[dict[str, Any]], record_id: str) -> list[CpeConfiguration]:
    out: list[CpeConfiguration] = []
    for config in entries:
        nodes = [
            CpeNode(
                operator=node.get("operator") or "OR",
                negate=bool(node.get("negate")),
                matches=[
                    CpeMatch(
                        criteria=m["criteria"],
                        vulnerable=bool(m.get("vulnerable", True)),
                        version_start_including=m.get("versionStartIncluding"),
                        version_start_excluding=m.get("versionStartExcluding"),
                        version_end_including=m.get("versionEndIncluding"),
                        version_end_excluding=m.get("versionEndExcluding"),
                        match_criteria_id=m.get("matchCriteriaId"),
                    )
                    for m in node.get("cpeMatch") or []
                    if isinstance(m.get("criteria"), str)
                ],
            )
            for node in config.get("nodes") or []
        ]
        out.append(
            CpeConfiguration(nodes, config.get("operator"), bool(config.get("negate")), SOURCE, record_id)
        )
    return out


def parse_cve(cve: Any, name: str) -> Vulnerability:
    """The ``cve`` object of one NVD item → :class:`Vulnerability`."""
    if not isinstance(cve, dict):
        raise InputError(name, _("NVD item has no cve.id"))
    shapes.NVD.check(cve, name, cve["id"].strip() if isinstance(cve.get("id"), str) else "")
    if not isinstance(cve.get("id"), str):
        raise InputError(name, _("NVD item has no cve.id"))
    record_id = cve["id"].strip()
    try:
        status = cve.get("vulnStatus")
        published, modified = iso_utc(cve.get("published")), iso_utc(cve.get("lastModified"))
        withdrawn = modified if status == "Rejected" else None
        descriptions = {
            d["lang"]: d["value"]
            for d in cve.get("descriptions") or []
            if d.get("lang") == "en" and isinstance(d.get("value"), str)
        }
        cwes = sorted(
            {
                d["value"]
                for w in cve.get("weaknesses") or []
                for d in w.get("description") or []
                if str(d.get("value", "")).startswith("CWE-")
            }
        )
        kev = []
        if cve.get("cisaExploitAdd"):
            kev.append(
                Kev(
                    cve_id=record_id,
                    date_added=iso_date(cve.get("cisaExploitAdd")),
                    due_date=iso_date(cve.get("cisaActionDue")),
                    name=cve.get("cisaVulnerabilityName"),
                    required_action=cve.get("cisaRequiredAction"),
                    source=SOURCE,
                )
            )
        return Vulnerability(
            id=record_id,
            sources=[SourceRef(SOURCE, record_id, "", published, modified, withdrawn, status)],
            summaries=descriptions,
            published=published,
            modified=modified,
            withdrawn=withdrawn,
            severities=_severities(cve.get("metrics") or {}),
            cwes=cwes,
            references=[
                typed_reference(r["url"], r.get("tags"), SOURCE)
                for r in cve.get("references") or []
                if isinstance(r.get("url"), str)
            ],
            cpe_configurations=_configurations(cve.get("configurations") or [], record_id),
            kev=kev,
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise InputError(
            name,
            _("{record_id}: malformed NVD record ({kind}: {exc})").format(
                record_id=record_id, kind=type(exc).__name__, exc=exc
            ),
        ) from None


def _label(cve: Any, index: int) -> str:
    rid = cve.get("id") if isinstance(cve, dict) else None
    return rid.strip() if shapes.usable_label(rid) else f"vulnerabilities[{index}]"


def parse_document(doc: Any, name: str) -> Iterator[Vulnerability | Rejected]:
    """An API page or feed (a bad item is :class:`Rejected`, the others are read) or one item."""
    if isinstance(doc, dict) and isinstance(doc.get("vulnerabilities"), list):
        for i, item in enumerate(doc["vulnerabilities"]):
            cve = item.get("cve") if isinstance(item, dict) else None
            yield guarded(name, _label(cve, i), lambda cve=cve: parse_cve(cve, name))
    elif isinstance(doc, dict) and "cve" in doc:
        yield guarded(name, _label(doc["cve"], 0), lambda: parse_cve(doc["cve"], name))
    else:
        raise InputError(name, _("not an NVD CVE API 2.0 document (no 'vulnerabilities' or 'cve')"))


def looks_like(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    if isinstance(doc.get("cve"), dict):
        return True
    items = doc.get("vulnerabilities")
    return isinstance(items, list) and (not items or (isinstance(items[0], dict) and "cve" in items[0]))

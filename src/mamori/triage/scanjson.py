"""Read back the JSON report of ``mamori scan --format json`` into a :class:`ScanResult` for triage."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.scan.result import (
    ComponentRef,
    EpssInfo,
    Evidence,
    Finding,
    KevInfo,
    ReferenceInfo,
    ScanResult,
    SeverityInfo,
    SourceInfo,
    VulnerabilityInfo,
)


def looks_like_scan(obj: Any) -> bool:
    return isinstance(obj, Mapping) and isinstance(obj.get("findings"), list) and "target" in obj


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _vulnerability(raw: Mapping[str, Any]) -> VulnerabilityInfo:
    vid = _str(raw.get("id"))
    if vid is None:
        raise ValueError("vulnerability without id")
    aliases = [str(a) for a in raw.get("aliases") or []]
    cve = next((i for i in (vid, *aliases) if i.startswith("CVE-")), vid)
    info = VulnerabilityInfo(id=vid, aliases=aliases, sources=[str(s) for s in raw.get("sources") or []])
    if _str(raw.get("summary")):
        info.summaries = {"en": raw["summary"]}
    sev = raw.get("severity")
    if isinstance(sev, Mapping) and _str(sev.get("vector")):
        info.severity = SeverityInfo(
            version=str(sev.get("version") or ""),
            vector=sev["vector"],
            score=_num(sev.get("score")),
            rating=str(sev.get("rating") or "unknown").lower(),
        )
    info.cwes = [str(c) for c in raw.get("cwe") or []]
    kev = raw.get("kev")
    if isinstance(kev, Mapping):
        info.kev = KevInfo(
            str(kev.get("cve_id") or cve),
            _str(kev.get("date_added")),
            _str(kev.get("due_date")),
            _str(kev.get("known_ransomware_use")),
            str(kev.get("source") or "kev"),
        )
    elif kev is True:
        info.kev = KevInfo(cve)
    epss = raw.get("epss")
    if isinstance(epss, Mapping) and _num(epss.get("score")) is not None:
        info.epss = EpssInfo(
            str(epss.get("cve_id") or cve),
            float(epss["score"]),
            _num(epss.get("percentile")) or 0.0,
            _str(epss.get("date")),
        )
    for ref in raw.get("references") or []:
        if isinstance(ref, Mapping) and _str(ref.get("url")):
            info.references.append(ReferenceInfo(ref["url"], str(ref.get("type") or "WEB")))
        elif _str(ref):
            info.references.append(ReferenceInfo(ref))
    return info


def scan_result_from_json(obj: Any, path: str | Path) -> ScanResult:
    """A :class:`ScanResult` from a parsed scan JSON report; InputError names the file and the finding."""
    if not looks_like_scan(obj):
        raise InputError(path, _("not a mamori scan JSON report (no 'target' and 'findings')"))
    sbom = obj.get("sbom") if isinstance(obj.get("sbom"), Mapping) else {}
    sources = (obj.get("database") or {}).get("sources") if isinstance(obj.get("database"), Mapping) else {}
    result = ScanResult(
        target=str(obj.get("target") or ""),
        sbom_format=str(sbom.get("format") or ""),
        components=int(sbom.get("components") or 0),
        sources={
            str(k): SourceInfo(int(v.get("records") or 0), _str(v.get("updated")))
            for k, v in (sources or {}).items()
            if isinstance(v, Mapping)
        },
    )
    for n, raw in enumerate(obj["findings"]):
        try:
            comp = raw["component"]
            match = raw.get("match") or {}
            finding = Finding(
                component=ComponentRef(
                    name=str(comp.get("name") or ""),
                    version=_str(comp.get("version")),
                    purl=_str(comp.get("purl")),
                    cpe=_str(comp.get("cpe")),
                ),
                vulnerability=_vulnerability(raw["vulnerability"]),
                evidence=[
                    Evidence(
                        str(match.get("method") or ""),
                        str(match.get("confidence") or ""),
                        str(match.get("detail") or ""),
                        "",
                        "",
                    )
                ],
                fixed_versions=[str(v) for v in raw["vulnerability"].get("fixed_versions") or []],
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InputError(
                path,
                _("findings[{n}]: not a scan finding ({error}: {exc})").format(
                    n=n, error=type(exc).__name__, exc=exc
                ),
            ) from None
        result.findings.append(finding)
    return result

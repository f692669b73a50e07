"""Build a :class:`ScanResult`: read (or generate) the SBOM, match it, merge findings, enrich."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.match import Matcher
from mamori.match.finding import build_findings, not_evaluated
from mamori.model.sbom import Component, Document
from mamori.scan.result import ScanResult, SourceInfo
from mamori.store import Store

GENERATED = "generated"  # sbom.format of a folder scanned through `sbom generate`


def load_target(path: Path) -> tuple[Document, str]:
    """An SBOM file in any format mamori reads, or a folder turned into an SBOM first."""
    from mamori import sbom

    if path.is_dir():
        from mamori.sbom.generate import generate

        return generate(path), GENERATED
    fmt = sbom.detect_format(read_bytes(path), path)
    return sbom.read(path, fmt=fmt), fmt


def unique_components(doc: Document) -> list[Component]:
    """Every component (root excluded), identical ones (same purl, name, version, CPEs) once."""
    seen: set[tuple[object, ...]] = set()
    out: list[Component] = []
    for comp in doc.all_components():
        key = (comp.purl, comp.group, comp.name, comp.version, tuple(comp.cpes))
        if key not in seen:
            seen.add(key)
            out.append(comp)
    return out


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def scan_components(
    components: Iterable[Component], matcher: Matcher, *, target: str, sbom_format: str
) -> ScanResult:
    comps = list(components)
    knowledge = matcher.knowledge
    output = matcher.match(comps)
    records = knowledge.vulnerabilities({h.vuln_id for h in output.hits})
    infos = matcher.shared.setdefault("infos", {})
    cves = {c for r in records.values() for c in r.cve_ids()}
    kev, epss = knowledge.kev(cves), knowledge.epss(cves)
    status = knowledge.status()
    return ScanResult(
        target=target,
        sbom_format=sbom_format,
        components=len(comps),
        sources={
            name: SourceInfo(int(info.get("records") or 0), info.get("updated_at"))
            for name, info in status.get("sources", {}).items()
        },
        findings=build_findings(comps, output, records, kev, epss, infos),
        not_evaluated=not_evaluated(comps, output),
        generated_at=_now(),
        database=str(status.get("database") or ""),
    )


def scan_document(
    doc: Document, store: Store, *, target: str, sbom_format: str, matcher: Matcher | None = None
) -> ScanResult:
    """Match one SBOM; pass a kept :class:`Matcher` to reuse its caches across scans.

    The warnings of a lenient read (``doc.warnings``) travel with the result.
    """
    result = scan_components(
        unique_components(doc), matcher or Matcher(store), target=target, sbom_format=sbom_format
    )
    result.warnings = list(doc.warnings)
    return result


def scan_path(path: Path, store: Store, matcher: Matcher | None = None) -> ScanResult:
    if not path.exists():
        raise InputError(path, "file not found")
    doc, fmt = load_target(path)
    return scan_document(doc, store, target=str(path), sbom_format=fmt, matcher=matcher)

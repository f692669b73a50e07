"""Build a :class:`ScanResult`: read (or generate) the SBOM, match it, merge findings, enrich."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _
from mamori.match import Matcher
from mamori.model.sbom import PROJECT_PATH, Component, Document
from mamori.scan.coverage import DEFAULT_MAX_AGE, scan_coverage
from mamori.scan.finding import build_findings, not_evaluated
from mamori.scan.result import ScanResult, SourceInfo
from mamori.store import Store

GENERATED = "generated"  # sbom.format of a folder or lockfile scanned through `sbom generate`


def lockfile_for(path: Path, data: bytes) -> Path | None:
    """The lockfile or manifest to generate from when ``path`` is one mamori reads (by its name, the
    same table `sbom generate` uses), unless its content is a CycloneDX or SPDX SBOM; None otherwise.
    A go.sum stands for the go.mod beside it (go.sum lists checksums, go.mod the build)."""
    from mamori.sbom.detect import has_sbom_signature

    if path.name == "go.sum":
        gomod = path.with_name("go.mod")
        if not gomod.is_file():
            raise InputError(
                path, _("go.sum lists module checksums, not what is built: scan the go.mod beside it")
            )
        return gomod
    if has_sbom_signature(data):  # first: an SBOM needs no lockfile readers (nor their import)
        return None
    from mamori.sbom.generate import registry

    return None if registry.spec_for(path) is None else path


def load_target(path: Path) -> tuple[Document, str]:
    """A folder or a lockfile/manifest (turned into an SBOM first, see :func:`lockfile_for`), or an SBOM
    file in any format mamori reads."""
    from mamori import sbom

    if path.is_dir():
        from mamori.sbom.generate import generate

        return generate(path), GENERATED
    data = read_bytes(path)  # missing, a FIFO, a device: one line naming what it is
    lockfile = lockfile_for(path, data)
    if lockfile is not None:
        from mamori.sbom.generate import generate

        return generate(lockfile), GENERATED
    fmt = sbom.detect_format(data, path)
    return sbom.read(path, fmt=fmt), fmt


def scan_root(target: str) -> str:
    """The folder a result's file locations are relative to: the target folder itself, else the folder of
    the target file; "" when the target is no path on this machine."""
    path = Path(target)
    try:
        if path.is_dir():
            return str(path)
        if path.is_file():
            return str(path.parent)
    except OSError:
        return ""
    return ""


def unique_components(doc: Document) -> list[Component]:
    """Every component but the root and the user's own sub-projects of a scanned folder (``sbom generate``
    marks them: they are what is being built, not what it depends on), identical ones (same purl, name,
    version, CPEs) once."""
    seen: set[tuple[object, ...]] = set()
    out: list[Component] = []
    for comp in doc.all_components():
        if comp.property(PROJECT_PATH) is not None:
            continue
        key = (comp.purl, comp.group, comp.name, comp.version, tuple(comp.cpes))
        if key not in seen:
            seen.add(key)
            out.append(comp)
    return out


def _stamp(at: datetime) -> str:
    return at.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def scan_components(
    components: Iterable[Component],
    matcher: Matcher,
    *,
    target: str,
    sbom_format: str,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
) -> ScanResult:
    """Match the components; ``max_age``: a complete feed older than this is stale (None: no check)."""
    comps = list(components)
    now = datetime.now(UTC)
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
        generated_at=_stamp(now),
        database=str(status.get("database") or ""),
        coverage=scan_coverage(matcher, output.targets, output, now=now, max_age=max_age),
    )


def scan_document(
    doc: Document,
    store: Store,
    *,
    target: str,
    sbom_format: str,
    matcher: Matcher | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
) -> ScanResult:
    """Match one SBOM; pass a kept :class:`Matcher` to reuse its caches across scans.

    The warnings of a lenient read (``doc.warnings``) travel with the result.
    """
    result = scan_components(
        unique_components(doc),
        matcher or Matcher(store),
        target=target,
        sbom_format=sbom_format,
        max_age=max_age,
    )
    result.warnings = list(doc.warnings)
    result.root = scan_root(target)
    return result


def scan_path(
    path: Path, store: Store, matcher: Matcher | None = None, max_age: timedelta | None = DEFAULT_MAX_AGE
) -> ScanResult:
    if not path.exists():
        raise InputError(path, _("file not found"))
    doc, fmt = load_target(path)
    return scan_document(doc, store, target=str(path), sbom_format=fmt, matcher=matcher, max_age=max_age)

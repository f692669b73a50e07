"""Artifacts mamori holds that can serve as evidence: SBOMs per release, scan reports, VEX, triage records.

:class:`ArtifactSource` is the one interface the evidence proposer uses: ``artifacts(scope)`` lists what a
source holds for a scope (a product and release). :class:`FileArtifacts` reads files named on the command line
(an SBOM in any format mamori reads, a ``mamori scan`` JSON report, a VEX document) and learns the facts the
evidence map's rules test (NTIA minimum elements met, standard format, components, findings, statements).
:class:`StoreTriage` lists the triage records the store holds for the releases the scope names. Sources over
further store tables (SBOMs per release, scan runs) implement the same protocol when those tables exist.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from mamori.compliance.evidence import sha256_file
from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import gettext

STANDARD_SPECS = ("cyclonedx", "spdx", "spdx-lite")


@dataclass(frozen=True)
class Artifact:
    kind: str  # sbom | scan | vex | triage
    ref: str  # "sbom:/abs/path" for a file, "store:sbom/42" for a stored one
    sha256: str | None
    subject: str | None  # what the artifact is about (product name and version), when it says
    facts: dict[str, Any] = field(default_factory=dict)

    def matches_scope(self, scope: str) -> bool | None:
        """Whether the artifact's product name appears in the scope text (None when it names none)."""
        name = self.facts.get("subject_name")
        if not name:
            return None
        return str(name).casefold() in scope.casefold()


class ArtifactSource(Protocol):
    def artifacts(self, scope: str) -> list[Artifact]:
        """The artifacts this source holds for ``scope``."""
        ...


class FileArtifacts:
    """Artifacts given as files; each is read and checked when listed (bad files raise InputError)."""

    def __init__(
        self,
        sboms: list[Path] = (),
        scans: list[Path] = (),
        vexes: list[Path] = (),  # type: ignore[assignment]
    ) -> None:
        self.sboms, self.scans, self.vexes = list(sboms), list(scans), list(vexes)

    def artifacts(self, scope: str) -> list[Artifact]:
        return (
            [sbom_artifact(p) for p in self.sboms]
            + [scan_artifact(p) for p in self.scans]
            + [vex_artifact(p) for p in self.vexes]
        )


def _ref(kind: str, path: Path) -> str:
    return f"{kind}:{path.resolve()}"


def sbom_artifact(path: Path) -> Artifact:
    from mamori.sbom import formats
    from mamori.sbom.check import check_document

    fmt = formats.detect_format(read_bytes(path), path)
    doc = formats.read(path, fmt=fmt)
    report = check_document(doc, file=str(path), fmt=fmt)
    root = doc.root
    name = root.name if root is not None else doc.name
    version = root.version if root is not None else None
    digest, _ = sha256_file(path)
    facts = {
        "format": fmt,
        "spec": doc.spec,
        "spec_version": doc.spec_version,
        "components": report.components,
        "ntia_pass": report.ntia.passed,
        "ntia_score": report.ntia.score,
        "standard_format": doc.spec in STANDARD_SPECS,
        "subject_name": name,
    }
    subject = f"{name} {version}".strip() if name else None
    return Artifact("sbom", _ref("sbom", path), digest, subject, facts)


def scan_artifact(path: Path) -> Artifact:
    """A ``mamori scan --format json`` report: ``{"target", "sbom": {...}, "findings": [...], ...}``."""
    try:
        data = orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise InputError(path, gettext("not JSON: {exc}").format(exc=exc)) from None
    if not (isinstance(data, dict) and isinstance(data.get("findings"), list) and "sbom" in data):
        raise InputError(
            path, gettext("not a mamori scan report (a JSON object with target, sbom and findings)")
        )
    findings = data["findings"]
    sbom = data.get("sbom") if isinstance(data.get("sbom"), dict) else {}
    not_evaluated = data.get("not_evaluated")
    coverage = data.get("coverage") if isinstance(data.get("coverage"), dict) else {}
    kev = sum(
        1
        for f in findings
        if isinstance(f, dict) and isinstance(f.get("vulnerability"), dict) and f["vulnerability"].get("kev")
    )
    target = data.get("target")
    facts = {
        "findings": len(findings),
        # each finding's vulnerability names (id and aliases, case-folded): what a VEX statement must name
        "finding_vulns": [_vuln_names(f) for f in findings if isinstance(f, dict)],
        "kev_findings": kev,
        "components": sbom.get("components"),
        "not_evaluated": len(not_evaluated) if isinstance(not_evaluated, list) else 0,
        # every component evaluated, against a knowledge base that was neither empty nor stale
        "all_evaluated": not not_evaluated and coverage.get("complete") is not False,
        "subject_name": Path(str(target)).stem.split(".")[0] if target else None,
    }
    digest, _ = sha256_file(path)
    return Artifact("scan", _ref("scan", path), digest, str(target) if target else None, facts)


def _vuln_names(finding: dict[str, Any]) -> list[str]:
    vuln = finding.get("vulnerability")
    if not isinstance(vuln, dict):
        return []
    names = [vuln.get("id"), *(vuln.get("aliases") or [])]
    return sorted({str(n).strip().casefold() for n in names if isinstance(n, str) and n.strip()})


def vex_coverage(vex: Artifact, scans: list[Artifact]) -> tuple[int, int] | None:
    """(findings the VEX names, findings) over the scan reports given with it; None without a scan report.

    A finding is covered when a statement names its vulnerability (by id or alias)."""
    findings = [names for scan in scans for names in scan.facts.get("finding_vulns") or []]
    if not scans:
        return None
    named = set(vex.facts.get("vuln_names") or ())
    return sum(1 for names in findings if named.intersection(names)), len(findings)


def vex_artifact(path: Path) -> Artifact:
    from mamori import vex

    doc = vex.read(path)
    statuses = Counter(st.status for st in doc.statements)
    products = sorted({p.name for st in doc.statements for p in st.products if p.name})
    facts = {
        "statements": len(doc.statements),
        "has_statements": bool(doc.statements),
        "vuln_names": sorted(
            {
                name.strip().casefold()
                for st in doc.statements
                for name in (st.vulnerability.id, *st.vulnerability.aliases)
                if name and name.strip()
            }
        ),
        "statuses": dict(statuses),
        "format": doc.source_format,
        "subject_name": products[0] if len(products) == 1 else None,
    }
    digest, _ = sha256_file(path)
    subject = ", ".join(products[:3]) if products else None
    return Artifact("vex", _ref("vex", path), digest, subject, facts)


class StoreTriage:
    """Triage records in the store (table ``triage_record``, when the store has it) for the releases the scope
    names: one artifact per (product, release) whose product and release both appear in the scope text. The
    hash covers the records' current values, so a changed triage gives a new proposal."""

    TABLE = "triage_record"

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def artifacts(self, scope: str) -> list[Artifact]:
        from sqlalchemy import column, inspect, select, table

        if not inspect(self.engine).has_table(self.TABLE):
            return []
        names = ("product", "release", "component_purl", "vuln_id", "status", "justification", "detail", "at")
        records = table(self.TABLE, *(column(n) for n in names))
        wanted = scope.casefold()
        groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(select(records).order_by(*records.c)):
                product, release = str(row[0]), str(row[1])
                if product.casefold() in wanted and release.casefold() in wanted:
                    groups.setdefault((product, release), []).append(tuple(row))
        out = []
        for (product, release), rows in groups.items():
            digest = hashlib.sha256(orjson.dumps([list(map(str, r)) for r in rows])).hexdigest()
            statuses = Counter(str(r[4]) for r in rows)
            facts = {
                "records": len(rows),
                "statuses": dict(statuses),
                "subject_name": product,
            }
            ref = f"store:triage/{product}@{release}"
            out.append(Artifact("triage", ref, digest, f"{product} {release}", facts))
        return out

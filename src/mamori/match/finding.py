"""Hits → findings: one per (component, vulnerability), across sources and aliases.

- The store already merges records that share an identifier (CVE ↔ GHSA ↔ PYSEC ↔ GO …) into one
  vulnerability, so hits of one component on one merged id are one finding listing every id and
  source. A record that names several CVEs (a JVN entry) is kept apart by the store; when such a
  record hits a component that one of its CVEs also hits, it is folded into that CVE's finding
  (its id and source are listed there) instead of standing alone.
- Evidence is ordered by confidence: ``purl-range`` and ``purl-version-list`` **high** (same
  ecosystem and package name, version decided by the ecosystem's own rules or the record's own
  list), ``cpe-config`` **medium** (a CPE the SBOM declares; CPE names and vendor version strings
  are coarser than package identities), ``purl2cpe`` **low** (vendor:product guessed from the purl
  through purl2cpe; one purl may map to a whole product line). The finding's ``match`` is its best
  evidence.
- Fixed versions: every fix above the installed version the evidence found, nearest first (ordered
  with the component's ecosystem rules, else the generic rules).
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.match.ecosystems import GENERIC
from mamori.match.matcher import Hit, MatchOutput
from mamori.match.verdict import CPE_CONFIG, PURL2CPE, PURL_RANGE, PURL_VERSION_LIST
from mamori.match.versions import parse
from mamori.model.sbom import Component
from mamori.model.vulnerability import Epss, Kev, Vulnerability
from mamori.scan.describe import vulnerability_info
from mamori.scan.result import ComponentRef, Evidence, Finding, NotEvaluated
from mamori.vulndb import merge

CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}
METHOD_RANK = {PURL_RANGE: 0, PURL_VERSION_LIST: 1, CPE_CONFIG: 2, PURL2CPE: 3}


def component_ref(component: Component) -> ComponentRef:
    return ComponentRef(
        name=component.name,
        version=component.version,
        purl=component.purl,
        cpe=component.cpes[0] if component.cpes else None,
        bom_ref=component.bom_ref,
        group=component.group,
    )


def group_hits(hits: Sequence[Hit], records: dict[str, Vulnerability]) -> dict[int, dict[str, list[str]]]:
    """component → {finding's vuln id → [vuln ids whose hits it carries]} after folding."""
    per_component: dict[int, set[str]] = {}
    for h in hits:
        per_component.setdefault(h.component, set()).add(h.vuln_id)
    result: dict[int, dict[str, list[str]]] = {}
    for component, vuln_ids in per_component.items():
        groups = {vid: [vid] for vid in sorted(vuln_ids)}
        for vid in sorted(vuln_ids, key=lambda v: (merge.is_cve(v), v)):
            record = records.get(vid)
            if record is None or vid not in groups:
                continue
            named = {merge.key(i) for i in record.all_ids()}
            into = [other for other in groups if other != vid and merge.key(other) in named]
            if into and not merge.is_cve(vid):
                for other in into:
                    groups[other].extend(groups[vid])
                del groups[vid]
        result[component] = groups
    return result


def _evidence(h: Hit) -> Evidence:
    return Evidence(h.method, h.confidence, h.detail, h.source, h.record_id, h.fixed)


def _order_fixes(fixes: set[str], cls: type | None) -> list[str]:
    cls = cls or GENERIC

    def key(text: str) -> tuple[int, object]:
        parsed = parse(cls, text) or parse(GENERIC, text)
        return (0, parsed) if parsed is not None else (1, text)

    try:
        return sorted(fixes, key=key)
    except TypeError:
        return sorted(fixes)


def build_findings(
    components: Sequence[Component],
    output: MatchOutput,
    records: dict[str, Vulnerability],
    kev: dict[str, Kev],
    epss: dict[str, Epss],
) -> list[Finding]:
    """Findings in component order, most severe first within a component."""
    by_key: dict[tuple[int, str], list[Hit]] = {}
    for h in output.hits:
        by_key.setdefault((h.component, h.vuln_id), []).append(h)
    findings: list[Finding] = []
    refs = [component_ref(c) for c in components]
    for component, groups in sorted(group_hits(output.hits, records).items()):
        for members in groups.values():
            hits = [h for m in members for h in by_key.get((component, m), [])]
            member_records = [records[m] for m in members if m in records]
            if not hits or not member_records:
                continue
            evidence = sorted(
                {(h.method, h.detail, h.source, h.record_id): _evidence(h) for h in hits}.values(),
                key=lambda e: (CONFIDENCE_RANK[e.confidence], METHOD_RANK.get(e.method, 9), e.record_id),
            )
            fixes = {e.fixed for e in evidence if e.fixed}
            target = output.targets[component]
            findings.append(
                Finding(
                    component=refs[component],
                    vulnerability=vulnerability_info(member_records, kev, epss),
                    evidence=evidence,
                    fixed_versions=_order_fixes(fixes, target.cls),
                )
            )
    return findings


def not_evaluated(components: Sequence[Component], output: MatchOutput) -> list[NotEvaluated]:
    seen: set[tuple[int, str, str | None]] = set()
    out: list[NotEvaluated] = []
    for skip in output.skipped:
        key = (skip.component, skip.reason, skip.vuln_id)
        if key not in seen:
            seen.add(key)
            out.append(NotEvaluated(component_ref(components[skip.component]), skip.reason, skip.vuln_id))
    return out

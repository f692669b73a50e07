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
  through purl2cpe; one purl may map to a whole product line), ``purl2cpe-weak`` **weak** (through
  a purl2cpe link whose CPE product does not plausibly name the package: only with
  ``mamori scan --purl2cpe-weak``; the detail says why the link is weak). The finding's ``match`` is
  its best evidence.
- Fixed versions: every fix above the installed version the evidence found, nearest first (ordered
  with the component's ecosystem rules, else the generic rules).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from mamori.match.ecosystems import GENERIC
from mamori.match.matcher import Hit, MatchOutput
from mamori.match.verdict import CPE_CONFIG, PURL2CPE, PURL2CPE_WEAK, PURL_RANGE, PURL_VERSION_LIST
from mamori.match.versions import order_key, parse
from mamori.model import merge
from mamori.model.sbom import Component
from mamori.model.vulnerability import Epss, Kev, Vulnerability
from mamori.scan.describe import vulnerability_info
from mamori.scan.result import ComponentRef, Evidence, Finding, NotEvaluated, VulnerabilityInfo, reason_text

CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2, "weak": 3}
METHOD_RANK = {PURL_RANGE: 0, PURL_VERSION_LIST: 1, CPE_CONFIG: 2, PURL2CPE: 3, PURL2CPE_WEAK: 4}


def component_ref(component: Component) -> ComponentRef:
    return ComponentRef(
        name=component.name,
        version=component.version,
        purl=component.purl,
        cpe=component.cpes[0] if component.cpes else None,
        bom_ref=component.bom_ref,
        group=component.group,
        occurrences=list(component.occurrences),
    )


def group_hits(hits: Sequence[Hit], records: dict[str, Vulnerability]) -> dict[int, dict[str, list[str]]]:
    """component → {finding's vuln id → [vuln ids whose hits it carries]} after folding."""
    per_component: dict[int, set[str]] = {}
    for h in hits:
        per_component.setdefault(h.component, set()).add(h.vuln_id)
    result: dict[int, dict[str, list[str]]] = {}
    named: dict[str, set[str]] = {}
    for component, vuln_ids in per_component.items():
        in_order = sorted(vuln_ids)
        groups = {vid: [vid] for vid in in_order}
        if len(vuln_ids) == 1:
            result[component] = groups
            continue
        # the ids that may fold into another, in order: a CVE id never folds
        folding = [vid for vid in in_order if not merge.is_cve(vid)]
        keys = {vid: merge.key(vid) for vid in in_order} if folding else {}
        for vid in folding:
            record = records.get(vid)
            if record is None or vid not in groups:
                continue
            if vid not in named:
                named[vid] = {merge.key(i) for i in record.all_ids()}
            into = [other for other in groups if other != vid and keys[other] in named[vid]]
            if into:
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
        return (0, order_key(parsed)) if parsed is not None else (1, text)

    try:
        return sorted(fixes, key=key)
    except TypeError:
        return sorted(fixes)


def finding_groups(
    output: MatchOutput, records: dict[str, Vulnerability]
) -> Iterator[tuple[int, list[str], list[Vulnerability], list[Hit]]]:
    """What each finding is made of, in component order: the component's index, the vulnerability ids
    it carries (after folding, :func:`group_hits`), their records and their hits."""
    by_key: dict[tuple[int, str], list[Hit]] = {}
    for h in output.hits:
        by_key.setdefault((h.component, h.vuln_id), []).append(h)
    for component, groups in sorted(group_hits(output.hits, records).items()):
        for members in groups.values():
            hits = (
                by_key.get((component, members[0]), [])
                if len(members) == 1
                else [h for m in members for h in by_key.get((component, m), [])]
            )
            member_records = [records[m] for m in members if m in records]
            if hits and member_records:
                yield component, members, member_records, hits


def ranked_evidence(hits: list[Hit]) -> list[Evidence]:
    """A finding's evidence from its hits: one per (method, detail, source, record), best first."""
    if len(hits) == 1:
        return [_evidence(hits[0])]
    return sorted(
        {(h.method, h.detail, h.source, h.record_id): _evidence(h) for h in hits}.values(),
        key=lambda e: (CONFIDENCE_RANK[e.confidence], METHOD_RANK.get(e.method, 9), e.record_id),
    )


def fixed_versions(evidence: list[Evidence], cls: type | None) -> list[str]:
    """Every fix the evidence names, nearest first (``cls``: the component's version rules)."""
    fixes = {e.fixed for e in evidence if e.fixed}
    return _order_fixes(fixes, cls) if len(fixes) > 1 else list(fixes)


def build_findings(
    components: Sequence[Component],
    output: MatchOutput,
    records: dict[str, Vulnerability],
    kev: dict[str, Kev],
    epss: dict[str, Epss],
    infos: dict[Any, VulnerabilityInfo] | None = None,
) -> list[Finding]:
    """Findings in component order.

    ``infos`` caches the description of each vulnerability (keyed by its member ids) across
    findings and scans of one store generation; findings of one vulnerability share that object.
    """
    infos = {} if infos is None else infos
    findings: list[Finding] = []
    refs: dict[int, ComponentRef] = {}
    targets = output.targets
    for component, members, member_records, hits in finding_groups(output, records):
        if len(hits) == 1:  # most findings: ranked_evidence and fixed_versions of one hit, in place
            evidence = [_evidence(hits[0])]
            fixed = evidence[0].fixed
            fixes = [fixed] if fixed else []
        else:
            evidence = ranked_evidence(hits)
            fixes = fixed_versions(evidence, targets[component].cls)
        ref = refs.get(component)
        if ref is None:
            ref = refs[component] = component_ref(components[component])
        key = tuple(members)
        info = infos.get(key)
        if info is None:
            info = infos[key] = vulnerability_info(member_records, kev, epss)
        findings.append(Finding(component=ref, vulnerability=info, evidence=evidence, fixed_versions=fixes))
    return findings


def not_evaluated(components: Sequence[Component], output: MatchOutput) -> list[NotEvaluated]:
    """One note per (component, reason, record), with its reason code and the English words."""
    seen: set[tuple[int, str, tuple[tuple[str, str | int], ...], str | None]] = set()
    out: list[NotEvaluated] = []
    refs: dict[int, ComponentRef] = {}
    for skip in output.skipped:
        key = (skip.component, skip.code, skip.values, skip.vuln_id)
        if key in seen:
            continue
        seen.add(key)
        ref = refs.get(skip.component)
        if ref is None:
            ref = refs[skip.component] = component_ref(components[skip.component])
        values = dict(skip.values)
        out.append(NotEvaluated(ref, reason_text(skip.code, values), skip.vuln_id, skip.code, values))
    return out

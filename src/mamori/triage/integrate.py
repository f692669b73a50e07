"""Triage on a scan: SSVC and priority per finding (:func:`enrich`), VEX statements applied
(:func:`apply_vex`), the policy gate (:func:`evaluate_policy`).

The results are kept per finding in :class:`FindingTriage` (JSON-ready ``ssvc`` ``{table, outcome, inputs,
path, …}``, ``priority_score``, ``epss``, ``kev``, ``vex``); when the scan's :class:`Finding` type has fields
of those names they are filled too, so every report renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mamori.model.sbom import Component
from mamori.model.vex import VexDocument, VexProduct, VexStatement
from mamori.model.vulnerability import Vulnerability
from mamori.scan.result import ComponentRef, Finding, ScanResult
from mamori.triage import facts as facts_mod
from mamori.triage import policy as policy_mod
from mamori.triage.context import Context
from mamori.triage.engine import Subject, Triaged, triage
from mamori.triage.inputs import Input
from mamori.triage.variants import Variant
from mamori.vex.fields import iso
from mamori.vulndb import merge


@dataclass(slots=True)
class FindingTriage:
    """What triage adds to one finding."""

    ssvc: dict[str, Any] | None = None
    priority_score: float | None = None
    vex: dict[str, Any] | None = None
    triaged: Triaged | None = field(default=None, repr=False)

    @property
    def in_gate(self) -> bool:
        """False when a VEX statement says not_affected or fixed: the finding stays visible, outside the gate."""
        return not (self.vex and self.vex.get("status") in policy_mod.OUT_OF_GATE)


def _key(f: Finding) -> int:
    return id(f)


def _set_on_finding(f: Finding, **values: Any) -> None:
    names = {x.name for x in fields(f)}
    for name, value in values.items():
        if name in names:
            setattr(f, name, value)


def stored_records(store: Any, result: ScanResult) -> dict[str, Vulnerability]:
    """The full stored record of every finding (CISA ADP points, reference tags), read in bulk."""
    from mamori.match.knowledge import Knowledge

    ids = {f.vulnerability.id for f in result.findings}
    return Knowledge(store).vulnerabilities(ids) if ids else {}


def subjects(
    result: ScanResult, records: Mapping[str, Vulnerability] | None = None, product: str | None = None
) -> list[Subject]:
    kev_checked = "kev" in result.sources and result.sources["kev"].records > 0
    return [
        Subject(
            facts_mod.from_scan_finding(f, (records or {}).get(f.vulnerability.id), kev_checked=kev_checked),
            f.component,
            product,
        )
        for f in result.findings
    ]


def enrich(
    result: ScanResult,
    v: Variant,
    *,
    context: Context | None = None,
    set_values: Mapping[str, Input] | None = None,
    records: Mapping[str, Vulnerability] | None = None,
    product: str | None = None,
    lang: str = "en",
    extra: dict[int, FindingTriage] | None = None,
) -> dict[int, FindingTriage]:
    """SSVC decision and priority score for every finding; returns them by ``id(finding)``."""
    out = extra if extra is not None else {}
    subs = subjects(result, records, product)
    by_subject = {id(s): f for s, f in zip(subs, result.findings, strict=True)}
    for t in triage(subs, v, context, set_values):
        f = by_subject[id(t.subject)]
        entry = out.setdefault(_key(f), FindingTriage())
        entry.triaged = t
        entry.ssvc = t.assessment.ssvc_dict(lang)  # type: ignore[arg-type]
        entry.priority_score = t.score
        t.vex = entry.vex
        _set_on_finding(f, ssvc=entry.ssvc, priority_score=entry.priority_score)
    return out


# ------------------------------------------------------------------------------------------------ VEX


def _purl_parts(text: str | None) -> tuple[str, str | None] | None:
    """(purl without version, qualifiers, subpath; version) or None."""
    if not text:
        return None
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    base = PackageURL(p.type, p.namespace, p.name).to_string()
    return base, p.version


def _version_in(range_text: str, version: str | None) -> bool | None:
    """Whether ``version`` is inside a ``vers:`` range; None when that cannot be decided."""
    if not version:
        return None
    try:
        from univers.version_range import VersionRange

        vr = VersionRange.from_string(range_text)
        return vr.version_class(version) in vr
    except Exception:  # univers raises many types for unknown schemes or versions
        return None


def _matches(product: VexProduct, c: ComponentRef, root: Component | None) -> bool:
    own = _purl_parts(c.purl)
    for candidate in (product, *product.subcomponents):
        theirs = _purl_parts(candidate.purl)
        if theirs is not None and own is not None and theirs[0] == own[0]:
            if candidate.version_range:
                return _version_in(candidate.version_range, own[1]) is True
            if theirs[1] is None or theirs[1] == own[1]:
                return True
        if candidate.ref and candidate.ref in (c.bom_ref, c.purl):
            return True
        if candidate.cpe and c.cpe and candidate.cpe == c.cpe:
            return True
    if not product.subcomponents and root is not None:  # the product as a whole: the scanned root itself
        root_purl = _purl_parts(root.purl)
        mine = _purl_parts(product.purl)
        if root_purl is not None and mine is not None and root_purl[0] == mine[0]:
            return mine[1] is None or mine[1] == root_purl[1]
        if (
            product.name
            and product.name == root.name
            and (not product.version or product.version == root.version)
        ):
            return True
    return False


def _names(f: Finding) -> set[str]:
    return {merge.key(i) for i in (f.vulnerability.id, *f.vulnerability.aliases)}


def _vex_dict(st: VexStatement, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {"status": st.status, "source": source}
    for key in ("justification", "impact_statement", "action_statement", "detail"):
        if getattr(st, key):
            out[key] = getattr(st, key)
    if st.responses:
        out["responses"] = list(st.responses)
    stamp = st.last_updated or st.timestamp
    if stamp is not None:
        out["timestamp"] = iso(stamp)
    return out


def apply_vex(
    result: ScanResult,
    documents: Sequence[tuple[str | Path, VexDocument]],
    *,
    root: Component | None = None,
    extra: dict[int, FindingTriage] | None = None,
) -> dict[int, FindingTriage]:
    """Give each finding the status of the VEX statements about it (by vulnerability id or alias, and by
    component purl, bom-ref or CPE, or the scanned product as a whole). Among several, the latest
    statement wins; with equal times, the later file. Returns the entries by ``id(finding)``."""
    out = extra if extra is not None else {}
    chosen: dict[int, tuple[tuple[str, int], dict[str, Any]]] = {}
    for order, (path, doc) in enumerate(documents):
        for st in doc.statements:
            ids = {merge.key(i) for i in (st.vulnerability.id, *st.vulnerability.aliases)}
            stamp = st.last_updated or st.timestamp or doc.last_updated or doc.timestamp
            rank = (iso(stamp) if stamp else "", order)
            for f in result.findings:
                if not ids & _names(f):
                    continue
                if st.products and not any(_matches(p, f.component, root) for p in st.products):
                    continue
                previous = chosen.get(_key(f))
                if previous is None or rank >= previous[0]:
                    chosen[_key(f)] = (rank, _vex_dict(st, Path(path).name))
    for f in result.findings:
        if _key(f) in chosen:
            entry = out.setdefault(_key(f), FindingTriage())
            entry.vex = chosen[_key(f)][1]
            if entry.triaged is not None:
                entry.triaged.vex = entry.vex
            _set_on_finding(f, vex=entry.vex)
    return out


# --------------------------------------------------------------------------------------------- policy


def policy_findings(result: ScanResult, extra: Mapping[int, FindingTriage]) -> list[policy_mod.PolicyFinding]:
    out = []
    for f in result.findings:
        entry = extra.get(_key(f)) or FindingTriage()
        v = f.vulnerability
        out.append(
            policy_mod.PolicyFinding(
                vulnerability=v.id,
                component=f.component.label,
                rating=v.rating,
                kev=v.kev is not None,
                epss=v.epss.score if v.epss is not None else None,
                ssvc=entry.ssvc["outcome"] if entry.ssvc else None,
                priority=entry.priority_score,
                vex_status=entry.vex["status"] if entry.vex else None,
            )
        )
    return out


def policy_components(components: Iterable[Component]) -> list[policy_mod.PolicyComponent]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for c in components:
        label = f"{c.name}@{c.version}" if c.version else c.name
        key = (c.purl or label, c.licenses)
        if key not in seen:
            seen.add(key)
            out.append(policy_mod.PolicyComponent(label, c.licenses))
    return out


def evaluate_policy(
    policy: policy_mod.Policy,
    result: ScanResult,
    extra: Mapping[int, FindingTriage] | None = None,
    components: Iterable[Component] | None = None,
) -> tuple[list[policy_mod.Violation], list[str]]:
    """Violations of the policy by this scan (VEX not_affected/fixed findings are outside the gate)."""
    return policy_mod.evaluate(
        policy,
        policy_findings(result, extra or {}),
        policy_components(components) if components is not None else None,
    )

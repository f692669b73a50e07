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
from mamori.triage import ssvc
from mamori.triage.context import Context
from mamori.triage.engine import Subject, Triaged, triage
from mamori.triage.inputs import Input
from mamori.triage.variants import Variant
from mamori.vex.fields import iso
from mamori.vulndb import merge


@dataclass(slots=True)
class FindingTriage:
    """What triage adds to one finding."""

    triaged: Triaged | None = field(default=None, repr=False)
    vex: dict[str, Any] | None = None
    lang: str = "en"

    @property
    def ssvc(self) -> dict[str, Any] | None:
        """``{table, outcome, inputs, path, …}`` (built on demand: reports build it once more in their language)."""
        return self.triaged.assessment.ssvc_dict(self.lang) if self.triaged is not None else None  # type: ignore[arg-type]

    @property
    def outcome(self) -> str | None:
        return self.triaged.outcome.id if self.triaged is not None else None

    @property
    def priority_score(self) -> float | None:
        return self.triaged.score if self.triaged is not None else None

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


def stored_records(source: Any, result: ScanResult) -> dict[str, Vulnerability]:
    """The full stored record of every finding (CISA ADP points, reference tags), read in bulk from a
    :class:`~mamori.store.Store` or, reusing what the scan already read, its matcher's ``Knowledge``."""
    from mamori.match.knowledge import Knowledge

    ids = {f.vulnerability.id for f in result.findings}
    if not ids:
        return {}
    knowledge = source if isinstance(source, Knowledge) else Knowledge(source)
    return knowledge.vulnerabilities(ids)


def subjects(
    result: ScanResult, records: Mapping[str, Vulnerability] | None = None, product: str | None = None
) -> list[Subject]:
    kev_checked = "kev" in result.sources and result.sources["kev"].records > 0
    known: dict[tuple[object, ...], facts_mod.Facts] = {}  # one vulnerability in many components: facts once
    out = []
    for f in result.findings:
        v = f.vulnerability
        vector = v.severity.vector if v.severity else None
        key = (v.id, tuple(v.aliases), vector, v.kev is not None, v.epss.score if v.epss else None)
        if key not in known:
            record = (records or {}).get(v.id)
            known[key] = facts_mod.from_scan_finding(f, record, kev_checked=kev_checked)
        out.append(Subject(known[key], f.component, product))
    return out


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
        entry.lang = lang
        t.vex = entry.vex
        _set_on_finding(f, ssvc=t.assessment, priority_score=t.score)
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


@dataclass(frozen=True, slots=True)
class ScannedProduct:
    """What the scan is about: the SBOM's root (or the product name given for triage records)."""

    name: str | None = None
    version: str | None = None
    purl: str | None = None

    @classmethod
    def of(
        cls, root: Component | None, name: str | None = None, release: str | None = None
    ) -> ScannedProduct | None:
        """The SBOM's root; a product name or release given for triage replaces the root's."""
        if root is None:
            return cls(name, release) if name is not None else None
        if name is not None:
            return cls(name, release)
        return cls(root.name, release or root.version, root.purl if release is None else None)

    def same_as(self, product: VexProduct) -> bool | None:
        """Whether a VEX product names this product (None: it cannot be told)."""
        mine, theirs = _purl_parts(self.purl), _purl_parts(product.purl)
        if mine is not None and theirs is not None:
            return mine[0] == theirs[0] and theirs[1] in (None, mine[1])
        if product.name and self.name:
            same = ssvc.norm(product.name) == ssvc.norm(self.name)
            return same and (not product.version or not self.version or product.version == self.version)
        return None


def _component_match(candidate: VexProduct, c: ComponentRef) -> bool:
    own, theirs = _purl_parts(c.purl), _purl_parts(candidate.purl)
    if theirs is not None and own is not None and theirs[0] == own[0]:
        if candidate.version_range:
            return _version_in(candidate.version_range, own[1]) is True
        if theirs[1] is None or theirs[1] == own[1]:
            return True
    if candidate.ref and candidate.ref in (c.bom_ref, c.purl):
        return True
    return bool(candidate.cpe and c.cpe and candidate.cpe == c.cpe)


def _matches(product: VexProduct, c: ComponentRef, scanned: ScannedProduct | None) -> bool:
    """A product with subcomponents speaks about those components inside that product only; a product
    without them is the component itself, or the scanned product as a whole."""
    same = scanned.same_as(product) if scanned is not None else None
    if product.subcomponents:
        return same is not False and any(_component_match(sub, c) for sub in product.subcomponents)
    return _component_match(product, c) or same is True


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
    product: str | None = None,
    release: str | None = None,
    extra: dict[int, FindingTriage] | None = None,
) -> dict[int, FindingTriage]:
    """Give each finding the status of the VEX statements about it (by vulnerability id or alias, and by
    component purl, bom-ref or CPE, or the scanned product as a whole). ``root`` (the SBOM's root), or
    ``product`` and ``release`` when given instead, identify the scanned product. Among several statements
    the latest wins; with equal times, the later file. Returns the entries by ``id(finding)``."""
    out = extra if extra is not None else {}
    scanned = ScannedProduct.of(root, product, release)
    chosen: dict[int, tuple[tuple[str, int], dict[str, Any]]] = {}
    for order, (path, doc) in enumerate(documents):
        for st in doc.statements:
            ids = {merge.key(i) for i in (st.vulnerability.id, *st.vulnerability.aliases)}
            stamp = st.last_updated or st.timestamp or doc.last_updated or doc.timestamp
            rank = (iso(stamp) if stamp else "", order)
            for f in result.findings:
                if not ids & _names(f):
                    continue
                if st.products and not any(_matches(p, f.component, scanned) for p in st.products):
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
                ssvc=entry.outcome,
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


# ----------------------------------------------------------------------------------------- mamori scan


@dataclass(slots=True)
class ScanTriage:
    """What ``mamori scan`` gets from triage: per-finding results and the policy's verdict."""

    extra: dict[int, FindingTriage]
    violations: list[policy_mod.Violation]
    notices: list[str]

    @property
    def failed(self) -> bool:
        return policy_mod.failed(self.violations)


def triage_scan(
    result: ScanResult,
    source: Any,
    *,
    role: str = "user",
    skill: str = "low",
    context_path: str | Path | None = None,
    assignments: Sequence[str] = (),
    vex_paths: Sequence[str | Path] = (),
    policy_path: str | Path | None = None,
    components: Iterable[Component] | None = None,
    root: Component | None = None,
    lang: str = "en",
) -> ScanTriage:
    """SSVC, score, VEX and policy on a scan, with every input file read (and checked) first.

    ``source`` is the store or the scan matcher's ``Knowledge`` (for the stored records' CISA ADP points).
    """
    from mamori import vex
    from mamori.cli.ssvc import parse_assignments
    from mamori.triage.context import load_context
    from mamori.triage.variants import overrides, variant

    chosen = variant(role, skill)
    set_values = overrides(chosen, parse_assignments(list(assignments)))
    context = load_context(context_path) if context_path else None
    policy = policy_mod.load_policy(policy_path) if policy_path else None
    documents = [(str(p), vex.read(p)) for p in vex_paths]
    product = root.name if root is not None else None
    extra = enrich(
        result,
        chosen,
        context=context,
        set_values=set_values,
        records=stored_records(source, result) if source is not None else None,
        product=product,
        lang=lang,
    )
    if documents:
        apply_vex(result, documents, root=root, extra=extra)
    violations, notices = (
        evaluate_policy(policy, result, extra, components) if policy is not None else ([], [])
    )
    if context is not None and context.products and context.product(product) is None:
        from mamori.triage.texts import text

        notices.append(text("context_missing", lang, path=context.path, product=product))
    return ScanTriage(extra, violations, notices)

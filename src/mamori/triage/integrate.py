"""Triage on a scan: SSVC and priority per finding (:func:`enrich`), VEX statements applied
(:func:`apply_vex`), the policy gate (:func:`evaluate_policy`).

The results are kept per finding in :class:`FindingTriage` (JSON-ready ``ssvc`` ``{table, outcome, inputs,
path, …}``, ``priority_score``, ``epss``, ``kev``, ``vex``); when the scan's :class:`Finding` type has fields
of those names they are filled too, so every report renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from mamori.model.sbom import Component, Document
from mamori.model.vex import VexDocument
from mamori.model.vulnerability import Vulnerability
from mamori.scan.result import Finding, ScanResult
from mamori.triage import facts as facts_mod
from mamori.triage import policy as policy_mod
from mamori.triage.context import Context, context_points
from mamori.triage.engine import Subject, Triaged, ordered, triage
from mamori.triage.inputs import Input
from mamori.triage.records import TriageRecord
from mamori.triage.state import OPEN, UNSTATED, FindingState, Resolver
from mamori.triage.variants import Variant
from mamori.triage.vexmatch import ScannedProduct


@dataclass(slots=True)
class FindingTriage:
    """What triage adds to one finding."""

    triaged: Triaged | None = field(default=None, repr=False)
    vex: dict[str, Any] | None = None
    state: FindingState | None = None  # the one triage state (records and VEX; None: not resolved)
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
    def status(self) -> str:
        """The finding's triage status (``open`` when nothing says anything)."""
        if self.state is not None:
            return self.state.status
        return str(self.vex["status"]) if self.vex else OPEN

    @property
    def in_gate(self) -> bool:
        """False when a record or VEX statement says not_affected or fixed: the finding stays visible,
        outside the gate."""
        return self.status not in policy_mod.OUT_OF_GATE


def _key(f: Finding) -> int:
    return id(f)


def _set_on_finding(f: Finding, **values: Any) -> None:
    names = _field_names(type(f))
    for name, value in values.items():
        if name in names:
            setattr(f, name, value)


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(x.name for x in fields(cls))


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
    by_object: dict[int, facts_mod.Facts] = {}  # findings of one vulnerability mostly share its object
    out = []
    for f in result.findings:
        v = f.vulnerability
        facts = by_object.get(id(v))
        if facts is None:
            vector = v.severity.vector if v.severity else None
            key = (v.id, tuple(v.aliases), vector, v.kev is not None, v.epss.score if v.epss else None)
            if key not in known:
                record = (records or {}).get(v.id)
                known[key] = facts_mod.from_scan_finding(f, record, kev_checked=kev_checked)
            facts = by_object[id(v)] = known[key]
        out.append(Subject(facts, f.component, product))
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
    in_order: bool = True,
) -> dict[int, FindingTriage]:
    """SSVC decision and priority score for every finding; returns them by ``id(finding)``, in the
    order of :func:`mamori.triage.engine.triage` (most urgent first), or in the findings' order when
    not ``in_order``."""
    out = extra if extra is not None else {}
    subs = subjects(result, records, product)
    decided = triage(subs, v, context, set_values, in_order=in_order)
    if in_order:
        by_subject = {id(s): f for s, f in zip(subs, result.findings, strict=True)}
        pairs: Iterable[tuple[Triaged, Finding]] = ((t, by_subject[id(t.subject)]) for t in decided)
    else:  # the subjects' order: each result beside its finding
        pairs = zip(decided, result.findings, strict=True)
    for t, f in pairs:
        entry = out.get(id(f))  # _key(f)
        if entry is None:
            entry = out[id(f)] = FindingTriage()
        entry.triaged = t
        entry.lang = lang
        t.vex = entry.vex
        if type(f) is Finding:  # the usual case, set directly (17,000 findings of 5,000 components)
            f.ssvc, f.priority_score = t.assessment, t.score
        else:
            _set_on_finding(f, ssvc=t.assessment, priority_score=t.score)
    return out


# ---------------------------------------------------------------------------------------- VEX, state


def apply_states(
    result: ScanResult, resolver: Resolver, extra: dict[int, FindingTriage] | None = None
) -> dict[int, FindingTriage]:
    """Give every finding its one triage state (:mod:`mamori.triage.state`: the user's records, then the
    newest VEX statement) and the newest VEX statement that applies to it. Returns the entries by
    ``id(finding)``; every finding has one."""
    out = extra if extra is not None else {}
    nothing_said = resolver.empty  # the usual scan: no record, no VEX file
    for f in result.findings:
        if nothing_said:
            state, vex = UNSTATED, None
        else:
            found = resolver.resolve(f.component, (f.vulnerability.id, *f.vulnerability.aliases))
            state, vex = found.state, found.vex
        entry = out.get(id(f))  # _key(f)
        if entry is None:
            entry = out[id(f)] = FindingTriage()
        entry.state = state
        entry.vex = vex
        if entry.triaged is not None:
            entry.triaged.vex = entry.vex
            entry.triaged.state = entry.state
        if type(f) is Finding:
            f.vex, f.state = entry.vex, entry.state
        else:
            _set_on_finding(f, vex=entry.vex, state=entry.state)
    return out


def apply_vex(
    result: ScanResult,
    documents: Sequence[tuple[str | Path, VexDocument]],
    *,
    root: Component | None = None,
    product: str | None = None,
    release: str | None = None,
    extra: dict[int, FindingTriage] | None = None,
    doc: Document | None = None,
) -> dict[int, FindingTriage]:
    """Give each finding the status of the VEX statements about it (by vulnerability id or alias, and by
    component purl, bom-ref, BOM-Link or CPE, or the scanned product as a whole). ``root`` (the SBOM's
    root), or ``product`` and ``release`` when given instead, identify the scanned product. Among several
    statements the latest wins; with equal times, the later file. Returns the entries of the findings
    some statement speaks about, by ``id(finding)``."""
    resolver = Resolver((), documents, ScannedProduct.of(root, product, release, doc))
    out = extra if extra is not None else {}
    for f in result.findings:
        found = resolver.resolve(f.component, (f.vulnerability.id, *f.vulnerability.aliases))
        if found.vex is None:
            continue
        entry = out.setdefault(_key(f), FindingTriage())
        entry.vex, entry.state = found.vex, found.state
        if entry.triaged is not None:
            entry.triaged.vex = entry.vex
            entry.triaged.state = entry.state
        if type(f) is Finding:
            f.vex, f.state = entry.vex, entry.state
        else:
            _set_on_finding(f, vex=entry.vex, state=entry.state)
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
                vex_status=entry.status if entry.status != OPEN else None,
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


def _points_order(items: list[Triaged]) -> list[Triaged]:
    """``items`` (in the findings' order) in an order that gives :func:`assumed_context` what the triage
    order gives it: the context points are listed in the order of the assessments' first findings, so
    that order matters only when the assessments assume different points. Then the items are sorted
    as :func:`mamori.triage.engine.triage` sorts them; otherwise they stay as they are (no sort of
    ~20,000 findings for a list of a few points)."""
    listed = set(context_points())  # the points assumed_context lists (not those the data decides)
    points: tuple[str, ...] | None = None
    seen: set[int] = set()
    for t in items:
        if id(t.assessment) in seen:
            continue
        seen.add(id(t.assessment))
        mine = tuple(i.point for i in t.assessment.assumed if i.point in listed)
        if points is None:
            points = mine
        elif mine != points:
            return ordered(items)
    return items


@dataclass(slots=True)
class ScanTriage:
    """What ``mamori scan`` gets from triage: per-finding results, the policy's verdict, and the notice to
    show first when the ranking had to assume the worst for context nobody gave."""

    extra: dict[int, FindingTriage]
    violations: list[policy_mod.Violation]
    notices: list[str]
    worst_case: str | None = None  # the notice, in the chosen language
    assumed: list[dict[str, Any]] = field(default_factory=list)  # the context points assumed, with counts

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
    product: str | None = None,
    release: str | None = None,
    records: Sequence[TriageRecord] = (),
    stored_context: Context | None = None,
    doc: Document | None = None,
) -> ScanTriage:
    """SSVC, score, the one triage state and the policy on a scan, with every input file read (and
    checked) first.

    ``source`` is the store or the scan matcher's ``Knowledge`` (for the stored records' CISA ADP points).
    ``product`` and ``release`` name the product release the SBOM is (default: its root component);
    ``records`` are that release's triage records, ``stored_context`` the product's stored triage context
    (a context file given with ``context_path`` wins over it, point by point).
    """
    from mamori.triage.context import layered, load_context
    from mamori.triage.notice import assumed_context, worst_case
    from mamori.triage.ssvc import parse_assignments
    from mamori.triage.variants import overrides, variant

    chosen = variant(role, skill)
    set_values = overrides(chosen, parse_assignments(list(assignments)))
    given = load_context(context_path) if context_path else None
    context = layered(stored_context, given)
    policy = policy_mod.load_policy(policy_path) if policy_path else None
    documents: list[tuple[str | Path, VexDocument]] = []
    if vex_paths:  # the VEX package (its readers' set-up) only when there is a document to read
        from mamori import vex

        documents = [(str(p), vex.read(p)) for p in vex_paths]
    name = product or (root.name if root is not None else None)
    extra = enrich(
        result,
        chosen,
        context=context,
        set_values=set_values,
        records=stored_records(source, result) if source is not None else None,
        product=name,
        lang=lang,
        in_order=False,
    )
    scanned = ScannedProduct.of(root, product, release, doc)
    apply_states(result, Resolver(records, documents, scanned), extra)
    violations, notices = (
        evaluate_policy(policy, result, extra, components) if policy is not None else ([], [])
    )
    if given is not None and given.products and given.product(name) is None:
        from mamori.triage.texts import text

        notices.append(text("context_missing", lang, path=given.path, product=name))
    triaged = _points_order([e.triaged for e in extra.values() if e.triaged is not None])
    assumed_points = assumed_context(triaged)  # once: the three notices below share it
    notice, assumed = worst_case(triaged, chosen, context, name, lang, assumed=assumed_points)
    sources = [k for k, c in (("product", stored_context), ("file", given)) if c is not None and not c.empty]
    result.triage = {
        "product": name,
        "release": release,
        "variant": chosen.name,
        "records": len(records),
        "vex_files": [Path(p).name for p, _ in documents],
        "context": {"sources": sources, "assumed": assumed},
        "notice": notice,
        "notices": {
            lg: worst_case(triaged, chosen, context, name, lg, assumed=assumed_points)[0]
            for lg in ("en", "ja")
        },
    }
    return ScanTriage(extra, violations, notices, notice, assumed)

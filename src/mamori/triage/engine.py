"""Triage many findings at once: inputs from data and context, one SSVC decision each, a score, an order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mamori.dataclass_code import slot_setters
from mamori.scan.result import ComponentRef
from mamori.triage import ssvc
from mamori.triage.context import Context
from mamori.triage.facts import Facts
from mamori.triage.inputs import Input, gather
from mamori.triage.score import order_key, score_facts
from mamori.triage.variants import Assessment, Variant, assess


@dataclass(frozen=True, slots=True, init=False)
class Subject:
    """One vulnerability in one component of one product."""

    facts: Facts
    component: ComponentRef
    product: str | None = None

    def __init__(self, facts: Facts, component: ComponentRef, product: str | None = None) -> None:
        # the generated one, its fields set through their slots (one per finding: ~20,000)
        set_facts, set_component, set_product = _SUBJECT_SLOTS
        set_facts(self, facts)
        set_component(self, component)
        set_product(self, product)


_SUBJECT_SLOTS = slot_setters(Subject)


@dataclass(slots=True)
class Triaged:
    """One finding triaged: its SSVC assessment, score, VEX statement and status."""

    subject: Subject
    assessment: Assessment
    score: float | None
    vex: dict[str, Any] | None = None  # the newest VEX statement that applies, when one was given
    extra: dict[str, Any] = field(default_factory=dict)
    state: Any = None  # mamori.triage.state.FindingState: the finding's one status (records, then VEX)

    @property
    def status(self) -> str:
        if self.state is not None:
            return str(self.state.status)
        return str(self.vex["status"]) if self.vex else "open"

    @property
    def outcome(self) -> ssvc.PointValue:
        return self.assessment.outcome

    def rank(self) -> int:
        return self.assessment.decision.table.outcome.index(self.outcome.id)

    def as_dict(self, lang: ssvc.Lang = "en") -> dict[str, Any]:
        f = self.subject.facts
        c = self.subject.component
        out: dict[str, Any] = {
            "component": {"name": c.name, "version": c.version, "purl": c.purl},
            "product": self.subject.product,
            "vulnerability": {
                "id": f.vuln_id,
                "aliases": list(f.aliases),
                "summary": f.summary,
                "cvss": (
                    {
                        "version": f.cvss.version,
                        "vector": f.cvss.vector,
                        "score": f.cvss.score,
                        "rating": f.cvss.rating,
                    }
                    if f.cvss
                    else None
                ),
            },
            "kev": {"cve_id": f.kev.cve_id, "source": f.kev.source, "date_added": f.kev.date_added}
            if f.kev
            else None,
            "epss": (
                {
                    "cve_id": f.epss.cve_id,
                    "score": f.epss.score,
                    "percentile": f.epss.percentile,
                    "date": f.epss.date,
                }
                if f.epss
                else None
            ),
            "priority_score": self.score,
            "ssvc": self.assessment.ssvc_dict(lang),
        }
        out["status"] = self.status
        if self.state is not None:
            out["state"] = self.state.as_dict(lang)
        if self.vex is not None:
            out["vex"] = self.vex
        return out


def triage(
    subjects: Iterable[Subject],
    v: Variant,
    context: Context | None = None,
    set_values: Mapping[str, Input] | None = None,
    *,
    in_order: bool = True,
) -> list[Triaged]:
    """Decide every subject; most urgent outcome first, then by priority score (unscored first), or in
    the subjects' own order when not ``in_order`` (a caller that looks the results up needs no sort)."""
    out: list[Triaged] = []
    context_cache: dict[tuple[str | None, str | None], dict[str, Input]] = {}
    # findings of one vulnerability in many components mostly give the same inputs: decide each once
    decided: dict[tuple[Any, ...], Assessment] = {}
    # per facts object: the facts (kept alive), their evidence, its items, the score, and the assessment
    # per context (its items): the subjects of one vulnerability share their facts, and mostly the context
    per_facts: dict[
        int, tuple[Facts, dict[str, Input], tuple[Any, ...], float | None, dict[Any, Assessment]]
    ] = {}
    no_context: dict[str, Input] = {}  # read only (assess copies what it is given)
    for s in subjects:
        ctx = no_context
        ctx_items: tuple[tuple[str, Input], ...] = ()
        if context is not None:
            key = (s.product, s.component.purl)
            if key not in context_cache:
                context_cache[key] = context.inputs(s.product, s.component.purl)
            ctx = context_cache[key]
            ctx_items = tuple(ctx.items())
        known = per_facts.get(id(s.facts))
        if known is None:
            evidence = gather(s.facts)
            known = per_facts[id(s.facts)] = (
                s.facts,
                evidence,
                tuple(evidence.items()),
                score_facts(s.facts),
                {},
            )
        _, evidence, items, score, by_context = known
        assessment = by_context.get(ctx_items)
        if assessment is None:
            key = (items, ctx_items)
            assessment = decided.get(key)
            if assessment is None:
                assessment = decided[key] = assess(v, evidence, ctx, set_values)
            by_context[ctx_items] = assessment
        out.append(Triaged(s, assessment, score))
    return ordered(out) if in_order else out


def ordered(items: Iterable[Triaged]) -> list[Triaged]:
    """Most urgent outcome first, then by priority score (unscored first), then id and component."""
    ranks: dict[int, int] = {}  # findings share their assessments: each ranked once (they stay alive)

    def key(t: Triaged) -> tuple[Any, ...]:
        rank = ranks.get(id(t.assessment))
        if rank is None:
            rank = ranks[id(t.assessment)] = t.rank()
        return (*order_key(rank, t.score), t.subject.facts.vuln_id, t.subject.component.label)

    return sorted(items, key=key)


def group_by_outcome(items: Sequence[Triaged]) -> list[tuple[ssvc.PointValue, list[Triaged]]]:
    """Outcomes most urgent first, each with its findings in order (outcomes without findings omitted)."""
    groups: dict[str, list[Triaged]] = {}
    values: dict[str, ssvc.PointValue] = {}
    for t in ordered(items):
        groups.setdefault(t.outcome.id, []).append(t)
        values[t.outcome.id] = t.outcome
    outcomes = sorted(groups, key=lambda oid: -groups[oid][0].rank())
    return [(values[oid], groups[oid]) for oid in outcomes]


def distribution(items: Iterable[Triaged]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in ordered(items):
        counts[t.outcome.id] = counts.get(t.outcome.id, 0) + 1
    return counts

"""What to fix first: per component, the smallest upgrade that clears the most weighted risk.

Only findings that still need action count (not the ones a triage record or VEX statement says are
not affected or fixed). Each has a weight::

    weight = priority × 2^rank

``priority`` is the finding's priority score (mamori.triage.score: (1 + √p) × CVSS, p = 1 in CISA KEV,
else the EPSS probability; 0-20), computed from the finding's own CVSS, EPSS and KEV when triage set
none, and 10 (the middle of the scale) when there is no CVSS score: an unscored finding is never the
least urgent. ``rank`` is the place of the finding's SSVC outcome in its decision table (0 for the
lowest, e.g. Defer or Track; 3 for Immediate or Act), 0 without an SSVC outcome, so that each step up
in outcome doubles the weight.

A component's candidate targets are the fixed versions its findings list. Upgrading to a candidate clears
a finding when the candidate is one of the finding's fixed versions or above all of them (versions
compared the way the component's ecosystem orders them); the target is the candidate that clears the
most weight, the lowest one on a tie: the smallest upgrade that clears the most weighted risk. Rows are
ordered by the weight cleared, then by the highest outcome cleared, then by component; ``left`` counts
the component's findings the upgrade does not clear (no fixed version, or a fix on another branch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from mamori.scan.result import Finding, ScanResult
from mamori.triage.score import priority_score

UNSCORED = 10.0
# outcome names of decision tables, lowest first, for an SSVC given as a plain dict or text
_KNOWN_ORDERS = (
    ("defer", "scheduled", "out_of_cycle", "immediate"),
    ("track", "track_star", "attend", "act"),
)


@dataclass(slots=True)
class ClearedFinding:
    """A finding an upgrade clears, with its weight and rank."""

    vuln_id: str
    weight: float
    priority: float
    rank: int
    outcome: Any  # the SSVC assessment (or dict / text) as the finding carries it


@dataclass(slots=True)
class FixFirst:
    """One upgrade of the fix-first list: the component, the target version and what it clears."""

    component: str
    version: str
    purl: str | None
    target: str
    cleared: list[ClearedFinding] = field(default_factory=list)
    left: int = 0  # findings of the component that still need action after the upgrade

    @property
    def weight(self) -> float:
        return round(sum(c.weight for c in self.cleared), 2)

    @property
    def top_rank(self) -> int:
        return max((c.rank for c in self.cleared), default=0)

    @property
    def top(self) -> ClearedFinding:
        return max(self.cleared, key=lambda c: (c.rank, c.priority))

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        top = self.top.outcome
        outcome = None
        if hasattr(top, "outcome") and hasattr(top.outcome, "name"):
            outcome = top.outcome.name.get(lang)
        elif isinstance(top, dict):
            outcome = top.get("outcome_name") or top.get("outcome")
        elif top is not None:
            outcome = str(top)
        return {
            "component": {"name": self.component, "version": self.version, "purl": self.purl},
            "target_version": self.target,
            "cleared": [c.vuln_id for c in self.cleared],
            "cleared_count": len(self.cleared),
            "risk_cleared": self.weight,
            "top_outcome": outcome,
            "left": self.left,
        }


def outcome_rank(ssvc: Any) -> int:
    """The place of an SSVC outcome in its table, lowest 0; 0 when there is none or it is unknown."""
    if ssvc is None:
        return 0
    decision = getattr(ssvc, "decision", None)
    outcome = getattr(ssvc, "outcome", None)
    if decision is not None and outcome is not None:
        try:
            return int(decision.table.outcome.index(outcome.id))
        except (AttributeError, ValueError):
            pass
    name = ssvc.get("outcome") if isinstance(ssvc, dict) else outcome if isinstance(outcome, str) else ssvc
    key = str(name or "").strip().lower().replace("-", "_").replace(" ", "_").replace("*", "_star")
    for order in _KNOWN_ORDERS:
        if key in order:
            return order.index(key)
    return 0


def finding_priority(f: Finding) -> float:
    """The finding's priority score, computed from its own CVSS, EPSS and KEV when triage set none."""
    if f.priority_score is not None:
        return float(f.priority_score)
    v = f.vulnerability
    epss = v.epss.score if v.epss is not None else None
    score = priority_score(v.score, epss, v.kev is not None) if v.score is not None else None
    return float(score) if score is not None else UNSCORED


def finding_weight(f: Finding) -> tuple[float, float, int]:
    """(weight, priority, outcome rank) of a finding."""
    priority = finding_priority(f)
    rank = outcome_rank(f.ssvc)
    return round(priority * 2**rank, 2), priority, rank


def _version_class(purl: str | None, known: dict[Any, Any]) -> Any:
    """The version class of the purl's ecosystem (GENERIC when unknown). It depends on the purl's type
    and namespace only, so ``known`` keeps it by the text before the name: one parse per ecosystem."""
    prefix = purl.split("@", 1)[0].rsplit("/", 1)[0] if purl else None
    cls = known.get(prefix)
    if cls is None:
        from mamori.match.ecosystems import GENERIC, ecosystem_for_purl, version_class

        key = None
        if purl:
            try:
                key = ecosystem_for_purl(PackageURL.from_string(purl))
            except ValueError:
                key = None
        cls = known[prefix] = (version_class(key.ecosystem) if key is not None else None) or GENERIC
    return cls


def _version_key(purl: str | None, known: dict[Any, Any]) -> Any:
    """A sort key for versions of this component's ecosystem (generic ordering when unknown)."""
    cls = _version_class(purl, known)
    sort_key = known.get(cls)  # one per version class, remembering each version's key
    if sort_key is None:
        from mamori.match.ecosystems import GENERIC
        from mamori.match.versions import order_key, parse

        keys: dict[str, tuple[int, Any]] = {}

        def sort_key(text: str) -> tuple[int, Any]:
            found = keys.get(text)
            if found is None:
                parsed = parse(cls, text) or parse(GENERIC, text)
                found = keys[text] = (0, order_key(parsed)) if parsed is not None else (1, text)
            return found

        known[cls] = sort_key
    return sort_key


def _best_target(
    fixable: list[Finding], key: Any, weighed: dict[int, tuple[float, float, int]] | None = None
) -> tuple[str, list[Finding]]:
    """The lowest fixed version that clears the most weight, and the findings it clears.

    The candidates are sorted once with the ecosystem's order; each gets a rank (equal versions share
    one), so that "above all of a finding's fixed versions" is one integer comparison with the highest
    rank among them. Versions of kinds that cannot be ordered together (a valid version beside one only
    the generic scheme reads) are sorted as text and compared pair by pair, as text where kinds differ."""
    versions = {v for f in fixable for v in f.fixed_versions}
    if len(versions) == 1:  # one candidate (two thirds of the components): it clears every finding
        return next(iter(versions)), list(fixable)
    weights = [(weighed[id(f)] if weighed is not None else finding_weight(f))[0] for f in fixable]
    keys = {v: key(v) for v in versions}
    clears: Callable[[str, int], bool]
    highest: list[int] | None = None
    try:
        candidates = sorted(versions, key=keys.__getitem__)
    except TypeError:
        candidates = sorted(versions)

        def above(a: str, b: str) -> bool:
            try:
                return bool(keys[a] >= keys[b])
            except TypeError:
                return a >= b

        def clears(target: str, i: int) -> bool:
            return all(above(target, fixed) for fixed in fixable[i].fixed_versions)

    else:
        rank: dict[str, int] = {}
        for n, v in enumerate(candidates):
            rank[v] = rank[candidates[n - 1]] if n and keys[v] == keys[candidates[n - 1]] else n
        highest = [
            rank[fixed[0]] if len(fixed) == 1 else max(map(rank.__getitem__, fixed))
            for fixed in (f.fixed_versions for f in fixable)
        ]

    if highest is not None:
        return _best_ranked(fixable, weights, candidates, rank, highest)
    best: tuple[float, str, list[int]] | None = None
    for target in candidates:
        cleared = [i for i, f in enumerate(fixable) if target in f.fixed_versions or clears(target, i)]
        weight = sum(map(weights.__getitem__, cleared))
        if best is None or weight > best[0] + 1e-9:
            best = (weight, target, cleared)
    assert best is not None
    return best[1], [fixable[i] for i in best[2]]


def _best_ranked(
    fixable: list[Finding],
    weights: list[float],
    candidates: list[str],
    rank: dict[str, int],
    highest: list[int],
) -> tuple[str, list[Finding]]:
    """:func:`_best_target` of ranked candidates in one pass: going up the candidates, the weight of the
    findings whose highest fixed version ranks at or below the candidate grows as a running sum; a
    finding that lists the candidate itself below its highest (a fix on another branch) is added for
    that candidate alone. Weights are multiples of 0.01, so the order of the additions changes no
    comparison (1e-9 apart)."""
    order = sorted(range(len(fixable)), key=highest.__getitem__)
    listing: dict[str, list[int]] = {}
    for i, f in enumerate(fixable):
        for v in f.fixed_versions:
            found = listing.get(v)
            if found is None:
                listing[v] = [i]
            elif found[-1] != i:
                found.append(i)
    below, j, end = 0.0, 0, len(order)
    best: tuple[float, str] | None = None
    for target in candidates:
        at = rank[target]
        while j < end and highest[order[j]] <= at:
            below += weights[order[j]]
            j += 1
        weight = below
        for i in listing[target]:
            if highest[i] > at:
                weight += weights[i]
        if best is None or weight > best[0] + 1e-9:
            best = (weight, target)
    assert best is not None
    target = best[1]
    at = rank[target]
    return target, [
        f for f, top in zip(fixable, highest, strict=True) if at >= top or target in f.fixed_versions
    ]


def fix_first(result: ScanResult) -> list[FixFirst]:
    """The fix-first rows of a scan result (see the module)."""
    groups: dict[tuple[str, str, str | None], list[Finding]] = {}
    by_component: dict[int, list[Finding]] = {}  # by component object: a component's findings share it
    gates: dict[int, bool] = {}  # by triage state object (findings share them): out of the gate?
    for f in result.findings:
        state = f.state
        if state is not None and type(f) is Finding:  # its status is the state's
            out = gates.get(id(state))
            if out is None:
                out = gates[id(state)] = f.out_of_gate
        else:
            out = f.out_of_gate
        if out:
            continue
        c = f.component
        group = by_component.get(id(c))
        if group is None:
            name = f"{c.group}/{c.name}" if c.group and not c.purl else c.name
            key = (name, c.version or "", c.purl)
            group = groups.get(key)
            if group is None:
                group = groups[key] = []
            by_component[id(c)] = group
        group.append(f)
    rows: list[FixFirst] = []
    order: list[tuple[float, int, str, str]] = []  # each row's sort key
    classes: dict[Any, Any] = {}
    weighed: dict[tuple[float | None, int, int], tuple[float, float, int]] = {}  # their objects stay alive
    for (name, version, purl), findings in groups.items():
        fixable = [f for f in findings if f.fixed_versions]
        if not fixable:
            continue
        weights = {}
        for f in fixable:
            # the weight depends on the score (or, without one, the vulnerability) and the SSVC object
            # alone, which findings share: weighed once per such pair
            score = f.priority_score
            memo_key = (score, 0 if score is not None else id(f.vulnerability), id(f.ssvc))
            weight = weighed.get(memo_key)
            if weight is None:
                weight = weighed[memo_key] = finding_weight(f)
            weights[id(f)] = weight
        target, cleared = _best_target(fixable, _version_key(purl, classes), weights)
        row = FixFirst(name, version, purl, target, left=len(findings) - len(cleared))
        seen: set[str] = set()
        row_weights: list[float] = []
        top_rank = 0
        for f in sorted(cleared, key=lambda x: (-weights[id(x)][0], x.vulnerability.id)):
            vuln_id = f.vulnerability.id
            if vuln_id in seen:
                continue
            seen.add(vuln_id)
            weight, priority, rank = weights[id(f)]
            row.cleared.append(ClearedFinding(vuln_id, weight, priority, rank, f.ssvc))
            row_weights.append(weight)
            if rank > top_rank:
                top_rank = rank
        rows.append(row)
        # what the sort compares: FixFirst.weight and .top_rank, summed in the same order (same float)
        order.append((-round(sum(row_weights), 2), -top_rank, name, version))
    ranked = sorted(range(len(rows)), key=order.__getitem__)  # stable, as sorting the rows is
    return [rows[i] for i in ranked]

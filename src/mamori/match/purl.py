"""OSV ``affected`` entries against an installed version: ranges, enumerated versions, limits.

Rules (OSV schema 1.6, "Evaluation"):

- ECOSYSTEM ranges compare versions with the ecosystem's own rules (univers classes chosen in
  :mod:`mamori.match.ecosystems`); SEMVER ranges with semantic versioning whatever the ecosystem.
- Within a range, events are walked in version order: ``introduced`` (``0`` = from the start)
  opens, ``fixed`` closes at that version, ``last_affected`` closes after it, ``limit`` caps the
  range (versions at or above every limit are outside it). At equal versions the closing event
  comes first. When the events, in the order the record gives them, pair up as
  ``introduced`` → ``fixed``/``last_affected`` intervals, the range is the union of those intervals
  instead: records converted from GHSA list one pair per branch and the pairs may touch or overlap
  (PYSEC-2022-236: ``fixed 3.1.1`` and ``introduced 3.1.1``; PYSEC-2021-114: ``[2.11, 2.11.7)``
  beside ``[0, 2.11.6)``), and the union is what their own version lists say.
- A version listed in ``versions`` is affected even when no range covers it; a range match comes
  first because it also tells the fix.
- GIT ranges are not evaluated: they need the repository's commit graph, which a scan offline does
  not have. An entry with only GIT ranges is decided by its ``versions`` list, and when it has
  none the component is "not evaluated" for that record.
- Anything that cannot be decided (an installed version or an event the rules refuse, an ecosystem
  without known rules, an entry with neither ranges nor versions) gives ``affected=None`` with the
  reason, never "not affected".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from univers.versions import SemverVersion, Version

from mamori.match.ecosystems import VersionClass, version_class
from mamori.match.verdict import NOT_AFFECTED, PURL_RANGE, PURL_VERSION_LIST, Verdict, unknown
from mamori.match.versions import installed_key, nearest, order_key, parse, parse_installed

_KIND_ORDER = {"fixed": 0, "last_affected": 1, "limit": 2, "introduced": 3}
EVALUATED_TYPES = ("ECOSYSTEM", "SEMVER")
T = TypeVar("T")


@dataclass(slots=True)
class Event:
    """One event of an OSV range (introduced, fixed, last_affected, limit), its version parsed."""

    kind: str
    text: str
    version: Version | None  # None: "introduced: 0" (the start) or "limit: *" (no limit)
    key: Any = None  # versions.order_key(version): what the walk compares


@dataclass(slots=True)
class OsvRange:
    """One OSV range of an affected package, its events sorted under the ecosystem's rules."""

    type: str
    events: list[Event] = field(default_factory=list)  # sorted
    problem: str | None = None  # an event the ecosystem's rules refuse
    pairs: list[tuple[Event, Event | None]] | None = None  # the record's intervals, when it gives pairs
    described: str | None = None
    limits: list[Event] | None = None  # its limit events (worked out on first use)

    def describe(self) -> str:
        if self.described is None:  # once per range: every component it matches quotes it
            self.described = ", ".join(f"{e.kind} {e.text}" for e in self.events)
        return self.described


@dataclass(slots=True)
class OsvAffected:
    """One OSV ``affected`` entry, its ranges parsed once (kept in the advisory cache)."""

    vuln_id: str
    record_id: str
    source: str
    ecosystem: str
    name: str
    cls: VersionClass | None
    versions: frozenset[str]
    ranges: list[OsvRange]
    has_git: bool
    # what a hit of its one range says around the installed version (worked out on its first hit)
    said: tuple[str, str] | None = None


def _sort_key(event: Event) -> tuple[int, Any, int]:
    if event.version is None:  # introduced 0 sorts first, limit * last
        return (0 if event.kind == "introduced" else 2, 0, _KIND_ORDER[event.kind])
    return (1, event.key, _KIND_ORDER[event.kind])


def parse_range(
    kind: str, raw_events: list[dict[str, Any]], cls: VersionClass | None, ecosystem: str
) -> OsvRange:
    """One OSV range with its events parsed under ``cls`` (SEMVER ranges always use semver)."""
    rng = OsvRange(kind)
    use = SemverVersion if kind == "SEMVER" else cls
    for raw in raw_events:
        ev_kind, text = str(raw.get("kind", "")), str(raw.get("value", ""))
        if ev_kind not in _KIND_ORDER:
            continue
        if (ev_kind == "introduced" and text == "0") or (ev_kind == "limit" and text == "*"):
            rng.events.append(Event(ev_kind, text, None))
            continue
        if use is None:
            rng.problem = f"ecosystem {ecosystem!r} has no version rules in mamori"
            continue
        version = parse(use, text)
        if version is None:
            rng.problem = f"{ev_kind} {text!r} is not a valid {ecosystem} version"
            continue
        rng.events.append(Event(ev_kind, text, version, order_key(version)))
    rng.pairs = _pairs(rng.events)
    rng.events.sort(key=_sort_key)
    return rng


def _pairs(events: list[Event]) -> list[tuple[Event, Event | None]] | None:
    """``introduced`` → closing intervals in the record's order; None when the events do not pair up."""
    body = [e for e in events if e.kind != "limit"]
    pairs: list[tuple[Event, Event | None]] = []
    for index in range(0, len(body), 2):
        start = body[index]
        end = body[index + 1] if index + 1 < len(body) else None
        if start.kind != "introduced" or (end is not None and end.kind == "introduced"):
            return None
        pairs.append((start, end))
    return pairs if len(pairs) > 1 else None


def parse_affected(vuln_id: str, entry: dict[str, Any]) -> OsvAffected:
    """An ``affected_packages`` item of a stored record (model dict) → :class:`OsvAffected`."""
    ecosystem = str(entry.get("ecosystem") or "")
    cls = version_class(ecosystem)
    ranges: list[OsvRange] = []
    has_git = False
    for raw in entry.get("ranges") or []:
        kind = str(raw.get("type") or "").upper()
        if kind in EVALUATED_TYPES:
            ranges.append(parse_range(kind, raw.get("events") or [], cls, ecosystem))
        elif kind == "GIT":
            has_git = True
    return OsvAffected(
        vuln_id=vuln_id,
        record_id=str(entry.get("record_id") or vuln_id),
        source=str(entry.get("source") or ""),
        ecosystem=ecosystem,
        name=str(entry.get("name") or ""),
        cls=cls,
        versions=frozenset(map(str, entry.get("versions") or ())),
        ranges=ranges,
        has_git=has_git,
    )


def _within_limits(rng: OsvRange, installed: Any) -> bool:
    limits = rng.limits
    if limits is None:
        limits = rng.limits = [e for e in rng.events if e.kind == "limit"]
    return not limits or any(e.version is None for e in limits) or any(installed < e.key for e in limits)


def walk(rng: OsvRange, installed: Any) -> tuple[bool, str | None]:
    """Whether ``installed`` lies in the range, and the first fix above it when it does.

    ``installed`` is an order key (:func:`mamori.match.versions.order_key`) of the range's scheme,
    compared with the events' keys."""
    if rng.pairs is not None:
        # the intervals holding ``installed``: from ``start`` on, below a fix or limit (at or below
        # a last_affected); open-ended without an end
        ends: list[Event | None] = []
        for start, end in rng.pairs:
            if start.version is not None and installed < start.key:
                continue
            if (
                end is None
                or end.version is None
                or (installed <= end.key if end.kind == "last_affected" else installed < end.key)
            ):
                ends.append(end)
        if not ends or not _within_limits(rng, installed):
            return False, None
        fixes = [e for e in ends if e is not None and e.kind == "fixed" and e.version is not None]
        return True, min(fixes, key=lambda e: e.key).text if fixes else None
    events = rng.events
    if len(events) == 2:
        start, end = events
        if start.kind == "introduced" and end.kind == "fixed" and end.version is not None:
            # the usual range, [introduced, fixed): the loops below unrolled, comparison for comparison
            # (no limit among its events)
            affected = start.version is None or installed >= start.key
            if installed >= end.key:
                affected = False
            if not affected:
                return False, None
            return (True, end.text) if end.key > installed else (True, None)
    affected = False
    for event in rng.events:
        kind = event.kind
        if kind == "introduced":
            if event.version is None or installed >= event.key:
                affected = True
        elif kind == "fixed":
            if event.version is not None and installed >= event.key:
                affected = False
        elif kind == "last_affected" and event.version is not None and installed > event.key:
            affected = False
    if not affected or not _within_limits(rng, installed):
        return False, None
    for event in rng.events:
        if event.kind == "fixed" and event.version is not None and event.key > installed:
            return True, event.text
    return True, None


def _label(entry: OsvAffected) -> str:
    return f"{entry.ecosystem} {entry.name}"


_UNSET: Any = object()


def _one_range(entry: OsvAffected, rng: Any, installed: Any, version: str) -> Verdict:
    """The usual entry (one range) at the installed version's key: affected by the range (with its fix),
    listed in ``versions``, or :data:`NOT_AFFECTED` (that very object)."""
    hit, fixed = walk(rng, installed)
    if hit:
        said = entry.said
        if said is None:
            said = entry.said = (f"{_label(entry)} ", f" in range [{rng.describe()}] of {entry.record_id}")
        return Verdict(True, PURL_RANGE, f"{said[0]}{version}{said[1]}", fixed)
    if version in entry.versions:
        detail = f"{_label(entry)} {version} is listed in the versions of {entry.record_id}"
        return Verdict(True, PURL_VERSION_LIST, detail)
    return NOT_AFFECTED


def evaluate_many(entries: list[tuple[T, OsvAffected]], version: str) -> list[tuple[T, Verdict]]:
    """:func:`evaluate` of every entry at ``version``, keeping those that do not say "not affected"
    (each beside what came with its entry). The usual entry (one range) is decided here with the
    installed version's key worked out once per version scheme, not once per entry."""
    keys: dict[Any, Any] = {}
    out: list[tuple[T, Verdict]] = []
    for item, entry in entries:
        ranges = entry.ranges
        if len(ranges) == 1:  # what evaluate() does for such an entry
            rng = ranges[0]
            cls = SemverVersion if rng.type == "SEMVER" else entry.cls
            if not rng.problem and cls is not None:
                installed = keys.get(cls, _UNSET)
                if installed is _UNSET:
                    installed = keys[cls] = installed_key(cls, version)
                if installed is not None:
                    verdict = _one_range(entry, rng, installed, version)
                    if verdict is not NOT_AFFECTED:
                        out.append((item, verdict))
                    continue
        verdict = evaluate(entry, version)
        if verdict.affected is not False:
            out.append((item, verdict))
    return out


def evaluate_ranges(entry: OsvAffected, version: str) -> Verdict:
    """The ECOSYSTEM and SEMVER ranges alone (no ``versions`` list): affected, not, or unknown."""
    if len(entry.ranges) == 1:  # the usual entry: the general loop below, without its lists
        rng = entry.ranges[0]
        cls = SemverVersion if rng.type == "SEMVER" else entry.cls
        installed = installed_key(cls, version) if not rng.problem and cls is not None else None
        if installed is not None:
            hit, fixed = walk(rng, installed)
            if not hit:
                return NOT_AFFECTED
            detail = f"{_label(entry)} {version} in range [{rng.describe()}] of {entry.record_id}"
            return Verdict(True, PURL_RANGE, detail, fixed)
    problems: list[str] = []
    fixes: list[tuple[Version, str]] = []
    matched: list[OsvRange] = []
    for rng in entry.ranges:
        if rng.problem:
            problems.append(rng.problem)
            continue
        cls = SemverVersion if rng.type == "SEMVER" else entry.cls
        if cls is None:
            problems.append(f"ecosystem {entry.ecosystem!r} has no version rules in mamori")
            continue
        installed = installed_key(cls, version)
        if installed is None:
            problems.append(f"version {version!r} is not a valid {entry.ecosystem} version")
            continue
        hit, fixed = walk(rng, installed)
        if hit:
            matched.append(rng)
            if fixed is not None:
                fixes.append((parse(cls, fixed), fixed))  # type: ignore[arg-type]
    if matched:
        detail = f"{_label(entry)} {version} in range [{matched[0].describe()}] of {entry.record_id}"
        return Verdict(True, PURL_RANGE, detail, nearest(fixes))
    if problems:
        return unknown(f"{entry.record_id}: {problems[0]}")
    return NOT_AFFECTED


def _listed(entry: OsvAffected, version: str) -> bool:
    if version in entry.versions:
        return True
    if entry.cls is None:
        return False
    installed = parse_installed(entry.cls, version)
    return installed is not None and any(parse(entry.cls, v) == installed for v in entry.versions)


def evaluate(entry: OsvAffected, version: str) -> Verdict:
    """Ranges first (they tell the fix), then the enumerated ``versions``."""
    if len(entry.ranges) == 1:  # the usual entry: what the general path below gives, in fewer steps
        rng = entry.ranges[0]
        cls = SemverVersion if rng.type == "SEMVER" else entry.cls
        installed = installed_key(cls, version) if not rng.problem and cls is not None else None
        if installed is not None:
            return _one_range(entry, rng, installed, version)
    verdict = evaluate_ranges(entry, version) if entry.ranges else None
    if verdict is not None and verdict.affected:
        return verdict
    in_list = version in entry.versions if entry.ranges else _listed(entry, version)
    if in_list:
        detail = f"{_label(entry)} {version} is listed in the versions of {entry.record_id}"
        return Verdict(True, PURL_VERSION_LIST, detail)
    if verdict is not None:
        return verdict
    if entry.versions:
        return NOT_AFFECTED
    if entry.has_git:
        return unknown(
            f"{entry.record_id}: only GIT commit ranges, which need the repository's history (not evaluated offline)"
        )
    return unknown(f"{entry.record_id}: the entry gives neither ranges nor versions")

"""CVE 5 ``affected`` products against an installed version (``versions`` with ``lessThan`` …).

Rules (CVE JSON 5 schema, ``versions``, ``defaultStatus`` and the schema's "Product and Version
Encodings" note):

- An entry with ``lessThan`` / ``lessThanOrEqual`` covers ``version`` (inclusive; ``0``,
  ``unspecified``, ``*`` … mean "from the start") up to that bound. ``*`` is infinity, not a
  wildcard: ``*`` as the bound means no upper end, and ``5.10.*`` (or ``5.10*``) means "up to the
  end of the 5.10 series" — every version whose first two numbers are at most 5.10, so
  ``{version: 1.0, lessThan: 2.*}`` covers all of 1.x and 2.x. ``changes`` switch the status from
  their ``at`` version on (re-sorted, as the schema asks). An entry without a bound covers exactly
  its version (``*`` alone, which CISA ADP writes for "every version", covers all).
- **Only versions are compared.** A value is compared only when it is a version of the scheme that
  applies: ``versionType`` ``git`` (``hg``, ``svn`` …) entries are commit ranges, never compared
  with a release number; under any other type a git commit hash (7 to 64 hexadecimal digits with
  a letter among them, as CISA ADP copies the kernel CNA's git ranges under ``custom``), text
  with spaces (``Before v2.24.1``, ``3.7 SP2``), an operator (``<= 4.4.11``), a purl, or a bound
  without a digit (``unspecified``, ``publication``) is no version. Such an entry is
  *incomparable*: it does not cover the installed version, it only says that some versions have
  its status. A fixed version is only ever taken from a comparable bound, never from a hash.
- Per product: comparable entries that cover the version decide, and ``unaffected`` wins when they
  disagree (records state exceptions to a broad affected range that way: Linux kernel stable
  branches). When none covers it, ``defaultStatus`` decides (``unknown`` when absent) — unless
  incomparable entries might cover it with another status: then the product cannot tell. When
  every status the product could give is the same (git ranges ``affected`` and ``defaultStatus``
  ``affected``), that status holds whatever the commit history.
- Per record: the products of one CVE 5 record that name the component are read together, the
  CNA's first. What the CNA's products decide holds; CISA ADP enrichment (``containers.adp[]``,
  same rules) decides only where the CNA's products say nothing about the component (no CPE, or
  nothing comparable). Within one container an explicit ``unaffected`` entry beats an explicit
  ``affected`` one, which beats a ``defaultStatus``; a product whose entries are all commit
  ranges with a mixed outcome gives way to a product with comparable entries. A record whose
  products cannot tell gives "not evaluated" with the reason, never "not affected".
- Versions compare with the scheme ``versionType`` names (semver, maven, python, rpm …), else with
  the component's own ecosystem rules, else with the generic rules of :data:`ecosystems.GENERIC`;
  bounds a named scheme refuses are vendor versions and compare generically. Free-text versions
  (JVN) cannot be compared: such products give "cannot tell" with the text, never "not affected".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from univers.versions import Version

from mamori.match.ecosystems import GENERIC, VERSION_TYPES, VersionClass
from mamori.match.verdict import NOT_AFFECTED, Verdict, unknown
from mamori.match.versions import OPEN_START, nearest, parse, parse_installed

# version control systems: their versions are commits, ordered by history, not by number
SCM_TYPES = frozenset({"git", "hg", "mercurial", "svn", "bzr", "fossil", "darcs", "cvs"})
TEXT_TYPE = "text"  # JVN's free-text versions
_COMMIT = re.compile(r"[0-9a-f]{7,64}", re.IGNORECASE)
_NOT_A_VERSION = re.compile(r"\s|^[<>=!~^]|^pkg:|,")
_STATUSES = ("affected", "unaffected", "unknown")
ADP = "adp"


@lru_cache(maxsize=1 << 16)
def commit_like(text: str) -> bool:
    """A git (or similar) commit id: 7-64 hexadecimal digits, at least one of them a letter."""
    value = text.strip()
    return _COMMIT.fullmatch(value) is not None and not value.isdigit()


@lru_cache(maxsize=1 << 16)
def version_text(text: str) -> bool:
    """Whether ``text`` can be a version at all, whatever the scheme: it has a digit and is no commit
    id, free text (spaces, commas), operator expression or purl."""
    value = text.strip()
    return (
        any(ch.isdigit() for ch in value) and not commit_like(value) and _NOT_A_VERSION.search(value) is None
    )


@dataclass(frozen=True, slots=True)
class Coverage:
    """A comparable entry covers the installed version: its status there and the fix it names."""

    status: str
    fixed: str | None


@dataclass(frozen=True, slots=True)
class Incomparable:
    """An entry whose values are no versions of its scheme: it may or may not cover the version."""

    statuses: frozenset[str]
    reason: str


@dataclass(slots=True)
class Statement:
    """What one product says about the installed version.

    ``status``: affected | unaffected | unknown, or ``undetermined`` (``reason`` says why);
    ``explicit``: a comparable entry covers the version (else the default or the agreement of
    every possible status decided).
    """

    status: str
    explicit: bool = False
    fixes: list[tuple[Version, str]] = field(default_factory=list)
    detail: str = ""
    reason: str | None = None


def _class_for(version_type: object, hint: VersionClass | None) -> VersionClass:
    return VERSION_TYPES.get(str(version_type or "").strip().lower()) or hint or GENERIC


def _status(value: Any, fallback: str = "affected") -> str:
    text = str(value or "").strip().lower()
    return text if text in _STATUSES else fallback


def _value(cls: VersionClass, text: str) -> Version | None:
    """``text`` as a version of ``cls``; None when it is no version (of that scheme or at all)."""
    return parse(cls, text.strip()) if version_text(text) else None


def _series(bound: str) -> str | None:
    """``5.10.*`` / ``5.10*`` → ``5.10``; None when the bound is no series pattern (``*`` alone is
    infinity, handled by the caller)."""
    text = bound.strip()
    if len(text) > 1 and text.endswith("*"):
        return text[:-1].rstrip(".") or None
    return None


@lru_cache(maxsize=1 << 16)
def _order(cls: VersionClass, version: str, other: str) -> int | None:
    """-1, 0, 1 as the installed ``version`` is below, equal to or above the record's ``other``;
    None when either is no version of ``cls`` (memoised: records repeat the same bounds a lot)."""
    mine = parse_installed(cls, version) if version_text(version) else None
    theirs = _value(cls, other)
    if mine is None or theirs is None:
        return None
    return -1 if mine < theirs else (0 if mine == theirs else 1)


@lru_cache(maxsize=1 << 16)
def _within_series(version: str, prefix: str, cls: VersionClass) -> bool | None:
    """``version`` ≤ the end of the ``prefix`` series (``5.9.3`` and ``5.10.7`` are within ``5.10.*``,
    ``5.11`` and ``6.1.0`` are not); None when the two cannot be compared."""
    width = len(prefix.split("."))
    head = ".".join(version.split(".")[:width])
    mine, top = _value(cls, head), _value(cls, prefix)
    if mine is None or top is None:
        return None
    return bool(mine <= top)


def _entry_statuses(pv: dict[str, Any]) -> frozenset[str]:
    found = {_status(pv.get("status"))}
    found.update(_status(c.get("status")) for c in pv.get("changes") or [] if isinstance(c, dict))
    return frozenset(found)


def _bounded(
    pv: dict[str, Any], version: str, cls: VersionClass, installed: Version
) -> Coverage | Incomparable | None:
    """Coverage of a range entry; None when the version lies outside it."""
    start = str(pv.get("version") or "").strip()
    lt, lte = pv.get("less_than"), pv.get("less_than_or_equal")
    bound = str(lt if lt is not None else lte).strip()
    problems: list[str] = []
    if start.lower() not in OPEN_START:
        order = _order(cls, version, start)
        if order is None:
            problems.append(f"version {start!r}")
        elif order < 0:
            return None  # below the start: outside whatever the upper bound is
    fixed: str | None = None
    if bound != "*":
        prefix = _series(bound)
        if prefix is not None:
            inside = _within_series(version, prefix, cls)
            if inside is None:
                problems.append(f"bound {bound!r}")
            elif not inside:
                return None
        else:
            order = _order(cls, version, bound)
            if order is None:
                problems.append(f"bound {bound!r}")
            elif order > 0 or (order == 0 and lt is not None):
                return None  # at or above the end: outside whatever the start is
            else:
                fixed = bound if lt is not None else None
    changes = []
    for change in pv.get("changes") or []:
        if not isinstance(change, dict):
            continue
        at = str(change.get("at") or "").strip()
        point = _value(cls, at)
        if point is None:
            problems.append(f"change at {at!r}")
        else:
            changes.append((point, at, _status(change.get("status"))))
    if problems:
        return Incomparable(_entry_statuses(pv), f"{', '.join(problems)} cannot be compared")
    status = _status(pv.get("status"))
    ordered = sorted(changes, key=lambda c: c[0])
    for point, _at, new in ordered:
        if installed >= point:
            status = new
    if status == "affected":  # the first change above the installed version that ends it is the fix
        ends = [at for point, at, new in ordered if point > installed and new == "unaffected"]
        fixed = ends[0] if ends else fixed
    return Coverage(status, fixed if status == "affected" else None)


def _exact(
    pv: dict[str, Any], version: str, cls: VersionClass, installed: Version
) -> Coverage | Incomparable | None:
    start = str(pv.get("version") or "").strip()
    status = _status(pv.get("status"))
    if start == "*":
        return Coverage(status, None)
    if start.lower() in OPEN_START:
        return None
    if start.lower() == version.strip().lower():
        return Coverage(status, None)
    prefix = _series(start)
    if prefix is not None:  # "2.0*": the 2.0 series
        if _value(cls, prefix) is None:
            return Incomparable(frozenset({status}), f"version {start!r} cannot be compared")
        return (
            Coverage(status, None)
            if version.split(".")[: len(prefix.split("."))] == prefix.split(".")
            else None
        )
    order = _order(cls, version, start)
    if order is None:
        return Incomparable(frozenset({status}), f"version {start!r} cannot be compared")
    return Coverage(status, None) if order == 0 else None


def _cover(pv: dict[str, Any], version: str, cls: VersionClass) -> Coverage | Incomparable | None:
    installed = parse_installed(cls, version) if version_text(version) else None
    if installed is None:
        bounded = pv.get("less_than") is not None or pv.get("less_than_or_equal") is not None
        if not bounded and str(pv.get("version") or "").strip().lower() == version.strip().lower():
            return Coverage(_status(pv.get("status")), None)  # the very string: no comparison needed
        return Incomparable(_entry_statuses(pv), f"installed version {version!r} cannot be compared")
    if pv.get("less_than") is not None or pv.get("less_than_or_equal") is not None:
        return _bounded(pv, version, cls, installed)
    return _exact(pv, version, cls, installed)


def _entry(
    pv: dict[str, Any], version: str, hint: VersionClass | None
) -> tuple[Coverage | Incomparable | None, VersionClass]:
    kind = str(pv.get("version_type") or "").strip().lower()
    if kind in SCM_TYPES:
        return Incomparable(
            _entry_statuses(pv), f"{kind} commit ranges need the repository's history"
        ), GENERIC
    if kind == TEXT_TYPE:
        return Incomparable(_entry_statuses(pv), "the affected versions are given as text only"), GENERIC
    cls = _class_for(pv.get("version_type"), hint)
    cover = _cover(pv, version, cls)
    if isinstance(cover, Incomparable) and cls is not GENERIC and parse_installed(cls, version) is not None:
        # the record's own bounds are vendor versions outside the scheme: compare generically
        again = _cover(pv, version, GENERIC)
        if not isinstance(again, Incomparable):
            return again, GENERIC
    return cover, cls


def _fixes_above(
    entries: list[dict[str, Any]], version: str, hint: VersionClass | None
) -> list[tuple[Version, str]]:
    """Versions the product states unaffected from a point above the installed one (fix candidates)."""
    out = []
    for pv in entries:
        if (
            _status(pv.get("status")) != "unaffected"
            or str(pv.get("version_type") or "").lower() in SCM_TYPES
        ):
            continue
        start = str(pv.get("version") or "").strip()
        if start.lower() in OPEN_START or _series(start) is not None:
            continue
        for cls in dict.fromkeys((_class_for(pv.get("version_type"), hint), GENERIC)):
            order = _order(cls, version, start)
            if order is not None:
                low = _value(cls, start)
                if order < 0 and low is not None:
                    out.append((low, start))
                break
    return out


def product_statement(
    product: dict[str, Any], version: str, hint: VersionClass | None, label: str
) -> Statement:
    """What one CVE 5 (or JVN) product says about ``version``."""
    entries = [pv for pv in product.get("versions") or [] if isinstance(pv, dict)]
    record = str(product.get("record_id") or "")
    given = product.get("default_status")
    default = _status(given, "") or ("affected" if product.get("source") == "jvn" else "unknown")
    covered: list[Coverage] = []
    unclear: list[Incomparable] = []
    fixes: list[tuple[Version, str]] = []
    for pv in entries:
        cover, cls = _entry(pv, version, hint)
        if isinstance(cover, Incomparable):
            unclear.append(cover)
        elif cover is not None:
            covered.append(cover)
            fixed = _value(cls, cover.fixed) if cover.fixed else None
            if fixed is not None and cover.fixed:
                fixes.append((fixed, cover.fixed))
    comparable = [
        pv for pv in entries if str(pv.get("version_type") or "").lower() not in (*SCM_TYPES, TEXT_TYPE)
    ]
    statuses = {c.status for c in covered}
    if "unaffected" in statuses:
        return Statement("unaffected", explicit=True)
    if "affected" in statuses:
        fixes += _fixes_above(comparable, version, hint)
        detail = f"{label} {version} in {_describe(entries)} ({record})"
        return Statement("affected", explicit=True, fixes=fixes, detail=detail)
    if statuses:
        return Statement("unknown", explicit=True)
    possible = {default}.union(*(u.statuses for u in unclear)) if unclear else {default}
    if unclear and (len(possible) > 1 or (given is None and possible != {"unknown"})):
        texts = [
            str(pv.get("version")) for pv in entries if str(pv.get("version_type") or "").lower() == TEXT_TYPE
        ]
        why = (
            f"the affected versions are given as text only: {'; '.join(texts)[:200]}"
            if texts
            else unclear[0].reason
        )
        return Statement("undetermined", reason=f"{record}: {label}: {why}")
    status = possible.pop()
    if status != "affected":
        return Statement(status)
    if comparable:
        detail = f"{label} {version}: outside {_describe(entries)}, defaultStatus affected ({record})"
    elif unclear:
        detail = f"{label}: every version is affected (its commit ranges and defaultStatus agree; {record})"
    else:
        detail = f"{label}: every version is affected ({record})"
    return Statement("affected", fixes=_fixes_above(comparable, version, hint), detail=detail)


def _verdict(statement: Statement) -> Verdict:
    if statement.status == "affected":
        return Verdict(True, detail=statement.detail, fixed=nearest(statement.fixes))
    if statement.status == "undetermined":
        return unknown(statement.reason or "cannot be evaluated")
    return NOT_AFFECTED


def evaluate_product(product: dict[str, Any], version: str, hint: VersionClass | None, label: str) -> Verdict:
    """One CVE 5 (or JVN) affected product for ``version``; ``label`` names it in the detail."""
    return _verdict(product_statement(product, version, hint, label))


def _decide(statements: list[Statement]) -> Statement | None:
    """The statement of one container's products together; None when they decide nothing."""
    for status, explicit in (
        ("unaffected", True),
        ("affected", True),
        ("affected", False),
        ("unaffected", False),
    ):
        chosen = [s for s in statements if s.status == status and s.explicit == explicit]
        if chosen:
            if status == "affected":
                fixes = [f for s in statements if s.status == "affected" for f in s.fixes]
                return Statement("affected", explicit, fixes, chosen[0].detail)
            return chosen[0]
    return None


def evaluate_record(
    products: Sequence[dict[str, Any]], version: str, hint: VersionClass | None, label: str
) -> Verdict:
    """The products of one record (CVE 5 CNA and ADP containers, or one JVN entry) that name the
    component, read together: the CNA's decide, ADP enrichment where the CNA's say nothing."""
    tiers: dict[bool, list[Statement]] = {False: [], True: []}
    for product in products:
        tiers[product.get("container") == ADP].append(product_statement(product, version, hint, label))
    undetermined: list[Statement] = []
    for enrichment in (False, True):
        statements = tiers[enrichment]
        decided = _decide(statements)
        if decided is not None:
            return _verdict(decided)
        undetermined += [s for s in statements if s.status == "undetermined"]
    return _verdict(undetermined[0]) if undetermined else NOT_AFFECTED


def _describe(entries: list[dict[str, Any]]) -> str:
    """The entries that can be compared (commit ranges are left out), at most four."""
    shown = [
        pv
        for pv in entries
        if str(pv.get("version_type") or "").lower() not in SCM_TYPES
        and not any(commit_like(str(pv.get(k) or "")) for k in ("version", "less_than", "less_than_or_equal"))
    ]
    parts = []
    for pv in shown[:4]:
        start = pv.get("version")
        if pv.get("less_than") is not None:
            parts.append(f"{start} ≤ v < {pv['less_than']}")
        elif pv.get("less_than_or_equal") is not None:
            parts.append(f"{start} ≤ v ≤ {pv['less_than_or_equal']}")
        else:
            parts.append(str(start))
        if _status(pv.get("status")) != "affected":
            parts[-1] += f" ({_status(pv.get('status'))})"
    more = f" +{len(shown) - 4}" if len(shown) > 4 else ""
    return "[" + "; ".join(parts) + more + "]"

"""CPE names against NVD configurations and CVE 5 affected products.

CPE 2.3 formatted strings and CPE 2.2 URIs are both read (:func:`mamori.model.cpe.parse_cpe`).

**Attributes** other than the version (part, vendor, product, update, edition, language,
sw_edition, target_sw, target_hw, other) compare case-insensitively with escapes resolved; ``*``
in the criteria matches anything, embedded ``*``/``?`` are wildcards, ``-`` (not applicable) only
matches ``-``. ``*`` on the SBOM's side means "not said" and does not contradict the criteria.

**Version**: a criteria with a specific version and no bounds matches that version (equal under the
comparison rules); ``*`` with ``versionStart/End Including/Excluding`` matches the bounded range
(no bounds: every version); ``-`` matches only a component whose version is ``-``. Versions compare
with the component's ecosystem rules when its purl tells them, else with the generic rules of
:data:`mamori.match.ecosystems.GENERIC`.

**Configurations** (the rule this matcher applies): a configuration matches a component when a
*vulnerable* cpeMatch of one of its nodes matches the component's CPE and, for an ``AND``
configuration, every other node is satisfied too — either by some CPE in the same SBOM (a
vulnerable cpeMatch of that node matching another component), or because the node is a
*platform* node (only ``vulnerable: false`` entries: the operating system, hardware or runtime the
product runs on). SBOMs rarely list the platform, so platform nodes are assumed present and named in
the finding's detail ("running on …"). A node with operator ``AND`` needs all its vulnerable
entries satisfied; a negated node is treated as satisfied (also noted). A component that only
matches ``vulnerable: false`` entries gets no finding.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mamori.match.ecosystems import GENERIC, VersionClass
from mamori.match.verdict import NOT_AFFECTED, Verdict, unknown
from mamori.match.versions import parse, parse_installed
from mamori.model.cpe import CpeName, parse_cpe

_ATTRS = (
    "part",
    "vendor",
    "product",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
_ESCAPE = re.compile(r"\\(.)")
_WILDCARD = re.compile(r"(?<!\\)[*?]")


@lru_cache(maxsize=1 << 16)
def cpe_name(text: str) -> CpeName | None:
    return parse_cpe(text)


def plain(value: str) -> str:
    return _ESCAPE.sub(r"\1", value).lower()


def attribute_matches(criteria: str, target: str) -> bool:
    if criteria == "*" or target == "*":
        return True
    if criteria == "-" or target == "-":
        return criteria == target
    if criteria.lower() == target.lower():
        return True
    if _WILDCARD.search(criteria):
        return fnmatch.fnmatchcase(plain(target), plain(criteria))
    return plain(criteria) == plain(target)


def name_matches(criteria: CpeName, target: CpeName) -> bool:
    """Every attribute but the version agrees."""
    return all(attribute_matches(getattr(criteria, a), getattr(target, a)) for a in _ATTRS)


@dataclass(frozen=True, slots=True)
class CpeMatch:
    """One CPE match criteria of a configuration node, parsed, with its version bounds."""

    criteria: str
    name: CpeName
    vulnerable: bool
    start_including: str | None = None
    start_excluding: str | None = None
    end_including: str | None = None
    end_excluding: str | None = None

    @property
    def bounded(self) -> bool:
        return any((self.start_including, self.start_excluding, self.end_including, self.end_excluding))

    def describe(self) -> str:
        bounds = []
        if self.start_including:
            bounds.append(f"≥ {self.start_including}")
        if self.start_excluding:
            bounds.append(f"> {self.start_excluding}")
        if self.end_including:
            bounds.append(f"≤ {self.end_including}")
        if self.end_excluding:
            bounds.append(f"< {self.end_excluding}")
        return self.criteria + (f" versions {' and '.join(bounds)}" if bounds else "")


@dataclass(slots=True)
class CpeNode:
    """A configuration node: its operator, whether it is negated, and its match criteria."""

    operator: str
    negate: bool
    matches: list[CpeMatch] = field(default_factory=list)

    @property
    def is_platform(self) -> bool:
        return not any(m.vulnerable for m in self.matches)


@dataclass(slots=True)
class Configuration:
    """An NVD configuration of one record, parsed once (kept in the advisory cache)."""

    record_id: str
    source: str
    position: int
    operator: str
    negate: bool
    nodes: list[CpeNode] = field(default_factory=list)


def parse_configuration(raw: dict[str, Any], position: int) -> Configuration:
    config = Configuration(
        record_id=str(raw.get("record_id") or ""),
        source=str(raw.get("source") or ""),
        position=position,
        operator=str(raw.get("operator") or "OR").upper(),
        negate=bool(raw.get("negate")),
    )
    for node in raw.get("nodes") or []:
        parsed = CpeNode(str(node.get("operator") or "OR").upper(), bool(node.get("negate")))
        for m in node.get("matches") or []:
            name = cpe_name(str(m.get("criteria") or ""))
            if name is None:
                continue
            parsed.matches.append(
                CpeMatch(
                    criteria=str(m["criteria"]),
                    name=name,
                    vulnerable=bool(m.get("vulnerable", True)),
                    start_including=m.get("version_start_including"),
                    start_excluding=m.get("version_start_excluding"),
                    end_including=m.get("version_end_including"),
                    end_excluding=m.get("version_end_excluding"),
                )
            )
        config.nodes.append(parsed)
    return config


def version_matches(match: CpeMatch, version: str, cls: VersionClass) -> bool | str:
    """Whether ``version`` satisfies the cpeMatch's version and bounds; a string when it cannot be told.

    NVD bounds are vendor versions: when the component's ecosystem rules accept the installed
    version but refuse a bound, the comparison is made with the generic rules instead.
    """
    result = _version_matches(match, version, cls)
    if isinstance(result, str) and cls is not GENERIC and parse_installed(cls, version) is not None:
        return _version_matches(match, version, GENERIC)
    return result


def _version_matches(match: CpeMatch, version: str, cls: VersionClass) -> bool | str:
    crit = match.name.version
    if crit == "-":
        return version == "-"
    if crit != "*" and not match.bounded:
        if _WILDCARD.search(crit):
            return fnmatch.fnmatchcase(version.lower(), plain(crit))
        if plain(crit) == version.lower():
            return True
        wanted, installed = parse(cls, plain(crit)), parse_installed(cls, version)
        return wanted is not None and installed is not None and wanted == installed
    if not match.bounded:
        return True
    installed = parse_installed(cls, version)
    if installed is None:
        return f"version {version!r} cannot be compared"
    checks = (
        (match.start_including, lambda b: installed >= b),
        (match.start_excluding, lambda b: installed > b),
        (match.end_including, lambda b: installed <= b),
        (match.end_excluding, lambda b: installed < b),
    )
    for text, test in checks:
        if text is None:
            continue
        bound = parse(cls, str(text))
        if bound is None:
            return f"bound {text!r} of {match.criteria} cannot be compared"
        if not test(bound):
            return False
    return True


@dataclass(frozen=True, slots=True)
class CpeTarget:
    """A CPE to look up: the SBOM's own, or vendor:product derived through purl2cpe (``weak``: the
    rule that made the link weak, for a weak link used on request)."""

    name: CpeName
    version: str
    cls: VersionClass
    derived: bool = False
    weak: str = ""


Elsewhere = Callable[[CpeMatch], bool]


def _node_satisfied(node: CpeNode, target: CpeTarget, elsewhere: Elsewhere) -> bool | None:
    """None: the node does not concern the target and holds only platforms (assumed present)."""
    vulnerable = [m for m in node.matches if m.vulnerable]
    if not vulnerable:
        return None
    results = [hit(m, target) is True or elsewhere(m) for m in vulnerable]
    return all(results) if node.operator == "AND" else any(results)


def hit(match: CpeMatch, target: CpeTarget) -> bool | str:
    if not match.vulnerable or not name_matches(match.name, target.name):
        return False
    return version_matches(match, target.version, target.cls)


def evaluate_configuration(config: Configuration, target: CpeTarget, elsewhere: Elsewhere) -> Verdict:
    """The configuration against one component's CPE, other nodes against the rest of the SBOM."""
    hits: list[tuple[int, CpeMatch]] = []
    problems: list[str] = []
    for index, node in enumerate(config.nodes):
        for m in node.matches:
            result = hit(m, target)
            if isinstance(result, str):
                problems.append(result)
            elif result:
                hits.append((index, m))
    if not hits:
        return unknown(f"{config.record_id}: {problems[0]}") if problems else NOT_AFFECTED
    notes: list[str] = []
    hit_nodes = {index for index, _ in hits}
    for index, node in enumerate(config.nodes):
        if node.negate:
            notes.append(f"negated node {index + 1} assumed satisfied")
            continue
        if index in hit_nodes:
            if node.operator == "AND" and not _node_satisfied(node, target, elsewhere):
                return NOT_AFFECTED
            continue
        if config.operator != "AND":
            continue
        satisfied = _node_satisfied(node, target, elsewhere)
        if satisfied is None:
            notes.append("running on " + " or ".join(m.criteria for m in node.matches[:3]))
        elif not satisfied:
            return NOT_AFFECTED
    match = hits[0][1]
    fixed = match.end_excluding
    detail = (
        f"{match.describe()} (configuration {config.position + 1} of {config.record_id}, {config.source})"
    )
    if notes:
        detail += "; " + "; ".join(notes)
    return Verdict(True, detail=detail, fixed=fixed)


def product_names(product: dict[str, Any]) -> list[CpeName]:
    """The CPE names of a CVE 5 product: its own, else those mamori derives (vulndb.products)."""
    given = product.get("cpes") or product.get("derived_cpes") or []
    return [n for n in (cpe_name(str(c)) for c in given) if n is not None]


def product_matches(names: list[CpeName], target: CpeName) -> bool:
    """A CVE 5 product's CPEs name the target (their version field only identifies the product)."""
    return any(name_matches(n, target) for n in names)

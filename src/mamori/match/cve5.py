"""CVE 5 ``affected`` products against an installed version (``versions`` with ``lessThan`` …).

Rules (CVE JSON 5 schema, ``versions`` and ``defaultStatus``):

- An entry with ``lessThan`` / ``lessThanOrEqual`` covers ``version`` (inclusive; ``0``,
  ``unspecified``, ``*`` … mean "from the start") up to that bound; ``*`` as the bound means no
  upper end and ``5.10.*`` means "up to the end of the 5.10 series". ``changes`` switch the status
  from their ``at`` version on. An entry without a bound covers exactly its version (``*`` alone,
  which CISA ADP writes for "every version", covers all).
- When entries disagree, ``unaffected`` wins: records state exceptions to a broad affected range
  that way (Linux kernel stable branches). No covering entry → ``defaultStatus`` (``unknown``
  when absent); only ``affected`` makes a finding.
- Versions compare with the scheme ``versionType`` names (semver, maven, python, rpm …), else with
  the component's own ecosystem rules, else with the generic rules of :data:`ecosystems.GENERIC`.
  ``git`` entries are skipped (commit history is not available offline); free-text versions (JVN)
  cannot be compared: such products give "cannot tell" with the text, never "not affected".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from univers.versions import Version

from mamori.match.ecosystems import GENERIC, VERSION_TYPES, VersionClass
from mamori.match.verdict import NOT_AFFECTED, Verdict, unknown
from mamori.match.versions import OPEN_START, nearest, parse, parse_installed


@dataclass(frozen=True, slots=True)
class Coverage:
    status: str
    fixed: str | None


def _class_for(version_type: str | None, hint: VersionClass | None) -> VersionClass:
    return VERSION_TYPES.get((version_type or "").lower()) or hint or GENERIC


def _series_prefix(bound: str) -> list[str] | None:
    """``5.10.*`` → ["5", "10"]; None when the bound is not a series wildcard."""
    if bound.endswith(".*"):
        return bound[:-2].split(".")
    return None


def _in_series(version: str, prefix: list[str]) -> bool:
    return version.split(".")[: len(prefix)] == prefix


def _bounded(
    pv: dict[str, Any], version: str, cls: VersionClass, installed: Version
) -> Coverage | str | None:
    """Coverage of a bounded entry; None when outside; a string when it cannot be compared."""
    start = str(pv.get("version") or "").strip()
    if start.lower() not in OPEN_START:
        low = parse(cls, start)
        if low is None:
            return f"version {start!r} cannot be compared"
        if installed < low:
            return None
    lt, lte = pv.get("less_than"), pv.get("less_than_or_equal")
    bound = str(lt if lt is not None else lte).strip()
    fixed: str | None = None
    if bound != "*":
        prefix = _series_prefix(bound)
        if prefix is not None:
            if not _in_series(version, prefix):
                return None
        else:
            upper = parse(cls, bound)
            if upper is None:
                return f"bound {bound!r} cannot be compared"
            if (lt is not None and installed >= upper) or (lt is None and installed > upper):
                return None
            fixed = bound if lt is not None else None
    status = str(pv.get("status") or "affected")
    for change in sorted(
        (c for c in pv.get("changes") or [] if parse(cls, str(c.get("at", ""))) is not None),
        key=lambda c: parse(cls, str(c["at"])),  # type: ignore[arg-type,return-value]
    ):
        at = parse(cls, str(change["at"]))
        if at is not None and installed >= at:
            status = str(change.get("status") or status)
        elif at is not None and status == "affected" and change.get("status") == "unaffected":
            fixed = fixed or str(change["at"])
    return Coverage(status, fixed if status == "affected" else None)


def _cover(pv: dict[str, Any], version: str, cls: VersionClass) -> Coverage | str | None:
    installed = parse_installed(cls, version)
    if installed is None:
        return f"installed version {version!r} cannot be compared"
    if pv.get("less_than") is not None or pv.get("less_than_or_equal") is not None:
        return _bounded(pv, version, cls, installed)
    return _exact(pv, version, cls, installed)


def _exact(pv: dict[str, Any], version: str, cls: VersionClass, installed: Version) -> Coverage | None:
    start = str(pv.get("version") or "").strip()
    status = str(pv.get("status") or "affected")
    if start == "*":
        return Coverage(status, None)
    if start.lower() in OPEN_START:
        return None
    if start == version or parse(cls, start) == installed:
        return Coverage(status, None)
    return None


def _fixed_above(
    entries: list[dict[str, Any]], version: str, hint: VersionClass | None
) -> list[tuple[Version, str]]:
    """Versions the record states unaffected above the installed one (candidates for the fix)."""
    out = []
    for pv in entries:
        if pv.get("status") != "unaffected":
            continue
        cls = _class_for(pv.get("version_type"), hint)
        installed = parse_installed(cls, version)
        start = str(pv.get("version") or "").strip()
        low = parse(cls, start) if start.lower() not in OPEN_START else None
        if installed is not None and low is not None and low > installed:
            out.append((low, start))
    return out


def evaluate_product(product: dict[str, Any], version: str, hint: VersionClass | None, label: str) -> Verdict:
    """One CVE 5 (or JVN) affected product for ``version``; ``label`` names it in the detail."""
    entries = [pv for pv in product.get("versions") or [] if isinstance(pv, dict)]
    record = str(product.get("record_id") or "")
    default = str(
        product.get("default_status") or ("affected" if product.get("source") == "jvn" else "unknown")
    )
    texts = [str(pv.get("version")) for pv in entries if pv.get("version_type") == "text"]
    usable = [pv for pv in entries if str(pv.get("version_type") or "").lower() not in ("git", "text")]
    if not usable:
        if texts:
            return unknown(
                f"{record}: {label}: the affected versions are given as text only: {'; '.join(texts)[:200]}"
            )
        if entries:
            return unknown(
                f"{record}: {label}: only git commit versions, which need the repository's history"
            )
        if default == "affected":
            return Verdict(True, detail=f"{label}: every version is affected ({record})")
        return NOT_AFFECTED
    covered: list[Coverage] = []
    problems: list[str] = []
    fixes: list[tuple[Version, str]] = []
    for pv in usable:
        cls = _class_for(pv.get("version_type"), hint)
        cover = _cover(pv, version, cls)
        if isinstance(cover, str) and cls is not GENERIC and parse_installed(cls, version) is not None:
            # the record's own bounds are vendor versions outside the scheme: compare generically
            cls = GENERIC
            cover = _cover(pv, version, cls)
        if isinstance(cover, str):
            problems.append(cover)
        elif cover is not None:
            covered.append(cover)
            fixed = parse(cls, cover.fixed) if cover.fixed else None
            if fixed is not None and cover.fixed:
                fixes.append((fixed, cover.fixed))
    statuses = {c.status for c in covered}
    if "unaffected" in statuses:
        return NOT_AFFECTED
    if "affected" in statuses or (not covered and not problems and default == "affected"):
        fixes += _fixed_above(usable, version, hint)
        bounds = _describe(usable)
        return Verdict(True, detail=f"{label} {version} in {bounds} ({record})", fixed=nearest(fixes))
    if problems and not covered:
        return unknown(f"{record}: {label}: {problems[0]}")
    return NOT_AFFECTED


def _describe(entries: list[dict[str, Any]]) -> str:
    parts = []
    for pv in entries[:4]:
        start = pv.get("version")
        if pv.get("less_than") is not None:
            parts.append(f"{start} ≤ v < {pv['less_than']}")
        elif pv.get("less_than_or_equal") is not None:
            parts.append(f"{start} ≤ v ≤ {pv['less_than_or_equal']}")
        else:
            parts.append(str(start))
        if pv.get("status") != "affected":
            parts[-1] += f" ({pv.get('status')})"
    more = f" +{len(entries) - 4}" if len(entries) > 4 else ""
    return "[" + "; ".join(parts) + more + "]"

"""What a component is looked up by: its purl's ecosystem and name, its CPEs, its version."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from packageurl import PackageURL

from mamori.match.cpe import cpe_name
from mamori.match.ecosystems import PackageKey, VersionClass, ecosystem_for_purl, version_class
from mamori.match.purl2cpe import LinkKey, key_for
from mamori.model.sbom import Component
from mamori.vulndb.cpe import CpeName


@dataclass(frozen=True, slots=True)
class Target:
    """A component ready for lookup; ``problem`` says why it cannot be evaluated at all."""

    version: str | None
    package: PackageKey | None = None
    cls: VersionClass | None = None
    link: LinkKey | None = None
    cpes: tuple[CpeName, ...] = ()
    purl_type: str | None = None
    problem: str | None = None
    notes: tuple[str, ...] = field(default=())


@lru_cache(maxsize=1 << 16)
def _purl(text: str) -> PackageURL | str:
    try:
        return PackageURL.from_string(text.strip())
    except ValueError as exc:
        return str(exc)


@lru_cache(maxsize=1 << 17)
def _target(purl_text: str | None, version: str | None, cpes: tuple[str, ...]) -> Target:
    names: list[CpeName] = []
    bad: list[str] = []
    for text in cpes:
        parsed = cpe_name(text)
        if parsed is None:
            bad.append(f"CPE {text[:80]!r} is not a CPE 2.3 name or 2.2 URI")
        else:
            names.append(parsed)
    purl: PackageURL | None = None
    if purl_text:
        parsed_purl = _purl(purl_text)
        if isinstance(parsed_purl, str):
            bad.append(f"purl {purl_text[:80]!r} is not valid: {parsed_purl}")
        else:
            purl = parsed_purl
    wanted = (purl.version if purl is not None and purl.version else None) or (version or None)
    if purl is None and not names:
        problem = "; ".join(bad) if bad else "no purl or CPE to look it up by"
        return Target(wanted, problem=problem if wanted else f"{problem}; no version")
    if not wanted and not any(n.version not in ("*", "-", "") for n in names):
        return Target(None, problem="no version")
    package = ecosystem_for_purl(purl) if purl is not None else None
    return Target(
        version=wanted,
        package=package,
        cls=version_class(package.ecosystem) if package else None,
        link=key_for(purl) if purl is not None else None,
        cpes=tuple(names),
        purl_type=purl.type if purl is not None else None,
        notes=tuple(bad),
    )


def target_for(component: Component) -> Target:
    """The lookup identity of a component (memoised: SBOMs of one portfolio repeat components)."""
    return _target(component.purl, component.version, tuple(component.cpes))

"""What a component is looked up by: its purl's ecosystem and name, its CPEs, its version.

An OS package (deb, rpm, apk purl) is also looked up by the source package it was built from
(:mod:`mamori.model.source_package`: the ``upstream`` qualifier, mamori's or Trivy's properties),
with the source's version: distributions file their advisories by source package. Against the
distribution's advisories the version of a deb, rpm or apk purl carries its ``epoch`` qualifier
(``epoch=2``, version ``1.4-3`` → ``2:1.4-3``), as the distribution compares it; CPE matching keeps
the version without it (upstream version strings have no epoch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from packageurl import PackageURL

from mamori.dataclass_code import slot_setters
from mamori.match import reasons
from mamori.match.cpe import cpe_name
from mamori.match.ecosystems import PackageKey, VersionClass, ecosystem_for_purl, version_class
from mamori.match.purl2cpe import LinkKey, key_for
from mamori.model.cpe import CpeName
from mamori.model.names import normalise_name
from mamori.model.sbom import Component
from mamori.model.source_package import OS_PURL_TYPES, source_of, source_properties, with_epoch


@dataclass(frozen=True, slots=True, init=False)
class Target:
    """A component ready for lookup; ``problem`` says why it cannot be evaluated at all and
    ``problem_code`` says it for machines (:mod:`mamori.match.reasons`)."""

    version: str | None
    package: PackageKey | None = None
    cls: VersionClass | None = None
    link: LinkKey | None = None
    cpes: tuple[CpeName, ...] = ()
    purl_type: str | None = None
    problem: str | None = None
    problem_code: str | None = None
    notes: tuple[str, ...] = field(default=())
    source: PackageKey | None = None  # the source package, when it is not the package itself
    source_version: str | None = None
    package_version: str | None = None  # the version with the purl's epoch qualifier (OS packages)

    def __init__(
        self,
        version: str | None,
        package: PackageKey | None = None,
        cls: VersionClass | None = None,
        link: LinkKey | None = None,
        cpes: tuple[CpeName, ...] = (),
        purl_type: str | None = None,
        problem: str | None = None,
        problem_code: str | None = None,
        notes: tuple[str, ...] = (),
        source: PackageKey | None = None,
        source_version: str | None = None,
        package_version: str | None = None,
    ) -> None:  # the generated one, its fields set through their slots (one per component)
        (
            set_version,
            set_package,
            set_cls,
            set_link,
            set_cpes,
            set_purl_type,
            set_problem,
            set_problem_code,
            set_notes,
            set_source,
            set_source_version,
            set_package_version,
        ) = _TARGET_SLOTS
        set_version(self, version)
        set_package(self, package)
        set_cls(self, cls)
        set_link(self, link)
        set_cpes(self, cpes)
        set_purl_type(self, purl_type)
        set_problem(self, problem)
        set_problem_code(self, problem_code)
        set_notes(self, notes)
        set_source(self, source)
        set_source_version(self, source_version)
        set_package_version(self, package_version)

    def lookups(self) -> list[tuple[PackageKey, str, bool]]:
        """(key, version compared, through the source package?) for the advisory index.

        The binary by its own name and version, and its source package by the source's name and
        version; one lookup when they share the name (the source's version then decides: the
        advisories give source versions, and a binary rebuild adds ``+b1`` to its own).
        """
        version = self.package_version or self.version
        if self.package is None or version is None:
            return []
        if self.source is None or self.source_version is None:
            return [(self.package, version, False)]
        through = (self.source, self.source_version, True)
        if self.source.name_key == self.package.name_key:
            return [through]
        return [(self.package, version, False), through]


_TARGET_SLOTS = slot_setters(Target)

# the usual purl: type, name and version of unreserved characters only (no namespace, qualifiers or
# subpath; nothing percent-encoded); PackageURL.from_string gives what its fields give to the constructor
_SIMPLE_PURL = re.compile(r"pkg:([a-z][a-z0-9.\-]*)/([A-Za-z0-9._~\-]+)@([A-Za-z0-9._~+!\-]+)")


_new_purl = tuple.__new__  # PackageURL is a named tuple: its fields, already normalised


@lru_cache(maxsize=1 << 16)
def _purl(text: str) -> PackageURL | str:
    """The parsed purl, or why it does not parse (memoised; ``text`` is stripped first)."""
    text = text.strip()
    try:
        simple = _SIMPLE_PURL.fullmatch(text)
        if simple is not None:  # a third of the time of from_string, which splits it as a URL first
            kind, name, version = simple.groups()
            if kind == "pypi":  # the fields PackageURL's normalisation gives: the name lower case, _ → -
                return _new_purl(
                    PackageURL, ("pypi", None, name.lower().replace("_", "-"), version, {}, None)
                )
            return PackageURL(kind, None, name, version)
        return PackageURL.from_string(text)
    except ValueError as exc:
        return str(exc)


def parse_purl(text: str) -> PackageURL | str:
    """The purl parsed as :meth:`PackageURL.from_string` parses it (surrounding blanks ignored), or the
    reason it does not parse; memoised, shared with the matcher's own parse."""
    return _purl(text)


def _source(
    purl: PackageURL, package: PackageKey, version: str | None, props: tuple[tuple[str, str], ...]
) -> tuple[PackageKey | None, str | None]:
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    found = source_of(purl.type, qualifiers, props)
    if found is None or not version:
        return None, None
    source_version = found.version or version
    if found.name == package.name and source_version == version:
        return None, None
    key = PackageKey(
        package.ecosystem, found.name, normalise_name(package.ecosystem, found.name), package.release
    )
    return key, source_version


@lru_cache(maxsize=1 << 17)
def _target(
    purl_text: str | None,
    version: str | None,
    cpes: tuple[str, ...],
    props: tuple[tuple[str, str], ...] = (),
) -> Target:
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
    package_version = wanted
    if purl is not None and purl.version and purl.type in OS_PURL_TYPES and isinstance(purl.qualifiers, dict):
        package_version = with_epoch(purl.version, purl.qualifiers.get("epoch"))
    if purl is None and not names:
        problem = "; ".join(bad) if bad else "no purl or CPE to look it up by"
        code = reasons.BAD_IDENTIFIER if bad else reasons.NO_IDENTIFIER
        return Target(wanted, problem=problem if wanted else f"{problem}; no version", problem_code=code)
    if not wanted and not any(n.version not in ("*", "-", "") for n in names):
        return Target(None, problem="no version", problem_code=reasons.NO_VERSION)
    package = ecosystem_for_purl(purl) if purl is not None else None
    source, source_version = (
        _source(purl, package, package_version, props)
        if purl is not None and package is not None
        else (None, None)
    )
    return Target(
        version=wanted,
        package=package,
        cls=version_class(package.ecosystem) if package else None,
        link=key_for(purl) if purl is not None else None,
        cpes=tuple(names),
        purl_type=purl.type if purl is not None else None,
        notes=tuple(bad),
        source=source,
        source_version=source_version,
        package_version=package_version if package_version != wanted else None,
    )


def target_for(component: Component) -> Target:
    """The lookup identity of a component (memoised: SBOMs of one portfolio repeat components)."""
    props = source_properties(component.properties) if component.properties else ()
    return _target(component.purl, component.version, tuple(component.cpes), props)

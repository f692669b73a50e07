"""Which version rules apply where: OSV ecosystems, purl types and CVE 5 ``versionType`` → univers classes.

- :data:`ECOSYSTEM_VERSIONS`: the OSV ecosystem (base name, without ``:release``) whose ECOSYSTEM
  ranges are compared with that univers version class.
- :func:`ecosystem_for_purl`: a purl → the OSV ecosystem and the package name as OSV spells it
  (``group:artifact`` for Maven, ``namespace/name`` for Go, Packagist and npm scopes), plus the
  release when the purl's ``distro`` qualifier tells it (``debian-12`` → 12, Trivy's
  ``debian-12.4`` → 12.4, ``alpine-3.18.4`` → 3.18.4).
- :func:`release_matches`: whether an advisory entry filed for one release of a distribution
  (``Debian:12``, ``Alpine:v3.18``, ``Ubuntu:22.04:LTS``, ``Rocky Linux:9``) applies to that
  release: the entry's release number against as many leading parts of the purl's (12 covers
  12.4; v3.18 covers 3.18.4, not 3.19).
- :data:`GENERIC`: the rules used when nothing says which apply (a CPE without a purl, CVE 5
  ``custom`` versions): Maven's ComparableVersion ordering, which compares dotted numbers
  numerically, orders the usual qualifiers (alpha < beta < milestone < rc < snapshot < release <
  sp) and treats ``1.0`` and ``1.0.0`` as equal. It parses any string, so it never refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packageurl import PackageURL
from univers.versions import (
    AlpineLinuxVersion,
    ComposerVersion,
    ConanVersion,
    DebianVersion,
    GolangVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RpmVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

from mamori.model.names import normalise_name, split_ecosystem

VersionClass = type[Version]
GENERIC: VersionClass = MavenVersion

ECOSYSTEM_VERSIONS: dict[str, VersionClass] = {
    "PyPI": PypiVersion,
    "npm": SemverVersion,
    "Maven": MavenVersion,
    "Go": GolangVersion,
    "crates.io": SemverVersion,
    "RubyGems": RubygemsVersion,
    "NuGet": NugetVersion,
    "Packagist": ComposerVersion,
    "Hex": SemverVersion,
    "Pub": SemverVersion,
    "GitHub Actions": SemverVersion,
    "SwiftURL": SemverVersion,
    "ConanCenter": ConanVersion,
    "Debian": DebianVersion,
    "Ubuntu": DebianVersion,
    "Alpine": AlpineLinuxVersion,
    "Wolfi": AlpineLinuxVersion,
    "Chainguard": AlpineLinuxVersion,
    "Red Hat": RpmVersion,
    "Rocky Linux": RpmVersion,
    "AlmaLinux": RpmVersion,
    "openSUSE": RpmVersion,
    "SUSE": RpmVersion,
    "Mageia": RpmVersion,
    "openEuler": RpmVersion,
    "Photon OS": RpmVersion,
    "Azure Linux": RpmVersion,
}

# CVE 5 ``versionType`` values that name a scheme; others (custom, string …) follow the component.
VERSION_TYPES: dict[str, VersionClass] = {
    "semver": SemverVersion,
    "maven": MavenVersion,
    "python": PypiVersion,
    "pypi": PypiVersion,
    "npm": SemverVersion,
    "go": GolangVersion,
    "rpm": RpmVersion,
    "deb": DebianVersion,
    "debian": DebianVersion,
    "nuget": NugetVersion,
    "gem": RubygemsVersion,
    "composer": ComposerVersion,
}

_PURL_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
    "swift": "SwiftURL",
    "conan": "ConanCenter",
    "githubactions": "GitHub Actions",
}
# Linux distributions: purl type → namespace → OSV ecosystem.
_DISTRO_ECOSYSTEMS = {
    "deb": {"debian": "Debian", "ubuntu": "Ubuntu"},
    "apk": {"alpine": "Alpine", "wolfi": "Wolfi", "chainguard": "Chainguard"},
    "rpm": {
        "redhat": "Red Hat",
        "rhel": "Red Hat",
        "rocky": "Rocky Linux",
        "rocky-linux": "Rocky Linux",
        "almalinux": "AlmaLinux",
        "opensuse": "openSUSE",
        "opensuse-leap": "openSUSE",
        "opensuse-tumbleweed": "openSUSE",
        "suse": "SUSE",
        "sles": "SUSE",
        "mageia": "Mageia",
        "openeuler": "openEuler",
    },
}
_RELEASE = re.compile(r"(\d+(?:\.\d+)*)")


@dataclass(frozen=True, slots=True)
class PackageKey:
    """Where a purl's advisories are filed: OSV ecosystem, name as OSV spells it, index key."""

    ecosystem: str
    name: str
    name_key: str
    release: str = ""  # distro=debian-12 → "12"; empty when the purl does not tell


def _distro_release(purl: PackageURL) -> str:
    distro = (purl.qualifiers or {}).get("distro", "") if isinstance(purl.qualifiers, dict) else ""
    found = _RELEASE.search(distro)
    return found.group(1) if found else ""


def osv_name(purl: PackageURL) -> str:
    """The package name as OSV records spell it for this purl's ecosystem."""
    ns = purl.namespace or ""
    if purl.type == "maven":
        return f"{ns}:{purl.name}" if ns else purl.name
    if purl.type in ("golang", "composer", "npm", "swift", "githubactions") and ns:
        return f"{ns}/{purl.name}"
    return purl.name


def ecosystem_for_purl(purl: PackageURL) -> PackageKey | None:
    """The OSV ecosystem of a purl, or None when mamori knows no advisories filed under its type."""
    ecosystem = _PURL_ECOSYSTEMS.get(purl.type)
    release = ""
    if ecosystem is None:
        distros = _DISTRO_ECOSYSTEMS.get(purl.type)
        if distros is None:
            return None
        ecosystem = distros.get((purl.namespace or "").lower())
        if ecosystem is None:
            return None
        release = _distro_release(purl)
    name = osv_name(purl)
    return PackageKey(ecosystem, name, normalise_name(ecosystem, name), release)


def _numbers(text: str) -> list[int] | None:
    found = _RELEASE.search(text)
    return [int(part) for part in found.group(1).split(".")] if found else None


def release_matches(variant: str, release: str) -> bool:
    """Whether an entry filed for the ecosystem variant ``variant`` (``12``, ``v3.18``,
    ``22.04:LTS``) applies to a package of distribution release ``release``; True when either
    does not say (a variant without a release number, a purl without ``distro``)."""
    if not variant or not release:
        return True
    wanted, have = _numbers(variant), _numbers(release)
    if wanted is None or have is None:
        return True
    return have[: len(wanted)] == wanted


def version_class(ecosystem: str) -> VersionClass | None:
    """The univers class for an OSV ecosystem (``Debian:12`` → DebianVersion); None when unknown."""
    found = ECOSYSTEM_VERSIONS.get(ecosystem)  # the usual name, which is its own base name
    return found if found is not None else ECOSYSTEM_VERSIONS.get(split_ecosystem(ecosystem)[0])

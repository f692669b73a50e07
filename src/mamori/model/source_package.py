"""The source package an OS binary package was built from, as SBOM tools write it and as it is read.

Distributions publish advisories by source package (Debian DSA/DLA and Ubuntu USN name ``openssl``
and ``glibc``; Alpine secdb names the origin), while SBOMs list binaries (``libssl3``, ``libc6``).
Where SBOMs carry the source:

- the purl ``upstream`` qualifier, as Syft writes it: ``upstream=<source>`` or
  ``upstream=<source>@<source version>`` for deb (dpkg ``Source: name (version)``; the version only
  when it differs from the binary's) and apk (``o:`` origin, when it differs from the name);
  ``upstream=<name>-<version>-<release>.src.rpm`` (the ``SOURCERPM`` header) for rpm, the form
  Grype reads;
- Trivy's CycloneDX properties ``aquasecurity:trivy:SrcName``, ``SrcVersion``, ``SrcRelease``,
  ``SrcEpoch`` (the source version split as epoch, version, release);
- Syft's CycloneDX properties ``syft:metadata:source`` and ``sourceVersion`` (deb),
  ``sourceRpm`` (rpm), ``originPackage`` (apk);
- mamori's own properties ``mamori:deb:source`` (the dpkg ``Source`` field as written),
  ``mamori:rpm:source`` (the source RPM file name) and ``mamori:apk:origin``, and
  ``mamori:source-package`` (``name@version``, the version as compared), which the portfolio
  gives the components it stores.

A source without a version of its own has the binary's version (what dpkg does when ``Source``
names no version, and what apk does for every subpackage); a source RPM has the epoch of the
binaries built from it (the file name does not carry it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mamori.model.sbom import Property

UPSTREAM = "upstream"
DEB_SOURCE = "mamori:deb:source"
RPM_SOURCE = "mamori:rpm:source"
APK_ORIGIN = "mamori:apk:origin"
SOURCE_PACKAGE = "mamori:source-package"
TRIVY_NAME = "aquasecurity:trivy:SrcName"
TRIVY_VERSION = "aquasecurity:trivy:SrcVersion"
TRIVY_RELEASE = "aquasecurity:trivy:SrcRelease"
TRIVY_EPOCH = "aquasecurity:trivy:SrcEpoch"
SYFT_SOURCE = "syft:metadata:source"
SYFT_SOURCE_VERSION = "syft:metadata:sourceVersion"
SYFT_SOURCE_RPM = "syft:metadata:sourceRpm"
SYFT_ORIGIN = "syft:metadata:originPackage"
OS_PURL_TYPES = frozenset({"deb", "rpm", "apk"})
PROPERTY_NAMES = frozenset(
    {
        SOURCE_PACKAGE,
        DEB_SOURCE,
        RPM_SOURCE,
        APK_ORIGIN,
        TRIVY_NAME,
        TRIVY_VERSION,
        TRIVY_RELEASE,
        TRIVY_EPOCH,
        SYFT_SOURCE,
        SYFT_SOURCE_VERSION,
        SYFT_SOURCE_RPM,
        SYFT_ORIGIN,
    }
)

_DPKG_SOURCE = re.compile(r"^\s*([^\s()]+)\s*(?:\(\s*([^\s()]+)\s*\))?\s*$")
_SOURCE_RPM = re.compile(r"^(.+)-([^-]+)-([^-]+)\.(?:src|nosrc|[A-Za-z][A-Za-z0-9_]*)\.rpm$")
_EPOCH = re.compile(r"^\d+$")


@dataclass(frozen=True, slots=True)
class SourcePackage:
    """A source package name and its version (None: the binary's version)."""

    name: str
    version: str | None = None


def parse_dpkg_source(field: str) -> SourcePackage | None:
    """dpkg's ``Source`` field: ``openssl`` or ``glibc (2.36-9+deb12u4)``; None when malformed."""
    found = _DPKG_SOURCE.match(field)
    if not found:
        return None
    return SourcePackage(found.group(1), found.group(2) or None)


def parse_source_rpm(filename: str) -> tuple[str, str, str] | None:
    """``python3.11-3.11.5-1.el9.src.rpm`` → (python3.11, 3.11.5, 1.el9).

    RPM forbids ``-`` in versions and releases, so the last two dashes split them off whatever
    dashes the name holds (``util-linux-ng-2.17.2-12.28.el6_9.2.src.rpm`` → util-linux-ng).
    """
    found = _SOURCE_RPM.match(filename.strip())
    return (found.group(1), found.group(2), found.group(3)) if found else None


def with_epoch(version: str, epoch: str | None) -> str:
    """``epoch:version`` when an epoch other than 0 is given and the version carries none."""
    if epoch and _EPOCH.match(epoch) and int(epoch) != 0 and ":" not in version:
        return f"{epoch}:{version}"
    return version


def upstream_qualifier(purl_type: str, name: str, version: str, source: SourcePackage) -> str | None:
    """The ``upstream`` qualifier Syft writes for a deb or apk binary (None when it names itself)."""
    if purl_type not in ("deb", "apk"):
        return None
    if source.version and source.version != version:
        return f"{source.name}@{source.version}"
    return source.name if source.name != name else None


def _from_upstream(purl_type: str, value: str, epoch: str | None) -> SourcePackage | None:
    value = value.strip()
    if not value:
        return None
    if purl_type == "rpm" and value.endswith(".rpm"):
        parts = parse_source_rpm(value)
        if parts is None:
            return None
        name, version, release = parts
        return SourcePackage(name, with_epoch(f"{version}-{release}", epoch))
    name, _, version = value.partition("@")
    if not name:
        return None
    if version and purl_type == "rpm":
        version = with_epoch(version, epoch)
    return SourcePackage(name, version or None)


def _from_properties(purl_type: str, props: Mapping[str, str], epoch: str | None) -> SourcePackage | None:
    found: SourcePackage | None = None
    if props.get(SOURCE_PACKAGE):
        name, _, version = props[SOURCE_PACKAGE].partition("@")
        if name.strip():
            return SourcePackage(name.strip(), version.strip() or None)
    if purl_type == "deb":
        if props.get(DEB_SOURCE):
            found = parse_dpkg_source(props[DEB_SOURCE])
        elif (props.get(SYFT_SOURCE) or "").strip():
            found = SourcePackage(
                props[SYFT_SOURCE].strip(), (props.get(SYFT_SOURCE_VERSION) or "").strip() or None
            )
    elif purl_type == "rpm":
        rpm_file = props.get(RPM_SOURCE) or props.get(SYFT_SOURCE_RPM)
        found = _from_upstream("rpm", rpm_file, epoch) if rpm_file else None
    else:
        origin = (props.get(APK_ORIGIN) or props.get(SYFT_ORIGIN) or "").strip()
        found = SourcePackage(origin) if origin else None
    if found is not None:
        return found
    name = (props.get(TRIVY_NAME) or "").strip()
    if not name:
        return None
    version = (props.get(TRIVY_VERSION) or "").strip()
    if not version:
        return SourcePackage(name)
    release = (props.get(TRIVY_RELEASE) or "").strip()
    full = f"{version}-{release}" if release else version
    return SourcePackage(name, with_epoch(full, (props.get(TRIVY_EPOCH) or "").strip()))


def stored_property(name: str, version: str | None) -> Property:
    """The property that carries a source package resolved once (``name@version``)."""
    return Property(SOURCE_PACKAGE, f"{name}@{version}" if version else name)


def source_properties(properties: Iterable[Property]) -> tuple[tuple[str, str], ...]:
    """The properties that may tell a source package, as a hashable tuple (first value per name)."""
    seen: dict[str, str] = {}
    for prop in properties:
        if prop.name in PROPERTY_NAMES and prop.name not in seen:
            seen[prop.name] = prop.value
    return tuple(sorted(seen.items()))


def source_of(
    purl_type: str, qualifiers: Mapping[str, str], properties: Iterable[tuple[str, str]]
) -> SourcePackage | None:
    """The source package of an OS binary: the ``upstream`` qualifier first, then mamori's
    properties, then Trivy's; None for other purl types or when nothing names one."""
    if purl_type not in OS_PURL_TYPES:
        return None
    epoch = qualifiers.get("epoch")
    if qualifiers.get(UPSTREAM):
        found = _from_upstream(purl_type, qualifiers[UPSTREAM], epoch)
        if found is not None:
            return found
    return _from_properties(purl_type, dict(properties), epoch)

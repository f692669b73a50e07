"""dpkg's database: ``var/lib/dpkg/status`` (and ``status.d/`` of distroless images).

Only packages whose ``Status`` ends in ``installed`` count (removed packages whose configuration
files remain are left out). Per package: ``pkg:deb/<distribution>/<Package>@<Version>?arch=…&
distro=<ID>-<VERSION_ID>&upstream=<source>[@<source version>]`` (the version keeps its epoch,
``1:1.2.13.dfsg-1``; ``upstream`` as Syft writes it, from the ``Source`` field, which dpkg writes
only when the source differs from the binary, with a version only when that differs too),
``Maintainer`` as supplier, ``Homepage``, the first line of ``Description``, ``Source`` as written
in ``mamori:deb:source``; ``Depends`` and ``Pre-Depends`` give edges
(the first installed alternative; virtual packages through ``Provides``). Licences are read from
``usr/share/doc/<package>/copyright`` when it is in the machine-readable (DEP-5) format: the
``License:`` names of its paragraphs, as an SPDX expression when each one is an SPDX id, else kept
in ``mamori:deb:copyright-licenses``.
"""

from __future__ import annotations

import re
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_text as read_image_text
from mamori.model import Component, ExternalReference, Property
from mamori.model.source_package import DEB_SOURCE, UPSTREAM, parse_dpkg_source, upstream_qualifier
from mamori.sbom.generate.base import Found
from mamori.sbom.generate.components import purl_component, spdx_or_none
from mamori.sbom.generate.metadata import supplier_contact
from mamori.sbom.generate.ospkg.common import distro, inside, link
from mamori.sbom.generate.ospkg.stanzas import deb822

ECOSYSTEM = "deb"
SOURCE_PACKAGE = DEB_SOURCE
COPYRIGHT_LICENSES = "mamori:deb:copyright-licenses"
_DEP5 = "copyright-format/1.0"
_NAME = re.compile(r"^\s*([^\s(\[:]+)(?::\S+)?")


def _names(field: str) -> list[list[str]]:
    """``a (>= 1) | b, c:any`` → [["a", "b"], ["c"]]."""
    groups = []
    for part in field.split(","):
        names = [m.group(1) for alt in part.split("|") if (m := _NAME.match(alt))]
        if names:
            groups.append(names)
    return groups


def _copyright_licence(root: Path, package: str) -> tuple[str | None, str | None]:
    path = inside(root, f"usr/share/doc/{package}/copyright")
    if path is None or not path.is_file():
        return None, None
    text = _text(path)
    if _DEP5 not in text.split("\n", 1)[0]:
        return None, None
    names = []
    for line in text.splitlines():
        if line.startswith("License:") and line[8:].strip():
            name = line[8:].strip()
            if name not in names:
                names.append(name)
    if not names:
        return None, None
    joined = " AND ".join(f"({n})" if " " in n else n for n in names)
    return spdx_or_none(joined), ", ".join(names)


def _component(fields: dict[str, str], namespace: str, distro_q: str | None, root: Path) -> Component:
    name, version, arch = fields["Package"], fields["Version"], fields.get("Architecture")
    source = parse_dpkg_source(fields["Source"]) if fields.get("Source") else None
    upstream = upstream_qualifier(ECOSYSTEM, name, version, source) if source else None
    comp = purl_component(
        ECOSYSTEM,
        name,
        version,
        namespace=namespace,
        qualifiers={"arch": arch or "", "distro": distro_q or "", UPSTREAM: upstream or ""},
    )
    comp.group = None
    comp.type = "library" if name.startswith("lib") else "application"
    if fields.get("Maintainer"):
        comp.supplier = supplier_contact(fields["Maintainer"])
    if fields.get("Homepage"):
        comp.external_references.append(ExternalReference("website", fields["Homepage"]))
    if fields.get("Description"):
        comp.description = fields["Description"].split("\n", 1)[0]
    if fields.get("Source"):
        comp.properties.append(Property(SOURCE_PACKAGE, fields["Source"]))
    spdx, names = _copyright_licence(root, name)
    if spdx:
        comp.license_declared = spdx
    elif names:
        comp.properties.append(Property(COPYRIGHT_LICENSES, names))
    return comp


def parse_status(files: list[tuple[Path, str]], root: Path, release: dict[str, str], found: Found) -> None:
    """Read every (path, text) status file into ``found`` and link the packages."""
    namespace, distro_q = distro(release, "debian")
    providers: dict[str, str] = {}
    wanted: dict[str, list[list[str]]] = {}
    for path, text in files:
        _read(path, text, root, (namespace, distro_q), found, providers, wanted)
    link(found, providers, wanted)


def _read(
    path: Path,
    text: str,
    root: Path,
    names: tuple[str, str | None],
    found: Found,
    providers: dict[str, str],
    wanted: dict[str, list[list[str]]],
) -> None:
    namespace, distro_q = names
    for _, fields in deb822(path, text):
        if not fields.get("Package", "").strip() or not fields.get("Version", "").strip():
            continue  # a stanza without a package name or version names no package
        status = fields.get("Status", "install ok installed").split()
        if not status or status[-1] != "installed":
            continue
        comp = found.add(_component(fields, namespace, distro_q, root))
        ref = comp.bom_ref or ""
        providers.setdefault(fields["Package"], ref)
        for group in _names(fields.get("Provides", "")):
            providers.setdefault(group[0], ref)
        wanted[ref] = _names(fields.get("Pre-Depends", "")) + _names(fields.get("Depends", ""))


def scan(root: Path, release: dict[str, str]) -> Found | None:
    from mamori.sbom.generate import read_text

    files = []
    status = inside(root, "var/lib/dpkg/status")
    if status is not None and status.is_file():
        files.append(status)
    status_d = inside(root, "var/lib/dpkg/status.d")
    if status_d is not None and status_d.is_dir():
        files += sorted(p for p in status_d.iterdir() if p.is_file() and not p.name.endswith(".md5sums"))
    if not files:
        return None
    found = Found(ECOSYSTEM)
    if not release:
        found.notices.append("no etc/os-release: dpkg packages named as Debian's")
    parse_status([(p, read_text(p)) for p in files], root, release, found)
    return found


def _text(path: Path) -> str:
    """The text of a file of the image (a FIFO or device there is read as empty, never waited on)."""
    try:
        return read_image_text(path, errors="replace")
    except InputError:
        return ""

"""Alpine's apk database: ``lib/apk/db/installed``.

Per package (one paragraph of ``K:value`` lines): ``P`` name, ``V`` version, ``A`` architecture,
``L`` licence (an SPDX expression when it is one, else kept in ``mamori:apk:license``), ``o`` origin
(source package, ``mamori:apk:origin``), ``m`` maintainer as supplier, ``U`` URL, ``T`` description,
``C`` the package checksum (``Q1`` + base64 SHA-1, ``Q2`` + base64 SHA-256). ``D`` dependencies
(names, ``so:``/``cmd:`` capabilities, ``/bin/sh``; ``!`` conflicts skipped) are resolved through the
names and ``p`` provides of the installed packages into edges. purl:
``pkg:apk/<ID>/<name>@<version>?arch=…&distro=<ID>-<VERSION_ID>&upstream=<origin>`` (namespace
alpine by default; ``upstream`` as Syft writes it, when the origin is another package: a
subpackage has its origin's version).
"""

from __future__ import annotations

import re
from pathlib import Path

from mamori.i18n import _
from mamori.model import ExternalReference, Property
from mamori.model.source_package import APK_ORIGIN, UPSTREAM, SourcePackage, upstream_qualifier
from mamori.sbom.generate.base import Found, add_hashes, bad_line
from mamori.sbom.generate.components import b64_hash, purl_component, spdx_or_none
from mamori.sbom.generate.metadata import supplier_contact
from mamori.sbom.generate.ospkg.common import distro, inside, link
from mamori.sbom.generate.ospkg.stanzas import apk_records

ECOSYSTEM = "apk"
ORIGIN = APK_ORIGIN
LICENSE_TEXT = "mamori:apk:license"
_CAPABILITY = re.compile(r"^([^<>=~]+)")


def _first(record: dict[str, list[str]], key: str) -> str | None:
    values = record.get(key)
    return values[0] if values else None


def parse_installed(path: Path, text: str, release: dict[str, str]) -> Found:
    namespace, distro_q = distro(release, "alpine")
    found = Found(ECOSYSTEM)
    providers: dict[str, str] = {}
    wanted: dict[str, list[list[str]]] = {}
    for line, record in apk_records(path, text):
        name, version = _first(record, "P"), _first(record, "V")
        if not name or not version:
            raise bad_line(path, line, _("a package without P: (name) or V: (version)"))
        arch = _first(record, "A") or ""
        origin = (_first(record, "o") or "").strip()
        upstream = upstream_qualifier(ECOSYSTEM, name, version, SourcePackage(origin)) if origin else None
        comp = found.add(
            purl_component(
                ECOSYSTEM,
                name,
                version,
                namespace=namespace,
                qualifiers={"arch": arch, "distro": distro_q or "", UPSTREAM: upstream or ""},
            )
        )
        comp.group = None
        licence = _first(record, "L")
        spdx = spdx_or_none(licence)
        if spdx:
            comp.license_declared = spdx
        elif licence:
            comp.properties.append(Property(LICENSE_TEXT, licence))
        if origin:
            comp.properties.append(Property(ORIGIN, origin))
        if _first(record, "m"):
            comp.supplier = supplier_contact(_first(record, "m") or "")
        if _first(record, "U"):
            comp.external_references.append(ExternalReference("website", _first(record, "U") or ""))
        comp.description = _first(record, "T")
        checksum = _first(record, "C") or ""
        if checksum.startswith("Q1"):
            add_hashes(comp, [b64_hash("SHA-1", checksum[2:])])
        elif checksum.startswith("Q2"):
            add_hashes(comp, [b64_hash("SHA-256", checksum[2:])])
        ref = comp.bom_ref or ""
        providers.setdefault(name, ref)
        for provided in " ".join(record.get("p", [])).split():
            if m := _CAPABILITY.match(provided):
                providers.setdefault(m.group(1), ref)
        deps = " ".join(record.get("D", [])).split()
        wanted[ref] = [
            [m.group(1)] for dep in deps if not dep.startswith("!") and (m := _CAPABILITY.match(dep))
        ]
    link(found, providers, wanted)
    return found


def scan(root: Path, release: dict[str, str]) -> Found | None:
    from mamori.sbom.generate import read_text

    path = inside(root, "lib/apk/db/installed")
    if path is None or not path.is_file():
        return None
    found = parse_installed(path, read_text(path), release)
    if not release:
        found.notices.append("no etc/os-release: apk packages named as Alpine's, without a release")
    return found

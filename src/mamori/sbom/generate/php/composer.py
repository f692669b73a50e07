"""composer.lock (Composer), with the composer.json beside it for the direct dependencies.

``packages`` are required, ``packages-dev`` dev. Per package: ``pkg:composer/<vendor>/<name>@<version>``
(the version as locked, e.g. ``v6.2.7``), ``license`` (several names mean a choice: joined with OR
when each is an SPDX id, else kept in ``mamori:composer:license``), ``dist.shasum`` (SHA-1 of the
archive; Composer often leaves it empty), the ``source``/``dist`` git reference in
``mamori:source``. Edges come from each package's ``require`` (platform requirements such as
``php``, ``ext-*``, ``lib-*``, ``composer-plugin-api`` are not packages and are skipped). Direct
dependencies are composer.json's ``require`` / ``require-dev``; without it the lock's graph decides.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component, ExternalReference, Property
from mamori.sbom.generate.base import DEV, REQUIRED, Found, add_hashes, bad_line
from mamori.sbom.generate.components import (
    SOURCE,
    declare,
    hex_hash,
    line_with,
    load_json,
    purl_component,
    spdx_or_none,
    structure_checked,
)
from mamori.sbom.generate.lines import Cursor, declared_at, locate_declared

ECOSYSTEM = "composer"
LICENSE_TEXT = "mamori:composer:license"
_PLATFORM = re.compile(
    r"^(php(-64bit|-ipv6|-zts|-debug)?|hhvm|ext-.+|lib-.+|composer(-plugin-api|-runtime-api)?)$", re.I
)


def _component(path: Path, text: str, package: Any, scope: str) -> Component:
    name, version = package.get("name") if isinstance(package, dict) else None, None
    if isinstance(package, dict):
        version = package.get("version")
    if not isinstance(name, str) or "/" not in name or not isinstance(version, str):
        raise bad_line(
            path, line_with(text, f'"name": "{name}"'), _("a package without a vendor/name or a version")
        )
    vendor, _slash, short = name.partition("/")
    comp = purl_component(ECOSYSTEM, short, version, namespace=vendor, scope=scope)
    licences = [v for v in package.get("license") or [] if isinstance(v, str)]
    spdx = [spdx_or_none(v) for v in licences]
    if licences and all(spdx):
        comp.license_declared = " OR ".join(dict.fromkeys(s for s in spdx if s))
    elif licences:
        comp.properties.append(Property(LICENSE_TEXT, ", ".join(licences)))
    dist = package.get("dist") or {}
    add_hashes(comp, [hex_hash("SHA-1", dist.get("shasum"))])
    source = package.get("source") or {}
    if source.get("type") == "git" and source.get("url"):
        comp.properties.append(Property(SOURCE, f"git {source['url']}@{source.get('reference', '')}"))
        comp.external_references.append(ExternalReference("vcs", source["url"]))
    if isinstance(dist.get("url"), str):
        comp.external_references.append(ExternalReference("distribution", dist["url"]))
    if isinstance(package.get("description"), str) and package["description"]:
        comp.description = package["description"]
    return comp


@structure_checked
def parse(path: Path, text: str) -> Found:
    data = load_json(path, text)
    if not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        raise bad_line(path, None, _("no 'packages' list: not a composer.lock"))
    found = Found(ECOSYSTEM)
    by_name: dict[str, Component] = {}
    requires: list[tuple[str, list[str]]] = []
    for key, scope in (("packages", REQUIRED), ("packages-dev", DEV)):
        cursor = Cursor(text)
        cursor.key(key, "[")
        for package in data.get(key) or []:
            comp = found.add(_component(path, text, package, scope))
            declared_at(comp, cursor.value("name", package.get("name")))
            by_name[f"{comp.group}/{comp.name}".lower()] = comp
            requires.append((comp.bom_ref or "", list((package.get("require") or {}).keys())))
    for source, names in requires:
        for name in names:
            target = by_name.get(name.lower())
            if target is not None:
                found.depends(source, target.bom_ref or "")
            elif not _PLATFORM.match(name):
                found.notices.append(
                    f"{name}: required but not in the lock (replaced or provided by another package)"
                )
    manifest = path.with_name("composer.json")
    if manifest.is_file():
        from mamori.sbom.generate import read_text

        declared = load_json(manifest, read_text(manifest))
        if isinstance(declared, dict):
            if isinstance(declared.get("name"), str) and "/" in declared["name"]:
                vendor, _slash, short = declared["name"].partition("/")
                version = declared.get("version") if isinstance(declared.get("version"), str) else None
                found.project = purl_component(ECOSYSTEM, short, version, namespace=vendor)
            for key, scope in (("require", REQUIRED), ("require-dev", DEV)):
                for name in declared.get(key) or {}:
                    target = by_name.get(name.lower())
                    if target is not None:
                        found.direct.setdefault(target.bom_ref or "", scope)
    found.notices = list(dict.fromkeys(found.notices))
    return found


@structure_checked
def parse_manifest(path: Path, text: str) -> Found:
    """composer.json without a composer.lock: the declared requirements (declared-only)."""
    data = load_json(path, text)
    if not isinstance(data, dict):
        raise bad_line(path, None, _("expected a JSON object: not a composer.json"))
    found = Found(ECOSYSTEM, resolved=False)
    if isinstance(data.get("name"), str) and "/" in data["name"]:
        vendor, _slash, short = data["name"].partition("/")
        version = data.get("version") if isinstance(data.get("version"), str) else None
        found.project = purl_component(ECOSYSTEM, short, version, namespace=vendor)
    for key, scope in (("require", REQUIRED), ("require-dev", DEV)):
        for name, wanted in (data.get(key) or {}).items():
            if _PLATFORM.match(name) or "/" not in name:
                continue
            vendor, _slash, short = name.partition("/")
            declare(
                found,
                purl_component(ECOSYSTEM, short, None, namespace=vendor, scope=scope),
                str(wanted),
                scope,
            )
    locate_declared(found.components, text, lambda c: f"{c.group}/{c.name}")
    return found

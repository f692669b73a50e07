"""packages.lock.json (NuGet lock file, versions 1 and 2).

``dependencies`` holds one table per target framework (``net6.0``, ``.NETCoreApp,Version=v3.1``,
with runtime identifiers as ``net6.0/linux-x64``); a package locked in several is one component.
``type``: ``Direct`` (a PackageReference of the project) and ``CentralTransitive`` (pinned centrally
and used transitively) → direct / transitive; ``Transitive``; ``Project`` (another project of the
solution: a local component without purl). ``resolved`` is the version, ``contentHash`` the base64
SHA-512 of the package, ``dependencies`` (name → range) the edges, resolved within the same
framework. The lock file says nothing about development-only packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component, Property
from mamori.sbom.generate.base import REQUIRED, Found, add_hashes, bad_line
from mamori.sbom.generate.components import (
    b64_hash,
    line_with,
    load_json,
    local_component,
    purl_component,
    structure_checked,
)
from mamori.sbom.generate.lines import Cursor, declared_at

ECOSYSTEM = "nuget"
FRAMEWORKS = "mamori:nuget:frameworks"


@structure_checked
def parse(path: Path, text: str) -> Found:
    data = load_json(path, text)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), dict):
        raise bad_line(path, None, _("no 'dependencies' object: not a packages.lock.json"))
    found = Found(ECOSYSTEM)
    components: dict[str, Component] = {}
    frameworks: dict[str, list[str]] = {}
    for framework, packages in data["dependencies"].items():
        if not isinstance(packages, dict):
            raise bad_line(
                path,
                line_with(text, f'"{framework}"'),
                _("framework {framework!r}: expected an object").format(framework=framework),
            )
        refs: dict[str, str] = {}
        pending: list[tuple[str, dict[str, Any]]] = []
        cursor = Cursor(text)  # the framework's entries follow its key, in the order orjson keeps
        cursor.key(framework)
        for name, entry in packages.items():
            line = cursor.key(name)
            if not isinstance(entry, dict):
                raise bad_line(
                    path, line_with(text, f'"{name}"'), _("{name}: expected an object").format(name=name)
                )
            kind = entry.get("type")
            version = entry.get("resolved") or entry.get("version")
            if kind == "Project":
                comp = local_component(ECOSYSTEM, name, version, "project (same solution)")
            elif isinstance(version, str):
                comp = purl_component(ECOSYSTEM, name, version)
            else:
                raise bad_line(
                    path, line_with(text, f'"{name}"'), _("{name}: no resolved version").format(name=name)
                )
            ref = comp.bom_ref or ""
            if ref not in components:
                components[ref] = found.add(declared_at(comp, line))
                add_hashes(comp, [b64_hash("SHA-512", entry.get("contentHash", ""))])
            frameworks.setdefault(ref, [])
            if framework not in frameworks[ref]:
                frameworks[ref].append(framework)
            refs[name.lower()] = ref
            if kind in ("Direct", "Project") and "/" not in framework:
                found.direct[ref] = REQUIRED
            pending.append((ref, entry.get("dependencies") or {}))
        for source, deps in pending:
            for dep in deps:
                if dep.lower() in refs:
                    found.depends(source, refs[dep.lower()])
    for ref, names in frameworks.items():
        components[ref].properties.append(Property(FRAMEWORKS, ",".join(names)))
    found.edges = list({(r.source, r.target): r for r in found.edges}.values())
    return found

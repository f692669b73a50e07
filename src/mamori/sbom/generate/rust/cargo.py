"""Cargo.lock, lock format versions 1 to 4 (with the Cargo.toml beside it, when there is one).

- Each ``[[package]]`` is a component. ``source = "registry+…crates.io-index"`` or the sparse
  ``sparse+https://index.crates.io/`` is crates.io: ``pkg:cargo/<name>@<version>``; another
  registry adds ``repository_url``; ``git+<url>?…#<commit>`` adds ``vcs_url``. A package with no
  source is a workspace member or path dependency: a local component, or the project itself
  when the Cargo.toml beside the lock names it.
- Hashes: ``checksum`` (versions 2-4) or the ``[metadata]`` table's ``checksum <name> <version>
  (<source>)`` keys (version 1) are SHA-256 of the ``.crate`` file. Anything else written there
  (Debian's packaged crates say "Could not get crate checksum") is not a hash and is reported.
- Edges: ``dependencies`` entries name ``<name>``, ``<name> <version>`` or ``<name> <version>
  (<source>)``. The project's direct dependencies come from its Cargo.toml: ``[dependencies]``
  and ``[build-dependencies]`` required (``optional = true``: optional), ``[dev-dependencies]`` dev,
  target-specific tables included. Without a Cargo.toml the lock's own graph decides.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, SCOPE_RANK, Found, add_hashes, bad_line
from mamori.sbom.generate.components import (
    declare,
    hex_hash,
    line_with,
    local_component,
    purl_component,
    structure_checked,
    vcs_qualifier,
)
from mamori.sbom.generate.lines import array_table_lines, declared_at, locate_declared
from mamori.sbom.generate.python.common import load_toml

ECOSYSTEM = "cargo"
CRATES_IO = ("registry+https://github.com/rust-lang/crates.io-index", "sparse+https://index.crates.io/")
_DEP = re.compile(r"^(\S+)(?: (\S+))?(?: \((.+)\))?$")


def _component(name: str, version: str, source: str | None) -> Component:
    if source is None:
        return local_component(ECOSYSTEM, name, version, "path (workspace member or path dependency)")
    kind, _, url = source.partition("+")
    qualifiers: dict[str, str] = {}
    if kind == "git":
        base, _, commit = url.partition("#")
        qualifiers["vcs_url"] = vcs_qualifier(base.split("?")[0], commit or None)
    elif source not in CRATES_IO:
        qualifiers["repository_url"] = url
    return purl_component(ECOSYSTEM, name, version, qualifiers=qualifiers)


def _manifest_deps(path: Path) -> tuple[str | None, dict[str, str]]:
    """(package name, dependency name → scope) from the Cargo.toml beside ``path`` (or ``path`` itself)."""
    toml_path = path.with_name("Cargo.toml")
    if not toml_path.is_file():
        return None, {}
    from mamori.sbom.generate import read_text

    data = load_toml(toml_path, read_text(toml_path))
    tables: list[tuple[dict[str, Any], str]] = []
    for table in [data, *(data.get("target") or {}).values()]:
        if isinstance(table, dict):
            tables += [
                (table.get("dependencies") or {}, REQUIRED),
                (table.get("build-dependencies") or {}, REQUIRED),
                (table.get("dev-dependencies") or {}, DEV),
            ]
    scopes: dict[str, str] = {}
    for deps, scope in tables:
        for key, spec in deps.items():
            name = spec.get("package", key) if isinstance(spec, dict) else key
            this = (
                OPTIONAL if scope == REQUIRED and isinstance(spec, dict) and spec.get("optional") else scope
            )
            if name not in scopes or SCOPE_RANK[this] < SCOPE_RANK[scopes[name]]:
                scopes[name] = this
    package = data.get("package") or {}
    return (package.get("name") if isinstance(package.get("name"), str) else None), scopes


@structure_checked
def parse(path: Path, text: str) -> Found:
    data = load_toml(path, text)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise bad_line(path, None, _("no [[package]] entries: not a Cargo.lock"))
    metadata = data.get("metadata") or {}
    found = Found(ECOSYSTEM)
    by_key: dict[tuple[str, str | None, str | None], Component] = {}
    by_name: dict[str, list[Component]] = {}
    pending: list[tuple[Component, list[Any]]] = []
    lines = array_table_lines(text, "package", len(packages))
    for package, line in zip(packages, lines, strict=True):
        name, version, source = package.get("name"), package.get("version"), package.get("source")
        if not isinstance(name, str) or not isinstance(version, str):
            raise bad_line(
                path, line_with(text, f'name = "{name}"'), _("a [[package]] entry lacks a name or version")
            )
        comp = found.add(_component(name, version, source if isinstance(source, str) else None))
        declared_at(comp, line)
        checksum = package.get("checksum") or metadata.get(f"checksum {name} {version} ({source})")
        if checksum is not None:
            digest = hex_hash("SHA-256", checksum)
            add_hashes(comp, [digest])
            if digest is None:
                found.notices.append(f"{name} {version}: checksum {str(checksum)[:40]!r} is not a SHA-256")
        by_key[(name, version, source)] = comp
        by_name.setdefault(name, []).append(comp)
        pending.append((comp, package.get("dependencies") or []))
    for comp, deps in pending:
        for entry in deps:
            match = _DEP.match(str(entry))
            if not match:
                raise bad_line(
                    path,
                    line_with(text, str(entry)),
                    _("malformed dependency entry {entry!r}").format(entry=entry),
                )
            name, version, source = match.groups()
            candidates = [c for c in by_name.get(name, []) if version is None or c.version == version]
            if source is not None:
                candidates = [by_key[(name, version, source)]] if (name, version, source) in by_key else []
            if len(candidates) != 1:
                raise bad_line(
                    path,
                    line_with(text, f'"{entry}"'),
                    _("dependency {entry!r} matches no single package").format(entry=entry),
                )
            found.depends(comp.bom_ref or "", candidates[0].bom_ref or "")
    root_name, scopes = _manifest_deps(path)
    roots = [c for c in by_name.get(root_name or "", []) if c.purl is None]
    if roots:
        project = roots[0]
        found.components.remove(project)
        found.project = purl_component(ECOSYSTEM, project.name, project.version)
        for rel in [r for r in found.edges if r.source == project.bom_ref]:
            target = next(c for c in found.components if c.bom_ref == rel.target)
            found.direct[rel.target] = scopes.get(target.name, REQUIRED)
        found.edges = [r for r in found.edges if project.bom_ref not in (r.source, r.target)]
    return found


@structure_checked
def parse_manifest(path: Path, text: str) -> Found:
    """Cargo.toml without a Cargo.lock beside it: the declared dependencies only (declared-only)."""
    data = load_toml(path, text)
    found = Found(ECOSYSTEM, resolved=False)
    package = data.get("package") or {}
    if isinstance(package.get("name"), str):
        version = package.get("version") if isinstance(package.get("version"), str) else None
        found.project = purl_component(ECOSYSTEM, package["name"], version)
    _, scopes = _manifest_deps(path)
    tables = [data, *(data.get("target") or {}).values()]
    for table in tables:
        for key in ("dependencies", "build-dependencies", "dev-dependencies"):
            for dep_key, spec in ((table or {}).get(key) or {}).items():
                name = spec.get("package", dep_key) if isinstance(spec, dict) else dep_key
                wanted = (
                    spec if isinstance(spec, str) else spec.get("version") if isinstance(spec, dict) else None
                )
                comp = purl_component(ECOSYSTEM, name, None)
                declare(found, comp, wanted if isinstance(wanted, str) else None, scopes.get(name, REQUIRED))
    locate_declared(found.components, text)
    return found

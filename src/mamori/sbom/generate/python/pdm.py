"""pdm.lock (lock version 4.x).

Scope: each package lists its ``groups``. ``default`` means required; a group that the
pyproject.toml beside the lock declares under ``[project.optional-dependencies]`` means optional;
any other group (dev-dependencies, dependency-groups) means dev. Edges come from each package's
``dependencies`` (PEP 508 strings); direct dependencies and the project from the pyproject.toml.
Hashes: every listed file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, Found, add_hashes, bad_line, hash_from_pair
from mamori.sbom.generate.lines import array_table_lines, declared_at
from mamori.sbom.generate.python.common import (
    ECOSYSTEM,
    canonical,
    component,
    key_line,
    load_toml,
    requirement,
)
from mamori.sbom.generate.python.pyproject import beside


def _scope(groups: Any, optional_groups: set[str]) -> str | None:
    if not isinstance(groups, list) or not groups:
        return None
    if "default" in groups:
        return REQUIRED
    return OPTIONAL if any(g in optional_groups for g in groups) else DEV


def _source(package: dict[str, Any]) -> dict[str, str | None]:
    if package.get("git"):
        commit = package.get("revision")
        return {"vcs_url": f"git+{package['git']}" + (f"@{commit}" if commit else "")}
    if package.get("url"):
        return {"download_url": package["url"]}
    if package.get("path"):
        return {"local_path": package["path"]}
    return {}


def parse(path: Path, text: str) -> Found:
    data = load_toml(path, text)
    packages = data.get("package")
    if not isinstance(packages, list) or not isinstance(data.get("metadata"), dict):
        raise bad_line(path, None, _("no [metadata] or [[package]] entries: not a pdm.lock"))
    declared = beside(path.parent)
    optional_groups = declared.optional_groups if declared is not None else set()
    found = Found(ECOSYSTEM)
    refs: dict[str, str] = {}
    comps: dict[str, Component] = {}
    deps: list[tuple[str, str, list[Any]]] = []
    lines = array_table_lines(text, "package", len(packages))
    for package, line in zip(packages, lines, strict=True):
        name, version = package.get("name"), package.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            raise bad_line(path, key_line(text, str(name)), _("a [[package]] entry lacks a name or version"))
        ref = refs.get(canonical(name))
        if ref is None:  # pdm repeats a package once per requested extra set
            comp = found.add(
                component(
                    name,
                    version,
                    scope=_scope(package.get("groups"), optional_groups),
                    marker=package.get("marker"),
                    **_source(package),
                )
            )
            declared_at(comp, line)
            if isinstance(package.get("summary"), str) and package["summary"]:
                comp.description = package["summary"]
            ref = refs[canonical(name)] = comp.bom_ref or ""
            comps[ref] = comp
        else:
            comp = comps[ref]
        add_hashes(
            comp,
            [hash_from_pair(f.get("hash", "")) for f in package.get("files") or [] if isinstance(f, dict)],
        )
        specs = package.get("dependencies") or []
        if not isinstance(specs, list):
            raise bad_line(path, line, _("the dependencies of {name!r} are not a list").format(name=name))
        deps.append((name, ref, specs))
    for name, source, specs in deps:
        for spec in specs:
            req = requirement(path, key_line(text, name), spec)
            target = refs.get(canonical(req.name))
            if target is not None and target != source:
                found.depends(source, target)
    if declared is not None:
        found.project = declared.project
        for name, scope in declared.direct.items():
            if name in refs:
                found.direct[refs[name]] = scope
    return found

"""poetry.lock (lock versions 1.x and 2.x).

Scope: lock 2.1 lists each package's ``groups`` — ``main`` means required (``optional = true``:
an extra, so optional), only other groups (dev, test, docs …) means dev. Older locks say
``category = "dev"``. Direct dependencies and the project come from the pyproject.toml beside
the lock (when there is none, the packages nothing depends on are treated as direct). Hashes
are those of the listed distribution files; ``[package.dependencies]`` gives the edges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, Found, add_hashes, bad_line, hash_from_pair
from mamori.sbom.generate.lines import array_table_lines, declared_at
from mamori.sbom.generate.python.common import (
    ECOSYSTEM,
    canonical,
    component,
    key_line,
    load_toml,
)
from mamori.sbom.generate.python.pyproject import beside


def _scope(package: dict[str, Any]) -> str:
    groups = package.get("groups")
    if isinstance(groups, list) and groups:
        if "main" not in groups:
            return DEV
    elif package.get("category") == "dev":
        return DEV
    return OPTIONAL if package.get("optional") is True else REQUIRED


def _source(package: dict[str, Any]) -> dict[str, str | None]:
    source = package.get("source") or {}
    kind, url = source.get("type"), source.get("url")
    if kind == "git":
        commit = source.get("resolved_reference") or source.get("reference")
        return {"vcs_url": f"git+{url}@{commit}" if commit else f"git+{url}"}
    if kind == "url":
        return {"download_url": url}
    if kind in ("directory", "file"):
        return {"local_path": url}
    if kind == "legacy":
        return {"registry": url}
    return {}


def parse(path: Path, text: str) -> Found:
    data = load_toml(path, text)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise bad_line(path, None, _("no [[package]] entries: not a poetry.lock"))
    found = Found(ECOSYSTEM)
    refs: dict[str, str] = {}
    deps: list[tuple[str, list[str]]] = []
    lines = array_table_lines(text, "package", len(packages))
    for package, line in zip(packages, lines, strict=True):
        name, version = package.get("name"), package.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            raise bad_line(path, key_line(text, str(name)), _("a [[package]] entry lacks a name or version"))
        comp = found.add(
            component(
                name,
                version,
                scope=_scope(package),
                marker=package.get("markers") if isinstance(package.get("markers"), str) else None,
                **_source(package),
            )
        )
        declared_at(comp, line)
        if isinstance(package.get("description"), str) and package["description"]:
            comp.description = package["description"]
        files = package.get("files") or []
        add_hashes(comp, [hash_from_pair(f.get("hash", "")) for f in files if isinstance(f, dict)])
        refs[canonical(name)] = comp.bom_ref or ""
        deps.append((comp.bom_ref or "", list((package.get("dependencies") or {}).keys())))
    for source, names in deps:
        for name in names:
            target = refs.get(canonical(name))
            if target is not None:
                found.depends(source, target)
    declared = beside(path.parent)
    if declared is not None:
        found.project = declared.project
        for name, scope in declared.direct.items():
            if name in refs:
                found.direct[refs[name]] = scope
    return found

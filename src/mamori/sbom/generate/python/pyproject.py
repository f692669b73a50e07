"""pyproject.toml without a lockfile beside it: the declared dependencies only.

Read: PEP 621 ``[project]`` dependencies (required) and optional-dependencies (optional), PEP 735
``[dependency-groups]`` (dev, ``include-group`` entries followed), pdm ``dev-dependencies`` (dev),
and poetry ``[tool.poetry.dependencies]`` / groups / dev-dependencies. Every component is marked
``mamori:declared-only`` with its range in ``mamori:version-range``; the version is set only when
the declaration pins exactly one. The document's lifecycle becomes pre-build when nothing else
was resolved. A pyproject.toml that declares no project (tool settings only) yields nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori.model import Component
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, SCOPE_RANK, Found, declared_only
from mamori.sbom.generate.lines import locate_declared
from mamori.sbom.generate.python.common import (
    ECOSYSTEM,
    canonical,
    component,
    exact_version,
    key_line,
    load_toml,
    project_component,
    requirement,
)


def _poetry_range(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("version"), str):
        return value["version"]
    return None


class _Declared:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text
        self.found = Found(ECOSYSTEM, resolved=False)
        self.seen: dict[str, str] = {}

    def pep508(self, spec: Any, scope: str) -> None:
        if not isinstance(spec, str):
            return
        req = requirement(self.path, key_line(self.text, spec), spec)
        self.put(
            req.name,
            exact_version(req),
            str(req.specifier) or None,
            scope,
            str(req.marker) if req.marker else None,
        )

    def put(
        self, name: str, version: str | None, version_range: str | None, scope: str, marker: str | None
    ) -> None:
        key = canonical(name)
        if key in self.seen:
            ref = self.seen[key]
            if SCOPE_RANK[scope] < SCOPE_RANK[self.found.direct[ref]]:
                self.found.direct[ref] = scope
            return
        comp = declared_only(component(name, version, marker=marker), version_range)
        self.found.add(comp)
        self.seen[key] = comp.bom_ref or ""
        self.found.direct[comp.bom_ref or ""] = scope

    def groups(self, groups: dict[str, Any]) -> None:
        def expand(name: str, trail: tuple[str, ...]) -> list[Any]:
            out: list[Any] = []
            for item in groups.get(name) or []:
                if isinstance(item, dict) and isinstance(item.get("include-group"), str):
                    if item["include-group"] not in trail:
                        out += expand(item["include-group"], (*trail, name))
                else:
                    out.append(item)
            return out

        for name in groups:
            for spec in expand(name, ()):
                self.pep508(spec, DEV)

    def poetry(self, table: dict[str, Any], scope: str) -> None:
        for name, value in table.items():
            if name.lower() == "python":
                continue
            version_range = _poetry_range(value)
            pinned = (
                version_range
                if version_range and version_range[:1].isdigit() and "*" not in version_range
                else None
            )
            optional = isinstance(value, dict) and value.get("optional") is True
            self.put(name, pinned, version_range, OPTIONAL if optional and scope == REQUIRED else scope, None)


def parse(path: Path, text: str) -> Found:
    data = load_toml(path, text)
    declared = _Declared(path, text)
    found = declared.found
    found.project = project_component(data)
    project = data.get("project") or {}
    for spec in project.get("dependencies") or []:
        declared.pep508(spec, REQUIRED)
    for specs in (project.get("optional-dependencies") or {}).values():
        for spec in specs or []:
            declared.pep508(spec, OPTIONAL)
    declared.groups(data.get("dependency-groups") or {})
    tool = data.get("tool") or {}
    for specs in ((tool.get("pdm") or {}).get("dev-dependencies") or {}).values():
        for spec in specs or []:
            declared.pep508(spec, DEV)
    poetry = tool.get("poetry") or {}
    declared.poetry(poetry.get("dependencies") or {}, REQUIRED)
    declared.poetry(poetry.get("dev-dependencies") or {}, DEV)
    for group, table in (poetry.get("group") or {}).items():
        declared.poetry((table or {}).get("dependencies") or {}, REQUIRED if group == "main" else DEV)
    if "dynamic" in project and "dependencies" in (project.get("dynamic") or []):
        found.notices.append("dependencies are dynamic (computed by the build backend) and were not read")
    locate_declared(found.components, text)
    return found


@dataclass(slots=True)
class Beside:
    """What a lockfile parser takes from the pyproject.toml next to it."""

    project: Component | None
    direct: dict[str, str]  # canonical name → scope
    optional_groups: set[str]  # names of [project.optional-dependencies] tables (pdm group names)


def beside(folder: Path) -> Beside | None:
    """The pyproject.toml in ``folder`` as a lockfile parser needs it, or None when there is none."""
    path = folder / "pyproject.toml"
    if not path.is_file():
        return None
    from mamori.sbom.generate import read_text

    text = read_text(path)
    found = parse(path, text)
    optional = set((load_toml(path, text).get("project") or {}).get("optional-dependencies") or {})
    return Beside(
        found.project, {canonical(c.name): found.direct[c.bom_ref or ""] for c in found.components}, optional
    )

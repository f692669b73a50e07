"""The project beside a lockfile and the workspaces its package.json names (yarn, npm ``workspaces``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori.model import Component
from mamori.sbom.generate.javascript.common import load_yaml, project_component, purl_for, read_manifest


@dataclass(slots=True)
class Member:
    """A folder with a package.json: the root (``"."``) or a workspace."""

    path: str  # relative to the lockfile's folder (posix)
    name: str | None
    version: str | None
    manifest: dict[str, Any] = field(default_factory=dict)


def _patterns(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Workspace globs: package.json ``workspaces`` (npm, yarn) or pnpm-workspace.yaml ``packages``."""
    value = manifest.get("workspaces")
    if isinstance(value, dict):
        value = value.get("packages")
    pnpm = folder / "pnpm-workspace.yaml"
    if value is None and pnpm.is_file():
        from mamori.sbom.generate import read_text

        value = (load_yaml(pnpm, read_text(pnpm), "pnpm workspace file") or {}).get("packages")
    return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []


def root_and_workspaces(folder: Path) -> tuple[Component | None, list[Member]]:
    """The project component of ``folder`` and its members (the root first, then workspaces by path)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None, []
    members = [Member(".", manifest.get("name"), manifest.get("version"), manifest)]
    patterns = _patterns(folder, manifest)
    excluded = {
        p.relative_to(folder).as_posix()
        for pat in patterns
        if pat.startswith("!")
        for p in folder.glob(pat[1:])
    }
    seen: set[str] = {"."}
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        for match in sorted(folder.glob(pattern.rstrip("/"))):
            rel = match.relative_to(folder).as_posix()
            if rel in seen or rel in excluded or "node_modules" in match.parts or not match.is_dir():
                continue
            data = read_manifest(match)
            if data is not None:
                seen.add(rel)
                members.append(Member(rel, data.get("name"), data.get("version"), data))
    return project_component(manifest), members


def sibling_workspaces(folder: Path) -> dict[str, str]:
    """Name → purl of the other workspaces of the monorepo ``folder`` belongs to (none: {})."""
    folder = folder.resolve()
    for parent in (folder, *folder.parents):
        if not (parent / "package.json").is_file():
            continue
        _, members = root_and_workspaces(parent)
        if len(members) < 2:
            continue  # not a workspace root: keep looking up
        rel = folder.relative_to(parent).as_posix() or "."
        if any(m.path == rel for m in members):
            return {m.name: purl_for(m.name, m.version) for m in members if m.name and m.path != rel}
        return {}
    return {}

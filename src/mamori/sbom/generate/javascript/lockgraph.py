"""One lockfile's packages, edges and folder packages → a ``Found``; workspace members → sub-projects.

Every JavaScript lockfile parser feeds a ``LockBuilder``: packages (deduplicated by purl, the best
stated scope kept), dependency edges, and **folder packages** — the root project, workspace members
and ``file:``/``link:`` targets — each with the dependencies the lockfile resolved for it.

A folder package that mamori also reads as a project of its own (it lies below the lockfile's folder,
outside the folders discovery skips, and has a package.json) is a **sub-project**: the lockfile does
not list it as a component; the package.json parser of that folder finds the lockfile above it
(``covering``) and returns the project with the dependencies the lockfile resolved for it. So a
monorepo gives one root, its workspaces as sub-projects and every package once. A folder package
anywhere else (``file:../shared``) is a component with the bom-ref ``npm-path:<name>@<version>``.
Reading a lockfile alone (not its folder) lists the workspaces' dependencies but not the workspaces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from mamori.model import Component
from mamori.sbom.generate.base import SCOPE_RANK, Found, add_hashes
from mamori.sbom.generate.javascript.common import ECOSYSTEM, better, package, purl_for

LOCK_NAMES = ("npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock")


@dataclass(slots=True)
class Folder:
    """A package that is a folder: the root project, a workspace member or a file:/link: target."""

    path: str  # relative to the lockfile's folder (posix); "." for the root
    name: str | None
    version: str | None
    deps: dict[str, str] = field(default_factory=dict)  # bom-ref → scope, as the lockfile resolved them


_FOLDERS: dict[tuple[str, int, int], dict[str, Folder]] = {}


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def normal_folder(base: str, target: str) -> str:
    """``target`` (relative to folder ``base``, both posix) → relative to the lockfile's folder."""
    parts: list[str] = []
    for part in PurePosixPath(base, target).parts:
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append(part)
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts) or "."


def read_separately(lock_dir: Path, folder: str) -> bool:
    """Whether discovery reads ``folder`` (relative to the lockfile) as a project of its own."""
    from mamori.sbom.generate.discover import SKIP_DIRS

    if folder == "." or folder.startswith("..") or os.path.isabs(folder):
        return False
    if any(part.startswith(".") or part in SKIP_DIRS for part in folder.split("/")):
        return False
    return (lock_dir / folder / "package.json").is_file()


class LockBuilder:
    """Collects what one lockfile says, then emits the ``Found`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dir = path.parent
        self.found = Found(ECOSYSTEM)
        self.by_ref: dict[str, Component] = {}
        self.folders: dict[str, Folder] = {}
        self._edges: dict[tuple[str, str], None] = {}

    def add(self, comp: Component) -> str:
        """Add a package (merged with an earlier copy of the same purl); returns its bom-ref."""
        ref = comp.bom_ref or ""
        prior = self.by_ref.get(ref)
        if prior is None:
            self.by_ref[ref] = comp
            self.found.components.append(comp)
            return ref
        if prior.scope in SCOPE_RANK and comp.scope in SCOPE_RANK:
            prior.scope = better(prior.scope, comp.scope)
        add_hashes(prior, comp.hashes)
        prior.license_declared = prior.license_declared or comp.license_declared
        seen = {(p.name, p.value) for p in prior.properties}
        prior.properties += [p for p in comp.properties if (p.name, p.value) not in seen]
        urls = {r.url for r in prior.external_references}
        prior.external_references += [r for r in comp.external_references if r.url not in urls]
        prior.occurrences += comp.occurrences
        return ref

    def depends(self, source: str, target: str) -> None:
        if source != target:
            self._edges[(source, target)] = None

    def folder(self, path: str, name: str | None, version: str | None) -> tuple[Folder, str]:
        """Register a folder package; returns it and the bom-ref edges to it use."""
        entry = self.folders.get(path)
        if entry is None:
            entry = self.folders[path] = Folder(path, name, version)
        else:
            entry.name = entry.name or name
            entry.version = entry.version or version
        return entry, self.folder_ref(entry)

    def folder_name(self, entry: Folder) -> str:
        where = self.dir.resolve() if entry.path == "." else PurePosixPath(entry.path)
        return entry.name or where.name or "project"

    def folder_ref(self, entry: Folder) -> str:
        name = self.folder_name(entry)
        if entry.path == "." or read_separately(self.dir, entry.path):
            return purl_for(name, entry.version)
        return f"npm-path:{name}@{entry.version or ''}"

    def finish(self, project: Component | None = None) -> Found:
        """The Found: root folder → direct, other folders → sub-projects or path components."""
        found = self.found
        for entry in self.folders.values():
            ref = self.folder_ref(entry)
            if entry.path == ".":
                found.direct.update(entry.deps)
            elif ref.startswith("npm-path:"):
                self.add(package(self.folder_name(entry), entry.version, folder=entry.path))
                for target in entry.deps:
                    self.depends(ref, target)
        found.edges = []
        for source, target in self._edges:
            found.depends(source, target)
        if project is not None:
            found.project = project
        key = _key(self.path)
        if key is not None:
            if len(_FOLDERS) > 16:
                _FOLDERS.clear()
            _FOLDERS[key] = dict(self.folders)
        return found


def folders_of(lock: Path) -> dict[str, Folder]:
    """The folder packages of a lockfile (parsed once per file version)."""
    key = _key(lock)
    if key is None:
        return {}
    if key not in _FOLDERS:
        from mamori.sbom.generate import read_text, registry

        spec = registry.spec_for(lock)
        if spec is None:
            return {}
        registry.resolve(spec.target)(lock, read_text(lock))
    return _FOLDERS.get(key, {})


def covering(folder: Path) -> tuple[Path, Folder] | None:
    """The nearest lockfile above (or in) ``folder`` that resolves it as a folder package, and that entry."""
    folder = folder.resolve()
    for parent in (folder, *folder.parents):
        locks = [parent / name for name in LOCK_NAMES if (parent / name).is_file()]
        if not locks:
            continue
        rel = folder.relative_to(parent).as_posix() or "."
        for lock in locks:
            entry = folders_of(lock).get(rel)
            if entry is not None:
                return lock, entry
        return None
    return None

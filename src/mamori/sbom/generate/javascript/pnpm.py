"""pnpm-lock.yaml, lockfile versions 5.x (pnpm 6/7), 6.x (pnpm 8) and 9.x (pnpm 9/10).

- **Importers** (the root ``.`` and each workspace folder) list their dependencies by section; a
  single-project 5.x file has those sections at the top level. A version is a package version
  (``4.6.0``, with a peer suffix ``18.3.1(react@18.3.1)`` or ``18.3.1_react@18.3.1``), a package
  key (an alias: ``/lodash/3.10.1``, ``/lodash@3.10.1``, ``lodash@3.10.1``), or ``link:<folder>``.
- **Packages** are keyed ``/name/version[_peers]`` (5.x), ``/name@version[(peers)]`` (6.x) or
  ``name@version`` (9.x, with the dependencies under ``snapshots`` keyed ``name@version[(peers)]``).
  Non-registry packages carry ``name``/``version`` or are named by their key (``file:lib``,
  ``name@git+…``). ``resolution`` gives the integrity, a tarball URL, a git commit or a folder.
- Scope: 5.x/6.x mark ``dev: true`` (dev only), ``dev: false`` (not dev) and ``optional: true``;
  9.x marks only ``optional``, the rest is derived from the importers' sections by the assembler.
  The same package under several peer suffixes is one component.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, Found, bad_line
from mamori.sbom.generate.javascript.common import (
    SECTIONS,
    guarded,
    load_yaml,
    package,
    project_component,
    read_manifest,
    split_spec,
)
from mamori.sbom.generate.javascript.lockgraph import LockBuilder, normal_folder
from mamori.sbom.generate.lines import declared_at, yaml_key_lines

_RUNTIME = ("dependencies", "optionalDependencies")


def _strip_peers(text: str) -> str:
    cut = text.find("(")
    return text if cut < 0 else text[:cut]


class _Reader:
    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path, self.text, self.data = path, text, data
        raw = str(data.get("lockfileVersion", ""))
        try:
            self.major = int(float(raw))
        except ValueError:
            raise bad_line(path, 1, _("lockfileVersion {raw!r} is not a number").format(raw=raw)) from None
        self.packages: dict[str, Any] = self._map(data.get("packages"), "packages")
        self.snapshots: dict[str, Any] = self._map(data.get("snapshots"), "snapshots")
        self.b = LockBuilder(path)
        self.refs: dict[str, str] = {}  # package (or snapshot) key → bom-ref
        self.folder_keys: dict[str, str] = {}  # key of a directory package → its folder

    def _map(self, value: Any, where: str) -> dict[str, Any]:
        if value in (None, "", {}):
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(v, dict) or v in ("", None) for v in value.values()
        ):
            bad = next(
                (k for k, v in (value.items() if isinstance(value, dict) else []) if not isinstance(v, dict)),
                "",
            )
            raise bad_line(
                self.path,
                self._line(bad or f"{where}:"),
                _("{where}: entries must be mappings").format(where=where),
            )
        return {k: v or {} for k, v in value.items()}

    def _line(self, key: str) -> int | None:
        index = self.text.find(key)
        return self.text.count("\n", 0, index) + 1 if index >= 0 else None

    # ---- package keys

    def name_version(self, key: str, entry: dict[str, Any]) -> tuple[str, str | None]:
        if isinstance(entry.get("name"), str):
            return entry["name"], entry.get("version") if isinstance(entry.get("version"), str) else None
        resolution = entry.get("resolution") if isinstance(entry.get("resolution"), dict) else {}
        if key in self.hints and "integrity" not in resolution:  # a git/tarball key that names no package
            return self.hints[key], entry.get("version") if isinstance(entry.get("version"), str) else None
        body = key[1:] if key.startswith("/") else key
        if self.major < 6:
            name, _slash, version = body.rpartition("/")
            return name, version.split("_", 1)[0] or None
        name, version = split_spec(_strip_peers(body))
        return name, entry.get("version") if isinstance(entry.get("version"), str) else (version or None)

    def key_for(self, name: str, value: str) -> str | None:
        """The packages/snapshots key a dependency version points at."""
        table = self.snapshots or self.packages
        if self.major >= 9:
            candidates = [f"{name}@{value}", value]
        elif self.major >= 6:
            candidates = [value, f"/{name}@{value}"]
        else:
            candidates = [value, f"/{name}/{value}"]
        return next((c for c in candidates if c in table), None)

    # ---- reading

    def read(self) -> Found:
        table = self.snapshots or self.packages
        self.hints: dict[str, str] = {}  # key → the name a dependency gives it (for keys without one)
        for entry in [*self.importers().values(), *table.values()]:
            for section, _kind in SECTIONS:
                for dep, value in self.section(entry, section).items():
                    if value in table:
                        self.hints.setdefault(value, dep)
        self.lines = yaml_key_lines(self.text, 2, "packages")
        for key, entry in table.items():
            meta = self.packages.get(_strip_peers(key), entry) if self.snapshots else entry
            self.refs[key] = self.add_package(key, meta, entry)
        for key, entry in table.items():
            source = self.refs[key]
            folder = self.folder_keys.get(key)
            for section in _RUNTIME:
                for dep, value in self.section(entry, section).items():
                    target = self.resolve(folder or ".", dep, value)
                    if target is None:
                        continue
                    if folder is not None:
                        self.b.folder(folder, None, None)[0].deps.setdefault(target, REQUIRED)
                    else:
                        self.b.depends(source, target)
        for folder, importer in self.importers().items():
            node, _created = self.b.folder(folder, *self.folder_name(folder))
            for section, scope in SECTIONS:
                for dep, value in self.section(importer, section).items():
                    target = self.resolve(folder, dep, value)
                    if target is not None:
                        node.deps.setdefault(target, scope)
        return self.b.finish(project_component(read_manifest(self.path.parent)))

    def add_package(self, key: str, meta: dict[str, Any], entry: dict[str, Any]) -> str:
        name, version = self.name_version(key, meta)
        resolution = meta.get("resolution") if isinstance(meta.get("resolution"), dict) else {}
        if resolution.get("type") == "directory" or "directory" in resolution:
            folder = normal_folder(".", str(resolution.get("directory", "")))
            self.folder_keys[key] = folder
            return self.b.folder(folder, name, version or self.folder_name(folder)[1])[1]
        resolved = resolution.get("tarball")
        if resolution.get("type") == "git" or "commit" in resolution:
            repo = str(resolution.get("repo", ""))
            resolved = f"{repo if repo.startswith('git') else 'git+' + repo}#{resolution.get('commit', '')}"
        if entry.get("optional") == "true" or meta.get("optional") == "true":
            scope: str | None = OPTIONAL
        elif meta.get("dev") == "true":
            scope = DEV
        elif meta.get("dev") == "false":
            scope = REQUIRED
        else:  # 5.x/6.x: no dev flag = used by dev and prod alike; 9.x: not stated
            scope = REQUIRED if self.major < 9 else None
        comp = package(name, version, scope=scope, resolved=resolved, integrity=resolution.get("integrity"))
        return self.b.add(declared_at(comp, self.lines.get(key) or self.lines.get(_strip_peers(key))))

    def section(self, entry: dict[str, Any], section: str) -> dict[str, str]:
        value = entry.get(section)
        if not isinstance(value, dict):
            return {}
        out = {}
        for dep, spec in value.items():
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(version, str):
                out[dep] = version
        return out

    def resolve(self, folder: str, dep: str, value: str) -> str | None:
        if value.startswith("link:"):
            target = normal_folder(folder, value[5:])
            return self.b.folder(target, *self.folder_name(target))[1]
        key = self.key_for(dep, value)
        return self.refs.get(key) if key is not None else None

    def folder_name(self, folder: str) -> tuple[str | None, str | None]:
        manifest = read_manifest(self.path.parent / folder) or {}
        return manifest.get("name"), manifest.get("version")

    def importers(self) -> dict[str, dict[str, Any]]:
        importers = self.data.get("importers")
        if isinstance(importers, dict):
            return {normal_folder(".", k): v for k, v in importers.items() if isinstance(v, dict)}
        return {".": self.data}


@guarded("pnpm lockfile")
def parse(path: Path, text: str) -> Found:
    data = load_yaml(path, text, "pnpm lockfile")
    if "lockfileVersion" not in data:
        raise bad_line(path, 1, _("not a pnpm lockfile: no lockfileVersion"))
    return _Reader(path, text, data).read()

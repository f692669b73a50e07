"""package-lock.json (lockfileVersion 1, 2, 3) and npm-shrinkwrap.json.

Versions 2 and 3 carry a ``packages`` map keyed by install path (``node_modules/a/node_modules/b``);
version 2 also carries the version 1 ``dependencies`` tree, which is then ignored. A dependency name
is resolved the way node does: from the requiring package's folder, try ``<folder>/node_modules/<name>``
and walk up one folder at a time (skipping ``node_modules`` itself) to the lockfile's
``node_modules``. Entries with ``link: true`` point at a folder package (``resolved`` is the folder):
a workspace member or a ``file:`` dependency. Flags: ``dev`` → dev, ``optional`` and ``devOptional``
(installed unless both dev and optional are omitted) → optional, ``peer`` → ``mamori:npm:peer``.

Version 1 has only the ``dependencies`` tree (each entry may nest its own ``dependencies``) and
``requires`` (name → range); a name resolves to the nearest entry up the tree. The root's own
dependencies are not in a version 1 file, so they come from the package.json beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, Found, bad_line
from mamori.sbom.generate.javascript.common import (
    FOLDER_PREFIXES,
    SECTIONS,
    alias_target,
    guarded,
    is_git,
    key_line,
    load_json,
    manifest_sections,
    package,
    project_component,
    read_manifest,
)
from mamori.sbom.generate.javascript.lockgraph import LockBuilder, normal_folder
from mamori.sbom.generate.lines import Cursor, declared_at

_RUNTIME = tuple(s for s in SECTIONS if s[0] != "devDependencies")  # what an installed package pulls in
# names a v1 entry cannot be told apart from the entry's own members by
_MEMBER_NAMES = frozenset(("dependencies", "requires", "version", "resolved", "integrity", "dev", "optional"))


def _scope(entry: dict[str, Any]) -> str:
    if entry.get("optional") or entry.get("devOptional"):
        return OPTIONAL
    return DEV if entry.get("dev") else REQUIRED


def _installed_name(key: str) -> str:
    return key.rsplit("node_modules/", 1)[-1]


class _Packages:
    """lockfileVersion 2/3: the ``packages`` map."""

    def __init__(self, path: Path, text: str, packages: dict[str, Any], builder: LockBuilder) -> None:
        self.path, self.text, self.packages, self.b = path, text, packages, builder
        self.link_names: dict[str, str] = {}  # folder → the name it is installed under
        for key, entry in packages.items():
            self._check(key, entry)
            if entry.get("link") and isinstance(entry.get("resolved"), str):
                self.link_names.setdefault(entry["resolved"], _installed_name(key))

    def _check(self, key: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise bad_line(
                self.path,
                key_line(self.text, key),
                _("packages entry {key!r} is not an object").format(key=key),
            )

    def locate(self, source: str, name: str) -> str | None:
        """The key node finds for ``require(name)`` from the package at key ``source``."""
        parts = source.split("/") if source else []
        for i in range(len(parts), -1, -1):
            if i and parts[i - 1] == "node_modules":
                continue
            candidate = "/".join([*parts[:i], "node_modules", name])
            if candidate in self.packages:
                return candidate
        return None

    def ref_of(self, key: str) -> str | None:
        entry = self.packages[key]
        if entry.get("link"):
            target = entry.get("resolved")
            return self.folder_ref(target) if isinstance(target, str) else None
        return self.refs.get(key)

    def folder_ref(self, folder: str) -> str:
        entry = self.packages.get(folder) or {}
        name = entry.get("name") or self.link_names.get(folder)
        return self.b.folder(folder, name, entry.get("version"))[1]

    def deps_of(self, key: str, sections: tuple[tuple[str, str], ...]) -> dict[str, str]:
        out: dict[str, str] = {}
        entry = self.packages[key]
        for section, scope in sections:
            table = entry.get(section)
            for name in table if isinstance(table, dict) else ():
                found = self.locate(key, name)
                ref = self.ref_of(found) if found is not None else None
                if ref is not None and ref not in out:
                    out[ref] = scope
        return out

    def read(self) -> None:
        self.refs: dict[str, str] = {}
        folders = []
        cursor = Cursor(self.text)  # the map's keys, in the order of the text (orjson keeps it)
        cursor.key("packages")
        for key, entry in self.packages.items():
            line = cursor.key(key)
            if entry.get("link"):
                continue
            if key == "" or "node_modules/" not in f"/{key}":
                folders.append(key)
                continue
            installed = _installed_name(key)
            name = entry.get("name") if isinstance(entry.get("name"), str) else installed
            resolved = entry.get("resolved") if isinstance(entry.get("resolved"), str) else None
            copied = resolved.split(":", 1)[1] if resolved and resolved.startswith(FOLDER_PREFIXES) else None
            comp = package(
                name,
                entry.get("version") if isinstance(entry.get("version"), str) else None,
                scope=_scope(entry),
                resolved=None if copied is not None else resolved,
                folder=copied,  # a folder copied in (install-links): no registry identity
                integrity=entry.get("integrity") if isinstance(entry.get("integrity"), str) else None,
                licence=entry.get("license", entry.get("licenses")),
                alias=installed,
                peer=bool(entry.get("peer")),
            )
            self.refs[key] = self.b.add(declared_at(comp, line))
        for key, ref in self.refs.items():
            for target in self.deps_of(key, _RUNTIME):
                self.b.depends(ref, target)
        for key in folders:
            folder = key or "."
            entry = self.packages[key]
            name = entry.get("name") or self.link_names.get(key)
            node, _ = self.b.folder(folder, name, entry.get("version"))
            node.deps.update(self.deps_of(key, SECTIONS))


class _Tree:
    """lockfileVersion 1: the nested ``dependencies`` tree."""

    def __init__(self, path: Path, text: str, builder: LockBuilder) -> None:
        self.path, self.text, self.b = path, text, builder
        self.refs: dict[int, str] = {}  # id(entry) → bom-ref
        self.cursor = Cursor(text)  # entries are met depth first, in the order of the text

    def read(self, table: dict[str, Any], chain: list[dict[str, Any]]) -> None:
        """Add every entry of ``table`` (chain: the tables from the root down to ``table``)."""
        for name, entry in table.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("version"), str):
                raise bad_line(
                    self.path,
                    key_line(self.text, name),
                    _("dependency {name!r} has no version").format(name=name),
                )
            version: str = entry["version"]
            line = None if name in _MEMBER_NAMES else self.cursor.key(name)
            resolved = entry.get("resolved") if isinstance(entry.get("resolved"), str) else None
            real, alias = name, None
            if (target := alias_target(version)) is not None:
                (real, version), alias = target, name
            if version.startswith("file:"):
                self.refs[id(entry)] = self.b.folder(normal_folder(".", version[5:]), name, None)[1]
            else:
                if is_git(version) or version.startswith(("http://", "https://")):
                    resolved, version = version, None
                comp = package(
                    real,
                    version,
                    scope=_scope(entry),
                    resolved=resolved,
                    integrity=entry.get("integrity") if isinstance(entry.get("integrity"), str) else None,
                    alias=alias,
                    peer=bool(entry.get("peer")),
                )
                self.refs[id(entry)] = self.b.add(declared_at(comp, line))
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                self.read(nested, [*chain, nested])
        for entry in table.values():
            source = self.refs[id(entry)]
            nested = entry.get("dependencies") if isinstance(entry.get("dependencies"), dict) else None
            scope_chain = [*chain, nested] if nested else chain
            requires = entry.get("requires")
            for dep in requires if isinstance(requires, dict) else ():
                target = self.locate(scope_chain, dep)
                if target is not None:
                    self.b.depends(source, target)

    def locate(self, chain: list[dict[str, Any]], name: str) -> str | None:
        for table in reversed(chain):
            entry = table.get(name)
            if isinstance(entry, dict) and id(entry) in self.refs:
                return self.refs[id(entry)]
        return None


@guarded("npm lockfile")
def parse(path: Path, text: str) -> Found:
    data = load_json(path, text, "npm lockfile")
    builder = LockBuilder(path)
    manifest = read_manifest(path.parent)
    packages = data.get("packages")
    version = data.get("lockfileVersion")
    if isinstance(packages, dict):
        _Packages(path, text, packages, builder).read()
        root = dict(packages.get("") or {})
    elif isinstance(data.get("dependencies"), dict) or version == 1:
        tree = _Tree(path, text, builder)
        top = data.get("dependencies") or {}
        tree.read(top, [top])
        root = {"name": data.get("name"), "version": data.get("version")}
        root_node, _created = builder.folder(".", root["name"], root["version"])
        for name, (_section, scope) in (manifest_sections(manifest) if manifest else {}).items():
            target = tree.locate([top], name)
            if target is not None:
                root_node.deps.setdefault(target, scope)
    else:
        raise bad_line(path, 1, _("not an npm lockfile: neither 'packages' nor 'dependencies'"))
    if isinstance(version, int) and version > 3:
        builder.found.notices.append(f"lockfileVersion {version} is newer than mamori knows (1-3); read as 3")
    if manifest and not root.get("license"):
        root["license"] = manifest.get("license")
    return builder.finish(project_component({**(manifest or {}), **{k: v for k, v in root.items() if v}}))

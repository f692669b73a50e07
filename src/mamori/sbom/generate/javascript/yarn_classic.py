"""yarn.lock of Yarn classic (``# yarn lockfile v1``).

The format: an unindented line lists the descriptors an entry satisfies (``"a@^1.0.0", a@^1.2.0:``),
then two-space indented ``key value`` lines (``version``, ``resolved``, ``integrity``) and sections
(``dependencies:``, ``optionalDependencies:``) whose four-space lines are ``name range``.
A dependency ``name range`` resolves to the entry listed under the descriptor ``name@range``.

The lockfile says nothing about dev dependencies or the project's own dependencies: those come from
the package.json beside it and from the workspaces it names (``workspaces: [globs]``); a name that
is a workspace resolves to that workspace. ``resolved`` URLs end in ``#<sha1>`` (a SHA-1 hash).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.sbom.generate.base import REQUIRED, Found, bad_line
from mamori.sbom.generate.javascript.common import (
    alias_target,
    guarded,
    manifest_sections,
    package,
    split_spec,
)
from mamori.sbom.generate.javascript.lockgraph import Folder, LockBuilder, normal_folder
from mamori.sbom.generate.javascript.workspaces import root_and_workspaces
from mamori.sbom.generate.lines import declared_at

_PAIR = re.compile(r'("(?:[^"\\]|\\.)*"|\S+)\s+("(?:[^"\\]|\\.)*"|\S+)$')
_SECTIONS = ("dependencies", "optionalDependencies")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def read_entries(path: Path, text: str, lines: dict[int, int] | None = None) -> dict[str, dict[str, Any]]:
    """Descriptor → entry (entries listed under several descriptors are shared); ``lines`` gets
    id(entry) → the line of its descriptor header."""
    entries: dict[str, dict[str, Any]] = {}
    entry: dict[str, Any] | None = None
    section: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0:
            if not stripped.endswith(":"):
                raise bad_line(path, number, _("expected 'name@range:' to start an entry"))
            entry, section = {}, None
            if lines is not None:
                lines[id(entry)] = number
            for descriptor in stripped[:-1].split(","):
                if descriptor.strip():
                    entries[_unquote(descriptor)] = entry
        elif entry is None:
            raise bad_line(path, number, _("indented line outside an entry"))
        elif indent == 2 and stripped.endswith(":") and " " not in stripped:
            section = entry.setdefault(stripped[:-1], {})
        elif indent == 2 or (indent == 4 and section is not None):
            pair = _PAIR.match(stripped)
            if pair is None:
                raise bad_line(
                    path, number, _("expected 'key value', got {stripped!r}").format(stripped=stripped)
                )
            key, value = _unquote(pair.group(1)), _unquote(pair.group(2))
            if indent == 2:
                entry[key], section = value, None
            else:
                section[key] = value  # type: ignore[index]
        else:
            raise bad_line(path, number, _("unexpected indentation ({indent} spaces)").format(indent=indent))
    return entries


@guarded("yarn lockfile")
def parse(path: Path, text: str) -> Found:
    header_lines: dict[int, int] = {}
    entries = read_entries(path, text, header_lines)
    builder = LockBuilder(path)
    refs: dict[int, str] = {}
    folder_nodes: dict[int, Folder] = {}
    for descriptor, entry in entries.items():
        if id(entry) in refs:
            continue
        name, rng = split_spec(descriptor)
        if not isinstance(entry.get("version"), str):
            raise bad_line(
                path,
                _line(text, descriptor),
                _("entry {descriptor!r} has no version").format(descriptor=descriptor),
            )
        if rng.startswith(("file:", "link:")):
            folder = normal_folder(".", rng.split(":", 1)[1])
            folder_nodes[id(entry)], refs[id(entry)] = builder.folder(folder, name, entry["version"])
            continue
        real, alias = name, None
        if (target := alias_target(rng)) is not None:
            real, alias = target[0], name
        refs[id(entry)] = builder.add(
            declared_at(
                package(
                    real,
                    entry["version"],
                    resolved=entry.get("resolved"),
                    integrity=entry.get("integrity"),
                    alias=alias,
                ),
                header_lines.get(id(entry)),
            )
        )
    project, folders = root_and_workspaces(path.parent)
    members = {f.name: f for f in folders if f.name}

    def resolve(dep: str, rng: str) -> str | None:
        entry = entries.get(f"{dep}@{rng}")
        if entry is not None:
            return refs[id(entry)]
        member = members.get(dep)
        return builder.folder(member.path, member.name, member.version)[1] if member else None

    for entry in {id(e): e for e in entries.values()}.values():
        source = refs[id(entry)]
        for section in _SECTIONS:
            for dep, rng in (entry.get(section) or {}).items():
                target = resolve(dep, rng)
                if target is None:
                    continue
                if id(entry) in folder_nodes:
                    folder_nodes[id(entry)].deps.setdefault(target, REQUIRED)
                else:
                    builder.depends(source, target)
    for member in folders:
        node, _created = builder.folder(member.path, member.name, member.version)
        for dep, (rng, scope) in manifest_sections(member.manifest).items():
            target = resolve(dep, rng)
            if target is not None:
                node.deps.setdefault(target, scope)
    return builder.finish(project)


def _line(text: str, descriptor: str) -> int | None:
    index = text.find(descriptor)
    return text.count("\n", 0, index) + 1 if index >= 0 else None

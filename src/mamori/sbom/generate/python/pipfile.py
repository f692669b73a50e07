"""Pipfile.lock (pipenv) and, when there is no lock, the Pipfile itself (declared only).

Pipfile.lock: ``default`` is required, ``develop`` dev (a package in both is required); versions
are ``==x``; hashes are kept; git/path/editable entries get a notice. The lock has no edges: the
direct dependencies are those the Pipfile beside it names (``[packages]``, ``[dev-packages]``),
and the packages it does not name are attached to the project as well, because the lock cannot
say what pulled them in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from mamori.i18n import _
from mamori.model import Component
from mamori.sbom.generate.base import (
    DEV,
    REQUIRED,
    Found,
    add_hashes,
    bad_line,
    declared_only,
    hash_from_pair,
)
from mamori.sbom.generate.lines import Cursor, declared_at, manifest_line
from mamori.sbom.generate.python.common import ECOSYSTEM, canonical, component, load_toml


def _version(entry: dict[str, Any]) -> str | None:
    version = entry.get("version")
    if isinstance(version, str) and version.startswith("=="):
        return version[2:]
    return None


def _lock_component(name: str, entry: dict[str, Any], scope: str, notices: list[str]) -> Component:
    if entry.get("git"):
        ref = entry.get("ref")
        comp = component(
            name, _version(entry), scope=scope, vcs_url=f"git+{entry['git']}" + (f"@{ref}" if ref else "")
        )
    elif entry.get("path") or entry.get("file"):
        comp = component(
            name, _version(entry), scope=scope, local_path=str(entry.get("path") or entry.get("file"))
        )
        notices.append(f"{name}: installed from the local path {entry.get('path') or entry.get('file')}")
    else:
        comp = component(name, _version(entry), scope=scope, marker=entry.get("markers"))
    if entry.get("editable"):
        notices.append(f"{name}: editable install")
    add_hashes(comp, [hash_from_pair(h) for h in entry.get("hashes") or [] if isinstance(h, str)])
    return comp


def _pipfile_direct(folder: Path) -> dict[str, str] | None:
    path = folder / "Pipfile"
    if not path.is_file():
        return None
    from mamori.sbom.generate import read_text

    data = load_toml(path, read_text(path))
    direct = {canonical(n): DEV for n in data.get("dev-packages") or {}}
    direct.update({canonical(n): REQUIRED for n in data.get("packages") or {}})
    return direct


def parse_lock(path: Path, text: str) -> Found:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise bad_line(
            path, getattr(exc, "lineno", None), _("not valid JSON: {msg}").format(msg=exc.msg)
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("_meta"), dict):
        raise bad_line(path, None, _("no _meta section: not a Pipfile.lock"))
    found = Found(ECOSYSTEM)
    by_name: dict[str, Component] = {}
    for section, scope in (("default", REQUIRED), ("develop", DEV)):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise bad_line(path, None, _("{section!r} is not an object").format(section=section))
        cursor = Cursor(text)  # the section's entries follow its key, in the order orjson keeps
        cursor.key(section)
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise bad_line(
                    path, None, _("{section}.{name} is not an object").format(section=section, name=name)
                )
            line = cursor.key(name)
            key = canonical(name)
            if not key:
                raise bad_line(
                    path,
                    line,
                    _("{section}: {name!r} is not a package name").format(section=section, name=name),
                )
            if key in by_name:  # in default and develop: required wins (default comes first)
                declared_at(by_name[key], line)
                continue
            by_name[key] = found.add(declared_at(_lock_component(name, entry, scope, found.notices), line))
    direct = _pipfile_direct(path.parent)
    if direct is not None:
        for key, comp in by_name.items():
            found.direct[comp.bom_ref or ""] = direct.get(key, comp.scope or REQUIRED)
    return found


def parse_manifest(path: Path, text: str) -> Found:
    """A Pipfile without a lock: what it declares, marked declared-only."""
    data = load_toml(path, text)
    found = Found(ECOSYSTEM, resolved=False)
    for section, scope in (("packages", REQUIRED), ("dev-packages", DEV)):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise bad_line(path, None, _("[{section}] is not a table").format(section=section))
        for name, spec in entries.items():
            if not canonical(name):
                raise bad_line(
                    path,
                    None,
                    _("[{section}]: {name!r} is not a package name").format(section=section, name=name),
                )
            version_range = (
                spec if isinstance(spec, str) else spec.get("version") if isinstance(spec, dict) else None
            )
            pinned = (
                version_range[2:]
                if isinstance(version_range, str) and version_range.startswith("==")
                else None
            )
            comp = declared_only(
                component(name, pinned, scope=scope),
                version_range if version_range and version_range != "*" else None,
            )
            found.direct[comp.bom_ref or ""] = scope
            found.add(declared_at(comp, manifest_line(text, name)))
    return found

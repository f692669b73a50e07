"""uv.lock (lock version 1).

The project is the package whose source is ``virtual = "."`` or ``editable = "."``; its
``dependencies`` are the direct required dependencies, ``optional-dependencies`` optional and
``dev-dependencies`` (dependency groups) dev. Other local packages (workspace members, path
dependencies) are components without a purl. Hashes: the sdist and every wheel. Edges come from
each package's ``dependencies`` and from the ``optional-dependencies`` of extras that some
dependency entry asks for. When one name is locked at several versions (a forked resolution),
dependency entries name the version and that is the one linked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, Found, add_hashes, bad_line, hash_from_pair
from mamori.sbom.generate.lines import array_table_lines, declared_at
from mamori.sbom.generate.python.common import ECOSYSTEM, canonical, component, key_line, load_toml

_LOCAL = ("virtual", "editable", "directory", "path", "workspace")


def _component(package: dict[str, Any]) -> Component:
    name, version = package["name"], package.get("version")
    source = package.get("source") or {}
    kwargs: dict[str, str | None] = {}
    if "git" in source:
        kwargs["vcs_url"] = "git+" + str(source["git"])
    elif "url" in source:
        kwargs["download_url"] = str(source["url"])
    elif "registry" in source:
        kwargs["registry"] = str(source["registry"])
    else:
        local = next((str(source[k]) for k in _LOCAL if k in source), None)
        kwargs["local_path"] = local
    comp = component(name, version, **kwargs)
    hashes = [package.get("sdist", {}).get("hash")] + [w.get("hash") for w in package.get("wheels") or []]
    add_hashes(comp, [hash_from_pair(h) for h in hashes if isinstance(h, str)])
    return comp


def _is_project(package: dict[str, Any]) -> bool:
    source = package.get("source") or {}
    return source.get("virtual") == "." or source.get("editable") == "."


def parse(path: Path, text: str) -> Found:
    data = load_toml(path, text)
    packages = data.get("package")
    if not isinstance(packages, list) or not isinstance(data.get("version"), int):
        raise bad_line(path, None, _("no lock version or [[package]] entries: not a uv.lock"))
    found = Found(ECOSYSTEM)
    by_name: dict[str, list[tuple[str | None, str]]] = {}  # canonical name → [(version, ref)]
    project: dict[str, Any] | None = None
    lines = array_table_lines(text, "package", len(packages))
    for package, line in zip(packages, lines, strict=True):
        if not isinstance(package.get("name"), str):
            raise bad_line(path, None, _("a [[package]] entry has no name"))
        if _is_project(package) and project is None:
            project = package
            found.project = component(package["name"], package.get("version"))
            continue
        comp = found.add(declared_at(_component(package), line))
        by_name.setdefault(canonical(package["name"]), []).append(
            (package.get("version"), comp.bom_ref or "")
        )

    def target(entry: dict[str, Any], where: str) -> str | None:
        name = entry.get("name")
        if not isinstance(name, str):
            raise bad_line(
                path, key_line(text, where), _("a dependency of {where} has no name").format(where=where)
            )
        candidates = by_name.get(canonical(name), [])
        if len(candidates) > 1 and entry.get("version"):
            candidates = [c for c in candidates if c[0] == entry["version"]] or candidates
        return candidates[0][1] if candidates else None

    wanted_extras: dict[str, set[str]] = {}
    for package in packages:
        for table in ("dependencies", "optional-dependencies", "dev-dependencies"):
            groups = package.get(table) or {}
            entries = groups if table == "dependencies" else [e for v in groups.values() for e in v]
            for entry in entries:
                for extra in entry.get("extra") or []:
                    wanted_extras.setdefault(canonical(entry.get("name", "")), set()).add(extra)
    for package in packages:
        where = package["name"]
        if package is project:
            for entry in package.get("dependencies") or []:
                if (ref := target(entry, where)) is not None:
                    found.direct[ref] = REQUIRED
            for table, scope in (("optional-dependencies", OPTIONAL), ("dev-dependencies", DEV)):
                for entries in (package.get(table) or {}).values():
                    for entry in entries:
                        if (ref := target(entry, where)) is not None and ref not in found.direct:
                            found.direct[ref] = scope
            continue
        source_ref = next(r for v, r in by_name[canonical(where)] if v == package.get("version"))
        entries = list(package.get("dependencies") or [])
        for extra in wanted_extras.get(canonical(where), ()):
            entries += (package.get("optional-dependencies") or {}).get(extra) or []
        for entry in entries:
            if (ref := target(entry, where)) is not None:
                found.depends(source_ref, ref)
    return found

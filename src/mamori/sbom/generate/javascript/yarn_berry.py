"""yarn.lock of Yarn berry (2, 3, 4 …): YAML with a ``__metadata`` entry.

Each entry is keyed by the descriptors it satisfies (``"debug@npm:^4.3.4, debug@npm:^4.3.5"``) and
names its ``resolution`` (a locator ``name@protocol:reference``):

- ``npm:<version>``: a registry package (an alias ``lodash-three@npm:lodash@3.10.1`` resolves to
  ``lodash@npm:3.10.1``, the real package);
- ``workspace:<folder>``: the root (``.``) or a workspace; ``file:``, ``link:``, ``portal:``: a folder;
- ``patch:<locator>#…``: a patched copy of a package (the same purl as the package, merged);
- a URL: a tarball (``download_url``) or a git repository (``vcs_url``).

Dependencies are descriptors resolved through the keys. Workspace entries do not say which
dependencies are dev ones: that comes from each workspace's package.json; ``dependenciesMeta``
``optional: true`` marks optional ones. ``checksum`` is kept as ``mamori:npm:yarn-checksum`` (it
hashes Yarn's zip of the package, not the published tarball); berry records no licence or URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mamori.i18n import _
from mamori.model import Property
from mamori.sbom.generate.base import OPTIONAL, REQUIRED, Found, bad_line
from mamori.sbom.generate.javascript.common import (
    YARN_CHECKSUM,
    guarded,
    is_git,
    load_yaml,
    manifest_sections,
    package,
    project_component,
    read_manifest,
    split_spec,
)
from mamori.sbom.generate.javascript.lockgraph import Folder, LockBuilder, normal_folder
from mamori.sbom.generate.lines import declared_at, yaml_key_lines

_LOCATOR_WORKSPACE = re.compile(r"locator=[^&]*?%40workspace%3A([^&]*)")
_FOLDER_PROTOCOLS = ("workspace:", "file:", "link:", "portal:")


def _folder(reference: str) -> str:
    """``file:./lib#./lib::hash=…&locator=root%40workspace%3A.`` → ``lib`` (relative to the lockfile)."""
    protocol, _, rest = reference.partition(":")
    target = rest.split("::", 1)[0].split("#", 1)[0]
    base = "."
    if protocol != "workspace":
        found = _LOCATOR_WORKSPACE.search(reference)
        base = unquote(found.group(1)) if found else "."
    return normal_folder(base, target)


def _line(text: str, key: str) -> int | None:
    index = text.find(key)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


@guarded("yarn lockfile")
def parse(path: Path, text: str) -> Found:
    data = load_yaml(path, text, "yarn lockfile")
    builder = LockBuilder(path)
    by_descriptor: dict[str, str] = {}  # descriptor → bom-ref
    folders: dict[str, Folder] = {}  # bom-ref of a folder package → its node
    entries: list[tuple[str, dict[str, Any]]] = []
    key_lines = yaml_key_lines(text, 0)
    for key, entry in data.items():
        if key == "__metadata":
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("resolution"), str):
            raise bad_line(path, _line(text, key), _("entry {key!r} has no resolution").format(key=key))
        name, reference = split_spec(entry["resolution"])
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        if reference.startswith(_FOLDER_PROTOCOLS):
            folder = _folder(reference)
            manifest = read_manifest(path.parent / folder) or {}
            node, ref = builder.folder(folder, name, manifest.get("version") or _real_version(version))
            folders[ref] = node
        else:
            real, rng = name, reference  # the resolution names the real package, aliases included
            if reference.startswith("patch:"):
                real, rng = split_spec(unquote(reference[6:].split("#", 1)[0]))
            comp = package(
                real,
                version,
                resolved=rng if (is_git(rng) or rng.startswith(("http://", "https://"))) else None,
                alias=split_spec(key.split(",", 1)[0].strip())[0],
            )
            if isinstance(entry.get("checksum"), str):
                comp.properties.append(Property(YARN_CHECKSUM, entry["checksum"]))
            ref = builder.add(declared_at(comp, key_lines.get(key)))
        for descriptor in key.split(","):
            by_descriptor[descriptor.strip()] = ref
        entries.append((ref, entry))
    for ref, entry in entries:
        node = folders.get(ref)
        scopes = _workspace_scopes(path.parent / node.path) if node is not None else {}
        meta = entry.get("dependenciesMeta") if isinstance(entry.get("dependenciesMeta"), dict) else {}
        for section in ("dependencies", "optionalDependencies"):
            table = entry.get(section)
            for dep, rng in table.items() if isinstance(table, dict) else ():
                target = by_descriptor.get(f"{dep}@{rng}")
                if target is None:
                    continue
                if node is None:
                    builder.depends(ref, target)
                    continue
                optional = (
                    section == "optionalDependencies" or (meta.get(dep) or {}).get("optional") == "true"
                )
                node.deps.setdefault(target, OPTIONAL if optional else scopes.get(dep, REQUIRED))
    return builder.finish(project_component(read_manifest(path.parent)))


def _real_version(version: str | None) -> str | None:
    return None if version is None or version.startswith("0.0.0-use.local") else version


def _workspace_scopes(folder: Path) -> dict[str, str]:
    manifest = read_manifest(folder)
    return {name: scope for name, (_, scope) in manifest_sections(manifest).items()} if manifest else {}

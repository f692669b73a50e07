"""conan.lock (Conan C/C++ packages): the Conan 1 graph lock (format 0.4) and the Conan 2 lock (0.5).

A reference reads ``name/version[@user/channel][#recipe revision][%timestamp]``; the purl is
``pkg:conan/<name>@<version>?user=…&channel=…&rrev=…`` (the purl spec's conan qualifiers).

- 0.4: ``graph_lock.nodes`` — node "0" is the consumer (the project; its ``ref`` when it has one);
  ``requires`` are required edges, ``build_requires`` dev edges (tools used to build), both with
  direct/transitive from the graph; ``python_requires`` (recipe code) are dev too. ``package_id``
  goes into ``mamori:conan:package-id``.
- 0.5 (Conan 2): flat lists without a graph; ``requires`` are required, ``build_requires`` and
  ``python_requires`` dev, ``config_requires`` are configuration packages (dev); all hang off the
  project.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mamori.i18n import _
from mamori.model import Component, Property
from mamori.sbom.generate.base import DEV, REQUIRED, Found, bad_line
from mamori.sbom.generate.components import line_with, load_json, purl_component, structure_checked
from mamori.sbom.generate.lines import Cursor, declared_at

ECOSYSTEM = "conan"
PACKAGE_ID = "mamori:conan:package-id"
_REF = re.compile(r"^([^/@#%\s]+)/([^@#%\s]+)(?:@([^/#%\s]+)/([^#%\s]+))?(?:#([0-9a-f]+))?(?:%(\S+))?$")


def reference(path: Path, text: str, ref: str) -> Component:
    match = _REF.match(ref)
    if match is None:
        raise bad_line(path, line_with(text, ref), _("not a Conan reference: {ref!r}").format(ref=ref))
    name, version, user, channel, rrev, _revision_time = match.groups()
    return purl_component(
        ECOSYSTEM,
        name,
        version,
        qualifiers={"user": user or "", "channel": channel or "", "rrev": rrev or ""},
    )


def _graph_lock(path: Path, text: str, nodes: dict[str, Any], found: Found) -> None:
    refs: dict[str, str] = {}
    cursor = Cursor(text)
    for key, node in nodes.items():
        if key == "0" or not isinstance(node, dict):
            continue
        if not isinstance(node.get("ref"), str):
            raise bad_line(path, line_with(text, f'"{key}": {{'), _("node {key} has no ref").format(key=key))
        comp = found.add(reference(path, text, node["ref"]))
        declared_at(comp, cursor.value("ref", node["ref"]))
        if node.get("package_id"):
            comp.properties.append(Property(PACKAGE_ID, str(node["package_id"])))
        refs[key] = comp.bom_ref or ""
    root = nodes.get("0") if isinstance(nodes.get("0"), dict) else {}
    if isinstance(root.get("ref"), str):
        found.project = reference(path, text, root["ref"])
    for key, node in nodes.items():
        if not isinstance(node, dict):
            continue
        for field, scope in (("requires", REQUIRED), ("build_requires", DEV), ("python_requires", DEV)):
            for target in node.get(field) or []:
                if str(target) not in refs:
                    raise bad_line(
                        path,
                        line_with(text, f'"{field}"'),
                        _("node {key}: {field} names unknown node {target}").format(
                            key=key, field=field, target=target
                        ),
                    )
                if key == "0":
                    found.direct[refs[str(target)]] = scope
                else:
                    found.depends(refs[key], refs[str(target)])
                    if scope == DEV:
                        next(c for c in found.components if c.bom_ref == refs[str(target)]).scope = DEV


@structure_checked
def parse(path: Path, text: str) -> Found:
    data = load_json(path, text)
    if not isinstance(data, dict):
        raise bad_line(path, None, _("expected a JSON object: not a conan.lock"))
    found = Found(ECOSYSTEM)
    graph = data.get("graph_lock")
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), dict):
        _graph_lock(path, text, graph["nodes"], found)
        return found
    if "requires" not in data and "build_requires" not in data:
        raise bad_line(path, None, _("neither graph_lock nodes nor requires lists: not a conan.lock"))
    for field, scope in (
        ("requires", REQUIRED),
        ("build_requires", DEV),
        ("python_requires", DEV),
        ("config_requires", DEV),
    ):
        cursor = Cursor(text)
        cursor.key(field, "[")
        for ref in data.get(field) or []:
            comp = reference(path, text, str(ref))
            line = cursor.string(str(ref))
            if comp.bom_ref in found.direct:
                continue
            found.add(declared_at(comp, line))
            found.direct[comp.bom_ref or ""] = scope
    return found

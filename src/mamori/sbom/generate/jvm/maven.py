"""Maven pom.xml: the declared dependencies (a manifest: nothing here is resolved).

- The project is ``pkg:maven/<groupId>/<artifactId>@<version>`` (groupId and version inherited
  from ``<parent>`` when the pom leaves them out).
- ``${…}`` references are resolved inside the file: ``<properties>``, ``project.*`` /
  ``pom.*`` (groupId, artifactId, version), ``project.parent.*``. When the parent pom is on disk
  (``<relativePath>``, default ``../pom.xml``) and is the named parent, its properties and
  ``<dependencyManagement>`` are used too, up the chain.
- A dependency without a version takes it from ``<dependencyManagement>``; a BOM import
  (``<scope>import</scope>``) is not followed (the BOM is in a repository), so such a dependency
  stays without a version and is reported.
- Scope: ``test`` → dev; ``provided``, ``system`` and ``<optional>true</optional>`` → optional;
  compile and runtime → required. ``<type>`` other than jar and ``<classifier>`` become purl
  qualifiers. Every component is declared-only (``mamori:declared-only``); a plain version is the
  version, a range (``[1.0,2.0)``) is kept in ``mamori:version-range``.

XML is read with lxml without entities, network or DTDs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Contact
from mamori.sbom.generate.base import DEV, OPTIONAL, REQUIRED, Found, bad_line, declared_only
from mamori.sbom.generate.components import purl_component, structure_checked
from mamori.sbom.generate.lines import declared_at
from mamori.vulndb.xmlsafe import child, children, local

ECOSYSTEM = "maven"
_REF = re.compile(r"\$\{([^}]+)\}")
_MAX_PARENTS = 10


def _text(el: etree._Element | None, name: str) -> str | None:
    found = child(el, name)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _parse_xml(path: Path, text: str) -> etree._Element:
    from mamori.vulndb.xmlsafe import parse as safe_parse

    try:
        root = safe_parse(str(path), text.encode("utf-8"))
    except InputError as exc:
        match = re.search(r"line (\d+)|(\d+) 行目", exc.problem)
        raise bad_line(path, int(match.group(1) or match.group(2)) if match else None, exc.problem) from None
    if local(root.tag) != "project":
        raise bad_line(
            path,
            root.sourceline,
            _("root element <{element}>: not a Maven pom").format(element=local(root.tag)),
        )
    return root


class Pom:
    """One pom with what it inherits from the parents found on disk."""

    def __init__(self, path: Path, root: etree._Element, depth: int = 0) -> None:
        self.path, self.root = path, root
        parent_el = child(root, "parent")
        self.parent: Pom | None = None
        if parent_el is not None and depth < _MAX_PARENTS:
            self.parent = _load_parent(path, parent_el, depth)
        self.group = _text(root, "groupId") or _text(parent_el, "groupId")
        self.artifact = _text(root, "artifactId")
        self.version = _text(root, "version") or _text(parent_el, "version")
        self.properties: dict[str, str] = dict(self.parent.properties) if self.parent else {}
        for prop in child(root, "properties") if child(root, "properties") is not None else []:
            if isinstance(prop.tag, str):
                self.properties[local(prop.tag)] = (prop.text or "").strip()
        for prefix in ("project.", "pom.", ""):
            for key, value in (
                ("groupId", self.group),
                ("artifactId", self.artifact),
                ("version", self.version),
            ):
                if value and (prefix or key == "version"):
                    self.properties[prefix + key] = value
        for key in ("groupId", "artifactId", "version"):
            value = _text(parent_el, key)
            if value:
                self.properties[f"project.parent.{key}"] = self.properties[f"parent.{key}"] = value
        self.managed: dict[tuple[str, str], tuple[str | None, str | None]] = (
            dict(self.parent.managed) if self.parent else {}
        )
        for dep in children(child(child(root, "dependencyManagement"), "dependencies"), "dependency"):
            g, a = self.resolve(_text(dep, "groupId")), self.resolve(_text(dep, "artifactId"))
            if g and a and _text(dep, "scope") != "import":
                self.managed[(g, a)] = (self.resolve(_text(dep, "version")), _text(dep, "scope"))

    def resolve(self, value: str | None) -> str | None:
        if value is None:
            return None
        for _attempt in range(10):
            new = _REF.sub(lambda m: self.properties.get(m.group(1), m.group(0)), value)
            if new == value:
                break
            value = new
        return value


def _load_parent(path: Path, parent_el: etree._Element, depth: int) -> Pom | None:
    relative = _text(parent_el, "relativePath")
    if relative == "":
        return None
    candidate = path.parent / (relative or "../pom.xml")
    if candidate.is_dir():
        candidate = candidate / "pom.xml"
    if not candidate.is_file():
        return None
    from mamori.sbom.generate import read_text

    root = _parse_xml(candidate, read_text(candidate))
    if _text(root, "artifactId") != _text(parent_el, "artifactId"):
        return None  # a different pom sits there: the parent is in a repository
    return Pom(candidate, root, depth + 1)


def _scope(scope: str | None, optional: str | None) -> str:
    if scope == "test":
        return DEV
    if scope in ("provided", "system") or optional == "true":
        return OPTIONAL
    return REQUIRED


def organization(root: etree._Element, resolve: Callable[[str | None], str | None]) -> Contact | None:
    """The supplier a POM names: ``<organization>`` (name, url), else the first developer's organization."""
    org = child(root, "organization")
    name = resolve(_text(org, "name")) if org is not None else None
    url = resolve(_text(org, "url")) if org is not None else None
    if not name:
        for dev in children(child(root, "developers"), "developer"):
            name = resolve(_text(dev, "organization"))
            url = url or resolve(_text(dev, "organizationUrl"))
            if name:
                break
    return Contact(name=" ".join(name.split()), url=url or None) if name and name.strip() else None


@structure_checked
def parse(path: Path, text: str) -> Found:
    pom = Pom(path, _parse_xml(path, text))
    found = Found(ECOSYSTEM, resolved=False)
    if pom.group and pom.artifact:
        found.project = purl_component(
            ECOSYSTEM, pom.artifact, pom.resolve(pom.version), namespace=pom.resolve(pom.group)
        )
        found.project.supplier = organization(pom.root, pom.resolve)
    seen: set[str] = set()
    for dep in children(child(pom.root, "dependencies"), "dependency"):
        group, artifact = pom.resolve(_text(dep, "groupId")), pom.resolve(_text(dep, "artifactId"))
        if not group or not artifact:
            raise bad_line(path, dep.sourceline, _("a <dependency> without groupId or artifactId"))
        managed_version, managed_scope = pom.managed.get((group, artifact), (None, None))
        declared = pom.resolve(_text(dep, "version")) or managed_version
        scope = _scope(_text(dep, "scope") or managed_scope, _text(dep, "optional"))
        exact = (
            declared if declared and not declared.startswith(("[", "(")) and "${" not in declared else None
        )
        qualifiers = {"classifier": pom.resolve(_text(dep, "classifier")) or ""}
        kind = _text(dep, "type")
        if kind and kind != "jar":
            qualifiers["type"] = kind
        comp: Component = purl_component(
            ECOSYSTEM, artifact, exact, namespace=group, qualifiers=qualifiers, scope=scope
        )
        declared_only(comp, declared if declared != exact else None)
        if comp.bom_ref in seen:
            continue
        seen.add(comp.bom_ref or "")
        found.add(declared_at(comp, dep.sourceline))
        found.direct[comp.bom_ref or ""] = scope
        if exact is None:
            found.notices.append(
                f"{group}:{artifact}: version {declared!r} not resolved in the file"
                if declared
                else f"{group}:{artifact}: no version (from a BOM or a parent not on disk)"
            )
    return found

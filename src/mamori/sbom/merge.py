"""``mamori sbom merge``: supplier SBOMs gathered under one product root.

Structure of the result (flat, so that it writes to CycloneDX and SPDX alike and keeps every edge):
- ``doc.root`` is the new product component (``--root-name``/``--root-version``).
- ``doc.components`` holds each input's root first (an input without a root gets one, named after the
  input's document name or file), then each input's components, top level; nesting inside a component
  is kept as it was.
- Edges (DEPENDS_ON, which both formats carry): new root -> each input root; each input's own edges with
  renamed refs; and input root -> every component of that input that had no incoming inclusion edge there,
  so that everything stays reachable (these edges carry a comment saying mamori added them). A
  component an input states to have no dependencies keeps that statement unless it gained edges.
- Components with the same purl (canonical form, version included) are merged into one: hashes, CPEs,
  external references and properties united, licences combined with AND when they differ, empty fields
  filled from the duplicate. Later refs to a merged duplicate point to the kept component.
- A bom-ref already used by an earlier input is renamed ``<ref>-2``, ``<ref>-3`` ...
- Authors and tools are united (mamori added as a tool), lifecycles united, timestamp now, a new serial.
- SPDX external document references and extracted licence texts (kept by the SPDX reader as document
  properties) are united by id, so that edges to other documents and LicenseRef- expressions still resolve.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import orjson

from mamori import __version__
from mamori.model import Component, Contact, Document, Hash, Property, Relationship, Tool
from mamori.sbom.check import composition_types, given
from mamori.sbom.diff import canonical_purl
from mamori.sbom.licenses import LicenceError, conjoin, equivalent

T = TypeVar("T")
# SPDX document-level lists the SPDX reader keeps as JSON-text properties, united by their id, so that
# edges to external documents (DocumentRef-...) and LicenseRef- expressions still resolve after a merge
_UNITED_LISTS = {
    "spdx:externalDocumentRefs": "externalDocumentId",
    "spdx:hasExtractedLicensingInfos": "licenseId",
}
_DOCUMENT_EDGES = frozenset({"DESCRIBES", "DESCRIBED_BY"})
ADDED_EDGE_COMMENT = "mamori merge: listed in {input} without an inclusion edge; linked to its root"
_FILL_FIELDS = (
    "version",
    "group",
    "author",
    "publisher",
    "description",
    "copyright",
    "download_location",
    "swid",
    "scope",
    "supplier",
)


@dataclass(slots=True)
class MergeResult:
    document: Document
    inputs: int
    duplicates: int = 0
    renamed: int = 0

    @property
    def components(self) -> int:
        return sum(1 for _ in self.document.all_components())


def _combine_licenses(a: str | None, b: str | None) -> str | None:
    if not given(a):
        return b
    if not given(b) or a == b:
        return a
    try:
        return a if equivalent(a, b) else conjoin([a, b])
    except LicenceError:
        return f"({a}) AND ({b})"


def _identity(comp: Component) -> object:
    return canonical_purl(comp.purl) or (comp.group, comp.name, comp.version)


def _absorb(target: Component, other: Component) -> None:
    """Keep the richest data of two records of one component in ``target`` (nested components aside)."""
    seen_hashes = {(h.alg.upper(), h.value.lower()) for h in target.hashes}
    for h in other.hashes:
        if (h.alg.upper(), h.value.lower()) not in seen_hashes:
            target.hashes.append(Hash(h.alg, h.value))
            seen_hashes.add((h.alg.upper(), h.value.lower()))
    target.license_declared = _combine_licenses(target.license_declared, other.license_declared)
    target.license_concluded = _combine_licenses(target.license_concluded, other.license_concluded)
    for name in _FILL_FIELDS:
        mine = getattr(target, name)
        if mine is None or (isinstance(mine, str) and not given(mine)):
            setattr(target, name, getattr(other, name))
    target.cpes.extend(c for c in other.cpes if c not in target.cpes)
    refs = {(r.type, r.url) for r in target.external_references}
    target.external_references.extend(r for r in other.external_references if (r.type, r.url) not in refs)
    props = {(p.name, p.value) for p in target.properties}
    target.properties.extend(p for p in other.properties if (p.name, p.value) not in props)


@dataclass(slots=True)
class _Merger:
    used_refs: set[str] = field(default_factory=set)
    by_purl: dict[str, Component] = field(default_factory=dict)
    components: list[Component] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    edges: set[tuple[str, str, str]] = field(default_factory=set)
    no_dependencies: set[str] = field(default_factory=set)
    duplicates: int = 0
    renamed: int = 0

    def fresh_ref(self, base: str) -> str:
        ref, n = base, 1
        while ref in self.used_refs:
            n += 1
            ref = f"{base}-{n}"
        self.used_refs.add(ref)
        return ref

    def edge(self, source: str, target: str, kind: str = "DEPENDS_ON", comment: str | None = None) -> None:
        if source == target or (source, target, kind) in self.edges:
            return
        self.edges.add((source, target, kind))
        self.relationships.append(Relationship(source, target, kind, comment))

    def _assign_refs(self, comp: Component, mapping: dict[str, str]) -> None:
        for node in comp.walk():
            old = node.bom_ref
            if given(old):
                new = self.fresh_ref(old)
                if new != old:
                    self.renamed += 1
                mapping[old] = new
            else:
                base = canonical_purl(node.purl) or (
                    f"{node.name}@{node.version}" if node.version else node.name
                )
                new = self.fresh_ref(base or "component")
            node.bom_ref = new

    def _absorb_children(self, kept: Component, comp: Component, mapping: dict[str, str]) -> None:
        """Nested components of a duplicate: known ones map to the kept child, new ones are added."""
        known = {_identity(c): c for c in kept.components}
        for child in comp.components:
            match = known.get(_identity(child))
            if match is None:
                self._assign_refs(child, mapping)
                kept.components.append(child)
            elif given(child.bom_ref):
                mapping[child.bom_ref] = match.bom_ref or ""

    def add(self, comp: Component, mapping: dict[str, str]) -> Component:
        """Add one top-level component (a copy); return the component that now stands for it."""
        purl = canonical_purl(comp.purl)
        kept = self.by_purl.get(purl) if purl else None
        if kept is not None:
            self.duplicates += 1
            if given(comp.bom_ref):
                mapping[comp.bom_ref] = kept.bom_ref or ""
            self._absorb_children(kept, comp, mapping)
            _absorb(kept, comp)
            return kept
        self._assign_refs(comp, mapping)
        if purl:
            self.by_purl[purl] = comp
        self.components.append(comp)
        return comp

    def add_document(self, name: str, doc: Document) -> Component:
        """Merge one input; return the component that stands for its root."""
        mapping: dict[str, str] = {}
        source_root = (
            copy.deepcopy(doc.root)
            if doc.root is not None
            else Component(name=doc.name or name, type="application")
        )
        root = self.add(source_root, mapping)
        members = [self.add(copy.deepcopy(comp), mapping) for comp in doc.components]
        forward, reverse = composition_types()
        included: set[str] = set()
        for rel in doc.relationships:
            kind = rel.type.upper()
            if kind in _DOCUMENT_EDGES:
                continue
            source, target = mapping.get(rel.source, rel.source), mapping.get(rel.target, rel.target)
            self.edge(source, target, rel.type, rel.comment)
            if kind in forward:
                included.add(target)
            elif kind in reverse:
                included.add(source)
        self.no_dependencies.update(mapping[ref] for ref in doc.no_dependencies if ref in mapping)
        comment = ADDED_EDGE_COMMENT.format(input=name)
        for member in members:
            if member.bom_ref not in included and member is not root:
                self.edge(root.bom_ref or "", member.bom_ref or "", comment=comment)
        return root


def _unique(items: list[T], key: Callable[[T], Hashable] | None = None) -> list[T]:
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        k = key(item) if key is not None else item
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _united_lists(docs: list[Document]) -> list[Property]:
    """One property per kept SPDX list, entries from every input, the first entry of an id kept."""
    out: list[Property] = []
    for name, id_key in _UNITED_LISTS.items():
        entries: dict[str, object] = {}
        for doc in docs:
            for prop in doc.properties:
                if prop.name != name:
                    continue
                try:
                    value = orjson.loads(prop.value)
                except orjson.JSONDecodeError:
                    continue
                for entry in value if isinstance(value, list) else ():
                    if isinstance(entry, dict) and isinstance(entry.get(id_key), str):
                        entries.setdefault(entry[id_key], entry)
        if entries:
            out.append(Property(name, orjson.dumps(list(entries.values())).decode()))
    return out


def merge_documents(
    inputs: list[tuple[str, Document]],
    *,
    root_name: str,
    root_version: str | None = None,
    now: datetime | None = None,
) -> MergeResult:
    """Merge supplier SBOMs (``(name, document)`` pairs, name for messages) under one new product root."""
    merger = _Merger()
    input_roots = [merger.add_document(name, doc) for name, doc in inputs]
    root = Component(name=root_name, version=root_version, type="application")
    root.bom_ref = merger.fresh_ref(f"{root_name}@{root_version}" if root_version else root_name)
    for input_root in _unique(input_roots, key=id):
        merger.edge(root.bom_ref, input_root.bom_ref or "")
    authors: list[Contact] = _unique(
        [a for _, d in inputs for a in d.authors], key=lambda a: (a.name, a.email)
    )
    tools: list[Tool] = _unique(
        [*(t for _, d in inputs for t in d.tools), Tool(name="mamori", vendor="mamori", version=__version__)],
        key=lambda t: (t.vendor, t.name, t.version),
    )
    document = Document(
        spec="cyclonedx",
        serial_number=f"urn:uuid:{uuid.uuid4()}",
        name=root_name,
        data_license="CC0-1.0",
        authors=authors,
        tools=tools,
        timestamp=now or datetime.now(UTC).replace(microsecond=0),
        lifecycles=_unique([p for _, d in inputs for p in d.lifecycles]),
        root=root,
        components=merger.components,
        relationships=merger.relationships,
        properties=[
            *(Property("mamori:merge:input", name) for name, _ in inputs),
            *_united_lists([doc for _, doc in inputs]),
        ],
    )
    document.no_dependencies = merger.no_dependencies - {
        rel.source for rel in merger.relationships if rel.type == "DEPENDS_ON"
    }
    return MergeResult(document, len(inputs), merger.duplicates, merger.renamed)

"""The model → a CycloneDX BOM in its JSON shape, for one target spec version (1.4, 1.5, 1.6).

Keys are inserted in the order the XML schema's sequences require, so that write.py can emit XML
from the same dicts. Output depends only on the model: nothing is generated from the clock or
from randomness, and lists keep the model's order.

Decisions (see also carried.py for fields that travel as ``mamori:`` properties):

- bom-refs: every component and service gets one, unique across the BOM. A missing one is made
  from the purl, else ``group/name@version``; a clash gets ``#2``, ``#3`` … appended.
- Relationships: DEPENDS_ON → ``dependencies``; DEPENDENCY_OF is the same edge seen from the other
  end and is written as the reversed DEPENDS_ON. Every other type (CONTAINS, DESCRIBES,
  DEV_DEPENDENCY_OF, GENERATED_FROM …) and every edge whose ends are not components or services of
  this BOM is kept as a ``mamori:relationship`` property, so nothing is lost and ``dependencies``
  only references refs that exist. CONTAINS is not turned into nesting: a target can be contained
  by several sources and moving components under another would change the component tree that
  the rest of mamori (diff, merge, scans) walks. Relationship comments on dependency edges are
  dropped (CycloneDX has no place for them). ``dependencies`` lists the components with edges, then
  those in ``Document.no_dependencies`` (stated to have none) with an empty ``dependsOn``; a
  component about which nothing is said is not listed (its dependencies are unknown).
- Licences: a single SPDX id the schema enumerates → ``{license: {id}}``, a single LicenseRef →
  ``{license: {name}}``, anything else → ``{expression}``. 1.6 marks declared and concluded with
  ``acknowledgement``; a component holds either licence entries or one expression, so a concluded
  licence that does not fit (and every concluded licence before 1.6) becomes a
  ``mamori:license-concluded`` property — except that before 1.6 a component with only a
  concluded licence writes it in ``licenses`` with ``mamori:licenses-acknowledgement: concluded``.
  NOASSERTION and NONE are not written.
- Lower versions: lifecycles need 1.5; tools are written in the 1.5+ ``{components}`` form from 1.5
  on (vendor → group); ``manufacture`` becomes ``manufacturer`` in 1.6; component types and
  external reference types a version lacks become ``library`` (original in ``mamori:type``) and
  ``other``; hashes the schema refuses become ``mamori:hash`` properties.
- ``download_location`` becomes an external reference of type distribution unless one with that
  URL is already there; NOASSERTION and NONE are not written.
- A naive timestamp is written as UTC.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC
from functools import lru_cache
from typing import Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Contact, Document, ExternalReference, Property, Service
from mamori.sbom.cyclonedx import carried
from mamori.sbom.cyclonedx.licenses import to_entry
from mamori.sbom.cyclonedx.versions import (
    COMPONENT_TYPES,
    DATA_FLOWS,
    EXTERNAL_REFERENCE_TYPES,
    HASH_ALGORITHMS,
    HASH_CONTENT_LENGTHS,
    LIFECYCLE_PHASES,
    SCOPES,
    at_least,
)

_UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_UNSET = frozenset(("NOASSERTION", "NONE"))


@lru_cache(maxsize=1)
def _format_checker():  # -> jsonschema.FormatChecker
    from jsonschema import Draft7Validator

    return Draft7Validator.FORMAT_CHECKER


def is_iri_reference(url: str) -> bool:
    """Whether the schema's ``iri-reference`` format accepts ``url`` (jsonschema's own check).

    For ASCII the IRI and URI grammars coincide, and the URI check is about 10,000 times faster
    than the IRI one, so the IRI check only runs for URLs with other characters. The URI check is
    rfc3986-validator's, called directly: it is the function jsonschema's ``uri-reference`` format
    uses, and importing jsonschema costs about a second (rfc3987-syntax builds its grammars).
    """
    if url.isascii():
        from rfc3986_validator import validate_rfc3986

        try:
            return bool(validate_rfc3986(url, rule="URI_reference"))
        except ValueError:
            return False
    return _format_checker().conforms(url, "iri-reference")


def _carry(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _props(props: list[Property]) -> list[dict[str, str]]:
    return [{"name": p.name, "value": p.value} for p in props]


class BomWriter:
    def __init__(self, doc: Document, version: str) -> None:
        self.doc = doc
        self.version = version
        self.v15 = at_least(version, "1.5")
        self.v16 = at_least(version, "1.6")
        self.component_types = COMPONENT_TYPES[version]
        self.reference_types = EXTERNAL_REFERENCE_TYPES[version]
        self.refs: dict[int, str] = {}  # id(component or service) → written bom-ref
        self.model_refs: dict[str, str] = {}  # model bom_ref → written bom-ref (first holder)
        self.used: set[str] = set()

    # -- bom-refs -------------------------------------------------------------------------------

    def assign_refs(self) -> None:
        doc = self.doc
        if doc.root is not None:
            for comp in doc.root.walk():
                self.assign(comp, comp.bom_ref, self.component_ref(comp))
        for comp in doc.all_components():
            self.assign(comp, comp.bom_ref, self.component_ref(comp))
        for svc in self.walk_services(doc.services):
            name = f"{svc.group}/{svc.name}" if svc.group else svc.name
            self.assign(svc, svc.bom_ref, svc.bom_ref or (f"{name}@{svc.version}" if svc.version else name))

    @staticmethod
    def component_ref(comp: Component) -> str:
        if comp.bom_ref:
            return comp.bom_ref
        if comp.purl:
            return comp.purl
        name = f"{comp.group}/{comp.name}" if comp.group else comp.name
        return (f"{name}@{comp.version}" if comp.version else name) or "component"

    def assign(self, obj: Component | Service, model_ref: str | None, wanted: str) -> None:
        ref = wanted or "ref"
        n = 1
        while ref in self.used:
            n += 1
            ref = f"{wanted}#{n}"
        self.used.add(ref)
        self.refs[id(obj)] = ref
        if model_ref and model_ref not in self.model_refs:
            self.model_refs[model_ref] = ref

    @staticmethod
    def walk_services(services: list[Service]):
        for svc in services:
            yield svc
            yield from BomWriter.walk_services(svc.services)

    # -- document -------------------------------------------------------------------------------

    def bom(self) -> dict[str, Any]:
        doc = self.doc
        self.assign_refs()
        dependencies, carried_rels = self.dependencies()
        bom: dict[str, Any] = {
            "$schema": f"http://cyclonedx.org/schema/bom-{self.version}.schema.json",
            "bomFormat": "CycloneDX",
            "specVersion": self.version,
        }
        doc_carried: list[dict[str, str]] = []
        if doc.serial_number:
            if _UUID_URN.fullmatch(doc.serial_number):
                bom["serialNumber"] = doc.serial_number
            else:
                bom["serialNumber"] = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, doc.serial_number)}"
                doc_carried.append(_carry(carried.SERIAL_NUMBER, doc.serial_number))
        bom["version"] = doc.version if doc.version >= 1 else 1
        root_name = doc.root.name if doc.root is not None else None
        if doc.name and doc.name != root_name:
            doc_carried.append(_carry(carried.DOCUMENT_NAME, doc.name))
        if doc.comment:
            doc_carried.append(_carry(carried.COMMENT, doc.comment))
        doc_carried += carried_rels
        bom["metadata"] = self.metadata(doc_carried)
        if doc.components:
            bom["components"] = [self.component(c) for c in doc.components]
        if doc.services:
            bom["services"] = [self.service(s) for s in doc.services]
        if dependencies:
            bom["dependencies"] = [
                {"ref": ref, "dependsOn": targets} for ref, targets in dependencies.items()
            ]
        return bom

    def no_dependencies(self, graph: dict[str, list[str]]) -> None:
        """Add ``ref → []`` for every written component or service stated to have no dependencies."""
        stated = self.doc.no_dependencies
        for model_ref, ref in self.model_refs.items():
            if model_ref in stated and ref not in graph:
                graph[ref] = []

    def dependencies(self) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
        graph: dict[str, list[str]] = {}
        seen: set[tuple[str, str]] = set()
        kept: list[dict[str, str]] = []
        refs = self.model_refs
        for rel in self.doc.relationships:
            if rel.type == "DEPENDS_ON":
                source, target = refs.get(rel.source), refs.get(rel.target)
            elif rel.type == "DEPENDENCY_OF":
                source, target = refs.get(rel.target), refs.get(rel.source)
            else:
                source = target = None
            if source is None or target is None:
                parts = [rel.source, rel.type, rel.target] + ([rel.comment] if rel.comment else [])
                kept.append(_carry(carried.RELATIONSHIP, orjson.dumps(parts).decode()))
                continue
            if (source, target) not in seen:
                seen.add((source, target))
                graph.setdefault(source, []).append(target)
        if self.doc.no_dependencies:
            self.no_dependencies(graph)
        return graph, kept

    def metadata(self, doc_carried: list[dict[str, str]]) -> dict[str, Any]:
        doc = self.doc
        meta: dict[str, Any] = {}
        if doc.timestamp is not None:
            stamp = doc.timestamp if doc.timestamp.tzinfo is not None else doc.timestamp.replace(tzinfo=UTC)
            meta["timestamp"] = stamp.isoformat()
        if doc.lifecycles and self.v15:
            meta["lifecycles"] = [
                {"phase": p} if p in LIFECYCLE_PHASES else {"name": p} for p in doc.lifecycles
            ]
        if doc.tools:
            if self.v15:
                meta["tools"] = {
                    "components": [self.tool_component(t.name, t.vendor, t.version) for t in doc.tools]
                }
            else:
                meta["tools"] = [
                    {k: v for k, v in (("vendor", t.vendor), ("name", t.name), ("version", t.version)) if v}
                    for t in doc.tools
                ]
        if doc.authors:
            meta["authors"] = [self.contact(a) for a in doc.authors]
        if doc.root is not None:
            meta["component"] = self.component(doc.root)
        properties, manufacturer = self.take_manufacturer(doc.properties)
        if manufacturer is not None:
            meta["manufacturer" if self.v16 else "manufacture"] = manufacturer
        if doc.supplier is not None and (entity := self.entity(doc.supplier)):
            meta["supplier"] = entity
        if doc.data_license and doc.data_license not in _UNSET:
            meta["licenses"] = [self.licence(doc.data_license, None)]
        props = _props(properties) + doc_carried
        if props:
            meta["properties"] = props
        return meta

    @staticmethod
    def tool_component(name: str, vendor: str | None, version: str | None) -> dict[str, Any]:
        comp: dict[str, Any] = {"type": "application"}
        if vendor:
            comp["group"] = vendor
        comp["name"] = name
        if version:
            comp["version"] = _version(version, name)
        return comp

    @staticmethod
    def contact(who: Contact) -> dict[str, str]:
        out = {"name": who.name} if who.name else {}
        if who.email and "@" in who.email:
            out["email"] = who.email
        return out

    @staticmethod
    def entity(who: Contact) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if who.name:
            out["name"] = who.name
        if who.url and is_iri_reference(who.url):
            out["url"] = [who.url]
        if who.email and "@" in who.email:
            out["contact"] = [{"email": who.email}]
        return out

    def take_manufacturer(self, props: list[Property]) -> tuple[list[Property], dict[str, Any] | None]:
        """Split the ``mamori:manufacturer`` property (when well-formed) off into an entity."""
        for i, prop in enumerate(props):
            if prop.name != carried.MANUFACTURER:
                continue
            try:
                data = orjson.loads(prop.value)
            except orjson.JSONDecodeError:
                return props, None
            if type(data) is not dict or not all(
                type(data.get(k, "")) is str for k in ("name", "email", "url")
            ):
                return props, None
            who = Contact(name=data.get("name", ""), email=data.get("email"), url=data.get("url"))
            return props[:i] + props[i + 1 :], self.entity(who) or None
        return props, None

    # -- components -----------------------------------------------------------------------------

    def component(self, comp: Component) -> dict[str, Any]:
        extra: list[dict[str, str]] = []
        ctype = comp.type
        if ctype not in self.component_types:
            extra.append(_carry(carried.TYPE, ctype))
            ctype = "library"
        out: dict[str, Any] = {"type": ctype, "bom-ref": self.refs[id(comp)]}
        properties = comp.properties
        if comp.supplier is not None and (entity := self.entity(comp.supplier)):
            out["supplier"] = entity
        if self.v16:
            properties, manufacturer = self.take_manufacturer(properties)
            if manufacturer is not None:
                out["manufacturer"] = manufacturer
        for key, value in (("author", comp.author), ("publisher", comp.publisher), ("group", comp.group)):
            if value is not None:
                out[key] = value
        out["name"] = comp.name
        if comp.version is not None:
            out["version"] = _version(comp.version, comp.name)
        if comp.description is not None:
            out["description"] = comp.description
        if comp.scope in SCOPES:
            out["scope"] = comp.scope
        if comp.hashes:
            hashes = []
            for h in comp.hashes:
                if (
                    h.alg in HASH_ALGORITHMS
                    and len(h.value) in HASH_CONTENT_LENGTHS
                    and _HEX.fullmatch(h.value)
                ):
                    hashes.append({"alg": h.alg, "content": h.value})
                else:
                    extra.append(_carry(carried.HASH, f"{h.alg}:{h.value}"))
            if hashes:
                out["hashes"] = hashes
        licenses = self.component_licences(comp, extra)
        if licenses:
            out["licenses"] = licenses
        if comp.copyright is not None:
            out["copyright"] = comp.copyright
        if comp.cpes:
            out["cpe"] = comp.cpes[0]
            extra += [_carry(carried.CPE, cpe) for cpe in comp.cpes[1:]]
        if comp.purl is not None:
            out["purl"] = comp.purl
        if comp.swid:
            out["swid"] = {"tagId": comp.swid, "name": comp.name}
        refs = self.references(comp.external_references, comp.download_location, extra)
        if refs:
            out["externalReferences"] = refs
        occurrences = self.occurrences(comp, extra)
        props = _props(properties) + extra
        if props:
            out["properties"] = props
        if comp.components:
            out["components"] = [self.component(c) for c in comp.components]
        if occurrences:
            out["evidence"] = {"occurrences": occurrences}
        return out

    def occurrences(self, comp: Component, extra: list[dict[str, str]]) -> list[dict[str, Any]]:
        """evidence.occurrences: ``location`` from 1.5, ``line`` from 1.6; what the version cannot hold
        (all of it in 1.4, the line in 1.5) travels as ``mamori:occurrence`` properties."""
        out: list[dict[str, Any]] = []
        for occurrence in comp.occurrences:
            if self.v15:
                entry: dict[str, Any] = {"location": occurrence.location}
                if occurrence.line is not None and self.v16:
                    entry["line"] = occurrence.line
                out.append(entry)
            if not self.v15 or (occurrence.line is not None and not self.v16):
                extra.append(
                    _carry(carried.OCCURRENCE, orjson.dumps([occurrence.location, occurrence.line]).decode())
                )
        return out

    def licence(self, expression: str, acknowledgement: str | None) -> dict[str, Any]:
        kind, value = to_entry(expression)
        if kind == "expression":
            entry: dict[str, Any] = {"expression": value}
            if acknowledgement:
                entry["acknowledgement"] = acknowledgement
            return entry
        lic: dict[str, Any] = {kind: value}
        if acknowledgement:
            lic["acknowledgement"] = acknowledgement
        return {"license": lic}

    def component_licences(self, comp: Component, extra: list[dict[str, str]]) -> list[dict[str, Any]]:
        declared = comp.license_declared if comp.license_declared not in _UNSET else None
        concluded = comp.license_concluded if comp.license_concluded not in _UNSET else None
        if not declared and not concluded:
            return []
        if self.v16:
            entries = []
            if declared:
                entries.append(self.licence(declared, "declared"))
            if concluded:
                entries.append(self.licence(concluded, "concluded"))
            if len(entries) == 2 and any("expression" in e for e in entries):
                extra.append(_carry(carried.LICENSE_CONCLUDED, concluded))  # type: ignore[arg-type]
                entries.pop()
            return entries
        if declared:
            if concluded:
                extra.append(_carry(carried.LICENSE_CONCLUDED, concluded))
            return [self.licence(declared, None)]
        extra.append(_carry(carried.LICENSES_ACKNOWLEDGEMENT, "concluded"))
        return [self.licence(concluded, None)]  # type: ignore[arg-type]

    def references(
        self, refs: list[ExternalReference], download: str | None, extra: list[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """External references; those with a URL the schema refuses go to ``extra`` as carriers."""
        if (
            download
            and download not in _UNSET
            and not any(r.type == "distribution" and r.url == download for r in refs)
        ):
            refs = [*refs, ExternalReference("distribution", download)]
        out: list[dict[str, Any]] = []
        allowed = self.reference_types
        for index, ref in enumerate(refs):
            if not is_iri_reference(ref.url):
                parts = [index, ref.type, ref.url] + ([ref.comment] if ref.comment is not None else [])
                extra.append(_carry(carried.EXTERNAL_REFERENCE, orjson.dumps(parts).decode()))
                continue
            entry: dict[str, Any] = {"url": ref.url, "type": ref.type if ref.type in allowed else "other"}
            if ref.comment is not None:
                entry["comment"] = ref.comment
            out.append(entry)
        return out

    # -- services -------------------------------------------------------------------------------

    def service(self, svc: Service) -> dict[str, Any]:
        out: dict[str, Any] = {"bom-ref": self.refs[id(svc)]}
        if svc.provider is not None and (entity := self.entity(svc.provider)):
            out["provider"] = entity
        if svc.group is not None:
            out["group"] = svc.group
        out["name"] = svc.name
        if svc.version is not None:
            out["version"] = _version(svc.version, svc.name)
        if svc.description is not None:
            out["description"] = svc.description
        endpoints = [url for url in svc.endpoints if is_iri_reference(url)]
        if endpoints:
            out["endpoints"] = endpoints
        if svc.authenticated is not None:
            out["authenticated"] = svc.authenticated
        if svc.x_trust_boundary is not None:
            out["x-trust-boundary"] = svc.x_trust_boundary
        data = self.service_data(svc.data)
        if data:
            out["data"] = data
        if svc.license_declared and svc.license_declared not in _UNSET:
            out["licenses"] = [self.licence(svc.license_declared, None)]
        extra: list[dict[str, str]] = []
        refs = self.references(svc.external_references, None, extra)
        if refs:
            out["externalReferences"] = refs
        props = _props(svc.properties) + extra
        if props:
            out["properties"] = props
        if svc.services:
            out["services"] = [self.service(s) for s in svc.services]
        return out

    def service_data(self, data: list[dict[str, object]]) -> list[dict[str, str]]:
        keys = ("flow", "classification", "name", "description") if self.v15 else ("flow", "classification")
        out = []
        for item in data:
            if item.get("flow") in DATA_FLOWS and type(item.get("classification")) is str:
                out.append({k: item[k] for k in keys if type(item.get(k)) is str})  # type: ignore[misc]
        return out


def bom_from_document(doc: Document, version: str) -> dict[str, Any]:
    """The JSON shape of ``doc`` as a CycloneDX ``version`` BOM."""
    return BomWriter(doc, version).bom()


MAX_VERSION = 1024  # the CycloneDX schemas' maxLength of a version


def _version(value: str, name: str) -> str:
    """A version CycloneDX can hold; a longer one is refused (naming its component), never cut."""
    if len(value) > MAX_VERSION:
        shown = " ".join(name.split())[:80]
        raise InputError(
            None,
            _(
                "component {shown!r}: its version has {count:,} characters; CycloneDX allows {max_version:,}"
            ).format(shown=shown, count=len(value), max_version=MAX_VERSION),
        )
    return value

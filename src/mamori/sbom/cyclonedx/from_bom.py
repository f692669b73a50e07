"""A CycloneDX BOM in its JSON shape (dicts and lists) → the model.

Both readers end here: the JSON reader hands over what orjson parsed, the XML reader first turns
the element tree into the same shape. Every value is type-checked on the way; anything of the
wrong type is an InputError naming its JSON path (``components[3].hashes[0].content``), so that
bad input never escapes as another exception.

Mapping (model field ← CycloneDX):

- Document: ``serial_number`` ← serialNumber, ``version`` ← version, ``spec_version`` ← specVersion,
  ``timestamp``/``tools``/``authors``/``supplier``/``lifecycles`` ← metadata.*, ``root`` ←
  metadata.component, ``data_license`` ← metadata.licenses (the BOM's own licence),
  ``properties`` ← metadata.properties and (1.5+) the BOM-level properties, ``name`` ← the root
  component's name, ``relationships`` ← dependencies (DEPENDS_ON), ``no_dependencies`` ← the refs
  listed in dependencies with an empty (or no) ``dependsOn``.
- Tools: the legacy array (vendor, name, version) and the 1.5+ ``{components, services}`` form,
  where the vendor is the component's or service's ``group`` (as cyclonedx-python-lib does).
- Component: every model field; ``author`` ← author, else the 1.6 ``authors`` names joined with
  ", "; ``swid`` ← swid.tagId; ``cpes`` ← cpe; ``download_location`` ← the first external
  reference of type distribution (the reference stays in ``external_references`` too);
  licences with acknowledgement "concluded" (1.6+) → ``license_concluded``, all others →
  ``license_declared`` (see licenses.py for how entries become one expression).
- What the model has no field for (pedigree, evidence, vulnerabilities, compositions, licence
  texts and URLs, phone numbers, dependencies' ``provides`` …) is not kept. The manufacturer is
  kept as a ``mamori:manufacturer`` property (see carried.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import orjson

from mamori.errors import InputError
from mamori.model import (
    Component,
    Contact,
    Document,
    ExternalReference,
    Hash,
    Property,
    Relationship,
    Service,
    Tool,
)
from mamori.sbom.cyclonedx import carried
from mamori.sbom.cyclonedx.licenses import LicenceError, combine, from_id

MAX_DEPTH = 100  # nested components/services; deeper input is refused, not a RecursionError


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


class BomReader:
    """Turns one BOM (JSON shape) into a Document; ``path`` only names the file in errors."""

    def __init__(self, path: Path, spec_version: str) -> None:
        self.path = path
        self.spec_version = spec_version

    # -- checks ---------------------------------------------------------------------------------

    def fail(self, where: str, problem: str) -> NoReturn:
        if len(where) > 160:  # deep nesting: keep the line readable
            where = f"{where[:60]}…{where[-80:]}"
        raise InputError(self.path, f"{where}: {problem}" if where else problem)

    def obj(self, value: object, where: str) -> dict[str, Any]:
        if type(value) is not dict:
            self.fail(where, f"expected an object, got {_kind(value)}")
        return value  # type: ignore[return-value]

    def arr(self, value: object, where: str) -> list[Any]:
        if value is None:
            return []
        if type(value) is not list:
            self.fail(where, f"expected an array, got {_kind(value)}")
        return value  # type: ignore[return-value]

    def text(self, obj: dict[str, Any], key: str, where: str) -> str | None:
        value = obj.get(key)
        if value is None or type(value) is str:
            return value
        self.fail(f"{where}.{key}", f"expected a string, got {_kind(value)}")

    def flag(self, obj: dict[str, Any], key: str, where: str) -> bool | None:
        value = obj.get(key)
        if value is None or type(value) is bool:
            return value
        if value in ("true", "false"):  # from XML
            return value == "true"
        self.fail(f"{where}.{key}", f"expected true or false, got {_kind(value)}")

    # -- document -------------------------------------------------------------------------------

    def document(self, bom: dict[str, Any]) -> Document:
        doc = Document(spec="cyclonedx", spec_version=self.spec_version)
        doc.serial_number = self.text(bom, "serialNumber", "")
        version = bom.get("version", 1)
        if type(version) is not int:
            if type(version) is str and version.isdigit():
                version = int(version)
            else:
                self.fail("version", f"expected a whole number, got {_kind(version)}")
        doc.version = version
        properties: list[Property] = []
        metadata = bom.get("metadata")
        if metadata is not None:
            properties = self.metadata(doc, self.obj(metadata, "metadata"))
        properties += self.properties(bom.get("properties"), "properties")
        if metadata is not None:
            for key in ("manufacturer", "manufacture"):
                if metadata.get(key) is not None:
                    properties.append(self.manufacturer(metadata[key], f"metadata.{key}"))
                    break
        doc.components = self.components(bom.get("components"), "components", 0)
        doc.services = self.services(bom.get("services"), "services", 0)
        doc.relationships, doc.no_dependencies = self.dependencies(bom.get("dependencies"))
        doc.properties = self.document_carried(doc, properties)
        if doc.name is None and doc.root is not None and doc.root.name:
            doc.name = doc.root.name
        return doc

    def metadata(self, doc: Document, meta: dict[str, Any]) -> list[Property]:
        stamp = meta.get("timestamp")
        if stamp is not None:
            doc.timestamp = self.timestamp(stamp, "metadata.timestamp")
        doc.lifecycles = self.lifecycles(meta.get("lifecycles"))
        doc.tools = self.tools(meta.get("tools"))
        doc.authors = [
            self.contact(a, f"metadata.authors[{i}]", "person")
            for i, a in enumerate(self.arr(meta.get("authors"), "metadata.authors"))
        ]
        root = meta.get("component")
        if root is not None:
            doc.root = self.component(root, "metadata.component", 0)
        supplier = meta.get("supplier")
        if supplier is not None:
            doc.supplier = self.entity(supplier, "metadata.supplier")
        declared, _ = self.licenses(meta.get("licenses"), "metadata.licenses")
        doc.data_license = declared
        return self.properties(meta.get("properties"), "metadata.properties")

    def timestamp(self, value: object, where: str) -> datetime:
        if type(value) is not str:
            self.fail(where, f"expected a date-time string, got {_kind(value)}")
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(where, f"not an ISO 8601 date-time: {value[:60]!r}")
        # a time without an offset is taken as UTC, so that every timestamp can be written back
        return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)

    def lifecycles(self, value: object) -> list[str]:
        phases: list[str] = []
        for i, item in enumerate(self.arr(value, "metadata.lifecycles")):
            where = f"metadata.lifecycles[{i}]"
            entry = self.obj(item, where)
            phase = self.text(entry, "phase", where) or self.text(entry, "name", where)
            if phase:
                phases.append(phase)
        return phases

    def tools(self, value: object) -> list[Tool]:
        if value is None:
            return []
        if type(value) is dict:  # 1.5+: {components: [...], services: [...]}, the vendor is the group
            return [
                self.tool(item, f"metadata.tools.{key}[{i}]", "group")
                for key in ("components", "services")
                for i, item in enumerate(self.arr(value.get(key), f"metadata.tools.{key}"))
            ]
        return [
            self.tool(item, f"metadata.tools[{i}]", "vendor")
            for i, item in enumerate(self.arr(value, "metadata.tools"))
        ]

    def tool(self, value: object, where: str, vendor_key: str) -> Tool:
        entry = self.obj(value, where)
        return Tool(
            name=self.text(entry, "name", where) or "",
            vendor=self.text(entry, vendor_key, where),
            version=self.text(entry, "version", where),
        )

    def contact(self, value: object, where: str, kind: str) -> Contact:
        entry = self.obj(value, where)
        return Contact(
            name=self.text(entry, "name", where) or "",
            email=self.text(entry, "email", where),
            kind=kind,
        )

    def entity(self, value: object, where: str) -> Contact:
        """An organizationalEntity: name, url[], contact[] → one Contact."""
        entry = self.obj(value, where)
        urls = entry.get("url")
        if type(urls) is str:
            urls = [urls]
        url = None
        for i, item in enumerate(self.arr(urls, f"{where}.url")):
            if type(item) is not str:
                self.fail(f"{where}.url[{i}]", f"expected a string, got {_kind(item)}")
            url = url or item
        email = None
        name = self.text(entry, "name", where)
        for i, item in enumerate(self.arr(entry.get("contact"), f"{where}.contact")):
            person = self.contact(item, f"{where}.contact[{i}]", "person")
            email = email or person.email
            name = name or person.name or None
        return Contact(name=name or "", email=email, url=url)

    def manufacturer(self, value: object, where: str) -> Property:
        who = self.entity(value, where)
        data = {k: v for k, v in (("name", who.name), ("email", who.email), ("url", who.url)) if v}
        return Property(carried.MANUFACTURER, orjson.dumps(data).decode())

    def properties(self, value: object, where: str) -> list[Property]:
        items = self.arr(value, where)
        out: list[Property] = []
        for i, item in enumerate(items):
            if type(item) is not dict:
                self.fail(f"{where}[{i}]", f"expected an object, got {_kind(item)}")
            name = item.get("name")
            val = item.get("value")
            if type(name) is not str:
                self.fail(f"{where}[{i}].name", f"expected a string, got {_kind(name)}")
            if val is None:
                val = ""
            elif type(val) is not str:
                self.fail(f"{where}[{i}].value", f"expected a string, got {_kind(val)}")
            out.append(Property(name, val))
        return out

    def document_carried(self, doc: Document, properties: list[Property]) -> list[Property]:
        kept: list[Property] = []
        for prop in properties:
            name = prop.name
            if name not in carried.DOCUMENT_FIELDS:
                kept.append(prop)
            elif name == carried.DOCUMENT_NAME:
                doc.name = prop.value
            elif name == carried.COMMENT:
                doc.comment = prop.value
            elif name == carried.SERIAL_NUMBER:
                doc.serial_number = prop.value
            else:
                rel = self.carried_relationship(prop.value)
                if rel is None:
                    kept.append(prop)
                else:
                    doc.relationships.append(rel)
        return kept

    @staticmethod
    def carried_relationship(value: str) -> Relationship | None:
        try:
            parts = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        if type(parts) is not list or len(parts) not in (3, 4) or not all(type(p) is str for p in parts):
            return None
        return Relationship(parts[0], parts[2], parts[1], parts[3] if len(parts) == 4 else None)

    # -- components -----------------------------------------------------------------------------

    def components(self, value: object, where: str, depth: int) -> list[Component]:
        items = self.arr(value, where)
        if items and depth >= MAX_DEPTH:
            self.fail(where, f"components nested more than {MAX_DEPTH} levels deep")
        component = self.component
        return [component(item, f"{where}[{i}]", depth) for i, item in enumerate(items)]

    _COMPONENT_TEXT = (
        "name",
        "version",
        "type",
        "bom-ref",
        "group",
        "publisher",
        "description",
        "purl",
        "copyright",
        "scope",
        "author",
        "cpe",
    )

    def component(self, value: object, where: str, depth: int) -> Component:
        if type(value) is not dict:
            self.fail(where, f"expected an object, got {_kind(value)}")
        obj: dict[str, Any] = value  # type: ignore[assignment]
        get = obj.get
        values = (
            name,
            version,
            ctype,
            bom_ref,
            group,
            publisher,
            description,
            purl,
            copyright_,
            scope,
            author,
            cpe,
        ) = tuple(map(get, self._COMPONENT_TEXT))
        for val in values:
            if val is not None and type(val) is not str:
                for key in self._COMPONENT_TEXT:
                    self.text(obj, key, where)  # raises for the offending key
        comp = Component(
            name=name or "",
            version=version,
            type=ctype or "library",
            bom_ref=bom_ref,
            group=group,
            author=author,
            publisher=publisher,
            description=description,
            purl=purl,
            copyright=copyright_,
            scope=scope,
        )
        if cpe:
            comp.cpes.append(cpe)
        if author is None and get("authors") is not None:
            names = [
                self.contact(a, f"{where}.authors[{i}]", "person").name
                for i, a in enumerate(self.arr(get("authors"), f"{where}.authors"))
            ]
            comp.author = ", ".join(n for n in names if n) or None
        swid = get("swid")
        if swid is not None:
            comp.swid = self.text(self.obj(swid, f"{where}.swid"), "tagId", f"{where}.swid")
        supplier = get("supplier")
        if supplier is not None:
            comp.supplier = self.entity(supplier, f"{where}.supplier")
        hashes = get("hashes")
        if hashes:
            comp.hashes = self.hashes(hashes, f"{where}.hashes")
        licenses = get("licenses")
        if licenses:
            comp.license_declared, comp.license_concluded = self.licenses(licenses, f"{where}.licenses")
        refs = get("externalReferences")
        if refs:
            comp.external_references = self.references(refs, f"{where}.externalReferences")
        props = get("properties")
        if props:
            comp.properties = self.component_carried(comp, self.properties(props, f"{where}.properties"))
        for ref in comp.external_references:
            if ref.type == "distribution":
                comp.download_location = ref.url
                break
        manufacturer = get("manufacturer")
        if manufacturer is not None:
            comp.properties.append(self.manufacturer(manufacturer, f"{where}.manufacturer"))
        children = get("components")
        if children:
            comp.components = self.components(children, f"{where}.components", depth + 1)
        return comp

    def component_carried(self, comp: Component, properties: list[Property]) -> list[Property]:
        fields = carried.COMPONENT_FIELDS
        if not any(p.name in fields for p in properties):
            return properties
        kept: list[Property] = []
        for prop in properties:
            name = prop.name
            if name not in fields:
                kept.append(prop)
            elif name == carried.LICENSE_CONCLUDED:
                comp.license_concluded = prop.value
            elif name == carried.LICENSES_ACKNOWLEDGEMENT:
                if prop.value == "concluded":
                    comp.license_concluded, comp.license_declared = comp.license_declared, None
                else:
                    kept.append(prop)
            elif name == carried.CPE:
                comp.cpes.append(prop.value)
            elif name == carried.TYPE:
                comp.type = prop.value
            elif name == carried.EXTERNAL_REFERENCE:
                if not self.restore_reference(comp.external_references, prop.value):
                    kept.append(prop)
            else:
                alg, sep, content = prop.value.partition(":")
                if sep:
                    comp.hashes.append(Hash(alg, content))
                else:
                    kept.append(prop)
        return kept

    @staticmethod
    def restore_reference(refs: list[ExternalReference], value: str) -> bool:
        """Put a carried ``[index, type, url, comment?]`` back in place; False when malformed."""
        try:
            parts = orjson.loads(value)
        except orjson.JSONDecodeError:
            return False
        if (
            type(parts) is not list
            or len(parts) not in (3, 4)
            or type(parts[0]) is not int
            or not all(type(p) is str for p in parts[1:])
        ):
            return False
        refs.insert(parts[0], ExternalReference(parts[1], parts[2], parts[3] if len(parts) == 4 else None))
        return True

    def hashes(self, value: object, where: str) -> list[Hash]:
        out: list[Hash] = []
        append = out.append
        for i, item in enumerate(self.arr(value, where)):
            if type(item) is not dict:
                self.fail(f"{where}[{i}]", f"expected an object, got {_kind(item)}")
            alg = item.get("alg")
            content = item.get("content")
            if type(alg) is not str or type(content) is not str:
                bad = "alg" if type(alg) is not str else "content"
                self.fail(f"{where}[{i}].{bad}", f"expected a string, got {_kind(item.get(bad))}")
            append(Hash(alg, content))
        return out

    def references(self, value: object, where: str) -> list[ExternalReference]:
        out: list[ExternalReference] = []
        append = out.append
        for i, item in enumerate(self.arr(value, where)):
            if type(item) is not dict:
                self.fail(f"{where}[{i}]", f"expected an object, got {_kind(item)}")
            get = item.get
            url = get("url")
            kind = get("type")
            comment = get("comment")
            if (
                type(url) is not str
                or type(kind) is not str
                or (comment is not None and type(comment) is not str)
            ):
                bad = "url" if type(url) is not str else "type" if type(kind) is not str else "comment"
                self.fail(f"{where}[{i}].{bad}", f"expected a string, got {_kind(item.get(bad))}")
            append(ExternalReference(kind, url, comment))
        return out

    def licenses(self, value: object, where: str) -> tuple[str | None, str | None]:
        """(declared, concluded) expressions from a licenses array."""
        if type(value) is list and len(value) == 1:  # the usual case: one {license: {id}}
            item = value[0]
            lic = item.get("license") if type(item) is dict and len(item) == 1 else None
            if (
                type(lic) is dict
                and len(lic) <= 2
                and type(lic.get("id")) is str
                and "acknowledgement" not in lic
            ):
                try:
                    return from_id(lic["id"]), None
                except LicenceError as exc:
                    self.fail(where, str(exc))
        declared: list[tuple[str, str]] = []
        concluded: list[tuple[str, str]] = []
        for i, item in enumerate(self.arr(value, where)):
            if type(item) is not dict:
                self.fail(f"{where}[{i}]", f"expected an object, got {_kind(item)}")
            entry: tuple[str, str] | None = None
            ack = item.get("acknowledgement")
            expression = item.get("expression")
            if expression is not None:
                if type(expression) is not str:
                    self.fail(f"{where}[{i}].expression", f"expected a string, got {_kind(expression)}")
                entry = ("expression", expression)
            else:
                lic = item.get("license")
                if lic is None:
                    continue
                if type(lic) is not dict:
                    self.fail(f"{where}[{i}].license", f"expected an object, got {_kind(lic)}")
                ack = lic.get("acknowledgement", ack)
                for kind in ("id", "name"):
                    val = lic.get(kind)
                    if val is not None:
                        if type(val) is not str:
                            self.fail(f"{where}[{i}].license.{kind}", f"expected a string, got {_kind(val)}")
                        entry = (kind, val)
                        break
            if entry is not None:
                (concluded if ack == "concluded" else declared).append(entry)
        try:
            return (
                combine(tuple(declared)) if declared else None,
                combine(tuple(concluded)) if concluded else None,
            )
        except LicenceError as exc:
            self.fail(where, str(exc))

    # -- services -------------------------------------------------------------------------------

    def services(self, value: object, where: str, depth: int) -> list[Service]:
        items = self.arr(value, where)
        if items and depth >= MAX_DEPTH:
            self.fail(where, f"services nested more than {MAX_DEPTH} levels deep")
        return [self.service(item, f"{where}[{i}]", depth) for i, item in enumerate(items)]

    def service(self, value: object, where: str, depth: int) -> Service:
        obj = self.obj(value, where)
        text = self.text
        svc = Service(
            name=text(obj, "name", where) or "",
            bom_ref=text(obj, "bom-ref", where),
            group=text(obj, "group", where),
            version=text(obj, "version", where),
            description=text(obj, "description", where),
            authenticated=self.flag(obj, "authenticated", where),
            x_trust_boundary=self.flag(obj, "x-trust-boundary", where),
        )
        if obj.get("provider") is not None:
            svc.provider = self.entity(obj["provider"], f"{where}.provider")
        for i, url in enumerate(self.arr(obj.get("endpoints"), f"{where}.endpoints")):
            if type(url) is not str:
                self.fail(f"{where}.endpoints[{i}]", f"expected a string, got {_kind(url)}")
            svc.endpoints.append(url)
        svc.data = self.service_data(obj.get("data"), f"{where}.data")
        svc.license_declared, _ = self.licenses(obj.get("licenses"), f"{where}.licenses")
        svc.external_references = self.references(
            obj.get("externalReferences"), f"{where}.externalReferences"
        )
        for prop in self.properties(obj.get("properties"), f"{where}.properties"):
            if prop.name != carried.EXTERNAL_REFERENCE or not self.restore_reference(
                svc.external_references, prop.value
            ):
                svc.properties.append(prop)
        svc.services = self.services(obj.get("services"), f"{where}.services", depth + 1)
        return svc

    def service_data(self, value: object, where: str) -> list[dict[str, object]]:
        """Data flows: flow and classification, plus name and description (1.5+) when present."""
        out: list[dict[str, object]] = []
        for i, item in enumerate(self.arr(value, where)):
            entry = self.obj(item, f"{where}[{i}]")
            flow: dict[str, object] = {}
            for key in ("flow", "classification", "name", "description"):
                val = self.text(entry, key, f"{where}[{i}]")
                if val is not None:
                    flow[key] = val
            out.append(flow)
        return out

    # -- dependencies ---------------------------------------------------------------------------

    def dependencies(self, value: object) -> tuple[list[Relationship], set[str]]:
        """DEPENDS_ON edges, and the refs listed with an empty or absent ``dependsOn``.

        CycloneDX: "Components that do not have their own dependencies MUST be declared as empty
        elements within the graph", so such an entry states "no dependencies" (a ref that is not
        listed at all has unknown dependencies). A ref listed both ways keeps its edges.
        """
        rels: list[Relationship] = []
        extend = rels.extend
        only_str = {str}
        empty: set[str] = set()
        for i, item in enumerate(self.arr(value, "dependencies")):
            if type(item) is not dict:
                self.fail(f"dependencies[{i}]", f"expected an object, got {_kind(item)}")
            ref = item.get("ref")
            if type(ref) is not str:
                self.fail(f"dependencies[{i}].ref", f"expected a string, got {_kind(ref)}")
            targets = item.get("dependsOn")
            if not targets:
                if targets is None or type(targets) is list:
                    empty.add(ref)
                continue
            if type(targets) is not list or not set(map(type, targets)) <= only_str:
                for j, target in enumerate(self.arr(targets, f"dependencies[{i}].dependsOn")):
                    if type(target) is not str:
                        self.fail(
                            f"dependencies[{i}].dependsOn[{j}]", f"expected a string, got {_kind(target)}"
                        )
            extend([Relationship(ref, target, "DEPENDS_ON") for target in targets])
        if empty and rels:
            empty -= {rel.source for rel in rels}
        return rels, empty


def document_from_bom(bom: dict[str, Any], path: Path, spec_version: str) -> Document:
    """The model of one BOM in JSON shape; raises InputError only."""
    reader = BomReader(path, spec_version)
    try:
        return reader.document(bom)
    except InputError:
        raise
    except RecursionError:
        raise InputError(path, "structure nested too deeply") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:  # a guard this module lacks
        detail = " ".join(str(exc).split())[:200]
        raise InputError(path, f"malformed CycloneDX BOM ({type(exc).__name__}: {detail})") from None

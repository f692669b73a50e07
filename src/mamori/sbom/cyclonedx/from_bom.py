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
- ``occurrences`` ← evidence.occurrences (1.5+: ``location``, 1.6+: ``line``), and the
  ``mamori:occurrence`` properties that carry them in versions without that element.
- What the model has no field for (pedigree, the rest of evidence, vulnerabilities, compositions,
  licence texts and URLs, phone numbers, dependencies' ``provides`` …) is not kept. The
  manufacturer is kept as a ``mamori:manufacturer`` property (see carried.py).

Lenient and strict reading (mamori.sbom.problems): a flaw inside one component (a field of the wrong
type, a licence that does not parse, a value outside the spec version's enumeration, a purl or CPE
that does not parse, no version), one service, one dependency entry or one metadata field is a
warning in ``Document.warnings`` and the rest is read; with ``strict`` the first flaw is an
InputError. The components are read on a fast path; only a component with a flaw is read again
key by key to find and drop what is wrong. What stays refused in both modes: not a BOM, a top-level
array of the wrong type, nesting deeper than MAX_DEPTH.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import orjson

from mamori.errors import InputError
from mamori.i18n import N_, _
from mamori.model import (
    Component,
    Contact,
    Document,
    ExternalReference,
    Hash,
    Occurrence,
    Property,
    Relationship,
    Service,
    Tool,
)
from mamori.sbom import problems as pr
from mamori.sbom.cyclonedx import carried
from mamori.sbom.cyclonedx.licenses import LicenceError, combine, from_id
from mamori.sbom.cyclonedx.versions import (
    HASH_CONTENT_LENGTHS,
    READ_COMPONENT_TYPES,
    READ_HASH_ALGORITHMS,
    READ_REFERENCE_TYPES,
    READ_SCOPES,
)

MAX_DEPTH = 100  # nested components/services; deeper input is refused, not a RecursionError
_EXPECTED = re.compile(r"^expected (.+), got (.+)$")
#: the words of "expected X, got Y" (translated when the flaw is raised; the problem code reads the English)
_TYPE_WORDS = (
    N_("an object"), N_("an array"), N_("a string"), N_("a number"), N_("a boolean"), N_("null"),
    N_("true or false"), N_("a whole number"), N_("a date-time string"),
)  # fmt: skip


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


class BomReader:
    """Turns one BOM (JSON shape) into a Document; ``path`` only names the file in errors."""

    def __init__(self, path: Path, spec_version: str, problems: pr.Problems | None = None) -> None:
        self.path = path
        self.spec_version = spec_version
        self.problems = problems if problems is not None else pr.Problems(path, strict=True)
        self.strict = self.problems.strict
        self.types = READ_COMPONENT_TYPES[spec_version]
        self.scopes = READ_SCOPES[spec_version]
        self.hash_algorithms = READ_HASH_ALGORITHMS[spec_version]
        self.reference_types = READ_REFERENCE_TYPES[spec_version]
        self.spec_label = f"CycloneDX {spec_version}"

    # -- checks ---------------------------------------------------------------------------------

    def fail(
        self,
        where: str,
        problem: str,
        code: str | None = None,
        value: str | None = None,
        detail: str | None = None,
    ) -> NoReturn:
        """Raise the flaw: InputError text ``where: problem``; the code is read from "expected X, got Y"."""
        if len(where) > 160:  # deep nesting: keep the line readable
            where = f"{where[:60]}…{where[-80:]}"
        if code is None:
            found = _EXPECTED.match(problem)
            if found is not None:
                code, value, detail = pr.WRONG_TYPE, pr.kind_of(found.group(2)), pr.kind_of(found.group(1))
                problem = _("expected {expected}, got {got}").format(
                    expected=_(found.group(1)), got=_(found.group(2))
                )
            else:
                code, detail = "other", problem
        raise pr.Flaw(self.path, where, problem, code, value, detail)

    def structural(self, where: str, problem: str) -> NoReturn:
        if len(where) > 160:  # deep nesting: keep the line readable
            where = f"{where[:60]}…{where[-80:]}"
        raise pr.Structural(self.path, f"{where}: {problem}" if where else problem)

    def warn_flaw(self, flaw: pr.Flaw, component: str | None) -> None:
        self.problems.report(flaw.where, component, flaw.code, flaw.value, flaw.detail)

    def lenient(self, read: Any, obj: dict[str, Any], where: str, depth: int, label: str | None) -> Any:
        """Read ``obj`` with ``read`` after dropping (and reporting) each key that ``read`` refuses alone."""
        warnings = self.problems.warnings
        clean: dict[str, Any] = {}
        for key, val in obj.items():
            mark = len(warnings)
            try:
                read({key: val}, where, depth)
            except pr.Structural:
                raise
            except pr.Flaw as flaw:
                del warnings[mark:]
                self.warn_flaw(flaw, label)
                continue
            del warnings[mark:]  # the probe's own notes (no version …) come again below
            clean[key] = val
        return read(clean, where, depth)

    def guarded(self, read: Any, obj: dict[str, Any], where: str, depth: int) -> Any:
        """``read(obj)``; in lenient mode a flaw in it makes :meth:`lenient` read it key by key."""
        if self.strict:
            return read(obj, where, depth)
        warnings = self.problems.warnings
        mark = len(warnings)
        try:
            return read(obj, where, depth)
        except pr.Structural:
            raise
        except pr.Flaw:
            del warnings[mark:]
            label = pr.component_label(obj.get("bom-ref"), obj.get("name"), obj.get("version"))
            return self.lenient(read, obj, where, depth, label)

    def part(self, read: Any, *args: Any) -> Any:
        """One document-level part (a metadata field …): in lenient mode a flaw is a warning and None."""
        if self.strict:
            return read(*args)
        try:
            return read(*args)
        except pr.Structural:
            raise
        except pr.Flaw as flaw:
            self.warn_flaw(flaw, None)
            return None

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
        part = self.part
        doc.serial_number = part(self.text, bom, "serialNumber", "")
        doc.version = part(self.bom_version, bom.get("version", 1)) or 1
        properties: list[Property] = []
        metadata = bom.get("metadata")
        if metadata is not None:
            if type(metadata) is not dict:
                self.structural("metadata", f"expected an object, got {_kind(metadata)}")
            properties = self.metadata(doc, metadata)
        properties += part(self.properties, bom.get("properties"), "properties") or []
        if metadata is not None:
            for key in ("manufacturer", "manufacture"):
                if metadata.get(key) is not None:
                    made = part(self.manufacturer, metadata[key], f"metadata.{key}")
                    if made is not None:
                        properties.append(made)
                    break
        doc.components = self.components(bom.get("components"), "components", 0)
        doc.services = self.services(bom.get("services"), "services", 0)
        doc.relationships, doc.no_dependencies = self.dependencies(bom.get("dependencies"))
        doc.properties = self.document_carried(doc, properties)
        doc.warnings = self.problems.warnings
        if doc.name is None and doc.root is not None and doc.root.name:
            doc.name = doc.root.name
        return doc

    def bom_version(self, version: object) -> int:
        if type(version) is not int:
            if type(version) is str and version.isdigit():
                return int(version)
            self.fail("version", f"expected a whole number, got {_kind(version)}")
        return version  # type: ignore[return-value]

    def metadata(self, doc: Document, meta: dict[str, Any]) -> list[Property]:
        part = self.part
        stamp = meta.get("timestamp")
        if stamp is not None:
            doc.timestamp = part(self.timestamp, stamp, "metadata.timestamp")
        doc.lifecycles = part(self.lifecycles, meta.get("lifecycles")) or []
        doc.tools = part(self.tools, meta.get("tools")) or []
        doc.authors = part(self.authors, meta.get("authors")) or []
        root = meta.get("component")
        if root is not None:
            doc.root = self.component(root, "metadata.component", 0, root=True)
        supplier = meta.get("supplier")
        if supplier is not None:
            doc.supplier = part(self.entity, supplier, "metadata.supplier")
        licences = part(self.licenses, meta.get("licenses"), "metadata.licenses")
        doc.data_license = licences[0] if licences else None
        return part(self.properties, meta.get("properties"), "metadata.properties") or []

    def authors(self, value: object) -> list[Contact]:
        return [
            self.contact(a, f"metadata.authors[{i}]", "person")
            for i, a in enumerate(self.arr(value, "metadata.authors"))
        ]

    def timestamp(self, value: object, where: str) -> datetime:
        if type(value) is not str:
            self.fail(where, f"expected a date-time string, got {_kind(value)}")
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(where, f"not an ISO 8601 date-time: {value[:60]!r}", pr.INVALID_DATE, value)
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
        if value is not None and type(value) is not list and depth == 0:
            self.structural(where, f"expected an array, got {_kind(value)}")
        items = self.arr(value, where)
        if items and depth >= MAX_DEPTH:
            self.structural(where, f"components nested more than {MAX_DEPTH} levels deep")
        component = self.component
        out = [component(item, f"{where}[{i}]", depth) for i, item in enumerate(items)]
        return out if None not in out else [c for c in out if c is not None]

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

    def component(self, value: object, where: str, depth: int, root: bool = False) -> Component | None:
        """One component; in lenient mode None (and a warning) for an entry that is not an object."""
        if type(value) is not dict:
            if self.strict:
                self.fail(where, f"expected an object, got {_kind(value)}")
            self.problems.report(where, None, pr.SKIPPED_ENTRY, pr.kind_of(_kind(value)))
            return None
        return self.guarded(self.read_component, value, where, depth)  # type: ignore[arg-type]

    def check_component(self, comp: Component, where: str, root: bool) -> None:
        """Report what the spec (or a scan) cannot use: enumeration values, version, purl, CPE, hashes.

        Called before the ``mamori:`` properties are taken back into fields: a value the writer carried
        there (a type or hash the target version has no name for) is not a flaw of the BOM.
        """
        report = self.problems.report
        label = None
        if comp.type not in self.types:
            label = pr.component_label(comp.bom_ref, comp.name, comp.version)
            report(f"{where}.type", label, pr.UNKNOWN_VALUE, comp.type, f"{self.spec_label} type")
        if comp.scope is not None and comp.scope not in self.scopes:
            label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
            report(f"{where}.scope", label, pr.UNKNOWN_VALUE, comp.scope, f"{self.spec_label} scope")
        if not comp.version and not root and not pr.purl_has_version(comp.purl):
            label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
            report(f"{where}.version", label, pr.NO_VERSION)
        if comp.purl is not None and (problem := pr.purl_problem(comp.purl)) is not None:
            label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
            report(f"{where}.purl", label, pr.INVALID_PURL, comp.purl, problem)
        for cpe in comp.cpes:
            if pr.cpe_problem(cpe):
                label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
                report(f"{where}.cpe", label, pr.INVALID_CPE, cpe)
        algorithms = self.hash_algorithms
        for i, h in enumerate(comp.hashes):
            if h.alg not in algorithms:
                label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
                report(f"{where}.hashes[{i}].alg", label, pr.UNKNOWN_VALUE, h.alg, f"{self.spec_label} hash")
            elif pr.hex_digest_problem(h.value, HASH_CONTENT_LENGTHS):
                label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
                report(f"{where}.hashes[{i}].content", label, pr.INVALID_HASH, f"{h.alg}:{h.value}")
        references = self.reference_types
        for i, ref in enumerate(comp.external_references):
            if ref.type not in references:
                label = label or pr.component_label(comp.bom_ref, comp.name, comp.version)
                report(
                    f"{where}.externalReferences[{i}].type",
                    label,
                    pr.UNKNOWN_VALUE,
                    ref.type,
                    f"{self.spec_label} external reference type",
                )

    def read_component(self, obj: dict[str, Any], where: str, depth: int) -> Component:
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
        self.check_component(comp, where, where == "metadata.component")
        evidence = get("evidence")
        if evidence is not None:
            comp.occurrences += self.occurrences(evidence, f"{where}.evidence")
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

    def occurrences(self, value: object, where: str) -> list[Occurrence]:
        """evidence.occurrences[]: ``location`` and (1.6+) ``line``; the rest of evidence is not kept."""
        entries = self.obj(value, where).get("occurrences")
        out: list[Occurrence] = []
        for i, item in enumerate(self.arr(entries, f"{where}.occurrences")):
            spot = f"{where}.occurrences[{i}]"
            entry = self.obj(item, spot)
            location = self.text(entry, "location", spot)
            line = entry.get("line")
            if type(line) is str and line.isdigit():  # from XML
                line = int(line)
            if line is not None and (type(line) is not int or line < 1):
                self.fail(f"{spot}.line", f"expected a whole number, got {_kind(line)}")
            if location:
                out.append(Occurrence(location, line))
        return out

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
            elif name == carried.OCCURRENCE:
                occurrence = self.carried_occurrence(prop.value)
                if occurrence is None:
                    kept.append(prop)
                    continue
                same = next(
                    (o for o in comp.occurrences if o.location == occurrence.location and o.line is None),
                    None,
                )
                if same is None:
                    comp.occurrences.append(occurrence)
                else:  # 1.5: the location is in evidence, the line was carried
                    same.line = occurrence.line
            else:
                alg, sep, content = prop.value.partition(":")
                if sep:
                    comp.hashes.append(Hash(alg, content))
                else:
                    kept.append(prop)
        return kept

    @staticmethod
    def carried_occurrence(value: str) -> Occurrence | None:
        """``["location", line or null]`` → Occurrence; None when malformed."""
        try:
            parts = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        if type(parts) is not list or len(parts) != 2 or type(parts[0]) is not str or not parts[0]:
            return None
        line = parts[1]
        if line is not None and (type(line) is not int or line < 1):
            return None
        return Occurrence(parts[0], line)

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
                    self.fail(where, str(exc), pr.INVALID_LICENCE, exc.text, exc.detail)
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
            self.fail(where, str(exc), pr.INVALID_LICENCE, exc.text, exc.detail)

    # -- services -------------------------------------------------------------------------------

    def services(self, value: object, where: str, depth: int) -> list[Service]:
        if value is not None and type(value) is not list and depth == 0:
            self.structural(where, f"expected an array, got {_kind(value)}")
        items = self.arr(value, where)
        if items and depth >= MAX_DEPTH:
            self.structural(where, f"services nested more than {MAX_DEPTH} levels deep")
        out = [self.service(item, f"{where}[{i}]", depth) for i, item in enumerate(items)]
        return [s for s in out if s is not None]

    def service(self, value: object, where: str, depth: int) -> Service | None:
        if type(value) is not dict:
            if self.strict:
                self.fail(where, f"expected an object, got {_kind(value)}")
            self.problems.report(where, None, pr.SKIPPED_ENTRY, pr.kind_of(_kind(value)))
            return None
        return self.guarded(self.read_service, value, where, depth)  # type: ignore[arg-type]

    def read_service(self, obj: dict[str, Any], where: str, depth: int) -> Service:
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
        if value is not None and type(value) is not list:
            self.structural("dependencies", f"expected an array, got {_kind(value)}")
        items: list[Any] = value or []  # type: ignore[assignment]
        if self.strict:
            rels, empty = self.read_dependencies(enumerate(items))
        else:
            try:
                rels, empty = self.read_dependencies(enumerate(items))
            except pr.Flaw:
                rels, empty = [], set()
                for i, item in enumerate(items):
                    try:
                        some, none = self.read_dependencies([(i, item)])
                    except pr.Flaw as flaw:
                        ref = item.get("ref") if type(item) is dict else None
                        self.warn_flaw(flaw, ref if type(ref) is str else None)
                        continue
                    rels += some
                    empty |= none
        if empty and rels:
            empty -= {rel.source for rel in rels}
        return rels, empty

    def read_dependencies(self, items: Any) -> tuple[list[Relationship], set[str]]:
        rels: list[Relationship] = []
        extend = rels.extend
        only_str = {str}
        empty: set[str] = set()
        for i, item in items:
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
        return rels, empty


def document_from_bom(bom: dict[str, Any], path: Path, spec_version: str, strict: bool = False) -> Document:
    """The model of one BOM in JSON shape (flaws in ``Document.warnings``, or InputError when ``strict``)."""
    reader = BomReader(path, spec_version, pr.Problems(path, strict))
    try:
        return reader.document(bom)
    except InputError:
        raise
    except RecursionError:
        raise InputError(path, _("structure nested too deeply")) from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:  # a guard this module lacks
        detail = " ".join(str(exc).split())[:200]
        raise InputError(
            path,
            _("malformed CycloneDX BOM ({kind}: {detail})").format(kind=type(exc).__name__, detail=detail),
        ) from None

"""An SPDX 2 document as a JSON-like dict (from JSON, YAML or spdx-tools) → the model.

What goes where (see mapping.py for NOASSERTION/NONE and ``spdx:`` properties):

* packages → components; files → components of type ``file``; the root is the one element the
  document DESCRIBES (relationship, ``documentDescribes`` or ``DESCRIBED_BY``). When the document
  describes several elements there is no root: all stay in ``components`` and the DESCRIBES edges
  stay in ``relationships`` (source ``SPDXRef-DOCUMENT``). A document with one element and no
  DESCRIBES at all describes that element.
* relationships are kept with their SPDX type; ``A DEPENDENCY_OF B`` becomes ``B DEPENDS_ON A``;
  ``hasFiles`` becomes CONTAINS; ``A DEPENDS_ON NONE`` puts A in ``Document.no_dependencies``.
* snippets, extracted licensing infos, external document refs and annotations are kept as
  ``spdx:`` properties so that SPDX → model → SPDX writes them again.

Lenient and strict reading (mamori.sbom.problems): a flaw in one package or file (a field of the
wrong type, a licence that is no SPDX expression — kept as text, as before —, a purl or CPE that
does not parse, an unknown checksum algorithm or package purpose, a date that is not ISO 8601, no
version) or in one relationship is a warning in ``Document.warnings``; a package or file without its
SPDXID or name is skipped with a warning. With ``strict`` the first flaw is an InputError. The
document itself (not an object, no or an unknown spdxVersion, ``packages`` not a list) is refused
in both modes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Component, Document, ExternalReference, Hash, Property, Relationship
from mamori.sbom import problems as pr
from mamori.sbom.licenses import LicenceError, normalise_expression
from mamori.sbom.spdx import licenses
from mamori.sbom.spdx.mapping import (
    CDX_REFERENCE_TYPES,
    DOCUMENT_ID,
    NOASSERTION,
    NONE,
    PROP,
    PURPOSE_TO_TYPE,
    SPDX_TO_MODEL_ALG,
    parse_actor,
    parse_tool,
    spdx_algorithm,
)

SUPPORTED_VERSIONS = ("SPDX-2.1", "SPDX-2.2", "SPDX-2.3")

# keys kept verbatim as spdx:<key> properties; values of JSON_VALUED keys are JSON text
PACKAGE_KEPT = (
    "comment", "summary", "primaryPackagePurpose", "filesAnalyzed", "packageFileName", "packageVerificationCode",
    "sourceInfo", "licenseInfoFromFiles", "licenseComments", "attributionTexts", "builtDate", "releaseDate",
    "validUntilDate", "annotations",
)  # fmt: skip
FILE_KEPT = (
    "comment", "fileTypes", "licenseInfoInFiles", "licenseComments", "noticeText", "fileContributors",
    "attributionTexts", "annotations", "artifactOfs", "fileDependencies",
)  # fmt: skip
DOCUMENT_KEPT = (
    "comment",
    "externalDocumentRefs",
    "hasExtractedLicensingInfos",
    "snippets",
    "annotations",
    "revieweds",
)
# the JSON shape each kept non-string value must have (deeper content is kept as it is)
JSON_SHAPES: dict[str, str] = {
    "filesAnalyzed": "boolean",
    "packageVerificationCode": "object",
    "licenseInfoFromFiles": "strings",
    "licenseInfoInFiles": "strings",
    "attributionTexts": "strings",
    "fileTypes": "strings",
    "fileContributors": "strings",
    "annotations": "objects",
    "externalDocumentRefs": "objects",
    "hasExtractedLicensingInfos": "objects",
    "snippets": "objects",
    "artifactOfs": "objects",
    "fileDependencies": "list",
    "revieweds": "list",
}
JSON_VALUED = frozenset(JSON_SHAPES)
_SHAPE_TEST = {
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "strings": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "objects": lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
}
_SHAPE_NAMES = {"boolean": "a boolean", "object": "an object", "list": "a list", "strings": "a list of strings",
                "objects": "a list of objects"}  # fmt: skip


_MUST_BE = re.compile(r"^'([^']+)' must be (a string|a list|an object|a boolean), not (.+)$")
_DATE_KEYS = ("builtDate", "releaseDate", "validUntilDate")


class _Object:
    """Typed access to one SPDX object; problems become InputError (a Flaw) naming the object."""

    __slots__ = ("data", "index", "path", "problems", "where")

    def __init__(
        self,
        data: object,
        where: str,
        path: Path,
        index: int | None = None,
        problems: pr.Problems | None = None,
    ) -> None:
        self.where = where
        self.index = index
        self.path = path
        self.problems = problems if problems is not None else pr.Problems(path, strict=True)
        if not isinstance(data, dict):
            self.fail(f"must be an object, not {_kind(data)}")
        self.data: dict = data

    @property
    def label(self) -> str:
        return self.where if self.index is None else f"{self.where}[{self.index}]"

    def fail(self, problem: str) -> NoReturn:
        where = "" if self.label == "document" else self.label
        flaw = pr.Flaw(self.path, where, problem, "other", None, problem)
        found = _MUST_BE.match(problem)
        if found is not None:  # a warning names the field and the kinds, in either language
            flaw.where = f"{where}.{found.group(1)}" if where else found.group(1)
            flaw.code, flaw.value = pr.WRONG_TYPE, pr.kind_of(found.group(3))
            flaw.detail = pr.kind_of(found.group(2))
        raise flaw

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        self.fail(f"'{key}' must be a string, not {_kind(value)}")

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            self.fail(f"'{key}' is missing")
        return value

    def asserted(self, key: str) -> str | None:
        """The text, with NOASSERTION and NONE (and empty text) read as absent."""
        value = self.text(key)
        if value is None:
            return None
        value = value.strip()
        return None if value.upper() in (NOASSERTION, NONE) or not value else value

    def items(self, key: str) -> list:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"'{key}' must be a list, not {_kind(value)}")
        return value

    def objects(self, key: str) -> list[_Object]:
        """The objects of a list; in lenient mode an entry that is no object is skipped with a warning."""
        where = f"{self.where}.{key}"
        problems = self.problems
        out = []
        for i, item in enumerate(self.items(key)):
            if not isinstance(item, dict) and not problems.strict:
                problems.report(f"{where}[{i}]", None, pr.SKIPPED_ENTRY, pr.kind_of(_kind(item)))
                continue
            out.append(_Object(item, where, self.path, i, problems))
        return out

    def strings(self, key: str) -> list[str]:
        values = self.items(key)
        for value in values:
            if not isinstance(value, str):
                self.fail(f"'{key}' must hold strings, not {_kind(value)}")
        return values

    def kept(self, keys: tuple[str, ...]) -> list[Property]:
        props = []
        for key in keys:
            value = self.data.get(key)
            if value is None:
                continue
            if key in JSON_VALUED:
                shape = JSON_SHAPES[key]
                if (
                    shape == "boolean"
                    and isinstance(value, str)
                    and value.strip().lower() in ("true", "false")
                ):
                    value = value.strip().lower() == "true"
                if not _SHAPE_TEST[shape](value):
                    self.fail(f"'{key}' must be {_SHAPE_NAMES[shape]}, not {_kind(value)}")
                try:
                    text = orjson.dumps(value).decode()
                except TypeError as exc:  # orjson.JSONEncodeError: e.g. YAML keys that are not strings
                    self.fail(f"'{key}' cannot be kept: {exc}")
            else:
                text = self.text(key)
            props.append(Property(PROP + key, text))
        return props

    def none_markers(self, keys: tuple[str, ...]) -> list[Property]:
        """``spdx:<key> = NONE`` for fields that say NONE (the model keeps None)."""
        props = []
        for key in keys:
            value = self.data.get(key)
            if isinstance(value, str) and value.strip().upper() == NONE:
                props.append(Property(PROP + key, NONE))
        return props


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _who(data: dict) -> str | None:
    """How a warning names a package or file: ``name (SPDXID)``."""
    spdx_id, name = data.get("SPDXID"), data.get("name") or data.get("fileName")
    spdx_id = spdx_id.strip() if isinstance(spdx_id, str) else ""
    name = name.strip() if isinstance(name, str) else ""
    if name and spdx_id:
        return f"{name} ({spdx_id})"
    return name or spdx_id or None


def _part(problems: pr.Problems, read: Any, *args: Any) -> Any:
    """A document-level field: in lenient mode a flaw is a warning and the field None."""
    if problems.strict:
        return read(*args)
    try:
        return read(*args)
    except pr.Flaw as flaw:
        problems.report(flaw.where, None, flaw.code, flaw.value, flaw.detail)
        return None


def _element(read: Any, obj: _Object) -> Component | None:
    """One package or file; in lenient mode a flawed key is dropped with a warning (see the module docstring)."""
    problems = obj.problems
    if problems.strict:
        return read(obj)
    warnings = problems.warnings
    mark = len(warnings)
    try:
        return read(obj)
    except pr.Flaw:
        del warnings[mark:]
    data = obj.data
    label = _who(data)
    ident = {k: data[k] for k in ("SPDXID", "name", "fileName") if k in data}
    mark = len(warnings)
    try:
        read(_Object(ident, obj.where, obj.path, obj.index, problems))
    except pr.Flaw as flaw:  # no SPDXID or name: nothing can refer to it
        del warnings[mark:]
        problems.report(flaw.where, label, pr.INCOMPLETE_ENTRY, None, flaw.detail)
        return None
    del warnings[mark:]
    clean = dict(ident)
    for key, value in data.items():
        if key in ident:
            continue
        mark = len(warnings)
        try:
            read(_Object({**ident, key: value}, obj.where, obj.path, obj.index, problems))
        except pr.Flaw as flaw:
            del warnings[mark:]
            problems.report(flaw.where, label, flaw.code, flaw.value, flaw.detail)
            continue
        del warnings[mark:]
        clean[key] = value
    return read(_Object(clean, obj.where, obj.path, obj.index, problems))


def document_from_dict(data: object, path: Path, strict: bool = False) -> Document:
    """Map an SPDX 2.1-2.3 JSON-like document to the model; flaws in ``Document.warnings`` (InputError
    when ``strict``), InputError for a document that is not SPDX 2 at all."""
    if not isinstance(data, dict):
        raise InputError(
            path,
            _("not an SPDX 2 document: the top level is {kind}, not an object").format(kind=_kind(data)),
        )
    problems = pr.Problems(path, strict)
    doc_obj = _Object(data, "document", path, problems=problems)
    version = _spec_version(doc_obj)
    doc_id = doc_obj.text("SPDXID") or DOCUMENT_ID
    creation = data.get("creationInfo") or {}
    if not isinstance(creation, dict) and not strict:
        problems.report("creationInfo", None, pr.WRONG_TYPE, pr.kind_of(_kind(creation)), "object")
        creation = {}
    info = _Object(creation, "creationInfo", path, problems=problems)
    doc = Document(
        spec="spdx",
        spec_version=version.removeprefix("SPDX-"),
        serial_number=_part(problems, doc_obj.text, "documentNamespace"),
        name=_part(problems, doc_obj.text, "name"),
        data_license=_part(problems, doc_obj.text, "dataLicense"),
        timestamp=_part(problems, _created, info),
        comment=_part(problems, info.text, "comment"),
    )
    for creator in _part(problems, info.strings, "creators") or []:
        _add_creator(doc, creator)
    doc.properties.extend(_part(problems, doc_obj.kept, DOCUMENT_KEPT) or [])
    doc.properties.extend(_part(problems, info.kept, ("licenseListVersion",)) or [])

    components = [_element(_package, obj) for obj in doc_obj.objects("packages")]
    components += [_element(_file, obj) for obj in doc_obj.objects("files")]
    relationships = _relationships(doc_obj, doc_id)
    doc.no_dependencies = {r.source for r in relationships if _says_no_dependencies(r)}
    relationships = [r for r in relationships if not _says_no_dependencies(r)]
    _set_root(doc, [c for c in components if c is not None], relationships)
    for comp in doc.components:
        if comp.type != "file" and not comp.version and not pr.purl_has_version(comp.purl):
            problems.report(
                f"package {comp.bom_ref}.versionInfo",
                _who({"SPDXID": comp.bom_ref, "name": comp.name}),
                pr.NO_VERSION,
            )
    doc.warnings = problems.warnings
    return doc


def _says_no_dependencies(rel: Relationship) -> bool:
    """``X DEPENDS_ON NONE`` (without a comment, which the model could not keep): X has no dependencies."""
    return rel.type == "DEPENDS_ON" and rel.target == NONE and not rel.comment


def _spec_version(doc: _Object) -> str:
    version = doc.text("spdxVersion")
    if version is None:
        if "@context" in doc.data or "@graph" in doc.data:
            doc.fail("this is SPDX 3 (JSON-LD); only SPDX 2.1-2.3 documents are supported")
        doc.fail("'spdxVersion' is missing: not an SPDX 2 document")
    version = version.strip()
    if version not in SUPPORTED_VERSIONS:
        if version.startswith("SPDX-3"):
            doc.fail(f"spdxVersion {version!r}: SPDX 3 is not supported, only SPDX 2.1-2.3")
        doc.fail(f"unknown spdxVersion {version!r}; supported: {', '.join(SUPPORTED_VERSIONS)}")
    return version


def _created(info: _Object) -> datetime | None:
    text = info.text("created")
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        problem = _("'created' is not an ISO 8601 date-time: {text!r}").format(text=text)
        raise pr.Flaw(info.path, "creationInfo", problem, pr.INVALID_DATE, text) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _add_creator(doc: Document, creator: str) -> None:
    kind, _, rest = creator.partition(":")
    if kind.strip().lower() == "tool":
        if rest.strip():
            doc.tools.append(parse_tool(rest))
        return
    contact = parse_actor(creator)
    if contact is not None:
        doc.authors.append(contact)


def _hashes(obj: _Object) -> list[Hash]:
    hashes = []
    for i, checksum in enumerate(obj.objects("checksums")):
        alg = checksum.required("algorithm")
        spdx_alg = spdx_algorithm(alg)
        if spdx_alg is None:
            obj.problems.report(
                f"{obj.label}.checksums[{i}].algorithm",
                _who(obj.data),
                pr.UNKNOWN_VALUE,
                alg,
                "SPDX 2 checksum algorithm",
            )
        hashes.append(
            Hash(
                alg=SPDX_TO_MODEL_ALG[spdx_alg] if spdx_alg else alg, value=checksum.required("checksumValue")
            )
        )
    return hashes


@lru_cache(maxsize=8192)
def _checked_licence(text: str) -> tuple[str, str | None]:
    """(normalised expression or the text as it is, the parser's complaint or None)."""
    try:
        return normalise_expression(text), None
    except LicenceError as exc:
        return licenses.normalise(text), exc.detail or str(exc)


def _licence(obj: _Object, key: str) -> str | None:
    value = obj.asserted(key)
    if not value:
        return None
    expression, problem = _checked_licence(value)
    if problem is not None:  # kept as text (the writer names it with a LicenseRef), and reported
        obj.problems.report(f"{obj.label}.{key}", _who(obj.data), pr.INVALID_LICENCE, value, problem)
    return expression


def _package(obj: _Object) -> Component:
    spdx_id = obj.required("SPDXID")
    obj.where, obj.index = f"package {spdx_id}", None
    purpose = (obj.text("primaryPackagePurpose") or "").strip().upper().replace("_", "-")
    if purpose and purpose not in PURPOSE_TO_TYPE:
        obj.problems.report(
            f"{obj.label}.primaryPackagePurpose",
            _who(obj.data),
            pr.UNKNOWN_VALUE,
            purpose,
            "SPDX 2 package purpose",
        )
    comp = Component(
        name=obj.required("name"),
        version=obj.text("versionInfo"),
        type=PURPOSE_TO_TYPE.get(purpose, "library"),
        bom_ref=spdx_id,
        description=obj.text("description") or obj.text("summary"),
        hashes=_hashes(obj),
        license_concluded=_licence(obj, "licenseConcluded"),
        license_declared=_licence(obj, "licenseDeclared"),
        copyright=obj.asserted("copyrightText"),
        download_location=obj.asserted("downloadLocation"),
    )
    supplier = obj.asserted("supplier")
    comp.supplier = parse_actor(supplier) if supplier else None
    originator = obj.asserted("originator")
    if originator:
        actor = parse_actor(originator)
        comp.author = actor.name if actor else originator
        comp.properties.append(Property(PROP + "originator", originator))
    homepage = obj.asserted("homepage")
    if homepage:
        comp.external_references.append(ExternalReference(type="website", url=homepage))
    _external_refs(obj, comp)
    if comp.purl is not None and (problem := pr.purl_problem(comp.purl)) is not None:
        obj.problems.report(f"{obj.label}.externalRefs", _who(obj.data), pr.INVALID_PURL, comp.purl, problem)
    for cpe in comp.cpes:
        if pr.cpe_problem(cpe):
            obj.problems.report(f"{obj.label}.externalRefs", _who(obj.data), pr.INVALID_CPE, cpe)
    for key in _DATE_KEYS:
        value = obj.data.get(key)
        if isinstance(value, str) and value.strip() and not _is_date(value):
            obj.problems.report(f"{obj.label}.{key}", _who(obj.data), pr.INVALID_DATE, value)
    comp.properties.extend(obj.kept(PACKAGE_KEPT))
    if "filesAnalyzed" not in obj.data:  # absent means true in SPDX 2.x
        comp.properties.append(Property(PROP + "filesAnalyzed", "true"))
    comp.properties.extend(
        obj.none_markers(
            ("licenseConcluded", "licenseDeclared", "copyrightText", "downloadLocation", "homepage")
        )
    )
    return comp


def _external_refs(obj: _Object, comp: Component) -> None:
    for ref in obj.objects("externalRefs"):
        category = (ref.required("referenceCategory")).strip().upper().replace("_", "-")
        ref_type = ref.required("referenceType").strip()
        locator = ref.required("referenceLocator").strip()
        comment = ref.text("comment")
        if category == "PACKAGE-MANAGER" and ref_type == "purl" and comp.purl is None and not comment:
            comp.purl = locator
        elif category == "SECURITY" and ref_type in ("cpe22Type", "cpe23Type") and not comment:
            comp.cpes.append(locator)
        elif category == "SECURITY" and ref_type == "advisory":
            comp.external_references.append(
                ExternalReference(type="advisories", url=locator, comment=comment)
            )
        elif category == "OTHER" and ref_type in CDX_REFERENCE_TYPES:
            comp.external_references.append(ExternalReference(type=ref_type, url=locator, comment=comment))
        else:
            kept = {"referenceCategory": category, "referenceType": ref_type, "referenceLocator": locator}
            if comment:
                kept["comment"] = comment
            comp.properties.append(Property(PROP + "externalRef", orjson.dumps(kept).decode()))


def _is_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _file(obj: _Object) -> Component:
    spdx_id = obj.required("SPDXID")
    obj.where, obj.index = f"file {spdx_id}", None
    comp = Component(
        name=obj.required("fileName"),
        type="file",
        bom_ref=spdx_id,
        hashes=_hashes(obj),
        license_concluded=_licence(obj, "licenseConcluded"),
        copyright=obj.asserted("copyrightText"),
    )
    comp.properties.extend(obj.kept(FILE_KEPT))
    comp.properties.extend(obj.none_markers(("licenseConcluded", "copyrightText")))
    return comp


def _relationships(doc: _Object, doc_id: str) -> list[Relationship]:
    """Every edge in one list: relationships, documentDescribes and packages' hasFiles."""

    def ref(value: str) -> str:
        value = value.strip()
        return DOCUMENT_ID if value == doc_id else value

    problems = doc.problems
    edges: list[Relationship] = []
    for target in _part(problems, doc.strings, "documentDescribes") or []:
        edges.append(Relationship(DOCUMENT_ID, ref(target), "DESCRIBES"))
    for package in doc.items("packages"):
        if not isinstance(package, dict):
            continue  # reported with the packages
        pkg = _Object(package, "package", doc.path, problems=problems)
        source = _part(problems, pkg.text, "SPDXID")
        for target in _part(problems, pkg.strings, "hasFiles") or []:
            edges.append(Relationship(ref(source or ""), ref(target), "CONTAINS"))

    def relationship(rel: _Object) -> Relationship:
        source = ref(rel.required("spdxElementId"))
        target = ref(rel.required("relatedSpdxElement"))
        rel_type = rel.required("relationshipType").strip().upper().replace("-", "_")
        comment = rel.text("comment")
        if rel_type == "DEPENDENCY_OF":
            source, target, rel_type = target, source, "DEPENDS_ON"
        elif rel_type == "DESCRIBED_BY" and target == DOCUMENT_ID:
            source, target, rel_type = target, source, "DESCRIBES"
        return Relationship(source, target, rel_type, comment)

    for rel in doc.objects("relationships"):
        edge = _part(problems, relationship, rel)
        if edge is not None:
            edges.append(edge)
    contained_by = {(e.target, e.source) for e in edges if e.type == "CONTAINED_BY"}
    unique: dict[tuple[str, str, str, str | None], Relationship] = {}
    for edge in edges:
        if edge.type == "CONTAINS" and edge.comment is None and (edge.source, edge.target) in contained_by:
            continue  # hasFiles repeating a CONTAINED_BY edge (spdx-tools drops these too)
        unique.setdefault((edge.source, edge.target, edge.type, edge.comment), edge)
    return list(unique.values())


def _set_root(doc: Document, components: list[Component], relationships: list[Relationship]) -> None:
    described = [r for r in relationships if r.type == "DESCRIBES" and r.source == DOCUMENT_ID]
    targets = {r.target for r in described}
    root = None
    if len(targets) == 1:
        (target,) = targets
        root = next((c for c in components if c.bom_ref == target), None)
    elif (
        not targets and len(components) == 1
    ):  # a lone package is described implicitly (as spdx-tools has it)
        root = components[0]
    if root is not None:
        doc.root = root
        components = [c for c in components if c is not root]
        relationships = [r for r in relationships if r not in described]
    doc.components = components
    doc.relationships = relationships

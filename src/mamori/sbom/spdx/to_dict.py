"""The model → an SPDX 2.3 (or 2.2) document as a JSON-like dict that spdx-tools validates cleanly.

Any model can be written, also one read from CycloneDX:

* bom-refs become unique ``SPDXRef-…`` ids (kept as they are when already valid); nested components
  are flattened with ``parent CONTAINS child``; the root gets ``SPDXRef-DOCUMENT DESCRIBES root``.
  Without a root and without DESCRIBES edges the document describes every top-level component, and
  an empty document ``DESCRIBES NONE``.
* a component of type ``file`` with a valid SHA-1 becomes an SPDX file; every other component a package.
* values spdx-tools would reject are not written as they are: an invalid download location becomes
  NOASSERTION (the URL is kept as an ``OTHER distribution`` reference when it has no spaces), invalid
  purls/CPEs/refs become ``OTHER`` references, checksums with a wrong length are left out, licence
  names become LicenseRefs, edges to unknown elements are left out, unknown relationship types
  become ``OTHER`` with the type in the comment.
* ``Document.no_dependencies`` becomes ``X DEPENDS_ON NONE``.
* PackageSupplier is the supplier, else the CycloneDX publisher (``Organization: <publisher>``), as NTIA's
  field mapping reads a publisher as the supplier; it reads back as the supplier.
* services, CycloneDX properties, group, scope and lifecycles have no SPDX 2 field and are not written.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import orjson
import uritools
from spdx_tools.spdx.validation.uri_validators import validate_download_location, validate_url

import mamori
from mamori.model import Component, Document, Tool
from mamori.sbom.spdx.from_dict import FILE_KEPT, JSON_VALUED, PACKAGE_KEPT
from mamori.sbom.spdx.licenses import LicenseWriter
from mamori.sbom.spdx.mapping import (
    CHECKSUM_HEX_DIGITS,
    DOCUMENT_ID,
    NOASSERTION,
    NONE,
    PROP,
    PURPOSE_TO_TYPE,
    RELATIONSHIP_TYPES,
    SPDX_23_ONLY_ALGS,
    SPDX_23_ONLY_RELATIONSHIPS,
    TYPE_TO_PURPOSE,
    VALID_DOCUMENT_REF,
    VALID_SPDX_ID,
    format_actor,
    format_tool,
    id_part,
    package_supplier,
    parse_actor,
    spdx_algorithm,
)
from mamori.sbom.spdx.package_refs import WHITESPACE, external_refs

_SPDX_23_ONLY_PACKAGE_KEYS = frozenset({"builtDate", "releaseDate", "validUntilDate"})
_PACKAGE_KEYS_SET_ABOVE = frozenset({"filesAnalyzed", "summary", "primaryPackagePurpose"})
_MAX_ID = 120
NAMESPACE_BASE = "https://spdx.org/spdxdocs/mamori/"


def _props(comp_or_doc: Component | Document) -> dict[str, str]:
    """``spdx:`` properties by JSON key (the first of each name)."""
    found: dict[str, str] = {}
    for prop in comp_or_doc.properties:
        if prop.name.startswith(PROP):
            found.setdefault(prop.name[len(PROP) :], prop.value)
    return found


def _kept(props: dict[str, str], key: str) -> object:
    """A kept value in its JSON type, or None when absent or not readable."""
    value = props.get(key)
    if value is None or key not in JSON_VALUED:
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def _kept_list(props: dict[str, str], key: str) -> list:
    value = _kept(props, key)
    return value if isinstance(value, list) else []


class DocumentWriter:
    """Builds the dict for one document; ``version`` is ``SPDX-2.3`` or ``SPDX-2.2``."""

    def __init__(self, doc: Document, version: str) -> None:
        self.doc = doc
        self.version = version
        self.v22 = version == "SPDX-2.2"
        self.doc_props = _props(doc)
        self.external_docs = [
            ref
            for ref in _kept_list(self.doc_props, "externalDocumentRefs")
            if isinstance(ref, dict) and VALID_DOCUMENT_REF.match(str(ref.get("externalDocumentId", "")))
        ]
        self.document_refs = {ref["externalDocumentId"] for ref in self.external_docs}
        declared = [
            i for i in _kept_list(self.doc_props, "hasExtractedLicensingInfos") if isinstance(i, dict)
        ]
        self.licences = LicenseWriter(declared, self.document_refs)
        self.used: set[str] = {DOCUMENT_ID}
        self.ids: dict[str, str] = {}  # model bom-ref -> SPDXID

    def build(self) -> dict[str, object]:
        name = self._document_name()
        snippets = [s for s in _kept_list(self.doc_props, "snippets") if isinstance(s, dict)]
        for snippet in snippets:  # reserve their ids so that no component takes them
            sid = snippet.get("SPDXID")
            if isinstance(sid, str) and VALID_SPDX_ID.match(sid):
                self.used.add(sid)
        elements, contains = self._flatten()
        packages, files = [], []
        for comp, sid in elements:
            if self._is_file(comp):
                files.append(self._file(comp, sid))
            else:
                packages.append(self._package(comp, sid))
        file_ids = {f["SPDXID"] for f in files}
        snippets = [self._snippet(s) for s in snippets if s.get("snippetFromFile") in file_ids]
        for snippet in snippets:
            self.ids.setdefault(snippet["SPDXID"], snippet["SPDXID"])
        relationships = self._relationships(elements, contains)
        self._fix_files_analyzed(packages, file_ids, relationships)

        out: dict[str, object] = {
            "spdxVersion": self.version,
            "dataLicense": "CC0-1.0",
            "SPDXID": DOCUMENT_ID,
            "name": name,
            "documentNamespace": self._namespace(name),
            "creationInfo": self._creation_info(),
        }
        if self.doc_props.get("comment"):
            out["comment"] = self.doc_props["comment"]
        if self.external_docs:
            out["externalDocumentRefs"] = self.external_docs
        out["packages"] = packages
        if files:
            out["files"] = files
        if snippets:
            out["snippets"] = snippets
        extracted = self.licences.extracted()
        if extracted:
            out["hasExtractedLicensingInfos"] = extracted
        out["relationships"] = relationships
        annotations = [a for a in _kept_list(self.doc_props, "annotations") if isinstance(a, dict)]
        if annotations:
            out["annotations"] = annotations
        return out

    # -- document level -------------------------------------------------------------------------

    def _document_name(self) -> str:
        if self.doc.name and self.doc.name.strip():
            return " ".join(self.doc.name.split())
        root = self.doc.root
        if root is not None and root.name.strip():
            return " ".join(f"{root.name} {root.version or ''}".split())
        return "sbom"

    def _namespace(self, name: str) -> str:
        serial = (self.doc.serial_number or "").strip()
        uid = None
        if serial.lower().startswith("urn:uuid:"):
            try:
                uid = uuid.UUID(serial[9:])
            except ValueError:
                uid = None
        elif serial and "#" not in serial and not WHITESPACE.search(serial) and uritools.isabsuri(serial):
            return serial
        return f"{NAMESPACE_BASE}{id_part(name, 'sbom')}-{uid or uuid.uuid4()}"

    def _creation_info(self) -> dict[str, object]:
        creators: list[str] = []
        for author in self.doc.authors:
            if not author.name.strip():
                continue
            if author.kind == "tool":
                creators.append(format_tool(Tool(name=author.name)))
            else:
                creators.append(format_actor(author))
        creators += [format_tool(tool) for tool in self.doc.tools if tool.name.strip()]
        creators.append(format_tool(Tool(name="mamori", version=mamori.__version__)))
        created = self.doc.timestamp or datetime.now(UTC)
        if created.tzinfo is not None:
            created = created.astimezone(UTC)
        info: dict[str, object] = {
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": list(dict.fromkeys(creators)),
        }
        if self.doc.comment:
            info["comment"] = self.doc.comment
        if self.doc_props.get("licenseListVersion"):
            info["licenseListVersion"] = self.doc_props["licenseListVersion"]
        return info

    # -- elements -------------------------------------------------------------------------------

    def _flatten(self) -> tuple[list[tuple[Component, str]], list[tuple[str, str]]]:
        """Every component once with its SPDXID, and ``parent CONTAINS child`` for nesting."""
        elements: list[tuple[Component, str]] = []
        contains: list[tuple[str, str]] = []
        stack: list[tuple[Component, str | None]] = [(c, None) for c in reversed(self.doc.components)]
        if self.doc.root is not None:
            stack.append((self.doc.root, None))
        seen: set[int] = set()
        while stack:
            comp, parent = stack.pop()
            if id(comp) in seen:
                continue
            seen.add(id(comp))
            sid = self._assign(comp)
            elements.append((comp, sid))
            if parent:
                contains.append((parent, sid))
            stack.extend((child, sid) for child in reversed(comp.components))
        return elements, contains

    def _assign(self, comp: Component) -> str:
        ref = comp.bom_ref
        if ref and VALID_SPDX_ID.match(ref) and ref not in self.used:
            sid = ref
        else:
            seed = ref.removeprefix("SPDXRef-") if ref else f"{comp.name}-{comp.version or ''}"
            base = "SPDXRef-" + id_part(seed, "component")[:_MAX_ID].rstrip("-.")
            sid, n = base, 2
            while sid in self.used:
                sid, n = f"{base}-{n}", n + 1
        self.used.add(sid)
        if ref:
            self.ids.setdefault(ref, sid)
        return sid

    def _is_file(self, comp: Component) -> bool:
        if comp.type != "file" or comp.version or comp.purl or comp.property(PROP + "primaryPackagePurpose"):
            return False
        return any(c["algorithm"] == "SHA1" for c in self._checksums(comp))

    def _checksums(self, comp: Component) -> list[dict[str, str]]:
        checksums: list[dict[str, str]] = []
        for h in comp.hashes:
            alg = spdx_algorithm(h.alg)
            value = h.value.strip().lower()
            if alg is None or alg not in CHECKSUM_HEX_DIGITS or (self.v22 and alg in SPDX_23_ONLY_ALGS):
                continue
            if not re.fullmatch("[0-9a-f]{" + CHECKSUM_HEX_DIGITS[alg] + "}", value):
                continue
            checksum = {"algorithm": alg, "checksumValue": value}
            if checksum not in checksums:
                checksums.append(checksum)
        return checksums

    def _licence(self, value: str | None, props: dict[str, str], key: str) -> str:
        if value is None and props.get(key) == NONE:
            return NONE
        return self.licences.expression(value)

    def _licence_list(self, items: list) -> list[str]:
        return [self.licences.expression(item) for item in items if isinstance(item, str)]

    def _text_or_marker(self, value: str | None, props: dict[str, str], key: str) -> str:
        if value:
            return value
        return NONE if props.get(key) == NONE else NOASSERTION

    def _package(self, comp: Component, sid: str) -> dict[str, object]:
        props = _props(comp)
        pkg: dict[str, object] = {"SPDXID": sid, "name": " ".join(comp.name.split()) or NOASSERTION}
        if comp.version:
            pkg["versionInfo"] = comp.version
        supplier = package_supplier(comp)
        if supplier:
            pkg["supplier"] = supplier
        originator = self._originator(comp, props)
        if originator:
            pkg["originator"] = originator
        extra_refs: list[dict[str, str]] = []
        pkg["downloadLocation"] = self._download_location(comp, props, extra_refs)
        homepage, other_links = self._homepage(comp, props)
        if homepage:
            pkg["homepage"] = homepage
        checksums = self._checksums(comp)
        if checksums:
            pkg["checksums"] = checksums
        pkg["licenseConcluded"] = self._licence(comp.license_concluded, props, "licenseConcluded")
        pkg["licenseDeclared"] = self._licence(comp.license_declared, props, "licenseDeclared")
        pkg["copyrightText"] = self._text_or_marker(comp.copyright, props, "copyrightText")
        if (
            comp.description
        ):  # also when the reader took it from the summary: better one field more than one less
            pkg["description"] = comp.description
        if props.get("summary"):
            pkg["summary"] = props["summary"]
        purpose = self._purpose(comp, props)
        if purpose:
            pkg["primaryPackagePurpose"] = purpose
        refs = external_refs(comp, other_links, v22=self.v22) + extra_refs
        if refs:
            pkg["externalRefs"] = refs
        files_analyzed = _kept(props, "filesAnalyzed")
        pkg["filesAnalyzed"] = files_analyzed if isinstance(files_analyzed, bool) else False
        skip = _PACKAGE_KEYS_SET_ABOVE | (_SPDX_23_ONLY_PACKAGE_KEYS if self.v22 else frozenset())
        self._copy_kept(props, PACKAGE_KEPT, pkg, skip)
        return pkg

    def _copy_kept(
        self, props: dict[str, str], keys: tuple[str, ...], out: dict, skip: frozenset[str]
    ) -> None:
        """Put kept ``spdx:`` values back under their SPDX keys; licence lists are made valid."""
        for key in keys:
            if key in out or key in skip or key not in props:
                continue
            value = _kept(props, key)
            if key in ("licenseInfoFromFiles", "licenseInfoInFiles"):
                value = self._licence_list(value if isinstance(value, list) else [])
            if value not in (None, [], ""):
                out[key] = value

    def _originator(self, comp: Component, props: dict[str, str]) -> str | None:
        if not comp.author or not comp.author.strip():
            return None
        kept = props.get("originator")
        if kept:
            actor = parse_actor(kept)
            if actor is not None and actor.name == comp.author:
                return kept
        return f"Organization: {' '.join(comp.author.split())}"

    def _download_location(self, comp: Component, props: dict[str, str], extra_refs: list) -> str:
        location = (comp.download_location or "").strip()
        if not location:
            return NONE if props.get("downloadLocation") == NONE else NOASSERTION
        if not validate_download_location(location):
            return location
        if not WHITESPACE.search(location):
            extra_refs.append(
                {"referenceCategory": "OTHER", "referenceType": "distribution", "referenceLocator": location}
            )
        return NOASSERTION

    def _homepage(self, comp: Component, props: dict[str, str]) -> tuple[str | None, list]:
        """The first valid website becomes the homepage; the other links are returned for externalRefs."""
        homepage = None
        others = []
        for ref in comp.external_references:
            if homepage is None and ref.type == "website" and not validate_url(ref.url.strip()):
                homepage = ref.url.strip()
            else:
                others.append(ref)
        if homepage is None and props.get("homepage") == NONE:
            homepage = NONE
        return homepage, others

    def _purpose(self, comp: Component, props: dict[str, str]) -> str | None:
        if self.v22:
            return None
        kept = (props.get("primaryPackagePurpose") or "").strip().upper().replace("_", "-")
        if kept and PURPOSE_TO_TYPE.get(kept) == comp.type:
            return kept
        if comp.type == "library":
            return None
        return TYPE_TO_PURPOSE.get(comp.type, "OTHER")

    def _file(self, comp: Component, sid: str) -> dict[str, object]:
        props = _props(comp)
        name = comp.name.strip() or NOASSERTION
        if name.startswith("/"):
            name = "." + name
        out: dict[str, object] = {
            "SPDXID": sid,
            "fileName": name,
            "checksums": self._checksums(comp),
            "licenseConcluded": self._licence(comp.license_concluded, props, "licenseConcluded"),
            "copyrightText": self._text_or_marker(comp.copyright, props, "copyrightText"),
        }
        self._copy_kept(props, FILE_KEPT, out, frozenset())
        if self.v22 and not out.get("licenseInfoInFiles"):
            out["licenseInfoInFiles"] = [NOASSERTION]
        return out

    def _snippet(self, snippet: dict[str, object]) -> dict[str, object]:
        out = dict(snippet)
        concluded = out.get("licenseConcluded")
        if isinstance(concluded, str):
            out["licenseConcluded"] = self.licences.expression(concluded)
        infos = out.get("licenseInfoInSnippets")
        if isinstance(infos, list):
            out["licenseInfoInSnippets"] = self._licence_list(infos)
        return out

    # -- relationships --------------------------------------------------------------------------

    def _element(self, ref: str, target: bool = False) -> str | None:
        ref = ref.strip()
        if ref == DOCUMENT_ID:
            return ref
        if target and ref in (NONE, NOASSERTION):
            return ref
        if ref in self.ids:
            return self.ids[ref]
        doc_ref, sep, element = ref.partition(":")
        if sep and doc_ref in self.document_refs and VALID_SPDX_ID.match(element):
            return ref
        return None

    def _relationships(self, elements: list[tuple[Component, str]], contains: list) -> list[dict[str, str]]:
        edges: list[tuple[str, str, str, str | None]] = []
        if self.doc.root is not None:
            edges.append((DOCUMENT_ID, "DESCRIBES", elements[0][1], None))
        for rel in self.doc.relationships:
            source, target = self._element(rel.source), self._element(rel.target, target=True)
            if source is None or target is None:
                continue
            rel_type = rel.type.strip().upper().replace("-", "_")
            comment = rel.comment
            if rel_type not in RELATIONSHIP_TYPES or (self.v22 and rel_type in SPDX_23_ONLY_RELATIONSHIPS):
                comment = f"{rel.type}: {comment}" if comment else rel.type
                rel_type = "OTHER"
            edges.append((source, rel_type, target, comment))
        edges += [(parent, "CONTAINS", child, None) for parent, child in contains]
        edges += self._no_dependencies(edges)
        if not any(e[0] == DOCUMENT_ID and e[1] == "DESCRIBES" for e in edges):
            top = {id(c) for c in self.doc.components}
            described = [sid for comp, sid in elements if id(comp) in top] or [NONE]
            edges[:0] = [(DOCUMENT_ID, "DESCRIBES", sid, None) for sid in described]
        out = []
        for source, rel_type, target, comment in dict.fromkeys(edges):
            rel = {"spdxElementId": source, "relationshipType": rel_type, "relatedSpdxElement": target}
            if comment:
                rel["comment"] = comment
            out.append(rel)
        return out

    def _no_dependencies(
        self, edges: list[tuple[str, str, str, str | None]]
    ) -> list[tuple[str, str, str, None]]:
        """``X DEPENDS_ON NONE`` for every element stated to have no dependencies (and written without any)."""
        stated = self.doc.no_dependencies
        if not stated:
            return []
        depending = {source for source, rel_type, _, _ in edges if rel_type == "DEPENDS_ON"}
        out = []
        for ref, sid in self.ids.items():
            if ref in stated and sid not in depending:
                depending.add(sid)
                out.append((sid, "DEPENDS_ON", NONE, None))
        return out

    @staticmethod
    def _fix_files_analyzed(packages: list[dict], file_ids: set[str], relationships: list[dict]) -> None:
        """spdx-tools: a package that contains files must say filesAnalyzed true; one that does not
        analyse files must not carry licenseInfoFromFiles or a verification code."""
        holders = {
            r["spdxElementId"]
            for r in relationships
            if r["relationshipType"] == "CONTAINS" and r["relatedSpdxElement"] in file_ids
        }
        holders |= {
            r["relatedSpdxElement"]
            for r in relationships
            if r["relationshipType"] == "CONTAINED_BY" and r["spdxElementId"] in file_ids
        }
        for pkg in packages:
            if pkg["SPDXID"] in holders:
                pkg["filesAnalyzed"] = True
            if not pkg["filesAnalyzed"]:
                pkg.pop("licenseInfoFromFiles", None)
                pkg.pop("packageVerificationCode", None)

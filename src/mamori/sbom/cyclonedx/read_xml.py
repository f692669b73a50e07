"""CycloneDX XML (spec 1.0-1.7) → the model.

lxml parses with entities unresolved, no network and no DTD loading; a document that declares a
DOCTYPE or ENTITY at all is refused. The element tree is turned into the JSON shape of the same
BOM (element and attribute names are the JSON keys) and handed to from_bom.py, so both
serialisations share one mapping. The 1.1 dependency-graph extension namespace is understood.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from mamori.errors import InputError
from mamori.i18n import N_, _
from mamori.model import Document
from mamori.sbom.cyclonedx.from_bom import MAX_DEPTH, document_from_bom
from mamori.sbom.cyclonedx.versions import READ_VERSIONS, XML_DEPENDENCY_GRAPH_NS, XML_NS_PREFIX
from mamori.sbom.gc_pause import gc_paused

if TYPE_CHECKING:
    from mamori.sbom.formats import ReadOptions

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_DTD_REFUSED = N_("XML DTD/entity declarations are refused")


def _parser(huge: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge,
        remove_comments=True,
        remove_pis=True,
    )


def _syntax_error(path: Path, exc: etree.XMLSyntaxError) -> InputError:
    message = (exc.msg or "syntax error").splitlines()[0].strip()
    return InputError(
        path,
        _("invalid XML at line {lineno} column {offset}: {message}").format(
            lineno=exc.lineno, offset=exc.offset, message=message
        ),
    )


def parse_xml(data: bytes, path: Path) -> etree._Element:
    """The root element of safe XML; InputError for a syntax error or a DTD/entity declaration."""
    if _DTD.search(data[:65536]):
        raise InputError(path, _(_DTD_REFUSED))
    try:
        root = etree.fromstring(data, _parser(huge=False))
    except etree.XMLSyntaxError as exc:
        if "huge" not in str(exc).lower():
            raise _syntax_error(path, exc) from None
        # a single text node over libxml2's 10 MB limit: legitimate in big BOMs (licence texts)
        try:
            root = etree.fromstring(data, _parser(huge=True))
        except etree.XMLSyntaxError as exc2:
            raise _syntax_error(path, exc2) from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise InputError(path, _("invalid XML: {reason}").format(reason=" ".join(str(exc).split()))) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InputError(path, _(_DTD_REFUSED))
    return root


def spec_version(root: etree._Element, path: Path) -> str:
    qname = etree.QName(root)
    if qname.localname != "bom":
        raise InputError(
            path,
            _("not a CycloneDX BOM: XML root element is <{localname}>, expected <bom>").format(
                localname=qname.localname
            ),
        )
    ns = qname.namespace or ""
    if not ns.startswith(XML_NS_PREFIX):
        shown = f"namespace {ns!r}" if ns else "no namespace"
        raise InputError(
            path,
            _("not a CycloneDX BOM: <bom> has {shown}, expected {xml_ns_prefix}1.x").format(
                shown=shown, xml_ns_prefix=XML_NS_PREFIX
            ),
        )
    version = ns[len(XML_NS_PREFIX) :]
    if version not in READ_VERSIONS:
        raise InputError(
            path,
            _("unsupported CycloneDX spec version {version}").format(version=" ".join(version.split())[:40]),
        )
    return version


class _Shape:
    """Element tree → JSON-shaped dicts for one namespace."""

    # component children whose text is the JSON value
    COMPONENT_TEXT = frozenset(
        (
            "author",
            "publisher",
            "group",
            "name",
            "version",
            "description",
            "scope",
            "copyright",
            "cpe",
            "purl",
        )
    )
    SERVICE_TEXT = frozenset(("group", "name", "version", "description", "authenticated", "x-trust-boundary"))
    FREE_TEXT = frozenset(("description", "copyright"))  # kept as written; other values are trimmed

    def __init__(self, ns: str) -> None:
        self.prefix = "{" + ns + "}"
        self.cut = len(self.prefix)
        self.dg_prefix = "{" + XML_DEPENDENCY_GRAPH_NS + "}"

    def children(self, el: etree._Element):
        """(local name, element) for each child in the BOM namespace."""
        prefix, cut = self.prefix, self.cut
        for child in el:
            tag = child.tag
            if type(tag) is str and tag.startswith(prefix):
                yield tag[cut:], child

    @staticmethod
    def text(el: etree._Element) -> str:
        return (el.text or "").strip()

    @staticmethod
    def free_text(el: etree._Element) -> str:
        """Prose kept as written, except the line breaks and indentation a pretty-printer put around it."""
        value = el.text or ""
        return value.strip() if "\n" in value else value

    def texts(self, el: etree._Element, name: str) -> list[str]:
        return [self.text(c) for n, c in self.children(el) if n == name]

    def bom(self, root: etree._Element) -> dict[str, Any]:
        bom: dict[str, Any] = {}
        for key in ("serialNumber", "version"):
            if root.get(key) is not None:
                bom[key] = root.get(key)
        for name, el in self.children(root):
            if name == "metadata":
                bom["metadata"] = self.metadata(el)
            elif name == "components":
                bom["components"] = self.components(el, 0)
            elif name == "services":
                bom["services"] = self.services(el, 0)
            elif name == "dependencies":
                bom["dependencies"] = self.dependencies(el, self.prefix)
            elif name == "properties":
                bom["properties"] = self.properties(el)
        for el in root:
            if el.tag == self.dg_prefix + "dependencies":
                bom.setdefault("dependencies", []).extend(self.dependencies(el, self.dg_prefix))
        return bom

    def metadata(self, el: etree._Element) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for name, child in self.children(el):
            if name == "timestamp":
                meta["timestamp"] = self.text(child)
            elif name == "lifecycles":
                meta["lifecycles"] = [
                    {n: self.text(c) for n, c in self.children(lc)}
                    for n2, lc in self.children(child)
                    if n2 == "lifecycle"
                ]
            elif name == "tools":
                meta["tools"] = self.tools(child)
            elif name == "authors":
                meta["authors"] = [self.contact(c) for n, c in self.children(child) if n == "author"]
            elif name == "component":
                meta["component"] = self.component(child, 0)
            elif name in ("manufacturer", "manufacture", "supplier"):
                meta[name] = self.entity(child)
            elif name == "licenses":
                meta["licenses"] = self.licenses(child)
            elif name == "properties":
                meta["properties"] = self.properties(child)
        return meta

    def tools(self, el: etree._Element) -> Any:
        legacy: list[dict[str, Any]] = []
        modern: dict[str, Any] = {}
        for name, child in self.children(el):
            if name == "tool":
                legacy.append(
                    {n: self.text(c) for n, c in self.children(child) if n in ("vendor", "name", "version")}
                )
            elif name == "components":
                modern["components"] = self.components(child, 0)
            elif name == "services":
                modern["services"] = self.services(child, 0)
        return modern if modern else legacy

    def contact(self, el: etree._Element) -> dict[str, Any]:
        return {n: self.text(c) for n, c in self.children(el) if n in ("name", "email", "phone")}

    def entity(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child in self.children(el):
            if name == "name":
                out["name"] = self.text(child)
            elif name == "url":
                out.setdefault("url", []).append(self.text(child))
            elif name == "contact":
                out.setdefault("contact", []).append(self.contact(child))
        return out

    def properties(self, el: etree._Element) -> list[dict[str, Any]]:
        return [
            {"name": c.get("name"), "value": c.text or ""} for n, c in self.children(el) if n == "property"
        ]

    def licenses(self, el: etree._Element) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, child in self.children(el):
            ack = child.get("acknowledgement")
            if name == "expression":
                entry: dict[str, Any] = {"expression": self.text(child)}
                if ack:
                    entry["acknowledgement"] = ack
                out.append(entry)
            elif name == "license":
                lic = {n: self.text(c) for n, c in self.children(child) if n in ("id", "name")}
                if ack:
                    lic["acknowledgement"] = ack
                out.append({"license": lic})
        return out

    def hashes(self, el: etree._Element) -> list[dict[str, Any]]:
        return [{"alg": c.get("alg"), "content": self.text(c)} for n, c in self.children(el) if n == "hash"]

    def references(self, el: etree._Element) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, child in self.children(el):
            if name != "reference":
                continue
            ref: dict[str, Any] = {"type": child.get("type")}
            for n, c in self.children(child):
                if n in ("url", "comment"):
                    ref[n] = self.text(c)
            out.append(ref)
        return out

    def components(self, el: etree._Element, depth: int) -> list[dict[str, Any]]:
        if depth >= MAX_DEPTH:
            return [{"components": "nested too deeply"}]  # from_bom reports it with its path
        return [self.component(c, depth) for n, c in self.children(el) if n == "component"]

    def component(self, el: etree._Element, depth: int) -> dict[str, Any]:
        comp: dict[str, Any] = {}
        for key in ("type", "bom-ref"):
            if el.get(key) is not None:
                comp[key] = el.get(key)
        text_fields = self.COMPONENT_TEXT
        for name, child in self.children(el):
            if name in text_fields:
                comp[name] = self.free_text(child) if name in self.FREE_TEXT else self.text(child)
            elif name == "hashes":
                comp["hashes"] = self.hashes(child)
            elif name == "licenses":
                comp["licenses"] = self.licenses(child)
            elif name == "externalReferences":
                comp["externalReferences"] = self.references(child)
            elif name == "properties":
                comp["properties"] = self.properties(child)
            elif name == "components":
                comp["components"] = self.components(child, depth + 1)
            elif name in ("supplier", "manufacturer"):
                comp[name] = self.entity(child)
            elif name == "authors":
                comp["authors"] = [self.contact(c) for n, c in self.children(child) if n == "author"]
            elif name == "swid":
                comp["swid"] = {"tagId": child.get("tagId")}
            elif name == "evidence":
                comp["evidence"] = self.evidence(child)
        return comp

    def evidence(self, el: etree._Element) -> dict[str, Any]:
        """Only ``occurrences`` (location, line) is read; the rest of evidence is not kept."""
        occurrences: list[dict[str, Any]] = []
        for name, child in self.children(el):
            if name == "occurrences":
                for n, item in self.children(child):
                    if n == "occurrence":
                        entry = {k: self.text(c) for k, c in self.children(item) if k in ("location", "line")}
                        occurrences.append(entry)
        return {"occurrences": occurrences}

    def services(self, el: etree._Element, depth: int) -> list[dict[str, Any]]:
        if depth >= MAX_DEPTH:
            return [{"services": "nested too deeply"}]
        return [self.service(c, depth) for n, c in self.children(el) if n == "service"]

    def service(self, el: etree._Element, depth: int) -> dict[str, Any]:
        svc: dict[str, Any] = {}
        if el.get("bom-ref") is not None:
            svc["bom-ref"] = el.get("bom-ref")
        for name, child in self.children(el):
            if name in self.SERVICE_TEXT:
                svc[name] = self.free_text(child) if name in self.FREE_TEXT else self.text(child)
            elif name == "provider":
                svc["provider"] = self.entity(child)
            elif name == "endpoints":
                svc["endpoints"] = self.texts(child, "endpoint")
            elif name == "data":
                svc["data"] = self.service_data(child)
            elif name == "licenses":
                svc["licenses"] = self.licenses(child)
            elif name == "externalReferences":
                svc["externalReferences"] = self.references(child)
            elif name == "properties":
                svc["properties"] = self.properties(child)
            elif name == "services":
                svc["services"] = self.services(child, depth + 1)
        return svc

    def service_data(self, el: etree._Element) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, child in self.children(el):
            if name == "classification":
                out.append({"flow": child.get("flow"), "classification": self.text(child)})
            elif name == "dataflow":  # 1.5+: name/description attributes around a classification
                flow: dict[str, Any] = {k: child.get(k) for k in ("name", "description") if child.get(k)}
                for n, c in self.children(child):
                    if n == "classification":
                        flow.update({"flow": c.get("flow"), "classification": self.text(c)})
                out.append(flow)
        return out

    def dependencies(self, el: etree._Element, prefix: str) -> list[dict[str, Any]]:
        tag = prefix + "dependency"
        out: list[dict[str, Any]] = []
        for child in el:
            if child.tag == tag:
                out.append(
                    {
                        "ref": child.get("ref"),
                        "dependsOn": [c.get("ref") for c in child if c.tag == tag],
                    }
                )
        return out


def read(data: bytes, path: Path, options: ReadOptions | None = None) -> Document:
    """Read CycloneDX XML bytes into a Document."""
    path = Path(path)
    with gc_paused():
        root = parse_xml(data, path)
        version = spec_version(root, path)
        bom = _Shape(etree.QName(root).namespace).bom(root)
        return document_from_bom(bom, path, version, strict=bool(options and options.strict))

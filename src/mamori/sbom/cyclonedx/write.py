"""The model → CycloneDX 1.6 (default), 1.5 or 1.4, as JSON (orjson) or XML (lxml).

to_bom.py decides what goes where and this module only serialises; both outputs are deterministic
for a given model. In short (details in to_bom.py and carried.py):

- relationships: DEPENDS_ON → ``dependencies``; DEPENDENCY_OF → the reversed DEPENDS_ON; CONTAINS
  and every other type, and edges to refs outside the BOM → ``mamori:relationship`` properties in
  ``metadata.properties`` (CONTAINS is not turned into nesting); the readers restore them;
- every component and service has a unique bom-ref (made from the purl or name@version when
  missing) and ``dependencies`` only names refs that exist;
- licences: one SPDX id → ``license.id``, one LicenseRef → ``license.name``, else ``expression``;
- a lower version drops what it lacks (lifecycles < 1.5, acknowledgement < 1.6 …) or carries it
  in a ``mamori:`` property so that reading the output back restores the model.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson
from lxml import etree

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Document
from mamori.sbom.cyclonedx.to_bom import bom_from_document
from mamori.sbom.cyclonedx.versions import DEFAULT_WRITE_VERSION, WRITE_VERSIONS, XML_NS_PREFIX

# characters XML 1.0 cannot carry at all
# <purl> is an xs:anyURI in the XML schema (JSON has no such type): what a URI cannot hold (a space,
# brackets, quotes, non-ASCII) is percent-encoded, as the purl specification wants it anyway
_URI_SAFE = "!#$%&'()*+,/:;=?@~-._"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _version(spec_version: str | None) -> str:
    version = spec_version or DEFAULT_WRITE_VERSION
    if version not in WRITE_VERSIONS:
        raise InputError(
            None,
            _("CycloneDX output supports spec versions {write_versions}, not {version}").format(
                write_versions=", ".join(WRITE_VERSIONS), version=version
            ),
        )
    return version


def write_json(doc: Document, spec_version: str | None = None) -> bytes:
    """CycloneDX JSON bytes (two-space indent, final newline)."""
    bom = bom_from_document(doc, _version(spec_version))
    return orjson.dumps(bom, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def write_xml(doc: Document, spec_version: str | None = None) -> bytes:
    """CycloneDX XML bytes, UTF-8 with an XML declaration."""
    version = _version(spec_version)
    bom = bom_from_document(doc, version)
    root = _XmlBom(XML_NS_PREFIX + version).bom(bom)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


class _XmlBom:
    """The JSON shape from to_bom.py → elements; dict keys are already in schema order."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.q = "{" + ns + "}"

    def sub(self, parent: etree._Element, tag: str, text: Any = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, self.q + tag)
        for key, value in attrs.items():
            el.set(key.replace("_", "-"), self.clean(value))
        if text is not None:
            el.text = self.clean(text if isinstance(text, str) else ("true" if text else "false"))
        return el

    @staticmethod
    def clean(value: str) -> str:
        return _NOT_XML.sub("\ufffd", value) if _NOT_XML.search(value) else value

    def bom(self, bom: dict[str, Any]) -> etree._Element:
        root = etree.Element(self.q + "bom", nsmap={None: self.ns})
        if "serialNumber" in bom:
            root.set("serialNumber", bom["serialNumber"])
        root.set("version", str(bom["version"]))
        if "metadata" in bom:
            self.metadata(root, bom["metadata"])
        if "components" in bom:
            self.components(self.sub(root, "components"), bom["components"])
        if "services" in bom:
            self.services(self.sub(root, "services"), bom["services"])
        if "dependencies" in bom:
            deps = self.sub(root, "dependencies")
            for dep in bom["dependencies"]:
                el = self.sub(deps, "dependency", ref=dep["ref"])
                for target in dep["dependsOn"]:
                    self.sub(el, "dependency", ref=target)
        return root

    def metadata(self, parent: etree._Element, meta: dict[str, Any]) -> None:
        el = self.sub(parent, "metadata")
        for key, value in meta.items():
            if key == "timestamp":
                self.sub(el, key, value)
            elif key == "lifecycles":
                wrap = self.sub(el, key)
                for item in value:
                    self.plain(self.sub(wrap, "lifecycle"), item)
            elif key == "tools":
                wrap = self.sub(el, key)
                if isinstance(value, dict):
                    self.components(self.sub(wrap, "components"), value["components"])
                else:
                    for tool in value:
                        self.plain(self.sub(wrap, "tool"), tool)
            elif key == "authors":
                wrap = self.sub(el, key)
                for who in value:
                    self.plain(self.sub(wrap, "author"), who)
            elif key == "component":
                self.component(el, value)
            elif key in ("manufacturer", "manufacture", "supplier"):
                self.entity(el, key, value)
            elif key == "licenses":
                self.licenses(el, value)
            elif key == "properties":
                self.properties(el, value)

    def plain(self, el: etree._Element, values: dict[str, str]) -> None:
        for key, value in values.items():
            self.sub(el, key, value)

    def entity(self, parent: etree._Element, name: str, entity: dict[str, Any]) -> None:
        el = self.sub(parent, name)
        for key, value in entity.items():
            if key == "name":
                self.sub(el, key, value)
            elif key == "url":
                for url in value:
                    self.sub(el, "url", url)
            elif key == "contact":
                for who in value:
                    self.plain(self.sub(el, "contact"), who)

    def licenses(self, parent: etree._Element, entries: list[dict[str, Any]]) -> None:
        el = self.sub(parent, "licenses")
        for entry in entries:
            if "expression" in entry:
                attrs = {"acknowledgement": entry["acknowledgement"]} if "acknowledgement" in entry else {}
                self.sub(el, "expression", entry["expression"], **attrs)
            else:
                lic = dict(entry["license"])
                ack = lic.pop("acknowledgement", None)
                lic_el = self.sub(el, "license", **({"acknowledgement": ack} if ack else {}))
                self.plain(lic_el, lic)

    def properties(self, parent: etree._Element, props: list[dict[str, str]]) -> None:
        el = self.sub(parent, "properties")
        for prop in props:
            self.sub(el, "property", prop["value"], name=prop["name"])

    def references(self, parent: etree._Element, refs: list[dict[str, Any]]) -> None:
        el = self.sub(parent, "externalReferences")
        for ref in refs:
            ref_el = self.sub(el, "reference", type=ref["type"])
            self.sub(ref_el, "url", ref["url"])
            if "comment" in ref:
                self.sub(ref_el, "comment", ref["comment"])

    def components(self, parent: etree._Element, comps: list[dict[str, Any]]) -> None:
        for comp in comps:
            self.component(parent, comp)

    def component(self, parent: etree._Element, comp: dict[str, Any]) -> None:
        attrs = {"type": comp["type"]}
        if "bom-ref" in comp:
            attrs["bom_ref"] = comp["bom-ref"]
        el = self.sub(parent, "component", **attrs)
        for key, value in comp.items():
            if key in ("type", "bom-ref"):
                continue
            if key == "purl":
                self.sub(el, key, quote(value, safe=_URI_SAFE))
            elif isinstance(value, str):
                self.sub(el, key, value)
            elif key in ("supplier", "manufacturer"):
                self.entity(el, key, value)
            elif key == "hashes":
                wrap = self.sub(el, key)
                for h in value:
                    self.sub(wrap, "hash", h["content"], alg=h["alg"])
            elif key == "licenses":
                self.licenses(el, value)
            elif key == "swid":
                self.sub(el, "swid", tagId=value["tagId"], name=value["name"])
            elif key == "externalReferences":
                self.references(el, value)
            elif key == "properties":
                self.properties(el, value)
            elif key == "components":
                self.components(self.sub(el, key), value)
            elif key == "evidence":
                wrap = self.sub(self.sub(el, "evidence"), "occurrences")
                for occurrence in value["occurrences"]:
                    item = self.sub(wrap, "occurrence")
                    self.sub(item, "location", occurrence["location"])
                    if "line" in occurrence:
                        self.sub(item, "line", str(occurrence["line"]))

    def services(self, parent: etree._Element, services: list[dict[str, Any]]) -> None:
        for svc in services:
            el = self.sub(parent, "service", bom_ref=svc["bom-ref"])
            for key, value in svc.items():
                if key == "bom-ref":
                    continue
                if isinstance(value, str | bool):
                    self.sub(el, key, value)
                elif key == "provider":
                    self.entity(el, key, value)
                elif key == "endpoints":
                    wrap = self.sub(el, key)
                    for url in value:
                        self.sub(wrap, "endpoint", url)
                elif key == "data":
                    self.service_data(self.sub(el, key), value)
                elif key == "licenses":
                    self.licenses(el, value)
                elif key == "externalReferences":
                    self.references(el, value)
                elif key == "properties":
                    self.properties(el, value)
                elif key == "services":
                    self.services(self.sub(el, key), value)

    def service_data(self, wrap: etree._Element, flows: list[dict[str, str]]) -> None:
        """Plain classifications, or (1.5+, when a flow is named) the dataflow form: the schema allows one."""
        named = any("name" in f or "description" in f for f in flows)
        for flow in flows:
            parent = wrap
            if named:
                attrs = {k: flow[k] for k in ("name", "description") if k in flow}
                parent = self.sub(wrap, "dataflow", **attrs)
            self.sub(parent, "classification", flow["classification"], flow=flow["flow"])

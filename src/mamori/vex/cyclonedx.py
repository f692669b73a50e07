"""CycloneDX VEX (1.4-1.6 ``vulnerabilities[].analysis``) ↔ the VEX model.

Reading accepts JSON and XML BOMs of spec 1.2-1.7 (a BOM without vulnerabilities gives a document
without statements). Each vulnerability with an ``analysis.state`` is one statement; its ``affects``
targets are the products: a target with ``versions`` gives one product per version or range. Refs are
resolved against the BOM's own components (metadata.component and components, nested) for names,
versions, purls and CPEs. ``analysis.detail`` is the impact statement of a not_affected statement, the
action statement of an affected one, and the status notes otherwise.

Writing builds the JSON of spec 1.4, 1.5 or 1.6: one vulnerability per statement, one component per
product ref that is local to the document (BOM-Links point elsewhere), products' subcomponents as
nested components.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from lxml import etree

from mamori import __version__
from mamori.errors import InputError
from mamori.i18n import gettext
from mamori.model.references import web_url
from mamori.model.vex import VexDocument, VexProduct, VexStatement, VexVulnerability
from mamori.sbom.cyclonedx.read_json import check_bom
from mamori.sbom.cyclonedx.read_xml import _Shape, parse_xml, spec_version
from mamori.sbom.cyclonedx.versions import WRITE_VERSIONS, at_least
from mamori.vex.fields import Fields, iso
from mamori.vex.identifiers import hash_label, purl_parts
from mamori.vex.mapping import mapping

DEFAULT_SPEC_VERSION = "1.6"
_UUID_URN = re.compile(
    r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_NOT_AFFECTED_STATES = ("not_affected", "false_positive")
_MAX_COMPONENT_DEPTH = 64


# ---------------------------------------------------------------- reading


def read_json(bom: Any, path: Path) -> VexDocument:
    return _Reader(path).document(bom, check_bom(bom, path))


def read_xml(data: bytes, path: Path) -> VexDocument:
    root = parse_xml(data, path)
    version = spec_version(root, path)
    shape = _Shape(etree.QName(root).namespace or "")
    bom = shape.bom(root)
    for name, el in shape.children(root):
        if name == "vulnerabilities":
            bom["vulnerabilities"] = [
                _xml_vulnerability(shape, v) for n, v in shape.children(el) if n == "vulnerability"
            ]
    if "version" in bom:
        try:
            bom["version"] = int(bom["version"])
        except ValueError:
            raise Fields(path).fail(
                "version", gettext("not an integer: {version!r}").format(version=bom["version"])
            ) from None
    return _Reader(path).document(bom, version)


def _xml_vulnerability(shape: _Shape, el: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if el.get("bom-ref") is not None:
        out["bom-ref"] = el.get("bom-ref")
    for name, child in shape.children(el):
        if name in ("id", "description", "detail", "recommendation", "published", "updated"):
            out[name] = shape.free_text(child)
        elif name == "source":
            out["source"] = {n: shape.text(c) for n, c in shape.children(child) if n in ("name", "url")}
        elif name == "references":
            out["references"] = [
                {
                    "id": " ".join(shape.texts(ref, "id")),
                    "source": {
                        n: shape.text(c)
                        for s, src in shape.children(ref)
                        if s == "source"
                        for n, c in shape.children(src)
                        if n in ("name", "url")
                    },
                }
                for n, ref in shape.children(child)
                if n == "reference"
            ]
        elif name == "analysis":
            analysis: dict[str, Any] = {}
            for n, c in shape.children(child):
                if n in ("state", "justification", "firstIssued", "lastUpdated"):
                    analysis[n] = shape.text(c)
                elif n == "detail":
                    analysis[n] = shape.free_text(c)
                elif n == "responses":
                    analysis["response"] = shape.texts(c, "response")
            out["analysis"] = analysis
        elif name == "affects":
            out["affects"] = [_xml_target(shape, t) for n, t in shape.children(child) if n == "target"]
    return out


def _xml_target(shape: _Shape, el: etree._Element) -> dict[str, Any]:
    target: dict[str, Any] = {}
    for name, child in shape.children(el):
        if name == "ref":
            target["ref"] = shape.text(child)
        elif name == "versions":
            target["versions"] = [
                {n: shape.text(c) for n, c in shape.children(v) if n in ("version", "range", "status")}
                for n2, v in shape.children(child)
                if n2 == "version"
            ]
    return target


class _Reader(Fields):
    def document(self, bom: dict[str, Any], version: str) -> VexDocument:
        meta = self.get_obj(bom, "metadata", "") or {}
        doc = VexDocument(source_format="cyclonedx", spec_version=version)
        doc.id = self.get_str(bom, "serialNumber", "")
        doc.version = self.get_int(bom, "version", "") or 1
        doc.timestamp = self.get_time(meta, "timestamp", "metadata")
        self._author(doc, meta)
        doc.tool = self._tool(meta)
        components = self._components(bom, meta)
        for i, raw in enumerate(self.get_list(bom, "vulnerabilities", "")):
            where = f"vulnerabilities[{i}]"
            statement = self.statement(self.obj(raw, where), where, components)
            if statement is None:
                vid = raw.get("id") if isinstance(raw.get("id"), str) else where
                doc.warnings.append(
                    gettext("{vid}: no analysis state, so not a VEX statement; skipped").format(vid=vid)
                )
            else:
                doc.statements.append(statement)
        return doc

    def _author(self, doc: VexDocument, meta: dict[str, Any]) -> None:
        for i, author in enumerate(self.get_list(meta, "authors", "metadata")):
            author = self.obj(author, f"metadata.authors[{i}]")
            name = self.get_str(author, "name", f"metadata.authors[{i}]")
            if name:
                doc.author = name
                break
        for key, role in (
            ("manufacturer", "manufacturer"),
            ("manufacture", "manufacturer"),
            ("supplier", "supplier"),
        ):
            entity = self.get_obj(meta, key, "metadata")
            if not entity:
                continue
            name = self.get_str(entity, "name", f"metadata.{key}")
            urls = self.strings(entity, "url", f"metadata.{key}")
            if doc.author is None and name:
                doc.author, doc.author_role = name, role
            if doc.author_url is None and urls and (name is None or name == doc.author):
                doc.author_url = urls[0]

    def _tool(self, meta: dict[str, Any]) -> str | None:
        tools = meta.get("tools")
        entries: list[Any] = []
        if isinstance(tools, list):
            entries = tools
        elif isinstance(tools, dict) and isinstance(tools.get("components"), list):
            entries = tools["components"]
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                version = entry.get("version")
                return f"{entry['name']} {version}" if isinstance(version, str) else entry["name"]
        return None

    def _components(self, bom: dict[str, Any], meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}

        def walk(comp: Any, where: str, depth: int) -> None:
            comp = self.obj(comp, where)
            if depth > _MAX_COMPONENT_DEPTH:
                self.fail(where, gettext("components nested too deeply"))
            ref = self.get_str(comp, "bom-ref", where)
            if ref:
                found.setdefault(ref, comp)
            for j, child in enumerate(self.get_list(comp, "components", where)):
                walk(child, f"{where}.components[{j}]", depth + 1)

        if meta.get("component") is not None:
            walk(meta["component"], "metadata.component", 0)
        for i, comp in enumerate(self.get_list(bom, "components", "")):
            walk(comp, f"components[{i}]", 0)
        return found

    def statement(
        self, vuln: dict[str, Any], where: str, components: dict[str, dict[str, Any]]
    ) -> VexStatement | None:
        table = mapping()
        analysis = self.get_obj(vuln, "analysis", where) or {}
        state = self.get_str(analysis, "state", f"{where}.analysis")
        if state is None:
            return None
        vid = self.get_str(vuln, "id", where, required=True)
        assert vid is not None
        status = table.cdx_state_to_status.get(state)
        if status is None:
            self.fail(
                f"{where}.analysis.state",
                gettext("unknown CycloneDX analysis state {state!r} for {vid}").format(state=state, vid=vid),
            )
        cdx_just = self.get_str(analysis, "justification", f"{where}.analysis")
        justification = None
        if cdx_just is not None:
            justification = table.cdx_justification_to_cisa.get(cdx_just)
            if justification is None:
                self.fail(
                    f"{where}.analysis.justification",
                    gettext("unknown CycloneDX justification {cdx_just!r} for {vid}").format(
                        cdx_just=cdx_just, vid=vid
                    ),
                )
        responses = self.strings(analysis, "response", f"{where}.analysis")
        for r in responses:
            if r not in table.response_to_csaf:
                self.fail(
                    f"{where}.analysis.response",
                    gettext("unknown CycloneDX response {r!r} for {vid}").format(r=r, vid=vid),
                )
        detail = self.get_str(analysis, "detail", f"{where}.analysis")
        st = VexStatement(
            vulnerability=self.vulnerability(vuln, where, vid),
            status=status,
            justification=justification,
            responses=list(dict.fromkeys(responses)),
            timestamp=self.get_time(analysis, "firstIssued", f"{where}.analysis"),
            last_updated=self.get_time(analysis, "lastUpdated", f"{where}.analysis"),
            id=self.get_str(vuln, "bom-ref", where),
            cdx_state=state,
            cdx_justification=cdx_just,
        )
        if state in _NOT_AFFECTED_STATES:
            st.impact_statement = detail
        elif status == "affected":
            st.action_statement = detail
        else:
            st.detail = detail
        for j, target in enumerate(self.get_list(vuln, "affects", where)):
            st.products.extend(
                self.products(self.obj(target, f"{where}.affects[{j}]"), f"{where}.affects[{j}]", components)
            )
        return st

    def vulnerability(self, vuln: dict[str, Any], where: str, vid: str) -> VexVulnerability:
        source = self.get_obj(vuln, "source", where) or {}
        aliases: list[str] = []
        for k, ref in enumerate(self.get_list(vuln, "references", where)):
            alias = self.get_str(self.obj(ref, f"{where}.references[{k}]"), "id", f"{where}.references[{k}]")
            if alias and alias != vid and alias not in aliases:
                aliases.append(alias)
        return VexVulnerability(
            id=vid,
            aliases=aliases,
            description=self.get_str(vuln, "description", where),
            url=self.get_str(source, "url", f"{where}.source"),
            source=self.get_str(source, "name", f"{where}.source"),
        )

    def products(
        self, target: dict[str, Any], where: str, components: dict[str, dict[str, Any]]
    ) -> list[VexProduct]:
        ref = self.get_str(target, "ref", where, required=True)
        assert ref is not None
        comp = components.get(ref, {})
        if not comp and ref.startswith("urn:cdx:"):
            # a BOM-Link; the document may carry a copy of the element it names (its name and purl)
            comp = components.get(_link_target(ref) or "", {})
        base = self.product_from_component(comp, ref, where) if comp else VexProduct(ref=ref)
        versions = self.get_list(target, "versions", where)
        if not versions:
            return [base]
        out: list[VexProduct] = []
        for k, entry in enumerate(versions):
            at = f"{where}.versions[{k}]"
            entry = self.obj(entry, at)
            version = self.get_str(entry, "version", at)
            vrange = self.get_str(entry, "range", at)
            if (version is None) == (vrange is None):
                self.fail(at, gettext("needs exactly one of version and range"))
            out.append(
                VexProduct(
                    ref=ref,
                    name=base.name,
                    vendor=base.vendor,
                    purl=base.purl,
                    cpe=base.cpe,
                    hashes=dict(base.hashes),
                    subcomponents=list(base.subcomponents),
                    version=version,
                    version_range=vrange,
                    version_status=self.get_str(entry, "status", at),
                )
            )
        return out

    def product_from_component(self, comp: dict[str, Any], ref: str | None, where: str) -> VexProduct:
        supplier = comp.get("supplier")
        vendor = (
            supplier.get("name")
            if isinstance(supplier, dict) and isinstance(supplier.get("name"), str)
            else None
        )
        if vendor is None and isinstance(comp.get("group"), str):
            vendor = comp["group"]
        raw_hashes = comp.get("hashes") if isinstance(comp.get("hashes"), list) else []
        hashes = {
            hash_label(h["alg"]): h["content"]
            for h in raw_hashes
            if isinstance(h, dict) and isinstance(h.get("alg"), str) and isinstance(h.get("content"), str)
        }
        product = VexProduct(
            ref=ref,
            name=comp.get("name") if isinstance(comp.get("name"), str) else None,
            version=comp.get("version") if isinstance(comp.get("version"), str) else None,
            vendor=vendor,
            purl=comp.get("purl") if isinstance(comp.get("purl"), str) else None,
            cpe=comp.get("cpe") if isinstance(comp.get("cpe"), str) else None,
            hashes=hashes,
        )
        if product.version is None and product.purl:
            product.version = purl_parts(product.purl)[1]
        children = comp.get("components")
        if isinstance(children, list):
            for child in children:
                if isinstance(child, dict):
                    product.subcomponents.append(
                        self.product_from_component(
                            child,
                            child.get("bom-ref") if isinstance(child.get("bom-ref"), str) else None,
                            where,
                        )
                    )
        return product


# ---------------------------------------------------------------- writing


def to_json(doc: VexDocument, spec_version: str | None = None) -> dict[str, Any]:
    """The CycloneDX VEX BOM as a JSON-ready dict."""
    version = spec_version or DEFAULT_SPEC_VERSION
    if version not in WRITE_VERSIONS:
        raise ValueError(
            gettext("CycloneDX VEX output supports spec versions {supported}, not {version}").format(
                supported=", ".join(WRITE_VERSIONS), version=version
            )
        )
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": version}
    if doc.id and _UUID_URN.match(doc.id):
        bom["serialNumber"] = doc.id.lower()
    bom["version"] = max(1, doc.version)
    bom["metadata"] = _metadata(doc, version)
    components, versioned = _components(doc)
    if components:
        bom["components"] = components
    vulns = [_vulnerability(st, version, versioned) for st in doc.statements]
    if vulns:
        bom["vulnerabilities"] = vulns
    return bom


def _metadata(doc: VexDocument, version: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if doc.timestamp:
        meta["timestamp"] = iso(doc.timestamp)
    tool = {"name": "mamori", "version": __version__}
    meta["tools"] = {"components": [{"type": "application", **tool}]} if at_least(version, "1.5") else [tool]
    if doc.author:
        meta["authors"] = [{"name": doc.author}]
        if web_url(doc.author_url):
            meta["supplier"] = {"name": doc.author, "url": [doc.author_url]}
    return meta


def product_ref(product: VexProduct) -> str:
    if not product.key:
        raise InputError(
            None,
            gettext("a product ({label}) has no identifier to use as a CycloneDX ref").format(
                label=product.label
            ),
        )
    return product.key


def _components(doc: VexDocument) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One component per product ref local to this document (BOM-Links and unnamed refs are left out).

    Also returns, per ref, the version the component itself carries (then ``affects`` needs no versions).
    """
    by_ref: dict[str, list[VexProduct]] = {}
    for st in doc.statements:
        for product in st.products:
            by_ref.setdefault(product_ref(product), []).append(product)
    used: set[str] = set(by_ref)
    out: list[dict[str, Any]] = []
    versioned: dict[str, str] = {}
    mirrored: set[str] = set()
    for ref, products in by_ref.items():
        first = products[0]
        if ref.startswith("urn:cdx:"):
            # a BOM-Link: the element lives in another BOM; a copy under its bom-ref carries its purl
            target = _link_target(ref)
            if target and (first.purl or first.name) and target not in by_ref and target not in mirrored:
                mirrored.add(target)
                used.add(target)
                versions = {(p.version, p.version_range) for p in products}
                if len(versions) == 1 and first.version and first.version_range is None:
                    versioned[ref] = first.version
                out.append(_component(replace(first, subcomponents=[]), target, versioned.get(ref), used, 1))
            continue
        if not (first.name or first.purl or first.cpe):
            continue
        versions = {(p.version, p.version_range) for p in products}
        version, vrange = next(iter(versions)) if len(versions) == 1 else (None, None)
        if version and vrange is None:
            versioned[ref] = version
        out.append(_component(first, ref, versioned.get(ref), used, 0))
    return out, versioned


def _link_target(ref: str) -> str | None:
    """The bom-ref a BOM-Link points at (percent-decoded), or None."""
    from urllib.parse import unquote

    _, sep, fragment = ref.partition("#")
    return unquote(fragment) if sep and fragment else None


def _component(
    product: VexProduct, ref: str, version: str | None, used: set[str], depth: int
) -> dict[str, Any]:
    comp: dict[str, Any] = {"type": "application" if depth == 0 else "library", "bom-ref": ref}
    if product.vendor:
        comp["supplier"] = {"name": product.vendor}
    comp["name"] = product.name or ref
    if version:
        comp["version"] = version
    if product.cpe:
        comp["cpe"] = product.cpe
    if product.purl:
        comp["purl"] = product.purl
    children = []
    for sub in product.subcomponents:
        sub_ref = sub.key or f"{ref}/{sub.name or len(children)}"
        if sub_ref in used or depth >= _MAX_COMPONENT_DEPTH:
            continue
        used.add(sub_ref)
        children.append(_component(sub, sub_ref, sub.version, used, depth + 1))
    if children:
        comp["components"] = children
    return comp


def _vulnerability(st: VexStatement, version: str, versioned: dict[str, str]) -> dict[str, Any]:
    table = mapping()
    vuln: dict[str, Any] = {}
    if st.id:
        vuln["bom-ref"] = st.id
    vuln["id"] = st.vulnerability.id
    url = web_url(st.vulnerability.url)  # http(s) only
    if st.vulnerability.source or url:
        source = {}
        if st.vulnerability.source:
            source["name"] = st.vulnerability.source
        if url:
            source["url"] = url
        vuln["source"] = source
    if st.vulnerability.aliases:
        vuln["references"] = [{"id": alias, "source": {}} for alias in st.vulnerability.aliases]
    if st.vulnerability.description:
        vuln["description"] = st.vulnerability.description
    analysis: dict[str, Any] = {}
    state = st.cdx_state if table.cdx_state_to_status.get(st.cdx_state or "") == st.status else None
    analysis["state"] = state or table.status_to_cdx_state[st.status]
    if st.status == "not_affected":
        justification = table.cdx_justification(st.justification, st.cdx_justification)
        if justification:
            analysis["justification"] = justification
    if st.responses:
        analysis["response"] = list(st.responses)
    detail = _detail(st)
    if detail:
        analysis["detail"] = detail
    if at_least(version, "1.5"):
        if st.timestamp:
            analysis["firstIssued"] = iso(st.timestamp)
        if st.last_updated:
            analysis["lastUpdated"] = iso(st.last_updated)
    vuln["analysis"] = analysis
    affects = _affects(st, versioned)
    if affects:
        vuln["affects"] = affects
    return vuln


def _detail(st: VexStatement) -> str | None:
    if st.status == "not_affected":
        main = st.impact_statement
    elif st.status == "affected":
        main = st.action_statement
    else:
        main = st.detail
    return main or st.detail or st.impact_statement or st.action_statement


def _affects(st: VexStatement, versioned: dict[str, str]) -> list[dict[str, Any]]:
    default_status = mapping().status_to_cdx_version_status[st.status]
    targets: dict[str, list[dict[str, Any]]] = {}
    for product in st.products:
        ref = product_ref(product)
        entries = targets.setdefault(ref, [])
        if product.version_range:
            entries.append(
                {"range": product.version_range, "status": product.version_status or default_status}
            )
        elif product.version and versioned.get(ref) != product.version:
            entries.append({"version": product.version, "status": product.version_status or default_status})
    out = []
    for ref, entries in targets.items():
        target: dict[str, Any] = {"ref": ref}
        if entries:
            target["versions"] = entries
        out.append(target)
    return out

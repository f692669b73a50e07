"""OpenVEX 0.2 (JSON-LD) ↔ the VEX model; OpenVEX 0.0.x string forms are read too.

OpenVEX has no field for a product version or version range (openvex/spec#26). When a product's
``@id`` does not already carry its version (a purl does), mamori appends it to the ``@id`` as
``?mamori-version=<v>`` or ``?mamori-range=<vers>`` (``&`` when the id already has a ``?``), values
percent-encoded, and strips it again when reading. CycloneDX responses have no OpenVEX field: an
affected statement whose only action is a response list gets the response texts of the mapping
table as its ``action_statement``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from mamori import __version__
from mamori.i18n import _
from mamori.model.references import web_url
from mamori.model.vex import (
    JUSTIFICATIONS,
    VEX_STATUSES,
    VexDocument,
    VexProduct,
    VexStatement,
    VexVulnerability,
)
from mamori.vex.fields import Fields, iso
from mamori.vex.identifiers import HASH_LABELS, hash_label, purl_parts
from mamori.vex.mapping import mapping

CONTEXT = "https://openvex.dev/ns/v0.2.0"
CONTEXT_PREFIX = "https://openvex.dev/ns"
PUBLIC_NAMESPACE = "https://openvex.dev/docs/public/"
_MARKER = re.compile(r"[?&]mamori-(version|range)=([^&?#]*)$")


# ---------------------------------------------------------------- reading


def read(obj: Any, path: Path) -> VexDocument:
    return _Reader(path).document(obj)


class _Reader(Fields):
    def document(self, obj: Any) -> VexDocument:
        obj = self.obj(obj, "")
        context = obj.get("@context")
        if type(context) is not str or not context.startswith(CONTEXT_PREFIX):
            self.fail(
                "@context",
                _("not an OpenVEX document (expected {prefix}...)").format(prefix=CONTEXT_PREFIX),
            )
        doc = VexDocument(
            source_format="openvex", spec_version=context.rsplit("/", 1)[-1].lstrip("v") or None
        )
        doc.id = self.get_str(obj, "@id", "", required=True)
        doc.author = self.get_str(obj, "author", "", required=True)
        doc.author_role = self.get_str(obj, "role", "") or None
        doc.timestamp = self.get_time(obj, "timestamp", "")
        if doc.timestamp is None:
            self.fail("timestamp", _("is missing"))
        doc.last_updated = self.get_time(obj, "last_updated", "")
        version = obj.get("version")
        if type(version) is str and version.isdigit():
            version = int(version)
        if type(version) is not int or version < 1:
            self.fail(
                "version", _("expected an integer of at least 1, got {version!r}").format(version=version)
            )
        doc.version = version
        tooling = obj.get("tooling")
        doc.tool = tooling if type(tooling) is str and tooling else None
        for i, raw in enumerate(self.get_list(obj, "statements", "")):
            doc.statements.append(self.statement(self.obj(raw, f"statements[{i}]"), f"statements[{i}]"))
        return doc

    def statement(self, raw: dict[str, Any], where: str) -> VexStatement:
        vuln = self.vulnerability(raw.get("vulnerability"), f"{where}.vulnerability")
        status = self.get_str(raw, "status", where, required=True)
        if status not in VEX_STATUSES:
            self.fail(
                f"{where}.status",
                _("unknown OpenVEX status {status!r} for {id}").format(status=status, id=vuln.id),
            )
        justification = self.get_str(raw, "justification", where)
        if justification is not None and justification not in JUSTIFICATIONS:
            self.fail(
                f"{where}.justification",
                _("unknown justification {justification!r} for {id}").format(
                    justification=justification, id=vuln.id
                ),
            )
        st = VexStatement(
            vulnerability=vuln,
            status=status,
            justification=justification,
            impact_statement=self.get_str(raw, "impact_statement", where) or None,
            action_statement=self.get_str(raw, "action_statement", where) or None,
            action_statement_timestamp=self.get_time(raw, "action_statement_timestamp", where),
            detail=self.get_str(raw, "status_notes", where) or None,
            timestamp=self.get_time(raw, "timestamp", where),
            last_updated=self.get_time(raw, "last_updated", where),
            id=self.get_str(raw, "@id", where),
        )
        # OpenVEX 0.0.x: subcomponents beside the products, as strings
        shared_subs = [
            self.component(s, f"{where}.subcomponents[{k}]")
            for k, s in enumerate(self.get_list(raw, "subcomponents", where))
        ]
        for j, product in enumerate(self.get_list(raw, "products", where)):
            item = self.component(product, f"{where}.products[{j}]")
            if isinstance(product, dict):
                item.subcomponents = [
                    self.component(s, f"{where}.products[{j}].subcomponents[{k}]")
                    for k, s in enumerate(self.get_list(product, "subcomponents", f"{where}.products[{j}]"))
                ]
            item.subcomponents.extend(shared_subs)
            st.products.append(item)
        return st

    def vulnerability(self, raw: Any, where: str) -> VexVulnerability:
        if type(raw) is str and raw.strip():  # OpenVEX 0.0.x
            return VexVulnerability(id=raw)
        if raw is None:
            self.fail(where, _("is missing"))
        raw = self.obj(raw, where)
        name = self.get_str(raw, "name", where, required=True)
        assert name is not None
        aliases = [a for a in dict.fromkeys(self.strings(raw, "aliases", where)) if a != name]
        return VexVulnerability(
            id=name,
            aliases=aliases,
            description=self.get_str(raw, "description", where) or None,
            url=self.get_str(raw, "@id", where),
        )

    def component(self, raw: Any, where: str) -> VexProduct:
        if type(raw) is str:  # OpenVEX 0.0.x
            raw = {"@id": raw}
        raw = self.obj(raw, where)
        product = VexProduct()
        ident = self.get_str(raw, "@id", where)
        if ident:
            marker = _MARKER.search(ident)
            if marker:
                ident = ident[: marker.start()]
                value = unquote(marker.group(2))
                if marker.group(1) == "version":
                    product.version = value
                else:
                    product.version_range = value
            product.ref = ident
        identifiers = self.get_obj(raw, "identifiers", where) or {}
        product.purl = self.get_str(identifiers, "purl", f"{where}.identifiers")
        for key in ("cpe23", "cpe22", "@cpe23", "@cpe22"):
            product.cpe = product.cpe or self.get_str(identifiers, key, f"{where}.identifiers")
        if product.purl is None and ident and ident.startswith("pkg:"):
            product.purl = ident
        if product.purl:
            name, version = purl_parts(product.purl)
            product.name = name
            if product.version is None and product.version_range is None:
                product.version = version
        for alg, value in (self.get_obj(raw, "hashes", where) or {}).items():
            if type(value) is not str:
                self.fail(
                    f"{where}.hashes.{alg}",
                    _("expected a string, got {type}").format(type=type(value).__name__),
                )
            product.hashes[hash_label(alg)] = value
        if not product.key:
            self.fail(where, _("names no product: it needs an @id, an identifier or a hash"))
        return product


# ---------------------------------------------------------------- writing


def document_id(doc: VexDocument, digest: str) -> str:
    """The document's own IRI, else one in OpenVEX's public namespace made of the content's hex digest."""
    if doc.id and ":" in doc.id and not any(c.isspace() for c in doc.id):
        return doc.id
    return PUBLIC_NAMESPACE + "vex-" + digest


def to_json(doc: VexDocument, doc_id: str) -> dict[str, Any]:
    """The OpenVEX document; ``doc.author`` and ``doc.timestamp`` must be set (the caller checks)."""
    assert doc.author and doc.timestamp
    out: dict[str, Any] = {"@context": CONTEXT, "@id": doc_id, "author": doc.author}
    if doc.author_role:
        out["role"] = doc.author_role
    out["timestamp"] = iso(doc.timestamp)
    if doc.last_updated:
        out["last_updated"] = iso(doc.last_updated)
    out["version"] = max(1, doc.version)
    out["tooling"] = f"mamori {__version__}"
    out["statements"] = [_statement(st) for st in doc.statements]
    return out


def _statement(st: VexStatement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if st.id and ":" in st.id:
        out["@id"] = st.id
    vuln: dict[str, Any] = {}
    if web_url(st.vulnerability.url):  # http(s) only
        vuln["@id"] = st.vulnerability.url
    vuln["name"] = st.vulnerability.id
    if st.vulnerability.description:
        vuln["description"] = st.vulnerability.description
    aliases = [a for a in dict.fromkeys(st.vulnerability.aliases) if a != st.vulnerability.id]
    if aliases:
        vuln["aliases"] = aliases
    out["vulnerability"] = vuln
    if st.timestamp:
        out["timestamp"] = iso(st.timestamp)
    if st.last_updated:
        out["last_updated"] = iso(st.last_updated)
    products = _unique(product_json(p) for p in st.products)
    if products:
        out["products"] = products
    out["status"] = st.status
    if st.detail:
        out["status_notes"] = st.detail
    if st.status == "not_affected":
        if st.justification:
            out["justification"] = st.justification
        if st.impact_statement:
            out["impact_statement"] = st.impact_statement
    if st.status == "affected":
        action = st.action_statement or mapping().responses_text(st.responses)
        if action:
            out["action_statement"] = action
        if st.action_statement_timestamp:
            out["action_statement_timestamp"] = iso(st.action_statement_timestamp)
    return out


def _unique(items: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def product_id(product: VexProduct) -> str:
    """The product's OpenVEX ``@id``: its ref (else purl, CPE, CSAF id, name) plus a version marker if needed."""
    base = product.ref or product.purl or product.cpe or product.csaf_id or product.name or product.key
    if base.startswith("pkg:"):
        carried = purl_parts(base)[1]
        if product.version_range is None and product.version in (None, carried):
            return base
    joiner = "&" if "?" in base else "?"
    if product.version_range:
        return f"{base}{joiner}mamori-range={quote(product.version_range, safe='')}"
    if product.version:
        return f"{base}{joiner}mamori-version={quote(product.version, safe='')}"
    return base


def product_json(product: VexProduct, nested: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"@id": product_id(product)}
    identifiers: dict[str, str] = {}
    if product.purl:
        identifiers["purl"] = product.purl
    if product.cpe:
        identifiers["cpe23" if product.cpe.startswith("cpe:2.3:") else "cpe22"] = product.cpe
    if identifiers:
        out["identifiers"] = identifiers
    hashes = {hash_label(k): v for k, v in product.hashes.items() if hash_label(k) in HASH_LABELS}
    if hashes:
        out["hashes"] = hashes
    if nested and product.subcomponents:
        out["subcomponents"] = _unique(product_json(s, nested=False) for s in product.subcomponents)
    return out

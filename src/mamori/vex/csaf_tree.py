"""The CSAF 2.0 product tree ↔ VEX products.

Reading: every ``product_id`` defined by ``branches`` (vendor / product_name / product_version /
product_version_range), ``full_product_names`` or ``relationships`` becomes a :class:`VexProduct`; a
relationship's product is the ``relates_to`` product with the ``product_reference`` as a
subcomponent. ``product_groups`` expand to their members. A product a CycloneDX bom-ref or BOM-Link
named is kept in ``product_identification_helper.x_generic_uris``.

Writing: versioned products go into branches, unversioned ones into ``full_product_names``,
products with subcomponents into ``relationships`` (``default_component_of``). A statement without
products (every product of the author) is a ``vers:all/*`` range under the author's vendor branch.
The helper holds the purl (``purl``), the CPE (``cpe``) and the product's CycloneDX reference in
``x_generic_uris``, which must be URIs: a BOM-Link stays as it is, a bare bom-ref becomes the BOM-Link
``urn:cdx:<serial>/<version>#<bom-ref>`` of the source BOM (namespace: the BOM-Link capability page);
a bom-ref that is already a URI (a purl, say) is kept under the bom-ref namespace; any other bom-ref
(a source without a serial number) becomes the product's ``product_id`` (with a warning when that id
is taken), which a reader takes as the product's identifier again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mamori.i18n import gettext
from mamori.model.vex import VexProduct
from mamori.vex.fields import Fields
from mamori.vex.identifiers import bomlink, hash_label, is_uri, purl_parts

BOMLINK_NAMESPACE = "https://cyclonedx.org/capabilities/bomlink/"
BOMREF_NAMESPACE = "https://cyclonedx.org/docs/1.6/json/#components_items_bom-ref"
ALL_VERSIONS = "vers:all/*"
_BRANCH_KEYS = ("vendor", "product_name", "product_version", "product_version_range")
_MAX_DEPTH = 30


@dataclass
class ProductTree:
    """The products a CSAF document defines, by product id."""

    products: dict[str, VexProduct] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    all_products: set[str] = field(default_factory=set)  # ids that mean "every product of the vendor"

    def expand(self, product_ids: list[str], group_ids: list[str]) -> list[str]:
        out = list(product_ids)
        for gid in group_ids:
            out.extend(self.groups.get(gid, []))
        return list(dict.fromkeys(out))


def read_tree(reader: Fields, tree: dict[str, Any] | None) -> ProductTree:
    result = ProductTree()
    if tree is None:
        return result
    for i, branch in enumerate(reader.get_list(tree, "branches", "product_tree")):
        _walk(reader, result, branch, f"product_tree.branches[{i}]", {}, 0)
    for i, fpn in enumerate(reader.get_list(tree, "full_product_names", "product_tree")):
        where = f"product_tree.full_product_names[{i}]"
        product = _full_product(reader, reader.obj(fpn, where), where, {})
        result.products.setdefault(product.csaf_id or "", product)
    _relationships(reader, result, reader.get_list(tree, "relationships", "product_tree"))
    for i, group in enumerate(reader.get_list(tree, "product_groups", "product_tree")):
        where = f"product_tree.product_groups[{i}]"
        group = reader.obj(group, where)
        gid = reader.get_str(group, "group_id", where, required=True)
        assert gid is not None
        result.groups[gid] = reader.strings(group, "product_ids", where)
    return result


def _walk(
    reader: Fields, result: ProductTree, branch: Any, where: str, ctx: dict[str, str], depth: int
) -> None:
    branch = reader.obj(branch, where)
    if depth > _MAX_DEPTH:
        reader.fail(where, gettext("branches nested too deeply"))
    category = reader.get_str(branch, "category", where, required=True)
    name = reader.get_str(branch, "name", where, required=True)
    assert category is not None and name is not None
    ctx = {**ctx, category: name}
    product = reader.get_obj(branch, "product", where)
    if product is not None:
        item = _full_product(reader, product, f"{where}.product", ctx)
        if "product_name" not in ctx and ctx.get("product_version_range") == ALL_VERSIONS:
            result.all_products.add(item.csaf_id or "")
        result.products.setdefault(item.csaf_id or "", item)
    for i, child in enumerate(reader.get_list(branch, "branches", where)):
        _walk(reader, result, child, f"{where}.branches[{i}]", ctx, depth + 1)


def _full_product(reader: Fields, fpn: dict[str, Any], where: str, ctx: dict[str, str]) -> VexProduct:
    pid = reader.get_str(fpn, "product_id", where, required=True)
    full_name = reader.get_str(fpn, "name", where, required=True)
    product = VexProduct(
        csaf_id=pid,
        name=ctx.get("product_name") or full_name,
        vendor=ctx.get("vendor"),
        version=ctx.get("product_version"),
        version_range=ctx.get("product_version_range"),
    )
    helper = reader.get_obj(fpn, "product_identification_helper", where) or {}
    at = f"{where}.product_identification_helper"
    product.purl = reader.get_str(helper, "purl", at)
    product.cpe = reader.get_str(helper, "cpe", at)
    for i, uri in enumerate(reader.get_list(helper, "x_generic_uris", at)):
        uri = reader.obj(uri, f"{at}.x_generic_uris[{i}]")
        if uri.get("namespace") in (BOMLINK_NAMESPACE, BOMREF_NAMESPACE):
            product.ref = product.ref or reader.get_str(uri, "uri", f"{at}.x_generic_uris[{i}]")
    for i, entry in enumerate(reader.get_list(helper, "hashes", at)):
        entry = reader.obj(entry, f"{at}.hashes[{i}]")
        for j, fh in enumerate(reader.get_list(entry, "file_hashes", f"{at}.hashes[{i}]")):
            fh = reader.obj(fh, f"{at}.hashes[{i}].file_hashes[{j}]")
            alg, value = fh.get("algorithm"), fh.get("value")
            if isinstance(alg, str) and isinstance(value, str):
                product.hashes[hash_label(alg)] = value
    if product.purl and product.version is None and product.version_range is None:
        product.version = purl_parts(product.purl)[1]
    return product


def _relationships(reader: Fields, result: ProductTree, rels: list[Any]) -> None:
    pending = list(enumerate(rels))
    for _ in range(len(pending) + 1):  # a relationship may build on another one
        waiting = []
        for i, rel in pending:
            where = f"product_tree.relationships[{i}]"
            rel = reader.obj(rel, where)
            part = reader.get_str(rel, "product_reference", where, required=True)
            whole = reader.get_str(rel, "relates_to_product_reference", where, required=True)
            fpn = reader.get_obj(rel, "full_product_name", where)
            if fpn is None:
                reader.fail(f"{where}.full_product_name", gettext("is missing"))
            if part not in result.products or whole not in result.products:
                waiting.append((i, rel))
                continue
            combined = _full_product(reader, fpn, f"{where}.full_product_name", {})
            parent = result.products[whole]
            result.products.setdefault(
                combined.csaf_id or "",
                replace(
                    parent,
                    csaf_id=combined.csaf_id,
                    hashes=dict(parent.hashes),
                    subcomponents=[*parent.subcomponents, result.products[part]],
                ),
            )
        if not waiting or len(waiting) == len(pending):
            for i, rel in waiting:
                reader.fail(
                    f"product_tree.relationships[{i}]",
                    gettext(
                        "refers to a product id the tree does not define ({product!r} / {relates_to!r})"
                    ).format(
                        product=rel.get("product_reference"),
                        relates_to=rel.get("relates_to_product_reference"),
                    ),
                )
            return
        pending = waiting


# ---------------------------------------------------------------- writing


def _identity(product: VexProduct) -> tuple[Any, ...]:
    return (product.identity, tuple(_identity(s) for s in product.subcomponents))


class TreeBuilder:
    """Assigns product ids and builds ``product_tree`` for the products statements name."""

    def __init__(self, bom: tuple[str, int] | None = None) -> None:
        self.bom = bom  # (serial UUID, version) of the BOM the products' bare bom-refs belong to
        self.dropped: list[str] = []  # bom-refs that could not be written as URIs
        self.ids: dict[tuple[Any, ...], str] = {}
        self.used: set[str] = set()
        self.counter = 0
        self.branches: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        self.full_names: list[dict[str, Any]] = []
        self.relationships: list[dict[str, Any]] = []
        self.all_products: dict[str, str] = {}

    def _new_id(self, wanted: str | None) -> str:
        if wanted and wanted not in self.used:
            self.used.add(wanted)
            return wanted
        while True:
            self.counter += 1
            candidate = f"CSAFPID-{self.counter:04d}"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def product_id(self, product: VexProduct) -> str:
        key = _identity(product)
        if key in self.ids:
            return self.ids[key]
        if product.subcomponents:
            whole = self.product_id(replace(product, subcomponents=product.subcomponents[:-1]))
            part = self.product_id(replace(product.subcomponents[-1], subcomponents=[]))
            pid = self._new_id(None)
            self.relationships.append(
                {
                    "category": "default_component_of",
                    "full_product_name": {
                        "name": f"{_full_name(product.subcomponents[-1])} in {_full_name(product)}",
                        "product_id": pid,
                    },
                    "product_reference": part,
                    "relates_to_product_reference": whole,
                }
            )
        else:
            bare = product.ref if product.ref and self._ref_uri(product.ref) is None else None
            pid = self._new_id(product.csaf_id or bare)
            if bare and pid != bare:
                self.dropped.append(bare)
            self._place(product, pid)
        self.ids[key] = pid
        return pid

    def all_products_id(self, vendor: str) -> str:
        if vendor not in self.all_products:
            pid = self._new_id(None)
            self.all_products[vendor] = pid
            self.branches.setdefault((vendor, ""), []).append(
                {
                    "category": "product_version_range",
                    "name": ALL_VERSIONS,
                    "product": {"name": f"{vendor}: all products", "product_id": pid},
                }
            )
        return self.all_products[vendor]

    def _place(self, product: VexProduct, pid: str) -> None:
        fpn: dict[str, Any] = {"name": _full_name(product), "product_id": pid}
        helper = self._helper(product)
        if helper:
            fpn["product_identification_helper"] = helper
        if product.version or product.version_range:
            category = "product_version_range" if product.version_range else "product_version"
            leaf = {"category": category, "name": product.version_range or product.version, "product": fpn}
            self.branches.setdefault((product.vendor, product.name or product.key), []).append(leaf)
        else:
            self.full_names.append(fpn)

    def _helper(self, product: VexProduct) -> dict[str, Any]:
        helper: dict[str, Any] = {}
        if product.cpe:
            helper["cpe"] = product.cpe
        if product.purl:
            helper["purl"] = product.purl
        uri = self._ref_uri(product.ref) if product.ref else None
        if uri is not None:
            helper["x_generic_uris"] = [uri]
        return helper

    def _ref_uri(self, ref: str) -> dict[str, str] | None:
        """The ``x_generic_uris`` entry for a CycloneDX reference, None when it cannot be a URI."""
        if ref.startswith("urn:cdx:") and is_uri(ref):
            return {"namespace": BOMLINK_NAMESPACE, "uri": ref}
        if self.bom is not None:
            return {"namespace": BOMLINK_NAMESPACE, "uri": bomlink(self.bom[0], self.bom[1], ref)}
        if is_uri(ref):
            return {"namespace": BOMREF_NAMESPACE, "uri": ref}
        return None

    def tree(self) -> dict[str, Any]:
        vendors: dict[str | None, list[dict[str, Any]]] = {}
        for (vendor, name), leaves in self.branches.items():
            if name:
                vendors.setdefault(vendor, []).append(
                    {"category": "product_name", "name": name, "branches": leaves}
                )
            else:
                vendors.setdefault(vendor, []).extend(leaves)
        top: list[dict[str, Any]] = []
        for vendor, children in vendors.items():
            if vendor:
                top.append({"category": "vendor", "name": vendor, "branches": children})
            else:
                top.extend(children)
        out: dict[str, Any] = {}
        if top:
            out["branches"] = top
        if self.full_names:
            out["full_product_names"] = self.full_names
        if self.relationships:
            out["relationships"] = self.relationships
        return out


def _full_name(product: VexProduct) -> str:
    parts = [product.vendor] if product.vendor and product.vendor != product.name else []
    parts.append(product.name or product.key)
    if product.version or product.version_range:
        parts.append(product.version or product.version_range or "")
    return " ".join(p for p in parts if p)

"""Flat index rows of a merged vulnerability: affected packages and affected CPEs for fast matching."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mamori.model.cpe import CpeName, index_key, parse_cpe
from mamori.model.names import ecosystem_for_collection, normalise_name, split_ecosystem
from mamori.model.vulnerability import AffectedProduct, ProductVersion, Vulnerability
from mamori.store.documents import Outline, Prepared, digest, pack, to_json
from mamori.store.limits import has_nul

_NO_VERSION = {"", "*", "-", "0", "unspecified", "n/a", "all"}
# A product's CPE names repeat across records (8,127 CVE 5 records: 18,880 names, 2,974 distinct):
# each is parsed once per process (CpeName is immutable).
_product_cpe = lru_cache(maxsize=16384)(parse_cpe)


def package_rows(v: Vulnerability | Outline, vuln_id: str) -> list[dict[str, Any]]:
    if isinstance(v, Outline):
        return [{**row, "vuln_id": vuln_id} for row in v.package_rows]
    rows: list[dict[str, Any]] = []
    for position, pkg in enumerate(v.affected_packages):
        if not pkg.name:
            continue
        base, variant = split_ecosystem(pkg.ecosystem)
        rows.append(
            {
                "vuln_id": vuln_id,
                "source": pkg.source,
                "record_id": pkg.record_id,
                "origin": "package",
                "position": position,
                "ecosystem": base,
                "ecosystem_variant": variant,
                "name": pkg.name,
                "name_key": normalise_name(base, pkg.name),
                "purl": pkg.purl,
            }
        )
    for position, product in enumerate(v.affected_products):
        ecosystem = ecosystem_for_collection(product.collection_url)
        if ecosystem and product.package_name:
            rows.append(
                {
                    "vuln_id": vuln_id,
                    "source": product.source,
                    "record_id": product.record_id,
                    "origin": "product",
                    "position": position,
                    "ecosystem": ecosystem,
                    "ecosystem_variant": "",
                    "name": product.package_name,
                    "name_key": normalise_name(ecosystem, product.package_name),
                    "purl": None,
                }
            )
    return rows


def _cpe_row(vuln_id: str, cpe: CpeName, text: str, **values: Any) -> dict[str, Any]:
    row = {
        "vuln_id": vuln_id,
        "part": cpe.part[:1],
        "vendor": index_key(cpe.vendor),
        "product": index_key(cpe.product),
        "cpe": text,
        "version": cpe.version if cpe.version not in ("*", "-") else None,
        "start_including": None,
        "start_excluding": None,
        "end_including": None,
        "end_excluding": None,
        "version_type": None,
    }
    row.update(values)
    return row


def _version_values(pv: ProductVersion) -> dict[str, Any]:
    bounded = bool(pv.less_than or pv.less_than_or_equal)
    version = pv.version.strip()
    values: dict[str, Any] = {
        "end_excluding": pv.less_than if pv.less_than not in (None, "*") else None,
        "end_including": pv.less_than_or_equal if pv.less_than_or_equal not in (None, "*") else None,
        "version_type": pv.version_type,
        "status": pv.status,
        "vulnerable": pv.status == "affected",
    }
    if bounded:
        values["start_including"] = None if version.lower() in _NO_VERSION else version
    elif pv.version_type != "text" and version.lower() not in _NO_VERSION:
        values["version"] = version
    return values


def _product_rows(vuln_id: str, position: int, product: AffectedProduct) -> list[dict[str, Any]]:
    """The rows of one product: one per CPE name and version (the columns and their order as
    :func:`_cpe_row` makes them); a version's values are worked out once for all its CPE names."""
    rows: list[dict[str, Any]] = []
    default = product.default_status or ("affected" if product.source == "jvn" else "unknown")
    versions = product.versions
    plain = not versions or all(pv.version_type == "text" for pv in versions)
    values: list[dict[str, Any]] | None = None
    for text in product.cpes or product.derived_cpes:
        cpe = _product_cpe(text)
        if cpe is None or cpe.vendor in ("*", "") or cpe.product in ("*", ""):
            continue
        head = _cpe_row(
            vuln_id,
            cpe,
            text,
            source=product.source,
            record_id=product.record_id,
            origin="product",
            position=position,
        )
        if plain:
            head["version_type"] = "text" if versions else None
            head["status"] = default
            head["vulnerable"] = default == "affected"
            rows.append(head)
            continue
        if values is None:
            values = [_version_values(pv) for pv in versions]
        for value in values:
            row = head.copy()
            row.update(value)
            rows.append(row)
    return rows


def cpe_rows(v: Vulnerability | Outline, vuln_id: str) -> list[dict[str, Any]]:
    if isinstance(v, Outline):
        return [{**row, "vuln_id": vuln_id} for row in v.cpe_rows]
    rows: list[dict[str, Any]] = []
    for position, config in enumerate(v.cpe_configurations):
        for node in config.nodes:
            for match in node.matches:
                cpe = parse_cpe(match.criteria)
                if cpe is None:
                    continue
                rows.append(
                    _cpe_row(
                        vuln_id,
                        cpe,
                        match.criteria,
                        source=config.source,
                        record_id=config.record_id,
                        origin="configuration",
                        position=position,
                        start_including=match.version_start_including,
                        start_excluding=match.version_start_excluding,
                        end_including=match.version_end_including,
                        end_excluding=match.version_end_excluding,
                        status="affected" if match.vulnerable else "platform",
                        vulnerable=match.vulnerable,
                    )
                )
    for position, product in enumerate(v.affected_products):
        rows.extend(_product_rows(vuln_id, position, product))
    return rows


def prepare_outline(record: Vulnerability) -> Prepared:
    """The record's stored form with its :class:`Outline` (what an import worker sends back)."""
    doc = to_json(record)
    packed = pack(doc)
    outline = Outline(
        record.id,
        record.aliases,
        record.sources,
        record.published,
        record.modified,
        record.withdrawn,
        package_rows(record, ""),
        cpe_rows(record, ""),
        _counts(record),
        packed,
    )
    return Prepared(outline, packed, digest(doc), has_nul(doc))


def _counts(v: Vulnerability | Outline) -> tuple[int, int, int]:
    if isinstance(v, Outline):
        return v.counts
    return (len(v.affected_packages), len(v.affected_products), len(v.cpe_configurations))


def merged_rows(
    members: list[Vulnerability | Outline], vuln_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The package and CPE rows of the record merged from ``members`` (in merge order), made from
    each member's own rows: a row's position moves past the lists of the members before it, as the
    merged record concatenates them."""
    packages: list[dict[str, Any]] = []
    cpes: list[dict[str, Any]] = []
    start = {"package": 0, "product": 0, "configuration": 0}
    for member in members:
        for target, made in ((packages, package_rows(member, vuln_id)), (cpes, cpe_rows(member, vuln_id))):
            for row in made:
                row["position"] += start[row["origin"]]
                target.append(row)
        n_packages, n_products, n_configurations = _counts(member)
        start["package"] += n_packages
        start["product"] += n_products
        start["configuration"] += n_configurations
    return packages, cpes

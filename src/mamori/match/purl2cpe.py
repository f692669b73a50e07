"""purl → CPE vendor:product through the store's ``purl_cpe`` table (SCANOSS purl2cpe links).

The table is small (tens of thousands of links) and read once per knowledge-base generation into a
dict keyed by (purl type, namespace, name), names folded the way the registry compares them (PEP 503
for PyPI, lower case elsewhere), so a lookup costs a dict access and never a query per component.
Only *strong* links are matched by default (the CPE product plausibly names the package,
:mod:`mamori.model.linkrule`); *weak* ones are read only when asked for. Both can be read for some
purl types only (those of the SBOM being scanned).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mamori.model.linkrule import STRONG
from mamori.store.query import SQUASHED_NAME, Reader, in_list

if TYPE_CHECKING:
    from packageurl import PackageURL

LinkKey = tuple[str, str, str]
_PEP503 = re.compile(r"[-_.]+")


def link_key(purl_type: str, namespace: str, name: str) -> LinkKey:
    if purl_type == "pypi":
        return (purl_type, "", _PEP503.sub("-", name).lower())
    return (purl_type, namespace.lower(), name.lower())


def key_for(purl: PackageURL) -> LinkKey:
    return link_key(purl.type, purl.namespace or "", purl.name)


def _of_types(sql: str, types: Iterable[str] | None, params: dict[str, Any]) -> str:
    return sql if types is None else f"{sql} AND purl_type IN {in_list('type', sorted(types), params)}"


def load_links(conn: Reader, types: Iterable[str] | None = None) -> dict[LinkKey, list[tuple[str, str]]]:
    """The store's strong purl → [(cpe vendor, cpe product)] links (of these purl types only, when given)."""
    links: dict[LinkKey, list[tuple[str, str]]] = {}
    params: dict[str, Any] = {"strength": STRONG}
    sql = _of_types(
        "SELECT purl_type, purl_namespace, purl_name, cpe_vendor, cpe_product FROM purl_cpe "
        "WHERE strength = :strength",
        types,
        params,
    )
    for purl_type, namespace, name, vendor, product in conn.execute(sql, params):
        pair = (vendor, product)
        bucket = links.setdefault(link_key(purl_type, namespace or "", name), [])
        if pair not in bucket:
            bucket.append(pair)
    return links


def load_weak_links(
    conn: Reader, types: Iterable[str] | None = None
) -> dict[LinkKey, list[tuple[str, str, str]]]:
    """The store's weak links: purl → [(cpe vendor, cpe product, the rule that made it weak)]."""
    links: dict[LinkKey, list[tuple[str, str, str]]] = {}
    params: dict[str, Any] = {"strength": STRONG}
    sql = _of_types(
        "SELECT purl_type, purl_namespace, purl_name, cpe_vendor, cpe_product, rule FROM purl_cpe "
        "WHERE strength != :strength",
        types,
        params,
    )
    for purl_type, namespace, name, vendor, product, rule in conn.execute(sql, params):
        bucket = links.setdefault(link_key(purl_type, namespace or "", name), [])
        if not any((v, p) == (vendor, product) for v, p, _ in bucket):
            bucket.append((vendor, product, rule or "unrelated"))
    return links


def _squashed(text: str) -> str:
    return text.lower().replace("-", "").replace("_", "").replace(".", "")


def load_links_of(
    conn: Reader, keys: Iterable[LinkKey], *, strong: bool = True
) -> dict[LinkKey, list[tuple[str, str, str]]]:
    """The links of these packages only: (cpe vendor, cpe product, rule) per key, strong or weak ones.

    One query per purl type: the index on (type, namespace, name) narrows the rows to the type; the
    database compares names with case and the separators ``-_.`` left out, a superset of the exact
    :func:`link_key` comparison that follows here (stored names keep the spelling of the feed:
    ``Django``, ``zope.interface``)."""
    wanted = set(keys)
    by_type: dict[str, tuple[set[str], set[str]]] = {}
    for purl_type, namespace, name in wanted:
        names, namespaces = by_type.setdefault(purl_type, (set(), set()))
        names.add(_squashed(name))
        namespaces.add(namespace)
    found: dict[LinkKey, list[tuple[str, str, str]]] = {}
    for purl_type, (names, namespaces) in by_type.items():
        params: dict[str, Any] = {"type": purl_type, "strength": STRONG}
        sql = (
            "SELECT purl_namespace, purl_name, cpe_vendor, cpe_product, rule FROM purl_cpe "
            f"WHERE purl_type = :type AND strength {'=' if strong else '!='} :strength "
            f"AND {SQUASHED_NAME} IN {in_list('name', sorted(names), params)}"
        )
        if purl_type != "pypi":  # PyPI has no namespace: link_key leaves it empty
            sql += f" AND lower(coalesce(purl_namespace, '')) IN {in_list('namespace', sorted(namespaces), params)}"
        for row_namespace, row_name, vendor, product, rule in conn.execute(sql, params):
            key = link_key(purl_type, row_namespace or "", row_name)
            if key not in wanted:
                continue
            bucket = found.setdefault(key, [])
            if not any((v, p) == (vendor, product) for v, p, _ in bucket):
                bucket.append((vendor, product, rule or ("" if strong else "unrelated")))
    return found

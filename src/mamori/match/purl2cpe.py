"""purl → CPE vendor:product through the store's ``purl_cpe`` table (SCANOSS purl2cpe links).

The table is small (tens of thousands of links) and read once per knowledge-base generation into a
dict keyed by (purl type, namespace, name), names folded the way the registry compares them (PEP 503
for PyPI, lower case elsewhere), so a lookup costs a dict access and never a query per component.
"""

from __future__ import annotations

import re

from packageurl import PackageURL
from sqlalchemy import Connection, select

from mamori.store import schema

LinkKey = tuple[str, str, str]
_PEP503 = re.compile(r"[-_.]+")


def link_key(purl_type: str, namespace: str, name: str) -> LinkKey:
    if purl_type == "pypi":
        return (purl_type, "", _PEP503.sub("-", name).lower())
    return (purl_type, namespace.lower(), name.lower())


def key_for(purl: PackageURL) -> LinkKey:
    return link_key(purl.type, purl.namespace or "", purl.name)


def load_links(conn: Connection) -> dict[LinkKey, list[tuple[str, str]]]:
    """Every purl → [(cpe vendor, cpe product)] link of the store."""
    t = schema.PurlCpe.__table__
    links: dict[LinkKey, list[tuple[str, str]]] = {}
    stmt = select(t.c.purl_type, t.c.purl_namespace, t.c.purl_name, t.c.cpe_vendor, t.c.cpe_product)
    for purl_type, namespace, name, vendor, product in conn.execute(stmt):
        pair = (vendor, product)
        bucket = links.setdefault(link_key(purl_type, namespace or "", name), [])
        if pair not in bucket:
            bucket.append(pair)
    return links

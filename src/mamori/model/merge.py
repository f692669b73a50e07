"""Join source records that share an alias into one vulnerability.

Rule: records whose identifiers (own id and aliases) overlap are one vulnerability, transitively.
A record naming two or more CVEs (a JVN entry covering a product's several CVEs) links to each of
them as an alias but does not fuse those CVEs into one vulnerability. The canonical id is a CVE
when the group has one, else the id of the most authoritative record (GHSA before other
databases). Every source's data is kept; each list item carries its ``source``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from mamori.model.references import dedupe_data
from mamori.model.timestamps import placeholder, real_date
from mamori.model.vulnerability import Vulnerability

SOURCE_PRIORITY = {"cve5": 0, "nvd": 1, "osv": 2, "jvn": 3}
_PREFIX_RANK = {"CVE": 0, "GHSA": 1, "JVNDB": 8}


def is_cve(identifier: str) -> bool:
    return identifier.upper().startswith("CVE-")


def key(identifier: str) -> str:
    """How identifiers are compared: case-insensitively."""
    return identifier.strip().upper()


def fusing_ids(record: Vulnerability) -> list[str]:
    """The identifiers through which this record joins others."""
    ids = record.all_ids()
    if sum(1 for i in ids if is_cve(i)) <= 1:
        return ids
    return [record.id, *(a for a in record.aliases if not is_cve(a))]


def _components(fusing: list[list[str]]) -> list[list[int]]:
    """Connected components over the records' fusing identifiers (each list starts with the record's
    own id), as positions in the records' order, components in the order of their root's key; each
    identifier's :func:`key` is worked out once."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    own: list[str] = []
    for identifiers in fusing:
        keys = [key(i) for i in identifiers]
        own.append(keys[0])
        first = find(keys[0])
        for other in keys[1:]:
            root = find(other)
            if root != first:
                parent[root] = first
    components: dict[str, list[int]] = {}
    for n, k in enumerate(own):
        components.setdefault(find(k), []).append(n)
    return [members for _, members in sorted(components.items())]


def group(records: Iterable[Vulnerability]) -> list[list[Vulnerability]]:
    """Connected components of records over their fusing identifiers (deterministic order)."""
    items = list(records)
    fusing = [fusing_ids(r) for r in items]
    return [sorted((items[n] for n in c), key=record_order) for c in _components(fusing)]


def grouped(records: Iterable[Vulnerability]) -> list[tuple[str, list[Vulnerability]]]:
    """``(canonical_id(g), g) for g in group(records)``, each record's fusing identifiers found once."""
    items = list(records)
    fusing = [fusing_ids(r) for r in items]
    return [
        (
            _canonical([items[n].id for n in c], [fusing[n] for n in c]),
            sorted((items[n] for n in c), key=record_order),
        )
        for c in _components(fusing)
    ]


def record_order(record: Vulnerability) -> tuple[int, str, str]:
    """How a group's members are ordered when merged: by source priority, then id and feed."""
    source = record.sources[0] if record.sources else None
    return (SOURCE_PRIORITY.get(source.source, 9) if source else 9, record.id, source.feed if source else "")


def _rank(identifier: str) -> tuple[int, str]:
    return (_PREFIX_RANK.get(identifier.split("-", 1)[0].upper(), 5), identifier)


def canonical_id(members: list[Vulnerability]) -> str:
    return _canonical([m.id for m in members], [fusing_ids(m) for m in members])


def _canonical(ids: list[str], fusing: list[list[str]]) -> str:
    own = set(ids)
    cves = sorted({i for identifiers in fusing for i in identifiers if is_cve(i)})
    if cves:
        recorded = [c for c in cves if c in own]
        return (recorded or cves)[0]
    return min(own, key=_rank)


def _first_texts(members: list[dict[str, Any]], key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for member in members:
        for lang, text in member[key].items():
            out.setdefault(lang, text)
    return out


def _dedupe_kev(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (CVE, source): the first, unless only a later one carries a real date added."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        key = (entry["cve_id"], entry["source"])
        kept = seen.get(key)
        if kept is None or (not real_date(kept.get("date_added")) and real_date(entry.get("date_added"))):
            seen[key] = entry
    return [_no_placeholder(entry, "date_added") for entry in seen.values()]


def _no_placeholder(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return {**data, key: None} if isinstance(value, str) and placeholder(value) else data


def _dates(values: Iterable[Any]) -> list[str]:
    """The candidates for a merged date: the real ones; text that is no date only when no source
    gives a real one; placeholders (0001-01-01 …) never."""
    given = [v for v in values if isinstance(v, str) and v and not placeholder(v)]
    return [v for v in given if real_date(v)] or given


def _date(value: Any) -> Any:
    return None if isinstance(value, str) and placeholder(value) else value


def _data_order(doc: dict[str, Any]) -> tuple[int, str, str]:
    source = doc["sources"][0] if doc["sources"] else None
    return (
        SOURCE_PRIORITY.get(source["source"], 9) if source else 9,
        doc["id"],
        source["feed"] if source else "",
    )


def combine_data(docs: list[dict[str, Any]], canonical: str) -> dict[str, Any]:
    """One merged record from its members as stored (JSON data of :class:`Vulnerability`, the form
    the store keeps), without rebuilding objects: the single implementation of the merge rule."""
    docs = sorted(docs, key=_data_order)  # as record_order orders records
    ids = {i for d in docs for i in (d["id"], *d["aliases"])}
    published = _dates(d["published"] for d in docs)
    modified = _dates(d["modified"] for d in docs)
    withdrawn = [_date(d["withdrawn"]) for d in docs]
    return {  # the fields of Vulnerability, in their order
        "id": canonical,
        "aliases": sorted(ids - {canonical}),
        "related": sorted({r for d in docs for r in d["related"]} - ids),
        "sources": [s for d in docs for s in d["sources"]],
        "titles": _first_texts(docs, "titles"),
        "summaries": _first_texts(docs, "summaries"),
        "published": min(published) if published else None,
        "modified": max(modified) if modified else None,
        "withdrawn": max(w for w in withdrawn if w) if withdrawn and all(withdrawn) else None,
        "severities": [x for d in docs for x in d["severities"]],
        "cwes": sorted({c for d in docs for c in d["cwes"]}),
        "references": dedupe_data([r for d in docs for r in d["references"]]),
        "affected_packages": [x for d in docs for x in d["affected_packages"]],
        "cpe_configurations": [x for d in docs for x in d["cpe_configurations"]],
        "affected_products": [x for d in docs for x in d["affected_products"]],
        "kev": _dedupe_kev([k for d in docs for k in d["kev"]]),
        "epss": [],
        "ssvc": [x for d in docs for x in d["ssvc"]],
    }


def as_data(record: Vulnerability) -> dict[str, Any]:
    """A record as the store keeps it (JSON data)."""
    return orjson.loads(orjson.dumps(record))

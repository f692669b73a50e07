"""Join source records that share an alias into one vulnerability.

Rule: records whose identifiers (own id and aliases) overlap are one vulnerability, transitively.
A record naming two or more CVEs (a JVN entry covering a product's several CVEs) links to each of
them as an alias but does not fuse those CVEs into one vulnerability. The canonical id is a CVE
when the group has one, else the id of the most authoritative record (GHSA before other
databases). Every source's data is kept; each list item carries its ``source``.
"""

from __future__ import annotations

from collections.abc import Iterable

from mamori.model.vulnerability import Kev, Vulnerability
from mamori.vulndb.references import dedupe

SOURCE_PRIORITY = {"cve5": 0, "nvd": 1, "osv": 2, "jvn": 3}
_PREFIX_RANK = {"CVE": 0, "GHSA": 1, "JVNDB": 8}


def is_cve(identifier: str) -> bool:
    return identifier.upper().startswith("CVE-")


def key(identifier: str) -> str:
    """How identifiers are compared: case-insensitively."""
    return identifier.strip().upper()


def fusing_ids(record: Vulnerability) -> list[str]:
    """The identifiers through which this record joins others."""
    if sum(1 for i in record.all_ids() if is_cve(i)) <= 1:
        return record.all_ids()
    return [record.id, *(a for a in record.aliases if not is_cve(a))]


def group(records: Iterable[Vulnerability]) -> list[list[Vulnerability]]:
    """Connected components of records over their fusing identifiers (deterministic order)."""
    items = list(records)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for record in items:
        ids = [key(i) for i in fusing_ids(record)]
        first = find(ids[0])
        for other in ids[1:]:
            root = find(other)
            if root != first:
                parent[root] = first
    components: dict[str, list[Vulnerability]] = {}
    for record in items:
        components.setdefault(find(key(record.id)), []).append(record)
    return [sorted(members, key=_member_order) for _, members in sorted(components.items())]


def _member_order(record: Vulnerability) -> tuple[int, str, str]:
    source = record.sources[0] if record.sources else None
    return (SOURCE_PRIORITY.get(source.source, 9) if source else 9, record.id, source.feed if source else "")


def _rank(identifier: str) -> tuple[int, str]:
    return (_PREFIX_RANK.get(identifier.split("-", 1)[0].upper(), 5), identifier)


def canonical_id(members: list[Vulnerability]) -> str:
    own = {m.id for m in members}
    cves = sorted({i for m in members for i in fusing_ids(m) if is_cve(i)})
    if cves:
        recorded = [c for c in cves if c in own]
        return (recorded or cves)[0]
    return min(own, key=_rank)


def _first_texts(members: list[Vulnerability], attr: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for member in members:
        for lang, text in getattr(member, attr).items():
            out.setdefault(lang, text)
    return out


def _dedupe_kev(entries: list[Kev]) -> list[Kev]:
    seen: dict[tuple[str, str], Kev] = {}
    for entry in entries:
        seen.setdefault((entry.cve_id, entry.source), entry)
    return list(seen.values())


def combine(members: list[Vulnerability], canonical: str | None = None) -> Vulnerability:
    """One merged record from the members of a group (ordered by source priority)."""
    members = sorted(members, key=_member_order)
    vid = canonical or canonical_id(members)
    ids = {i for m in members for i in m.all_ids()}
    aliases = sorted(ids - {vid})
    related = sorted({r for m in members for r in m.related} - ids)
    published = [m.published for m in members if m.published]
    modified = [m.modified for m in members if m.modified]
    withdrawn = [m.withdrawn for m in members]
    return Vulnerability(
        id=vid,
        aliases=aliases,
        related=related,
        sources=[s for m in members for s in m.sources],
        titles=_first_texts(members, "titles"),
        summaries=_first_texts(members, "summaries"),
        published=min(published) if published else None,
        modified=max(modified) if modified else None,
        withdrawn=max(w for w in withdrawn if w) if withdrawn and all(withdrawn) else None,
        severities=[s for m in members for s in m.severities],
        cwes=sorted({c for m in members for c in m.cwes}),
        references=dedupe([r for m in members for r in m.references]),
        affected_packages=[p for m in members for p in m.affected_packages],
        cpe_configurations=[c for m in members for c in m.cpe_configurations],
        affected_products=[p for m in members for p in m.affected_products],
        kev=_dedupe_kev([k for m in members for k in m.kev]),
        ssvc=[s for m in members for s in m.ssvc],
    )

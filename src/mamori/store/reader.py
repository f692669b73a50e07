"""Reads: a vulnerability under any alias (with KEV and EPSS attached), and the store's status.

SQL text run by either executor of :mod:`mamori.store.query` (SQLite directly, or a SQLAlchemy connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from mamori.model import merge
from mamori.model.vulnerability import Epss, Kev, SourceRef, Vulnerability, from_dict, vulnerability_from_dict
from mamori.store import documents
from mamori.store.query import Reader, in_list

CHECKPOINT_PREFIX = "~"  # source_state rows of unfinished imports, not sources (mamori.store.writer)
# enrichment source → its table
ENRICHMENT_SOURCES = {"kev": "kev", "epss": "epss", "purl2cpe": "purl_cpe"}
COVERAGE_COLUMNS = (
    "source",
    "scope",
    "complete",
    "complete_at",
    "complete_origin",
    "partial_at",
    "partial_origin",
)


@dataclass(slots=True)
class Lookup:
    """What ``db show ID`` found: the best match and the other vulnerabilities carrying that id."""

    vulnerability: Vulnerability
    also: list[str] = field(default_factory=list)


def vuln_ids_for(conn: Reader, identifier: str) -> list[str]:
    rows = conn.execute("SELECT vuln_id FROM alias WHERE alias_key = :key", {"key": merge.key(identifier)})
    return sorted(r[0] for r in rows)


def _kev(conn: Reader, cves: list[str]) -> dict[str, Kev]:
    if not cves:
        return {}
    params: dict[str, Any] = {}
    rows = conn.execute(f"SELECT cve_id, doc FROM kev WHERE cve_id IN {in_list('cve', cves, params)}", params)
    return {cve_id: from_dict(Kev, documents.unpack(doc)) for cve_id, doc in rows}


def _epss(conn: Reader, cves: list[str]) -> list[Epss]:
    if not cves:
        return []
    params: dict[str, Any] = {}
    rows = conn.execute(
        "SELECT cve_id, score, percentile, date FROM epss "
        f"WHERE cve_id IN {in_list('cve', cves, params)} ORDER BY cve_id",
        params,
    )
    return [Epss(cve_id, score, percentile, date) for cve_id, score, percentile, date in rows]


def enrich(conn: Reader, v: Vulnerability) -> Vulnerability:
    """Attach the KEV catalog entry and EPSS score of each CVE the vulnerability carries.

    KEV facts the records themselves carry (CISA ADP in CVE 5, NVD's cisaExploitAdd) stay beside the
    catalog's entry: they can differ (a re-added entry keeps an older date in one of them).
    """
    cves = sorted(set(v.cve_ids()))
    catalog = _kev(conn, cves)
    v.kev = sorted([*catalog.values(), *v.kev], key=lambda k: (k.cve_id, k.source != "kev", k.source))
    v.epss = _epss(conn, cves)
    return v


def load(conn: Reader, vuln_id: str) -> Vulnerability | None:
    """The merged record (its own document, or its single source record's) with enrichment."""
    rows = conn.execute("SELECT id, doc FROM vulnerability WHERE id = :id", {"id": vuln_id})
    if not rows:
        return None
    row_id, doc = rows[0]
    if doc is None:
        doc = conn.scalar("SELECT doc FROM source_record WHERE vuln_id = :id LIMIT 1", {"id": vuln_id})
        if doc is None:
            return None
    merged = vulnerability_from_dict(merge.combine_data([documents.unpack(doc)], row_id))
    return enrich(conn, merged)


def lookup(conn: Reader, identifier: str) -> Lookup | None:
    """The merged record under any alias; a CVE known only to KEV or EPSS still answers."""
    ids = vuln_ids_for(conn, identifier)
    if ids:
        wanted = merge.key(identifier)
        best = next((i for i in ids if merge.key(i) == wanted), ids[0])
        found = load(conn, best)
        if found is not None:
            return Lookup(found, [i for i in ids if i != best])
    if merge.is_cve(identifier):
        bare = enrich(conn, Vulnerability(id=identifier.strip().upper()))
        if bare.kev:  # the catalog's words are all there is to say about it
            first = bare.kev[0]
            bare.titles = {"en": first.name} if first.name else {}
            bare.summaries = {"en": first.short_description} if first.short_description else {}
        if bare.kev or bare.epss:
            bare.sources = [
                SourceRef(s, bare.id)
                for s in (("kev",) if bare.kev else ()) + (("epss",) if bare.epss else ())
            ]
            return Lookup(bare)
    return None


def source_state(conn: Reader, source: str) -> dict[str, Any] | None:
    """Last update, origin and sync cursor of one source (None before its first import)."""
    rows = conn.execute(
        "SELECT source, updated_at, origin, cursor FROM source_state WHERE source = :source",
        {"source": source},
    )
    return dict(zip(("source", "updated_at", "origin", "cursor"), rows[0], strict=True)) if rows else None


def checkpoint(conn: Reader, key: str) -> dict[str, Any] | None:
    """The checkpoint an interrupted import left (None when the last one finished)."""
    rows = conn.execute(
        "SELECT cursor FROM source_state WHERE source = :source", {"source": CHECKPOINT_PREFIX + key}
    )
    return orjson.loads(rows[0][0]) if rows and rows[0][0] else None


def database_size(conn: Reader) -> int:
    if conn.dialect == "postgresql":
        return int(conn.scalar("SELECT pg_database_size(current_database())") or 0)
    pages = conn.scalar("PRAGMA page_count") or 0
    size = conn.scalar("PRAGMA page_size") or 0
    return int(pages) * int(size)


def _flag(value: Any) -> bool | None:
    """A Boolean column as SQLAlchemy's Boolean type gives it (SQLite stores 0 and 1)."""
    return None if value is None else bool(value)


def coverage(conn: Reader, records: bool = True) -> list[dict[str, Any]]:
    """Every (source, scope) the knowledge base holds records of or a complete feed for, with the
    number of vulnerabilities indexed under it (OSV: by ecosystem; NVD, CVE 5, JVN: by CPE).
    ``records=False``: the rows without that number (``records`` left out), which is counted over the
    index tables of the whole store."""
    if not records:
        rows = conn.execute(f"SELECT {', '.join(COVERAGE_COLUMNS)} FROM coverage ORDER BY source, scope")
        return [_coverage_entry(row) for row in rows]
    counts: dict[tuple[str, str], int] = {}
    for source, scope, n in conn.execute(
        "SELECT source, ecosystem, count(DISTINCT vuln_id) FROM affected_package "
        "WHERE origin = :origin GROUP BY source, ecosystem",
        {"origin": "package"},
    ):
        counts[(source, scope)] = int(n)
    params: dict[str, Any] = {}
    for source, n in conn.execute(
        "SELECT source, count(DISTINCT vuln_id) FROM source_record "
        f"WHERE source IN {in_list('source', ('nvd', 'cve5', 'jvn'), params)} GROUP BY source",
        params,
    ):
        counts[(source, "cpe")] = int(n)
    out = []
    for row in conn.execute(f"SELECT {', '.join(COVERAGE_COLUMNS)} FROM coverage ORDER BY source, scope"):
        entry = _coverage_entry(row)
        out.append({**entry, "records": counts.get((entry["source"], entry["scope"]), 0)})
    return out


def _coverage_entry(row: Sequence[Any]) -> dict[str, Any]:
    entry = dict(zip(COVERAGE_COLUMNS, row, strict=True))
    entry["complete"] = _flag(entry["complete"])
    return entry


def _count(conn: Reader, table: str) -> int:
    return int(conn.scalar(f"SELECT count(*) FROM {table}") or 0)


def status(conn: Reader, strengths: bool = True, totals: bool = True) -> dict[str, Any]:
    """Records per source (withdrawn ones counted apart), last update per source, sizes.

    ``strengths=False`` leaves out the purl2cpe links counted by strength (``db status`` shows them, a
    scan does not): a pass over the whole link table, which has no index on the strength. ``totals=False``
    leaves out the counts a scan does not report (withdrawn vulnerabilities, also per source, aliases,
    affected packages and CPEs): passes over whole tables that grow with the store."""
    per_source: dict[str, dict[str, Any]] = {}
    # two passes: the distinct records along the primary key (sorted: no temporary table) and the
    # withdrawn ones along the index that holds the column; both counts in one query took SQLite a
    # temporary B-tree over every row, about ten times as long
    for source, records in conn.execute(
        "SELECT source, count(DISTINCT record_id) FROM source_record GROUP BY source"
    ):
        per_source[source] = (
            {"records": int(records), "withdrawn": 0} if totals else {"records": int(records)}
        )
    if totals:
        for source, withdrawn in conn.execute(
            "SELECT source, count(withdrawn) FROM source_record GROUP BY source"
        ):
            per_source.setdefault(source, {"records": 0, "withdrawn": 0})["withdrawn"] = int(withdrawn)
    for source, table in ENRICHMENT_SOURCES.items():
        count = _count(conn, table)
        if count:
            per_source[source] = {"records": count}
    if strengths and "purl2cpe" in per_source:  # links by strength: weak ones are not matched by default
        counts = dict(conn.execute("SELECT strength, count(*) FROM purl_cpe GROUP BY strength"))
        per_source["purl2cpe"].update(strong=int(counts.get("strong", 0)), weak=int(counts.get("weak", 0)))
    for source, updated_at, origin in conn.execute(
        "SELECT source, updated_at, origin FROM source_state WHERE source NOT LIKE :prefix",
        {"prefix": CHECKPOINT_PREFIX + "%"},
    ):
        entry = per_source.setdefault(source, {"records": 0})
        entry["updated_at"] = updated_at
        entry["origin"] = origin
    out: dict[str, Any] = {
        "backend": conn.dialect,
        "size_bytes": database_size(conn),
        "vulnerabilities": _count(conn, "vulnerability"),
    }
    if totals:
        out["withdrawn"] = int(conn.scalar("SELECT count(withdrawn) FROM vulnerability") or 0)
        out["aliases"] = _count(conn, "alias")
        out["affected_packages"] = _count(conn, "affected_package")
        out["affected_cpes"] = _count(conn, "affected_cpe")
    out["sources"] = dict(sorted(per_source.items()))
    out["coverage"] = coverage(conn)
    return out

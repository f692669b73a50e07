"""Reads: a vulnerability under any alias (with KEV and EPSS attached), and the store's status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from mamori.model import merge
from mamori.model.vulnerability import Epss, Kev, SourceRef, Vulnerability, from_dict, vulnerability_from_dict
from mamori.store import documents, schema
from mamori.store.writer import CHECKPOINT_PREFIX

ENRICHMENT_SOURCES = {"kev": schema.KevEntry, "epss": schema.EpssScore, "purl2cpe": schema.PurlCpe}


@dataclass(slots=True)
class Lookup:
    """What ``db show ID`` found: the best match and the other vulnerabilities carrying that id."""

    vulnerability: Vulnerability
    also: list[str] = field(default_factory=list)


def vuln_ids_for(conn: Connection, identifier: str) -> list[str]:
    t = schema.Alias.__table__
    return sorted(conn.scalars(select(t.c.vuln_id).where(t.c.alias_key == merge.key(identifier))))


def _kev(conn: Connection, cves: list[str]) -> dict[str, Kev]:
    t = schema.KevEntry.__table__
    rows = conn.execute(select(t.c.cve_id, t.c.doc).where(t.c.cve_id.in_(cves))) if cves else []
    return {r.cve_id: from_dict(Kev, documents.unpack(r.doc)) for r in rows}


def _epss(conn: Connection, cves: list[str]) -> list[Epss]:
    t = schema.EpssScore.__table__
    if not cves:
        return []
    rows = conn.execute(select(t).where(t.c.cve_id.in_(cves)).order_by(t.c.cve_id))
    return [Epss(r.cve_id, r.score, r.percentile, r.date) for r in rows]


def enrich(conn: Connection, v: Vulnerability) -> Vulnerability:
    """Attach the KEV catalog entry and EPSS score of each CVE the vulnerability carries.

    KEV facts the records themselves carry (CISA ADP in CVE 5, NVD's cisaExploitAdd) stay beside the
    catalog's entry: they can differ (a re-added entry keeps an older date in one of them).
    """
    cves = sorted(set(v.cve_ids()))
    catalog = _kev(conn, cves)
    v.kev = sorted([*catalog.values(), *v.kev], key=lambda k: (k.cve_id, k.source != "kev", k.source))
    v.epss = _epss(conn, cves)
    return v


def load(conn: Connection, vuln_id: str) -> Vulnerability | None:
    """The merged record (its own document, or its single source record's) with enrichment."""
    t = schema.Vulnerability.__table__
    row = conn.execute(select(t.c.id, t.c.doc).where(t.c.id == vuln_id)).first()
    if row is None:
        return None
    doc = row.doc
    if doc is None:
        sr = schema.SourceRecord.__table__
        doc = conn.scalar(select(sr.c.doc).where(sr.c.vuln_id == vuln_id).limit(1))
        if doc is None:
            return None
    merged = vulnerability_from_dict(merge.combine_data([documents.unpack(doc)], row.id))
    return enrich(conn, merged)


def lookup(conn: Connection, identifier: str) -> Lookup | None:
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


def source_state(conn: Connection, source: str) -> dict[str, Any] | None:
    """Last update, origin and sync cursor of one source (None before its first import)."""
    t = schema.SourceState.__table__
    row = conn.execute(select(t).where(t.c.source == source)).first()
    return dict(row._mapping) if row is not None else None


def checkpoint(conn: Connection, key: str) -> dict[str, Any] | None:
    """The checkpoint an interrupted import left (None when the last one finished)."""
    t = schema.SourceState.__table__
    row = conn.execute(select(t.c.cursor).where(t.c.source == CHECKPOINT_PREFIX + key)).first()
    return orjson.loads(row.cursor) if row is not None and row.cursor else None


def database_size(conn: Connection) -> int:
    if conn.dialect.name == "postgresql":
        return int(conn.scalar(select(func.pg_database_size(func.current_database()))) or 0)
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
    size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
    return int(pages) * int(size)


def coverage(conn: Connection) -> list[dict[str, Any]]:
    """Every (source, scope) the knowledge base holds records of or a complete feed for, with the
    number of vulnerabilities indexed under it (OSV: by ecosystem; NVD, CVE 5, JVN: by CPE)."""
    t = schema.Coverage.__table__
    ap = schema.AffectedPackage.__table__
    counts: dict[tuple[str, str], int] = {}
    stmt = (
        select(ap.c.source, ap.c.ecosystem, func.count(func.distinct(ap.c.vuln_id)))
        .where(ap.c.origin == "package")
        .group_by(ap.c.source, ap.c.ecosystem)
    )
    for source, scope, n in conn.execute(stmt):
        counts[(source, scope)] = int(n)
    sr = schema.SourceRecord.__table__
    stmt = (
        select(sr.c.source, func.count(func.distinct(sr.c.vuln_id)))
        .where(sr.c.source.in_(("nvd", "cve5", "jvn")))
        .group_by(sr.c.source)
    )
    for source, n in conn.execute(stmt):
        counts[(source, "cpe")] = int(n)
    out = []
    for row in conn.execute(select(t).order_by(t.c.source, t.c.scope)):
        out.append({**row._asdict(), "records": counts.get((row.source, row.scope), 0)})
    return out


def status(conn: Connection) -> dict[str, Any]:
    """Records per source (withdrawn ones counted apart), last update per source, sizes."""
    sr = schema.SourceRecord.__table__
    per_source: dict[str, dict[str, Any]] = {}
    stmt = select(
        sr.c.source,
        func.count(func.distinct(sr.c.record_id)),
        func.count(sr.c.withdrawn),
    ).group_by(sr.c.source)
    for source, records, withdrawn in conn.execute(stmt):
        per_source[source] = {"records": int(records), "withdrawn": int(withdrawn)}
    for source, table in ENRICHMENT_SOURCES.items():
        count = conn.scalar(select(func.count()).select_from(table.__table__)) or 0
        if count:
            per_source[source] = {"records": int(count)}
    if "purl2cpe" in per_source:  # links by strength: weak ones are not matched by default
        pc = schema.PurlCpe.__table__
        strengths = dict(conn.execute(select(pc.c.strength, func.count()).group_by(pc.c.strength)).all())
        per_source["purl2cpe"].update(
            strong=int(strengths.get("strong", 0)), weak=int(strengths.get("weak", 0))
        )
    state = schema.SourceState.__table__
    for row in conn.execute(select(state).where(~state.c.source.startswith(CHECKPOINT_PREFIX))):
        entry = per_source.setdefault(row.source, {"records": 0})
        entry["updated_at"] = row.updated_at
        entry["origin"] = row.origin
    vt = schema.Vulnerability.__table__
    return {
        "backend": conn.dialect.name,
        "size_bytes": database_size(conn),
        "vulnerabilities": int(conn.scalar(select(func.count()).select_from(vt)) or 0),
        "withdrawn": int(conn.scalar(select(func.count(vt.c.withdrawn))) or 0),
        "aliases": int(conn.scalar(select(func.count()).select_from(schema.Alias.__table__)) or 0),
        "affected_packages": int(
            conn.scalar(select(func.count()).select_from(schema.AffectedPackage.__table__)) or 0
        ),
        "affected_cpes": int(
            conn.scalar(select(func.count()).select_from(schema.AffectedCpe.__table__)) or 0
        ),
        "sources": dict(sorted(per_source.items())),
        "coverage": coverage(conn),
    }

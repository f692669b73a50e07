"""Writes inside one transaction: source records, regrouping by alias, index rows, KEV, EPSS, purl2cpe.

Re-importing the same record is a no-op (its digest is unchanged); a changed record rebuilds only
the merged vulnerabilities it touches, old or new. What changed for the findings of the portfolio is
noted in ``knowledge_change``: the ids of the merged vulnerabilities rebuilt (old and new), and the CVE
ids whose KEV entry or EPSS score is new or differs from the stored one.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeAlias

import orjson

from mamori.model import merge
from mamori.model.purl2cpe import PurlCpeLink, judged
from mamori.model.vulnerability import Epss, Kev, Vulnerability
from mamori.store import documents
from mamori.store.limits import epss_row, kev_row, link_row
from mamori.store.rows import cpe_rows, merged_rows, package_rows

if TYPE_CHECKING:
    from sqlalchemy import Connection as EngineConnection
    from sqlalchemy import Table
    from sqlalchemy.types import TypeEngine

CHUNK = 5000
EVERYTHING = "*"  # noted when the whole knowledge base was replaced (a snapshot): no id is one
CHECKPOINT_PREFIX = "~"  # source_state rows of unfinished imports, not sources
RecordKey = tuple[str, str, str]  # source, record id, feed
# What writes go through: a connection of a SQLAlchemy engine, or (a SQLite store opened without
# SQLAlchemy, :class:`mamori.store.database.Store`) a :mod:`sqlite3` connection inside its transaction.
# On SQLite every statement is SQL text with ``?`` parameters, the same for both; on PostgreSQL the
# statements are SQLAlchemy's.
if TYPE_CHECKING:
    Connection: TypeAlias = EngineConnection | sqlite3.Connection
    TableRef: TypeAlias = Table | str


@dataclass(slots=True)
class WriteCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dialect(conn: Connection) -> str:
    return "sqlite" if isinstance(conn, sqlite3.Connection) else conn.dialect.name


def _name(table: TableRef) -> str:
    return table if isinstance(table, str) else table.name


def _table(table: TableRef) -> Table:
    """The table's SQLAlchemy object (statements other than SQLite's text, PostgreSQL's COPY types)."""
    if not isinstance(table, str):
        return table
    from mamori.store.schema import Base  # the knowledge base's tables: what this module writes by name

    return Base.metadata.tables[table]


def _rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
    """One statement of SQL text in the driver's own parameter style; its rows."""
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql, params).fetchall()
    return list(conn.exec_driver_sql(sql, tuple(params)).all())


def _run(conn: Connection, sql: str, params: Sequence[Any] = ()) -> None:
    """One statement of SQL text that returns no rows."""
    if isinstance(conn, sqlite3.Connection):
        conn.execute(sql, params)
    else:
        conn.exec_driver_sql(sql, tuple(params))


def _many(conn: Connection, sql: str, rows: list[Sequence[Any]]) -> None:
    """One statement of SQL text run for each of ``rows`` (not empty)."""
    if isinstance(conn, sqlite3.Connection):
        conn.executemany(sql, rows)
    else:
        conn.exec_driver_sql(sql, rows)


def _insert(conn: Connection, table: Table) -> Any:
    if dialect(conn) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def upsert(
    conn: Connection, table: TableRef, rows: list[dict[str, Any]], keys: list[str], keep: Iterable[str] = ()
) -> None:
    """Insert ``rows``; a row whose ``keys`` are taken updates the stored one (every column but the keys
    and ``keep``), or is left out when there is nothing to update."""
    if not rows:
        return
    columns = list(rows[0])
    kept = {*keys, *keep}
    changing = [c for c in columns if c not in kept]
    if dialect(conn) == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{_name(table)}" ({_quoted(columns)}) VALUES ({marks}) ON CONFLICT '
        if changing:
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in changing)
            sql += f"({_quoted(keys)}) DO UPDATE SET {sets}"
        else:
            sql += "DO NOTHING"
        values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
        for part in chunks(rows):
            _many(conn, sql, list(map(values, part)))
        return
    stmt = _insert(conn, _table(table))
    updates = {c: stmt.excluded[c] for c in changing}
    stmt = (
        stmt.on_conflict_do_update(index_elements=keys, set_=updates)
        if updates
        else stmt.on_conflict_do_nothing()
    )
    for part in chunks(rows):
        conn.execute(stmt, list(part))


def _copy_type(column_type: TypeEngine[Any]) -> str:
    """The PostgreSQL type a value of this column is sent as in a binary COPY."""
    from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary

    if isinstance(column_type, LargeBinary):
        return "bytea"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Integer):
        return "int8" if isinstance(column_type, BigInteger) else "int4"
    if isinstance(column_type, Float):
        return "float8"
    return "text"


def insert_rows(conn: Connection, table: TableRef, rows: list[dict[str, Any]]) -> None:
    """Plain inserts; on PostgreSQL through a binary COPY (several times faster than row-wise
    executemany; binary, the compressed documents go as they are instead of as hex text)."""
    if not rows:
        return
    columns = list(rows[0])
    names = _quoted(columns)
    values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    if dialect(conn) == "postgresql":
        assert not isinstance(conn, sqlite3.Connection)
        t = _table(table)
        driver = conn.connection.driver_connection
        sql = f'COPY "{t.name}" ({names}) FROM STDIN (FORMAT BINARY)'
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types([_copy_type(t.c[c].type) for c in columns])
            for row in map(values, rows):
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = (
        f'INSERT INTO "{_name(table)}" ({names}) VALUES ({marks})'  # SQLite: plain tuples, no per-row compile
    )
    for part in chunks(rows):
        _many(conn, sql, list(map(values, part)))


def select_in(
    conn: Connection, table: TableRef, columns: list[str], column: str, values: Sequence[str], **equal: str
) -> Sequence[Sequence[Any]]:
    """Rows (``columns``) whose ``column`` is one of ``values`` and whose other columns are ``equal``.

    On SQLite the values go as one JSON array (``json_each``) and on PostgreSQL as one array
    (``= ANY``): SQLAlchemy would otherwise render and bind thousands of parameters per query, a
    sizeable part of an import's writing time.
    """
    names = _quoted(columns)
    kind = dialect(conn)
    if kind == "postgresql":
        also = "".join(f' AND "{k}" = %s' for k in equal)
        sql = f'SELECT {names} FROM "{_name(table)}" WHERE "{column}" = ANY(%s){also}'
        return _rows(conn, sql, (list(values), *equal.values()))
    if kind != "sqlite":
        from sqlalchemy import select

        assert not isinstance(conn, sqlite3.Connection)
        t = _table(table)
        stmt = select(*(t.c[c] for c in columns)).where(
            t.c[column].in_(values), *(t.c[k] == v for k, v in equal.items())
        )
        return conn.execute(stmt).all()
    also = "".join(f' AND "{k}" = ?' for k in equal)
    sql = f'SELECT {names} FROM "{_name(table)}" WHERE "{column}" IN (SELECT value FROM json_each(?)){also}'
    return _rows(conn, sql, (orjson.dumps(list(values)).decode(), *equal.values()))


def update_in(
    conn: Connection, table: Table, values: dict[str, Any], column: str, keys: Sequence[Any]
) -> None:
    """Set ``values`` on the rows whose ``column`` is one of ``keys``, in one statement sent with the
    keys as one array (PostgreSQL) or JSON array (SQLite), as :func:`select_in` reads them."""
    if not keys:
        return
    names = list(values)
    sets = ", ".join(f'"{c}" = {"%s" if conn.dialect.name == "postgresql" else "?"}' for c in names)
    if conn.dialect.name == "postgresql":
        sql = f'UPDATE "{table.name}" SET {sets} WHERE "{column}" = ANY(%s)'
        conn.exec_driver_sql(sql, (*values.values(), list(keys)))
    elif conn.dialect.name == "sqlite":
        sql = f'UPDATE "{table.name}" SET {sets} WHERE "{column}" IN (SELECT value FROM json_each(?))'
        conn.exec_driver_sql(sql, (*values.values(), orjson.dumps(list(keys)).decode()))
    else:
        conn.execute(table.update().where(table.c[column].in_(list(keys))).values(**values))


Record = Vulnerability | documents.Outline  # a parsed record, or the outline an import worker made


def _data(record: Record) -> dict[str, Any]:
    return record.data() if isinstance(record, documents.Outline) else merge.as_data(record)


def _key(v: Record) -> RecordKey:
    ref = v.sources[0]
    return (ref.source, v.id, ref.feed)


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Writer:
    """All writes of one import run; the caller owns the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.token = secrets.token_hex(8)  # this import's mark on the changes it notes

    def note_changed(self, identifiers: Iterable[str]) -> None:
        """Note identifiers whose merged record, KEV entry or EPSS score changed (``knowledge_change``)."""
        rows = [{"key": k, "token": self.token} for k in sorted({merge.key(i) for i in identifiers})]
        upsert(self.conn, "knowledge_change", rows, ["key"])

    # -- vulnerability records -------------------------------------------------------------
    def put_vulnerabilities(self, records: Iterable[Vulnerability | documents.Prepared]) -> WriteCounts:
        batch: dict[RecordKey, tuple[Record, bytes, str]] = {}
        for record in records:
            ready = record if isinstance(record, documents.Prepared) else documents.prepare(record)
            batch[_key(ready.vulnerability)] = (ready.vulnerability, ready.packed, ready.digest)
        counts = WriteCounts()
        if not batch:
            return counts
        existing = self._existing(list(batch))
        changed = {k: v for k, v in batch.items() if k not in existing or existing[k][0] != v[2]}
        counts.unchanged = len(batch) - len(changed)
        counts.updated = sum(1 for k in changed if k in existing)
        counts.new = len(changed) - counts.updated
        if changed:
            self._regroup(changed, {k: existing[k][1] for k in changed if k in existing})
        return counts

    def _existing(self, keys: list[RecordKey]) -> dict[RecordKey, tuple[str, str]]:
        t = "source_record"
        found: dict[RecordKey, tuple[str, str]] = {}
        by_source: dict[str, list[str]] = {}
        for source, rid, _feed in keys:
            by_source.setdefault(source, []).append(rid)
        columns = ["source", "record_id", "feed", "digest", "vuln_id"]
        for source, ids in by_source.items():
            for part in chunks(sorted(set(ids))):
                for src, rid, feed, dig, vid in select_in(
                    self.conn, t, columns, "record_id", part, source=source
                ):
                    found[(src, rid, feed)] = (dig, vid)
        return found

    def _groups_linked_to(self, identifiers: set[str]) -> set[str]:
        t = "alias"
        out: set[str] = set()
        for part in chunks(sorted(identifiers)):
            out.update(row[0] for row in select_in(self.conn, t, ["vuln_id"], "alias_key", part))
        return out

    def _members_of(
        self, groups: set[str], skip: set[RecordKey]
    ) -> dict[RecordKey, tuple[Vulnerability, str]]:
        t = "source_record"
        out: dict[RecordKey, tuple[Vulnerability, str]] = {}
        columns = ["source", "record_id", "feed", "vuln_id", "doc"]
        for part in chunks(sorted(groups)):
            for source, rid, feed, vid, doc in select_in(self.conn, t, columns, "vuln_id", part):
                key = (source, rid, feed)
                if key not in skip:
                    out[key] = (documents.load_vulnerability(doc), vid)
        return out

    def _taken(self, ids: set[str], rebuilding: set[str]) -> set[str]:
        t = "vulnerability"
        out: set[str] = set()
        for part in chunks(sorted(ids - rebuilding)):
            out.update(row[0] for row in select_in(self.conn, t, ["id"], "id", part))
        return out

    def _regroup(
        self, changed: dict[RecordKey, tuple[Record, bytes, str]], old: dict[RecordKey, str]
    ) -> None:
        """Rebuild every merged vulnerability the changed records touch: the groups they were in
        (``old``: record → its previous group) and the groups any of their ids already belongs to."""
        identifiers = {merge.key(i) for record, _, _ in changed.values() for i in record.all_ids()}
        rebuild = set(old.values()) | self._groups_linked_to(identifiers)
        while True:
            members = self._members_of(rebuild, set(changed)) if rebuild else {}
            records = [m[0] for m in members.values()] + [c[0] for c in changed.values()]
            groups = merge.grouped(records)
            clashes = self._taken({cid for cid, _ in groups}, rebuild)
            if not clashes:
                break
            rebuild |= clashes
        self._delete_groups(rebuild)
        self.note_changed(rebuild | {cid for cid, _ in groups})
        home = {_key(r): cid for cid, g in groups for r in g}
        self._write_records(changed, set(old), home)
        self._move_members({k: vid for k, (_, vid) in members.items() if home[k] != vid}, home)
        self._insert_groups(groups)

    def _write_records(
        self,
        changed: dict[RecordKey, tuple[Record, bytes, str]],
        stored: set[RecordKey],
        home: dict[RecordKey, str],
    ) -> None:
        """New records are inserted, changed ones updated in place, each under its merged vulnerability."""
        table = "source_record"
        fresh: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        for k, (record, doc, dig) in changed.items():
            row = {
                "source": k[0],
                "record_id": k[1],
                "feed": k[2],
                "vuln_id": home[k],
                "modified": record.modified,
                "withdrawn": record.withdrawn,
                "digest": dig,
                "doc": doc,
            }
            (updated if k in stored else fresh).append(row)
        insert_rows(self.conn, table, fresh)
        upsert(self.conn, table, updated, ["source", "record_id", "feed"])

    def _move_members(self, moved: dict[RecordKey, str], home: dict[RecordKey, str]) -> None:
        """Unchanged records whose merged vulnerability changed (joined or split) point to the new one."""
        if not moved:
            return
        if dialect(self.conn) == "sqlite":
            sql = 'UPDATE "source_record" SET "vuln_id" = ? WHERE "source" = ? AND "record_id" = ? AND "feed" = ?'
            params = [(home[k], *k) for k in moved]
            for part in chunks(params):
                _many(self.conn, sql, list(part))
            return
        from sqlalchemy import bindparam, update

        t = _table("source_record")
        stmt = (
            update(t)
            .where(t.c.source == bindparam("k_source"))
            .where(t.c.record_id == bindparam("k_record_id"))
            .where(t.c.feed == bindparam("k_feed"))
            .values(vuln_id=bindparam("new_vuln_id"))
        )
        rows = [
            {"k_source": k[0], "k_record_id": k[1], "k_feed": k[2], "new_vuln_id": home[k]} for k in moved
        ]
        for part in chunks(rows):
            self.conn.execute(stmt, list(part))

    def _delete_groups(self, groups: set[str]) -> None:
        if not groups:
            return
        for table, column in (
            ("vulnerability", "id"),
            ("alias", "vuln_id"),
            ("affected_package", "vuln_id"),
            ("affected_cpe", "vuln_id"),
        ):
            for part in chunks(sorted(groups)):
                self._delete_in(table, column, part)

    def _delete_in(self, table: str, column: str, values: Sequence[str]) -> None:
        if dialect(self.conn) == "sqlite":
            sql = f'DELETE FROM "{table}" WHERE "{column}" IN (SELECT value FROM json_each(?))'
            _run(self.conn, sql, (orjson.dumps(list(values)).decode(),))
            return
        from sqlalchemy import delete

        t = _table(table)
        self.conn.execute(delete(t).where(t.c[column].in_(values)))

    def _insert_groups(self, groups: list[tuple[str, list[Record]]]) -> None:
        """Merged rows; a group of one record stores no document of its own (the record's is read)."""
        vulns, aliases, packages, cpes = [], [], [], []
        for vid, members in groups:
            if len(members) == 1:
                v = members[0]
                ids, doc, sources = v.all_ids(), None, v.sources[0].source
                dates = (v.published, v.modified, v.withdrawn)
                packages.extend(package_rows(v, vid))
                cpes.extend(cpe_rows(v, vid))
            else:  # merged as stored data: no record is rebuilt as objects
                members = sorted(members, key=merge.record_order)
                merged = merge.combine_data([_data(m) for m in members], vid)
                ids, doc = [vid, *merged["aliases"]], documents.pack(documents.to_json(merged))
                sources = ",".join(sorted({s["source"] for s in merged["sources"]}))
                dates = (merged["published"], merged["modified"], merged["withdrawn"])
                more_packages, more_cpes = merged_rows(members, vid)
                packages.extend(more_packages)
                cpes.extend(more_cpes)
            published, modified, withdrawn = dates
            vulns.append(
                {
                    "id": vid,
                    "sources": sources,
                    "published": published,
                    "modified": modified,
                    "withdrawn": withdrawn,
                    "doc": doc,
                }
            )
            seen: set[str] = set()
            for identifier in (vid, *ids):
                k = merge.key(identifier)
                if k not in seen:
                    seen.add(k)
                    aliases.append({"alias_key": k, "vuln_id": vid, "alias": identifier})
        insert_rows(self.conn, "vulnerability", vulns)
        insert_rows(self.conn, "alias", aliases)
        insert_rows(self.conn, "affected_package", packages)
        insert_rows(self.conn, "affected_cpe", cpes)

    # -- enrichment and links ----------------------------------------------------------------
    def put_kev(self, entries: Iterable[Kev]) -> int:
        rows = {e.cve_id: {**kev_row(e), "doc": documents.pack(documents.to_json(e))} for e in entries}
        stored = self._stored("kev", "doc", list(rows))
        self.note_changed(k for k, row in rows.items() if k not in stored or bytes(stored[k]) != row["doc"])
        upsert(self.conn, "kev", list(rows.values()), ["cve_id"])
        return len(rows)

    def put_epss(self, entries: Iterable[Epss]) -> int:
        rows = {e.cve_id: epss_row(e) for e in entries}
        # what follows from EPSS (priority, notifications) reads the score: a new date alone changes nothing
        stored = self._stored("epss", "score", list(rows))
        self.note_changed(k for k, row in rows.items() if k not in stored or stored[k] != row["score"])
        upsert(self.conn, "epss", list(rows.values()), ["cve_id"])
        return len(rows)

    def _stored(self, table: str, column: str, cves: list[str]) -> dict[str, Any]:
        """The stored ``column`` of these CVE ids' rows of ``table`` (those that exist)."""
        out: dict[str, Any] = {}
        for part in chunks(sorted(cves)):
            out.update(
                (cve, value) for cve, value in select_in(self.conn, table, ["cve_id", column], "cve_id", part)
            )
        return out

    def put_purl_cpe(self, links: Iterable[PurlCpeLink]) -> int:
        """Store links with their strength (judged now when they come without it); a link imported
        again takes the strength the rule gives it now."""
        rows = {(link.purl, link.cpe_vendor, link.cpe_product): link_row(link) for link in map(judged, links)}
        upsert(self.conn, "purl_cpe", list(rows.values()), ["purl", "cpe_vendor", "cpe_product"])
        return len(rows)

    def touch(self, source: str, origin: str | None, cursor: str | None = None) -> None:
        row = {"source": source, "updated_at": now(), "origin": origin}
        if cursor is not None:
            row["cursor"] = cursor
        upsert(self.conn, "source_state", [row], ["source"])

    # -- coverage ----------------------------------------------------------------------------
    def put_coverage(self, source: str, scopes: Iterable[str], *, complete: bool, origin: str | None) -> None:
        """Record ``scopes`` of ``source`` as imported whole now (``complete``) or in part: a partial
        import never takes completeness away from a scope a whole feed made complete."""
        scopes = sorted(set(scopes))
        if not scopes:
            return
        at = now()
        if complete:
            rows = [
                {"source": source, "scope": s, "complete": True, "complete_at": at, "complete_origin": origin}
                for s in scopes
            ]
        else:
            rows = [
                {"source": source, "scope": s, "complete": False, "partial_at": at, "partial_origin": origin}
                for s in scopes
            ]
        keep = {"complete"} if not complete else set()
        upsert(self.conn, "coverage", rows, ["source", "scope"], keep=keep)

    def scopes_from(self, source: str, origin: str) -> list[str]:
        """The scopes of ``source`` whose records were last imported (in part) from ``origin``."""
        if dialect(self.conn) == "sqlite":
            sql = 'SELECT "scope" FROM "coverage" WHERE "source" = ? AND "partial_origin" = ?'
            return sorted(row[0] for row in _rows(self.conn, sql, (source, origin)))
        from sqlalchemy import select

        t = _table("coverage")
        stmt = select(t.c.scope).where(t.c.source == source, t.c.partial_origin == origin)
        return sorted(self.conn.scalars(stmt))

    # -- import checkpoints ------------------------------------------------------------------
    def save_checkpoint(self, key: str, origin: str, state: dict[str, Any]) -> None:
        """How far an import got, committed in the same transaction as the batch it follows.

        Kept as a ``source_state`` row named ``~<key>`` (see :func:`mamori.store.reader.checkpoint`).
        """
        row = {"source": CHECKPOINT_PREFIX + key, "updated_at": now(), "origin": origin}
        row["cursor"] = orjson.dumps(state).decode()
        upsert(self.conn, "source_state", [row], ["source"])

    def drop_checkpoint(self, key: str) -> None:
        if dialect(self.conn) == "sqlite":
            _run(self.conn, 'DELETE FROM "source_state" WHERE "source" = ?', (CHECKPOINT_PREFIX + key,))
            return
        from sqlalchemy import delete

        t = _table("source_state")
        self.conn.execute(delete(t).where(t.c.source == CHECKPOINT_PREFIX + key))

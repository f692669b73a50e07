"""What changed in the store since the last full or changed-only run, and which components it touches.

Nothing in the importers has to cooperate. Each run keeps, in ``portfolio_record_seen``, the digest
and merged vulnerability of every source record as it was when the run started; the next
changed-only run compares ``source_record`` with it:

- a record that is new, whose digest changed, or that moved to another merged vulnerability (a
  new alias joined two groups), and a record that disappeared, mark its merged vulnerability —
  old id and new id — as changed;
- the changed vulnerabilities' index rows name the (ecosystem, name) and (vendor, product) keys they
  cover now; components with those keys (directly, or through a purl2cpe link to that
  vendor:product) are re-matched, and so is every component that had a match with one of them
  (that is how a key a record no longer names is caught);
- purl2cpe links added since the run (``purl_cpe`` ids above its mark) re-match the components with
  that purl;
- SBOM revisions stored since the run (``release_sbom`` ids above its mark) re-match every
  component of their releases, so ``release add --no-match`` is caught up too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, or_, select, tuple_

from mamori.match.purl2cpe import LinkKey, link_key
from mamori.portfolio import tables as t
from mamori.store import schema
from mamori.store.writer import chunks, insert_rows

SeenKey = tuple[str, str, str]  # source, record id, feed


@dataclass(frozen=True, slots=True)
class Marks:
    """The highest ``purl_cpe`` and ``release_sbom`` ids a run saw."""

    link: int
    sbom: int


@dataclass(slots=True)
class Changes:
    vuln_ids: set[str] = field(default_factory=set)
    seen: list[dict[str, Any]] = field(default_factory=list)  # new state of changed records
    gone: list[SeenKey] = field(default_factory=list)  # records no longer in the store


def current_marks(conn: Connection) -> Marks:
    link = conn.scalar(select(func.max(schema.PurlCpe.__table__.c.id))) or 0
    sbom = conn.scalar(select(func.max(t.SbomRow.__table__.c.id))) or 0
    return Marks(int(link), int(sbom))


def last_marks(conn: Connection) -> Marks | None:
    """The marks of the newest finished full or changed-only run; None before the first one."""
    r = t.RunRow.__table__
    row = conn.execute(
        select(r.c.link_mark, r.c.sbom_mark)
        .where(r.c.done.is_(True), r.c.mode.in_(("full", "changed")))
        .order_by(r.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.link_mark is None or row.sbom_mark is None:
        return None
    return Marks(int(row.link_mark), int(row.sbom_mark))


def _pk_equal(a: Any, b: Any) -> Any:
    return and_(a.c.source == b.c.source, a.c.record_id == b.c.record_id, a.c.feed == b.c.feed)


def record_changes(conn: Connection) -> Changes:
    """Records new, changed, moved or gone since the snapshot, and the merged vulnerabilities concerned."""
    sr, seen = schema.SourceRecord.__table__, t.RecordSeenRow.__table__
    changes = Changes()
    stmt = (
        select(sr.c.source, sr.c.record_id, sr.c.feed, sr.c.digest, sr.c.vuln_id, seen.c.vuln_id.label("old"))
        .select_from(sr.outerjoin(seen, _pk_equal(sr, seen)))
        .where(or_(seen.c.digest.is_(None), seen.c.digest != sr.c.digest, seen.c.vuln_id != sr.c.vuln_id))
    )
    for row in conn.execute(stmt):
        changes.vuln_ids.add(row.vuln_id)
        if row.old is not None:
            changes.vuln_ids.add(row.old)
        changes.seen.append(
            {
                "source": row.source,
                "record_id": row.record_id,
                "feed": row.feed,
                "digest": row.digest,
                "vuln_id": row.vuln_id,
            }
        )
    gone = select(seen.c.source, seen.c.record_id, seen.c.feed, seen.c.vuln_id).where(
        ~exists().where(_pk_equal(sr, seen))
    )
    for row in conn.execute(gone):
        changes.vuln_ids.add(row.vuln_id)
        changes.gone.append((row.source, row.record_id, row.feed))
    return changes


def all_records(conn: Connection) -> list[dict[str, Any]]:
    """The snapshot a full run keeps: every record's digest and merged vulnerability."""
    sr = schema.SourceRecord.__table__
    stmt = select(sr.c.source, sr.c.record_id, sr.c.feed, sr.c.digest, sr.c.vuln_id)
    return [dict(row._mapping) for row in conn.execute(stmt)]


def replace_snapshot(conn: Connection, rows: list[dict[str, Any]]) -> None:
    seen = t.RecordSeenRow.__table__
    conn.execute(delete(seen))
    insert_rows(conn, seen, rows)


def update_snapshot(conn: Connection, changes: Changes) -> None:
    seen = t.RecordSeenRow.__table__
    keys = [(r["source"], r["record_id"], r["feed"]) for r in changes.seen] + changes.gone
    for part in chunks(keys, 300):
        conn.execute(delete(seen).where(tuple_(seen.c.source, seen.c.record_id, seen.c.feed).in_(part)))
    insert_rows(conn, seen, changes.seen)


def _ids(conn: Connection, stmt_for: Any, items: Sequence[Any], size: int = 300) -> set[int]:
    out: set[int] = set()
    for part in chunks(list(items), size):
        out.update(conn.scalars(stmt_for(part)))
    return out


def _keys_of(conn: Connection, vuln_ids: Sequence[str]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    ap, ac = schema.AffectedPackage.__table__, schema.AffectedCpe.__table__
    packages: set[tuple[str, str]] = set()
    cpes: set[tuple[str, str]] = set()
    for part in chunks(list(vuln_ids), 500):
        packages.update(
            conn.execute(select(ap.c.ecosystem, ap.c.name_key).where(ap.c.vuln_id.in_(part)).distinct()).all()
        )
        cpes.update(
            conn.execute(select(ac.c.vendor, ac.c.product).where(ac.c.vuln_id.in_(part)).distinct()).all()
        )
    return packages, cpes


def components_with_links(conn: Connection, keys: Iterable[LinkKey]) -> set[int]:
    c = t.ComponentRow.__table__
    return _ids(
        conn,
        lambda part: select(c.c.id).where(tuple_(c.c.link_type, c.c.link_namespace, c.c.link_name).in_(part)),
        sorted(set(keys)),
    )


def touched_components(
    conn: Connection, vuln_ids: set[str], links: dict[LinkKey, list[tuple[str, str]]]
) -> set[int]:
    """Components whose match with the changed vulnerabilities may have changed."""
    if not vuln_ids:
        return set()
    c, cc, m = t.ComponentRow.__table__, t.ComponentCpeRow.__table__, t.MatchRow.__table__
    packages, cpes = _keys_of(conn, sorted(vuln_ids))
    found = _ids(
        conn,
        lambda part: select(c.c.id).where(tuple_(c.c.ecosystem, c.c.name_key).in_(part)),
        sorted(packages),
    )
    found |= _ids(  # OS packages whose source package the records name
        conn,
        lambda part: select(c.c.id).where(tuple_(c.c.ecosystem, c.c.source_name_key).in_(part)),
        sorted(packages),
    )
    found |= _ids(
        conn,
        lambda part: select(cc.c.component_id).where(tuple_(cc.c.vendor, cc.c.product).in_(part)),
        sorted(cpes),
    )
    linked = [key for key, pairs in links.items() if any(pair in cpes for pair in pairs)]
    found |= components_with_links(conn, linked)
    found |= _ids(
        conn, lambda part: select(m.c.component_id).where(m.c.vuln_id.in_(part)).distinct(), sorted(vuln_ids)
    )
    return found


def new_link_components(conn: Connection, mark: int) -> set[int]:
    """Components whose purl gained a purl2cpe link since the mark."""
    p = schema.PurlCpe.__table__
    rows = conn.execute(select(p.c.purl_type, p.c.purl_namespace, p.c.purl_name).where(p.c.id > mark))
    return components_with_links(conn, {link_key(a, b or "", n) for a, b, n in rows})


def new_revision_components(conn: Connection, mark: int) -> set[int]:
    """Every component of every revision of the releases that got an SBOM revision since the mark."""
    s, sc = t.SbomRow.__table__, t.SbomComponentRow.__table__
    releases = select(s.c.release_id).where(s.c.id > mark).distinct().scalar_subquery()
    revisions = select(s.c.id).where(s.c.release_id.in_(releases)).scalar_subquery()
    return set(conn.scalars(select(sc.c.component_id).where(sc.c.sbom_id.in_(revisions)).distinct()))

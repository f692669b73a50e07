"""Reading the portfolio back: products, one release (provenance, components, findings), findings
across releases. Plain dicts, ready for JSON; the CLI renders them as tables.

Times are those of the runs: a finding was *first seen* by the run that opened it, is *last seen*
by the latest run that matched its component (or, once resolved, the run before it was resolved).
KEV membership is read from the store when the view is built, so a KEV import shows at once;
severity is as of the latest match of the component. Not-evaluated notes carry their reason code
(``coverage`` for a component whose scope no complete feed covers); the views also carry the
knowledge base's ``coverage`` per scope (complete or partial, source, date, age, records).

A finding's ``status`` is the one triage state ``mamori scan`` shows for the same release
(:mod:`mamori.triage.state`: the release's triage records — the user's own, then imported VEX — or
``open`` when nothing says anything), or ``resolved`` once the component no longer matches. Findings
``not_affected`` or ``fixed`` stay listed, marked ``in_gate: false``, and are not counted as open.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import merge
from mamori.portfolio import tables as t
from mamori.portfolio.archive import release_id
from mamori.scan.result import ComponentRef
from mamori.store import Store, schema
from mamori.store.writer import chunks
from mamori.triage.records import records_of_releases
from mamori.triage.state import OUT_OF_GATE, STATUSES, UNSTATED, FindingState, Resolver
from mamori.vulndb.coverage import age_days

RATING_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 4, "unknown": 5}


def _run_times(conn: Connection) -> dict[int, str]:
    r = t.RunRow.__table__
    return dict(conn.execute(select(r.c.id, r.c.started_at)).all())


def _kev(conn: Connection, ids: Iterable[str]) -> set[str]:
    cves = sorted({i.upper() for i in ids if merge.is_cve(i)})
    k = schema.KevEntry.__table__
    out: set[str] = set()
    for part in chunks(cves, 500):
        out.update(conn.scalars(select(k.c.cve_id).where(k.c.cve_id.in_(part))))
    return out


def _resolver(conn: Connection, releases: set[tuple[str, str]]) -> Resolver | None:
    """The triage records of these (product, release) pairs as a resolver (None: there are none)."""
    found = records_of_releases(conn, releases) if releases else []
    return Resolver(found) if found else None


def _state(resolver: Resolver | None, row: Any) -> FindingState:
    if resolver is None:
        return UNSTATED
    ids = [row.vuln_id, *(row.aliases or "").split()]
    component = ComponentRef(row.name, row.version, row.purl)
    return resolver.state(component, ids, (row.product, row.release))


def out_of_gate(conn: Connection) -> dict[int, set[int]]:
    """release id → match ids of its unresolved findings that a triage record calls not_affected or fixed
    (only releases with records are read)."""
    releases = {(r.product, r.release) for r in records_of_releases(conn)}
    if not releases:
        return {}
    f, m, c = t.FindingRow.__table__, t.MatchRow.__table__, t.ComponentRow.__table__
    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    ids = [
        rid
        for rid, product, version in conn.execute(
            select(r.c.id, p.c.name, r.c.version).join(p, p.c.id == r.c.product_id)
        )
        if (product, version) in releases
    ]
    resolver = _resolver(conn, releases)
    out: dict[int, set[int]] = {}
    for part in chunks(ids, 500):
        stmt = (
            select(
                f.c.release_id,
                f.c.match_id,
                p.c.name.label("product"),
                r.c.version.label("release"),
                c.c.name,
                c.c.version,
                c.c.purl,
                m.c.vuln_id,
                m.c.aliases,
            )
            .select_from(f.join(m, m.c.id == f.c.match_id).join(c, c.c.id == m.c.component_id))
            .join(r, r.c.id == f.c.release_id)
            .join(p, p.c.id == r.c.product_id)
            .where(f.c.resolved_run.is_(None), m.c.verdict == "affected", f.c.release_id.in_(part))
        )
        for row in conn.execute(stmt):
            if _state(resolver, row).status in OUT_OF_GATE:
                out.setdefault(row.release_id, set()).add(row.match_id)
    return out


def open_counts(
    conn: Connection, releases: Iterable[int] | None = None, memo: dict[Any, Any] | None = None
) -> dict[int, int]:
    """release id → its unresolved affected findings (every release, or those named), counted in the
    database from the partial index of the open affected findings (an affected finding is the one with a
    stored priority key, :mod:`mamori.portfolio.priority`); kept in ``memo`` (:func:`findings_memo`) when
    given."""
    f = t.FindingRow.__table__
    stmt = (
        select(f.c.release_id, func.count())
        .where(f.c.resolved_run.is_(None), f.c.priority.is_not(None))
        .group_by(f.c.release_id)
    )
    counts = memo.get("open_counts") if memo is not None else None
    if counts is None:
        counts = _stored(conn, memo, "open_counts")
        if counts is None:
            # one pass of the index: cheaper than a list of ids to probe
            counts = dict(conn.execute(stmt).all())
            _remember(memo, "open_counts", counts, stored=True)
        else:
            _remember(memo, "open_counts", counts)
    if releases is None:
        return dict(counts)
    return {rid: counts[rid] for rid in set(releases) if rid in counts}


def release_findings(store: Store, releases: Iterable[int], lang: str = "en") -> list[dict[str, Any]]:
    """The unresolved affected findings of the releases named (by id), each with its triage state, as
    :func:`findings` gives them (not sorted); only those releases' rows are read."""
    from sqlalchemy import and_

    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    found: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for part in chunks(sorted(set(releases)), 500):
            where = and_(f.c.release_id.in_(part), m.c.verdict == "affected")
            found += _split(conn, _finding_rows(conn, where, False), lang)[0]
    return found


def pair_findings(store: Store, pairs: Iterable[tuple[int, int]], lang: str = "en") -> list[dict[str, Any]]:
    """The unresolved affected findings of these (release id, match id) pairs, each with its triage state,
    as :func:`findings` gives them (not sorted); only those rows are read."""
    from sqlalchemy import and_, tuple_

    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    found: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for part in chunks(sorted(set(pairs)), 500):
            where = and_(tuple_(f.c.release_id, f.c.match_id).in_(part), m.c.verdict == "affected")
            found += _split(conn, _finding_rows(conn, where, False), lang)[0]
    return found


def finding_inputs(conn: Connection) -> dict[tuple[int, int], str]:
    """Every unresolved affected finding's (release id, match id) and a digest of what its view depends
    on that the finding's own rows hold (product, release, component, match digest, first run — not
    when the component was last matched, which the view's ``last_seen`` shows and notifications do not):
    a finding whose digest is unchanged reads the same, for notifications, but for store-wide state (the
    knowledge base, triage, product contexts)."""
    f, m, c = t.FindingRow.__table__, t.MatchRow.__table__, t.ComponentRow.__table__
    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    stmt = (
        select(
            f.c.release_id,
            f.c.match_id,
            p.c.name,
            r.c.version,
            c.c.ref,
            c.c.purl,
            c.c.name,
            c.c.version,
            m.c.digest,
            f.c.first_run,
        )
        .select_from(_finding_join(f, m, c, p, r))
        .where(f.c.resolved_run.is_(None), m.c.verdict == "affected")
    )
    out: dict[tuple[int, int], str] = {}
    for row in conn.execute(stmt):
        raw = "\x1f".join("" if v is None else str(v) for v in row[2:])
        out[(row[0], row[1])] = hashlib.blake2b(raw.encode("utf-8"), digest_size=12).hexdigest()
    return out


def open_vulnerabilities(
    conn: Connection, releases: Iterable[int], memo: dict[Any, Any] | None = None
) -> list[tuple[str, str]]:
    """The distinct (vulnerability id, aliases or "") of the unresolved affected findings of the releases
    named (by id); kept in ``memo`` (:func:`findings_memo`) when given."""
    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    ids = sorted(set(releases))
    key = ("open_vulnerabilities", hashlib.blake2b(repr(ids).encode()).digest())
    if memo is not None and key in memo:
        return list(memo[key])
    held = _stored(conn, memo, key)
    if held is not None:
        _remember(memo, key, held)
        return list(held)
    out: set[tuple[str, str]] = set()
    for part in chunks(ids, 500):
        out.update(
            (vid, aliases or "")
            for vid, aliases in conn.execute(
                select(m.c.vuln_id, m.c.aliases)
                .select_from(f.join(m, m.c.id == f.c.match_id))
                .where(f.c.resolved_run.is_(None), m.c.verdict == "affected", f.c.release_id.in_(part))
                .distinct()
            )
        )
    found = sorted(out)
    _remember(memo, key, tuple(found), stored=True)
    return found


def open_classes(
    conn: Connection,
    releases: Iterable[int],
    pairs: Iterable[tuple[str, str]],
    classes: dict[str, Iterable[str]],
    outside: dict[int, set[int]] | None = None,
    memo: dict[Any, Any] | None = None,
) -> list[tuple[int, str | None, bool, str, int]]:
    """(release id, rating, in KEV, class, how many) of the unresolved affected findings in the gate of the
    releases named (by id), counted by the database: ``pairs`` are the (id, aliases or "") the findings may
    carry (:func:`open_vulnerabilities`), whose KEV membership is read here (the id or an alias in the
    catalogue, as :func:`findings` says); a finding's class is the first of ``classes`` (name → vulnerability
    ids) listing its vulnerability, "" for none. Less the findings a triage record took out of the gate
    (``outside``, read when not given: :func:`out_of_gate`). The counts before that are kept in ``memo``
    (:func:`findings_memo`) when given, per releases, pairs and classes."""
    ids = sorted(set(releases))
    pairs = sorted(set(pairs))
    named = [(name, sorted(set(vids))) for name, vids in classes.items()]
    key = ("open_classes", hashlib.blake2b(repr((ids, pairs, named)).encode()).digest())
    outside = out_of_gate(conn) if outside is None else outside
    gone = {rid: sorted(outside[rid]) for rid in ids if outside.get(rid)}
    held = memo.get(key) if memo is not None else None
    if held is None:
        held = _stored(conn, memo, key)
        _remember(memo, key, held)
    counted = _class_counter(conn, pairs, named) if held is None or gone else None
    if held is None:
        assert counted is not None
        f, m = t.FindingRow.__table__, t.MatchRow.__table__
        held = {}
        for part in chunks(ids, 500):
            where = (f.c.resolved_run.is_(None), m.c.verdict == "affected", f.c.release_id.in_(part))
            for rid, rating, kev, name, n in conn.execute(counted(*where)):
                k = (rid, rating, bool(kev), name)
                held[k] = held.get(k, 0) + n
        _remember(memo, key, held, stored=True)
    counts = dict(held)
    for rid, matches in gone.items():
        assert counted is not None
        f = t.FindingRow.__table__
        for chunk in chunks(matches, 500):
            for orid, rating, kev, name, n in conn.execute(
                counted(f.c.release_id == rid, f.c.match_id.in_(chunk))
            ):
                k = (orid, rating, bool(kev), name)
                counts[k] = counts.get(k, 0) - n
    return [(*k, n) for k, n in counts.items() if n > 0]


def _class_counter(
    conn: Connection, pairs: list[tuple[str, str]], classes: list[tuple[str, list[str]]]
) -> Any:
    """A statement maker for :func:`open_classes`: the findings that the conditions given keep, counted
    per (release id, rating, in KEV, class)."""
    from sqlalchemy import case, literal, or_, tuple_

    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    in_kev_ids, mixed = _kev_flags(conn, pairs)
    aliases = func.coalesce(m.c.aliases, "")
    kev_terms = ([m.c.vuln_id.in_(in_kev_ids)] if in_kev_ids else []) + (
        [tuple_(m.c.vuln_id, aliases).in_(mixed)] if mixed else []
    )
    in_kev = case((or_(*kev_terms), 1), else_=0) if kev_terms else literal(0)
    whens = [(m.c.vuln_id.in_(ids), name) for name, ids in classes if ids]
    kind = case(*whens, else_="") if whens else literal("")
    joined = f.join(m, m.c.id == f.c.match_id)

    def counted(*where: Any) -> Any:
        # the expressions (with their IN lists) once, in a subquery; grouped by its columns outside
        inner = (
            select(
                f.c.release_id.label("rid"),
                m.c.rating.label("rating"),
                in_kev.label("kev"),
                kind.label("kind"),
            )
            .select_from(joined)
            .where(*where)
            .subquery()
        )
        cols = (inner.c.rid, inner.c.rating, inner.c.kev, inner.c.kind)
        return select(*cols, func.count()).group_by(*cols)

    return counted


def vulnerability_findings(
    store: Store, ids: Iterable[str], products: set[str] | None = None, lang: str = "en"
) -> list[dict[str, Any]]:
    """The unresolved affected findings (as :func:`findings` gives them, most urgent first) whose
    vulnerability id or one of whose aliases is one of ``ids`` (any case), of the products named (None:
    every product). The matches are picked in the database; only their findings are read."""
    from sqlalchemy import and_, literal, or_

    wanted = sorted(
        {i.strip().upper() for i in ids if i.strip() and not any(ch.isspace() for ch in i.strip())}
    )
    if not wanted or (products is not None and not products):
        return []
    m, p = t.MatchRow.__table__, t.ProductRow.__table__
    padded = func.upper(literal(" ") + func.coalesce(m.c.aliases, "") + literal(" "))
    named = or_(
        func.upper(m.c.vuln_id).in_(wanted), *(padded.contains(f" {i} ", autoescape=True) for i in wanted)
    )
    where = and_(named, m.c.verdict == "affected")
    if products is not None:
        where = and_(where, p.c.name.in_(sorted(products)))
    with store.engine.connect() as conn:
        found = _split(conn, _finding_rows(conn, where, False), lang)[0]
    return [
        x
        for x in found
        if {x["vulnerability"]["id"].upper(), *(a.upper() for a in x["vulnerability"]["aliases"])}
        & set(wanted)
    ]


def products(store: Store) -> list[dict[str, Any]]:
    """Every product with its releases (newest first) and open findings per release (findings a triage
    record calls not_affected or fixed are not open)."""
    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    with store.engine.connect() as conn:
        counts = open_counts(conn)
        outside = out_of_gate(conn)
        releases: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(select(r).order_by(r.c.id.desc())):
            releases.setdefault(row.product_id, []).append(
                {
                    "version": row.version,
                    "created_at": row.created_at,
                    "open_findings": counts.get(row.id, 0) - len(outside.get(row.id, ())),
                    "not_affected_or_fixed": len(outside.get(row.id, ())),
                }
            )
        return [
            {
                "name": row.name,
                "supplier": row.supplier,
                "created_at": row.created_at,
                "created_by": row.created_by,
                "releases": releases.get(row.id, []),
            }
            for row in conn.execute(select(p).order_by(p.c.name))
        ]


def _finding(row: Any, runs: dict[int, str], kev: set[str], state: FindingState, lang: str) -> dict[str, Any]:
    ids = [row.vuln_id, *(row.aliases or "").split()]
    resolved = row.resolved_run is not None
    last = row.last_run if resolved else row.matched_run
    return {
        "component": {"name": row.name, "version": row.version, "purl": row.purl, "ref": row.ref},
        "vulnerability": {
            "id": row.vuln_id,
            "aliases": ids[1:],
            "rating": row.rating,
            "score": row.score,
            "kev": any(i.upper() in kev for i in ids),
        },
        "status": "resolved" if resolved else state.status,
        "state": state.as_dict(lang),
        "in_gate": not resolved and state.in_gate,
        "fixed_versions": row.fixed.split(", ") if row.fixed else [],
        "match": {"method": row.method, "confidence": row.confidence, "detail": row.detail},
        "first_seen": runs.get(row.first_run),
        "last_seen": runs.get(last) if last is not None else None,
        "resolved_at": runs.get(row.resolved_run) if resolved else None,
        "resolution": row.resolution,
    }


def _finding_columns(f: Any, m: Any, c: Any, p: Any, r: Any, keys: bool = False) -> list[Any]:
    """The columns of one finding row (product, release, component, match, finding), with the
    finding's (release_id, match_id) key after the release when ``keys`` is set."""
    key = [f.c.release_id, f.c.match_id] if keys else []
    return [
        p.c.name.label("product"),
        r.c.version.label("release"),
        *key,
        c.c.name,
        c.c.version,
        c.c.purl,
        c.c.ref,
        c.c.matched_run,
        m.c.vuln_id,
        m.c.verdict,
        m.c.aliases,
        m.c.method,
        m.c.confidence,
        m.c.detail,
        m.c.fixed,
        m.c.rating,
        m.c.score,
        f.c.first_run,
        f.c.last_run,
        f.c.resolved_run,
        f.c.resolution,
    ]


def _finding_join(f: Any, m: Any, c: Any, p: Any, r: Any) -> Any:
    """Findings joined to their match, component, release and product."""
    return (
        f.join(m, m.c.id == f.c.match_id)
        .join(c, c.c.id == m.c.component_id)
        .join(r, r.c.id == f.c.release_id)
        .join(p, p.c.id == r.c.product_id)
    )


def _finding_rows(conn: Connection, where: Any, include_resolved: bool) -> list[Any]:
    f, m, c = t.FindingRow.__table__, t.MatchRow.__table__, t.ComponentRow.__table__
    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    stmt = select(*_finding_columns(f, m, c, p, r)).select_from(_finding_join(f, m, c, p, r)).where(where)
    if not include_resolved:
        stmt = stmt.where(f.c.resolved_run.is_(None))
    return list(conn.execute(stmt))


def _sort_key(item: dict[str, Any]) -> tuple[Any, ...]:
    v = item["vulnerability"]
    return (
        item["status"] == "resolved",
        not item["in_gate"],
        not v["kev"],
        RATING_ORDER.get(v["rating"], 9),
        -(v["score"] or 0),
        item.get("product", ""),
        item.get("release", ""),
        item["component"]["ref"],
        v["id"],
    )


def _split(
    conn: Connection, rows: list[Any], lang: str = "en"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Findings (affected, each with its triage state) and not-evaluated notes, most urgent first."""
    runs = _run_times(conn)
    kev = _kev(conn, (i for row in rows for i in [row.vuln_id, *(row.aliases or "").split()]))
    resolver = _resolver(conn, {(row.product, row.release) for row in rows if row.verdict == "affected"})
    findings, notes = [], []
    for row in rows:
        state = _state(resolver, row) if row.verdict == "affected" else UNSTATED
        item = _finding(row, runs, kev, state, lang)
        item["product"], item["release"] = row.product, row.release
        if row.verdict == "affected":
            findings.append(item)
        else:
            notes.append(
                {
                    "product": row.product,
                    "release": row.release,
                    "component": item["component"],
                    "vulnerability": row.vuln_id,
                    "reason": row.detail,
                    "reason_code": row.method or "cannot-compare",
                    "status": "resolved" if row.resolved_run is not None else "open",
                }
            )
    findings.sort(key=_sort_key)
    notes.sort(key=lambda n: (n["product"], n["release"], n["component"]["ref"], n["vulnerability"]))
    return findings, notes


def coverage(store: Store) -> list[dict[str, Any]]:
    """Per scope of the knowledge base: complete (source, date, age of the freshest complete feed) or
    partial, and the records it holds across sources."""
    now = datetime.now(UTC)
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for row in store.coverage():
        by_scope.setdefault(str(row["scope"]), []).append(row)
    out = []
    for scope, rows in sorted(by_scope.items(), key=lambda x: (x[0] == "cpe", x[0].lower())):
        feeds = sorted(
            (r for r in rows if r["complete"]), key=lambda r: r.get("complete_at") or "", reverse=True
        )
        feed = feeds[0] if feeds else None
        out.append(
            {
                "scope": scope,
                "complete": feed is not None,
                "source": feed["source"] if feed else None,
                "complete_at": feed.get("complete_at") if feed else None,
                "age_days": age_days(feed.get("complete_at"), now) if feed else None,
                "records": sum(int(r.get("records") or 0) for r in rows),
                "sources": sorted({str(r["source"]) for r in rows}),
            }
        )
    return out


def summary(findings: list[dict[str, Any]], notes: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts: ``open_findings`` are the unresolved findings in the gate (open, under investigation,
    affected); ``not_affected_or_fixed`` the unresolved ones a record took out of it; ``by_status`` all
    unresolved ones per triage status."""
    current = [f for f in findings if f["status"] != "resolved"]
    open_ = [f for f in current if f["in_gate"]]
    by_reason: dict[str, int] = {}
    for n in notes:
        if n["status"] == "open":
            by_reason[n["reason_code"]] = by_reason.get(n["reason_code"], 0) + 1
    by_rating = dict.fromkeys(RATING_ORDER, 0)
    for f in open_:
        by_rating[f["vulnerability"]["rating"]] = by_rating.get(f["vulnerability"]["rating"], 0) + 1
    by_status = dict.fromkeys(STATUSES, 0)
    for f in current:
        by_status[f["status"]] = by_status.get(f["status"], 0) + 1
    return {
        "open_findings": len(open_),
        "not_affected_or_fixed": len(current) - len(open_),
        "resolved_findings": len(findings) - len(current),
        "by_rating": by_rating,
        "by_status": by_status,
        "kev": sum(1 for f in open_ if f["vulnerability"]["kev"]),
        "components_affected": len({(f["product"], f["release"], f["component"]["ref"]) for f in open_}),
        "not_evaluated": sum(1 for n in notes if n["status"] == "open"),
        "not_evaluated_by_reason": dict(sorted(by_reason.items(), key=lambda x: (-x[1], x[0]))),
    }


def _revision(row: Any) -> dict[str, Any]:
    return {
        "revision": row.revision,
        "file_name": row.file_name,
        "format": row.format,
        "spec_version": row.spec_version,
        "serial_number": row.serial_number,
        "timestamp": row.sbom_timestamp,
        "tools": row.tools,
        "sha256": row.sha256,
        "size": row.size,
        "components": row.components,
        "imported_at": row.imported_at,
        "imported_by": row.imported_by,
        "importer": row.importer,
    }


def release(
    store: Store, product: str, version: str, include_resolved: bool = False, lang: str = "en"
) -> dict[str, Any]:
    """One release: its SBOM revisions with provenance, the current SBOM's components, findings."""
    s, r, p = t.SbomRow.__table__, t.ReleaseRow.__table__, t.ProductRow.__table__
    c, sc = t.ComponentRow.__table__, t.SbomComponentRow.__table__
    with store.engine.connect() as conn:
        rid = release_id(conn, product, version)
        head = conn.execute(
            select(p.c.name, p.c.supplier, r.c.current_sbom_id, r.c.created_at)
            .join(p, p.c.id == r.c.product_id)
            .where(r.c.id == rid)
        ).one()
        cols = [col for col in s.c if col.name != "content"]
        revisions = [
            _revision(row)
            for row in conn.execute(select(*cols).where(s.c.release_id == rid).order_by(s.c.revision))
        ]
        components = conn.execute(
            select(c).join(sc, sc.c.component_id == c.c.id).where(sc.c.sbom_id == head.current_sbom_id)
        ).all()
        findings, notes = _split(
            conn, _finding_rows(conn, t.FindingRow.__table__.c.release_id == rid, include_resolved), lang
        )
    per_component: dict[str, int] = {}
    for f in findings:
        if f["in_gate"]:
            per_component[f["component"]["ref"]] = per_component.get(f["component"]["ref"], 0) + 1
    totals = summary(findings, notes)
    for item in (*findings, *notes):
        item.pop("product", None)
        item.pop("release", None)
    return {
        "product": {"name": head.name, "supplier": head.supplier},
        "release": version,
        "created_at": head.created_at,
        "sbom": revisions[-1] if revisions else None,
        "revisions": revisions,
        "components": sorted(
            (
                {
                    "name": row.name,
                    "group": row.component_group,
                    "version": row.version,
                    "purl": row.purl,
                    "cpes": row.cpes.split("\n") if row.cpes else [],
                    "problem": row.problem,
                    "open_findings": per_component.get(row.ref, 0),
                }
                for row in components
            ),
            key=lambda x: (-x["open_findings"], x["name"], x["version"] or ""),
        ),
        "findings": findings,
        "not_evaluated": notes,
        "summary": {"components": len(components), **totals},
        "coverage": coverage(store),
    }


def findings(
    store: Store, product: str | None = None, include_resolved: bool = False, lang: str = "en"
) -> dict[str, Any]:
    """Findings across every release (or one product's), most urgent first, with a summary."""
    p = t.ProductRow.__table__
    with store.engine.connect() as conn:
        if product is not None and conn.scalar(select(p.c.id).where(p.c.name == product)) is None:
            raise InputError(None, _("no product {product!r}").format(product=product))
        where = p.c.name == product if product is not None else p.c.id.is_not(None)
        found, notes = _split(conn, _finding_rows(conn, where, include_resolved), lang)
    return {
        "product": product,
        "findings": found,
        "not_evaluated": notes,
        "summary": summary(found, notes),
        "coverage": coverage(store),
    }


# -- one page of findings, filtered, sorted and cut in SQL (the server's findings lists) ------------------
SORT_PAGE = ("priority", "severity")


def _rating_rank(rating: Any) -> Any:
    from sqlalchemy import case

    return case(*((rating == name, rank) for name, rank in RATING_ORDER.items()), else_=9)


def _ordered(conn: Connection, column: Any) -> Any:
    """Code-point order as Python sorts strings (PostgreSQL's default collation may differ)."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def findings_page(
    store: Store,
    *,
    release: int | None = None,
    products: set[str] | None = None,
    include_resolved: bool = False,
    severity: set[str] | None = None,
    status: set[str] | None = None,
    kev: bool | None = None,
    vulnerability: str | None = None,
    component: str | None = None,
    sort: str = "priority",
    limit: int = 50,
    offset: int = 0,
    lang: str = "en",
) -> tuple[int, list[dict[str, Any]]]:
    """The findings of one release (by id) or of the products named (None: every product) that the
    filters keep, in the order of :func:`findings` (``priority``) or by score (``severity``: highest
    first, then by id, then in priority order), and how many there are: the same answer as filtering,
    sorting and cutting :func:`findings` in Python, with the filtering, counting, sorting and paging done
    by the database. Triage states are read in Python for the releases that have triage records only."""
    found = findings_keyset(
        store,
        release=release,
        products=products,
        include_resolved=include_resolved,
        severity=severity,
        status=status,
        kev=kev,
        vulnerability=vulnerability,
        component=component,
        sort=sort,
        limit=limit,
        offset=offset,
        lang=lang,
    )
    assert found.total is not None
    return found.total, found.items


@dataclass(slots=True)
class FindingsPage:
    """One page of :func:`findings_keyset`: the findings, how many there are in all (None when not
    counted), and the cursor of the page after it (None: the last page, or a sort without cursors)."""

    total: int | None
    items: list[dict[str, Any]]
    next: str | None
    # (product, release) → (product id, release id) of the page's findings
    ids: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


def encode_cursor(values: Sequence[Any]) -> str:
    """The opaque cursor of a position in the priority order."""
    raw = json.dumps(list(values), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, bytes, str, str, str, str, int, int]:
    """The position a cursor of :func:`encode_cursor` names; an InputError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        g, key, product, release, ref, vid, rid, mid = json.loads(raw.decode("utf-8"))
        parsed = (
            int(g),
            bytes.fromhex(key),
            str(product),
            str(release),
            str(ref),
            str(vid),
            int(rid),
            int(mid),
        )
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InputError(None, _("not a cursor of this list")) from None
    if not 0 <= parsed[0] < 8 or any(not 0 <= v < 2**63 for v in parsed[6:]):
        raise InputError(None, _("not a cursor of this list"))
    return parsed


def findings_keyset(
    store: Store,
    *,
    release: int | None = None,
    products: set[str] | None = None,
    include_resolved: bool = False,
    severity: set[str] | None = None,
    status: set[str] | None = None,
    kev: bool | None = None,
    vulnerability: str | None = None,
    component: str | None = None,
    sort: str = "priority",
    limit: int = 50,
    offset: int = 0,
    lang: str = "en",
    after: str | None = None,
    count: bool = True,
) -> FindingsPage:
    """:func:`findings_page` with keyset paging for the ``priority`` order: ``after``, the ``next`` cursor
    of the page before, starts the page right after it (a range of the stored priority key's index from
    that key on, instead of reading and dropping ``offset`` findings); ``count``: whether to count the
    findings (False: ``total`` None unless the page is the last one; a count reads the whole filtered
    set). The ``next`` cursor of a full ``priority`` page is given with offset paging too."""
    from sqlalchemy import and_, false, literal, not_, or_, true, tuple_

    if sort not in SORT_PAGE:
        raise ValueError(f"sort: one of {SORT_PAGE}")
    if after is not None and (sort != "priority" or offset):
        raise InputError(None, _("a cursor pages the priority order only, without an offset"))
    position = decode_cursor(after) if after is not None else None
    f, m, c = t.FindingRow.__table__, t.MatchRow.__table__, t.ComponentRow.__table__
    p, r = t.ProductRow.__table__, t.ReleaseRow.__table__
    if products is not None and not products:
        return FindingsPage(0, [], None)
    next_cursor: str | None = None
    with store.engine.connect() as conn:
        scope: list[Any] = [m.c.verdict == "affected"]
        if release is not None:
            scope.append(f.c.release_id == release)
        if products is not None:
            scope.append(p.c.name.in_(sorted(products)))
        if not include_resolved:
            scope.append(f.c.resolved_run.is_(None))
        joined = _finding_join(f, m, c, p, r)
        resolved = f.c.resolved_run.is_not(None)
        pair = tuple_(f.c.release_id, f.c.match_id)

        # triage: the state of each unresolved finding of the releases with records, in Python
        triaged = {(rec.product, rec.release) for rec in records_of_releases(conn)}
        states: dict[tuple[int, int], FindingState] = {}
        if triaged:
            resolver = Resolver(records_of_releases(conn, triaged))
            ids = {
                rid: (product, version)
                for rid, product, version in conn.execute(
                    select(r.c.id, p.c.name, r.c.version).join(p, p.c.id == r.c.product_id)
                )
                if (product, version) in triaged
            }
            for part in chunks(sorted(ids), 500):
                rows = conn.execute(
                    select(
                        f.c.release_id,
                        f.c.match_id,
                        m.c.vuln_id,
                        m.c.aliases,
                        c.c.name,
                        c.c.version,
                        c.c.purl,
                        p.c.name.label("product"),
                        r.c.version.label("release"),
                    )
                    .select_from(joined)
                    .where(and_(*scope), f.c.release_id.in_(part))
                )
                for row in rows:
                    states[(row.release_id, row.match_id)] = _state(resolver, row)
        outside = [k for k, s in states.items() if not s.in_gate]
        not_in_gate = or_(resolved, pair.in_(outside)) if outside else resolved

        memo = _memo(store, conn)
        split = memo.get("kev") if memo is not None else None
        split = split if split is not None else _stored(conn, memo, "kev")
        if split is None:
            split = _kev_split(conn)
            _remember(memo, "kev", split, stored=True)
        else:
            _remember(memo, "kev", split)
        in_kev_ids, mixed = split
        aliases = func.coalesce(m.c.aliases, "")
        kev_terms = ([m.c.vuln_id.in_(in_kev_ids)] if in_kev_ids else []) + (
            [tuple_(m.c.vuln_id, aliases).in_(mixed)] if mixed else []
        )
        in_kev = or_(*kev_terms) if kev_terms else false()

        where = list(scope)
        if severity is not None:
            # kept as one expression: a plain rating IN (...) got a slower plan from PostgreSQL (25 s against
            # 9.5 s for severity=critical on 855,561 findings)
            where.append(func.coalesce(func.nullif(m.c.rating, ""), "unknown").in_(sorted(severity)))
        if kev is not None:
            where.append(in_kev if kev else not_(in_kev))
        if vulnerability is not None:
            wanted = vulnerability.strip().upper()
            if not wanted or any(ch.isspace() for ch in wanted):  # never an id or one alias
                return FindingsPage(0, [], None)
            padded = func.upper(literal(" ") + aliases + literal(" "))
            where.append(
                or_(func.upper(m.c.vuln_id) == wanted, padded.contains(f" {wanted} ", autoescape=True))
            )
        if component is not None:
            # the components first (one scan of the component table), then their matches by the
            # (component, id) index: a pattern inside the join let PostgreSQL join every finding (13 s for
            # component=django on 855,561 findings)
            needle = component.strip().lower()
            named = or_(
                func.lower(c.c.name).contains(needle, autoescape=True),
                func.lower(func.coalesce(c.c.purl, "")).contains(needle, autoescape=True),
            )
            ids = list(conn.scalars(select(c.c.id).where(named).limit(COMPONENT_IDS + 1)))
            if not ids:
                return FindingsPage(0, [], None)
            where.append(m.c.component_id.in_(ids) if len(ids) <= COMPONENT_IDS else named)
        if status is not None:
            unresolved = f.c.resolved_run.is_(None)
            keep = [k for k, s in states.items() if s.status in status]
            other = [k for k, s in states.items() if s.status not in status]
            if "open" in status:
                kept = and_(unresolved, not_(pair.in_(other))) if other else unresolved
            else:
                kept = and_(unresolved, pair.in_(keep)) if keep else false()
            where.append(or_(kept, resolved) if "resolved" in status else kept)

        ties = [
            _ordered(conn, p.c.name),
            _ordered(conn, r.c.version),
            _ordered(conn, c.c.ref),
            _ordered(conn, m.c.vuln_id),
            f.c.release_id,
            f.c.match_id,
        ]
        if sort == "priority":
            # the stored key (rating, score, product, release, component, id: mamori.portfolio.priority)
            # follows the flags decided now (resolved, out of the gate, KEV): one query per combination of
            # the flags, in their order, each a range of the key's index cut at what the page still needs
            unresolved = f.c.resolved_run.is_(None)
            gates = [and_(unresolved, not_(pair.in_(outside))), and_(unresolved, pair.in_(outside))]
            gates = gates if outside else [unresolved]
            if include_resolved:
                gates.append(resolved)
            groups = [and_(g, k) for g in gates for k in ((in_kev, not_(in_kev)) if kev_terms else (true(),))]
            need, keys = offset + limit, []
            marks: list[tuple[Any, ...]] = []  # each key's position in the order (its group, sort columns)
            order = [f.c.priority, *ties]
            first = position[0] if position is not None else 0
            # a group's bound (below) for the first pages without a component filter: the findings and
            # their matches are enough to find it (with their releases and products for a products
            # filter, every table for the cursor's columns). Not for deep offsets: the planner then
            # expects a few of the thousands of rows up to the bound and joins the products by a nested
            # loop (460 ms for offset 5,000, against 250 ms without the bound); nor with a component
            # filter, whose bound would cost the database what the page does
            bounded = component is None and need <= BOUNDED_ROWS
            narrow = f.join(m, m.c.id == f.c.match_id)
            if products is not None:
                narrow = narrow.join(r, r.c.id == f.c.release_id).join(p, p.c.id == r.c.product_id)
            if position is not None:
                narrow = joined
            for index, group in enumerate(groups):
                if len(keys) >= need:
                    break
                if index < first:
                    continue
                cut: list[Any] = []
                if position is not None and index == first:
                    # after the cursor: a range of the key's index from its key on, then the exact order
                    bound = [position[1], *position[2:6], position[6], position[7]]
                    cut = [
                        f.c.priority >= position[1],
                        tuple_(*order) > tuple_(*(literal(v) for v in bound)),
                    ]
                wanted = need - len(keys)
                # the key of the last finding the page may take from this group, found on narrow rows
                # (the keys alone, ordered by the index): the page's rows are those up to it, so that the
                # database joins and sorts a page's worth of wide rows instead of every finding of the
                # group (10,085 KEV findings sorted for each first page: 63 ms of 140)
                bound = (
                    conn.scalar(
                        select(f.c.priority)
                        .select_from(narrow)
                        .where(and_(*where), group, *cut)
                        .order_by(f.c.priority)
                        .limit(1)
                        .offset(wanted - 1)
                    )
                    if bounded
                    else None
                )
                upto = [] if bound is None else [f.c.priority <= bound]
                if upto and conn.dialect.name != "postgresql":  # SQLite orders NULL first
                    upto = [or_(upto[0], f.c.priority.is_(None))]
                for k in conn.execute(
                    select(
                        f.c.release_id,
                        f.c.match_id,
                        f.c.priority,
                        p.c.name,
                        r.c.version,
                        c.c.ref,
                        m.c.vuln_id,
                    )
                    .select_from(joined)
                    .where(and_(*where), group, *cut, *upto)
                    .order_by(*order)
                    .limit(wanted)
                ):
                    keys.append((k.release_id, k.match_id))
                    marks.append((index, k.priority, *k[3:7], k.release_id, k.match_id))
            keys, marks = keys[offset:need], marks[offset:need]
            if len(keys) == limit and marks and marks[-1][1] is not None:  # resolved ones may have no key
                marks[-1] = (marks[-1][0], marks[-1][1].hex(), *marks[-1][2:])
                next_cursor = encode_cursor(marks[-1])
        else:
            # severity: highest score first, then by id, then in priority order
            priority = [
                func.coalesce(m.c.score, -1).desc(),
                _ordered(conn, m.c.vuln_id),
                _flag(resolved),
                _flag(not_in_gate),
                _flag(not_(in_kev) if kev_terms else true()),
                _rating_rank(m.c.rating),
                func.coalesce(m.c.score, 0).desc(),
                *ties,
            ]
            # the page's keys first (narrow rows: the database keeps the top of the order only), then
            # their rows
            keys = [
                (k.release_id, k.match_id)
                for k in conn.execute(
                    select(f.c.release_id, f.c.match_id)
                    .select_from(joined)
                    .where(and_(*where))
                    .order_by(*priority)
                    .limit(limit)
                    .offset(offset)
                )
            ]
        # the total on its own (a window count would carry every wide row through the sort)
        total: int | None
        if position is None and len(keys) < limit and (keys or offset == 0):  # the last page: known
            total = offset + len(keys)
        elif not count:
            total = None
        elif len(where) == len(scope):  # no filter: the open affected findings of the scope, in one index
            scoped = (
                "count",
                release,
                frozenset(products) if products is not None else None,
                include_resolved,
            )
            held = memo.get(scoped) if memo is not None else None
            total = held if held is not None else _count_scope(conn, release, products, include_resolved)
            if held is None:
                _remember(memo, scoped, total)
        else:
            total = conn.scalar(select(func.count()).select_from(joined).where(and_(*where))) or 0
        fetched = {
            (row.release_id, row.match_id): row
            for part in chunks(keys, 500)
            for row in conn.execute(
                select(*_finding_columns(f, m, c, p, r, keys=True), r.c.product_id)
                .select_from(joined)
                .where(pair.in_(part))
            )
        }
        rows = [fetched[k] for k in keys]
        runs = _run_times(conn)
        page_kev = _kev(conn, (i for row in rows for i in [row.vuln_id, *(row.aliases or "").split()]))
        page = []
        ids: dict[tuple[str, str], tuple[int, int]] = {}
        for row in rows:
            state = states.get((row.release_id, row.match_id), UNSTATED)
            item = _finding(row, runs, page_kev, state, lang)
            item["product"], item["release"] = row.product, row.release
            page.append(item)
            ids[(row.product, row.release)] = (row.product_id, row.release_id)
    return FindingsPage(total, page, next_cursor, ids)


MEMO_ENTRIES = 1000
BOUNDED_ROWS = 500  # a priority page is bounded by its last key up to this many rows from the start
COMPONENT_IDS = 5000  # a component filter naming more components is left to the database's join
# per store (its URL): what a findings list reads that changes only when a re-match run or a KEV import
# changes the store, with the state it was read at (see _memo)
_MEMOS: dict[str, tuple[tuple[Any, ...], dict[Any, Any]]] = {}


def _memo(store: Store, conn: Connection) -> dict[Any, Any] | None:
    """The findings lists' memo of this store: the KEV decision of the portfolio's vulnerability ids
    (``"kev"``) and the number of open affected findings per scope. Valid while the latest re-match run
    and the KEV catalogue are those it was filled at (matches and findings are only written by runs);
    None while a run is writing (nothing is kept or used then)."""
    rr, k = t.RunRow.__table__, schema.KevEntry.__table__
    run = conn.execute(select(rr.c.id, rr.c.started_at, rr.c.done).order_by(rr.c.id.desc()).limit(1)).first()
    if run is not None and not run.done:
        return None
    kev = hashlib.blake2b("\n".join(conn.scalars(select(k.c.cve_id).order_by(k.c.cve_id))).encode()).digest()
    state = (tuple(run) if run is not None else None, kev)
    url = store.engine.url.render_as_string(hide_password=True)
    held = _MEMOS.get(url)
    if held is None or held[0] != state:
        digest = hashlib.blake2b(repr(state).encode("utf-8"), digest_size=16).hexdigest()
        held = _MEMOS[url] = (state, {STATE: digest})
    return held[1]


def findings_memo(store: Store, conn: Connection) -> dict[Any, Any] | None:
    """What the portfolio's views keep between calls in this process (see :func:`_memo`)."""
    return _memo(store, conn)


STATE = "_state"  # a memo's entry: the digest of the store's state it holds counts of
UNSAVED = "_unsaved"  # a memo's entry: the names of the counts to store (save_memo)
STORED_ROWS = 1_000_000  # a stored count of more rows than this is not read


def _remember(memo: dict[Any, Any] | None, key: Any, value: Any, stored: bool = False) -> None:
    """Keep ``value`` in ``memo``; ``stored``: also in the store, for other processes (:func:`save_memo`)."""
    if memo is None or value is None:
        return
    if len(memo) > MEMO_ENTRIES:
        kept = {k: memo[k] for k in (STATE,) if k in memo}
        memo.clear()
        memo.update(kept)
    memo[key] = value
    if stored and STATE in memo:
        memo.setdefault(UNSAVED, set()).add(key)


def _memo_name(key: Any) -> str:
    """The stored name of a memo's key: ``open_counts``, or a kind and its digest."""
    if isinstance(key, tuple):
        return f"{key[0]}:{key[1].hex()}"
    return str(key)


def _encode(key: Any, value: Any) -> str:
    if key == "open_counts":
        return json.dumps(sorted(value.items()))
    if key == "kev":
        return json.dumps([value[0], [list(pair) for pair in value[1]]])
    if key[0] == "open_classes":
        return json.dumps(sorted([*k, n] for k, n in value.items()))
    return json.dumps([list(pair) for pair in value])  # open_vulnerabilities


def _decode(key: Any, raw: str) -> Any:
    """The stored value, checked for its shape; None when it is not what :func:`_encode` writes."""
    try:
        rows = json.loads(raw)
        if not isinstance(rows, list) or len(rows) > STORED_ROWS:
            return None
        if key == "kev":
            ids, mixed = rows
            return (
                [str(v) for v in ids],
                [(str(v), str(a)) for v, a in mixed],
            )
        if key == "open_counts":
            return {int(rid): int(n) for rid, n in rows}
        if key[0] == "open_classes":
            out: dict[tuple[int, str | None, bool, str], int] = {}
            for rid, rating, kev, name, n in rows:
                if not (rating is None or isinstance(rating, str)) or not isinstance(name, str):
                    return None
                out[(int(rid), rating, bool(kev), name)] = int(n)
            return out
        pairs = tuple((str(vid), str(aliases)) for vid, aliases in rows)
        return pairs
    except (TypeError, ValueError, RecursionError):
        return None


def _stored(conn: Connection, memo: dict[Any, Any] | None, key: Any) -> Any:
    """A count another process stored at the state ``memo`` holds (None: none, or not readable)."""
    from sqlalchemy.exc import SQLAlchemyError

    if memo is None or STATE not in memo:
        return None
    mt = t.MemoRow.__table__
    try:
        with conn.begin_nested():  # a store without the table: the transaction goes on
            raw = conn.scalar(
                select(mt.c.value).where(mt.c.name == _memo_name(key), mt.c.state == memo[STATE])
            )
    except SQLAlchemyError:
        return None
    return _decode(key, raw) if raw is not None else None


def save_memo(store: Store) -> int:
    """Store the counts this process made at the store's current state that other processes would need
    (a server just started reads them instead of counting again: :func:`open_counts`,
    :func:`open_vulnerabilities`, :func:`open_classes`), deleting those of other states; how many were
    written. Best effort: a store that cannot be written keeps nothing."""
    from sqlalchemy import delete
    from sqlalchemy.exc import SQLAlchemyError

    held = _MEMOS.get(store.engine.url.render_as_string(hide_password=True))
    memo = held[1] if held is not None else None
    if not memo or not memo.get(UNSAVED):
        return 0
    state, keys = memo[STATE], [k for k in memo.pop(UNSAVED) if k in memo]
    mt = t.MemoRow.__table__
    rows = [{"name": _memo_name(k), "state": state, "value": _encode(k, memo[k])} for k in keys]
    try:
        with store.engine.begin() as conn:
            conn.execute(delete(mt).where(mt.c.state != state))
            conn.execute(delete(mt).where(mt.c.name.in_([r["name"] for r in rows])))
            if rows:
                conn.execute(mt.insert(), rows)
    except SQLAlchemyError:  # read only, not migrated, or another process wrote the same names first
        return 0
    return len(rows)


def _kev_split(conn: Connection) -> tuple[list[str], list[tuple[str, str]]]:
    """KEV per distinct (id, aliases) of the affected matches: see :func:`_kev_flags`."""
    m = t.MatchRow.__table__
    distinct = conn.execute(
        select(m.c.vuln_id, m.c.aliases).where(m.c.verdict == "affected").distinct()
    ).all()
    return _kev_flags(conn, distinct)


def _kev_flags(
    conn: Connection, distinct: Iterable[tuple[str, str | None]]
) -> tuple[list[str], list[tuple[str, str]]]:
    """KEV per distinct (id, aliases): the ids whose matches all are in KEV (decided by the id alone, a
    hashed IN list), and the (id, aliases) in KEV of the rare id whose matches carry aliases that
    disagree."""
    distinct = list(distinct)
    known = _kev(conn, (i for v, a in distinct for i in [v, *(a or "").split()]))
    flags: dict[str, dict[str, bool]] = {}
    for v, a in distinct:
        flags.setdefault(v, {})[a or ""] = any(i.upper() in known for i in [v, *(a or "").split()])
    in_kev_ids = sorted(v for v, by in flags.items() if all(by.values()))
    mixed = [(v, a) for v, by in flags.items() if len(set(by.values())) > 1 for a, k in by.items() if k]
    return in_kev_ids, mixed


def _count_scope(
    conn: Connection, release: int | None, products: set[str] | None, include_resolved: bool
) -> int:
    """How many affected findings (with their stored sort key) one release or the products named have
    (unresolved ones only unless ``include_resolved``); by default, a count of a partial index."""
    f, p, r = t.FindingRow.__table__, t.ProductRow.__table__, t.ReleaseRow.__table__
    stmt = select(func.count()).select_from(f).where(f.c.priority.is_not(None))
    if not include_resolved:
        stmt = stmt.where(f.c.resolved_run.is_(None))
    if release is not None:
        stmt = stmt.where(f.c.release_id == release)
    if products is not None:
        ids = select(r.c.id).join(p, p.c.id == r.c.product_id).where(p.c.name.in_(sorted(products)))
        stmt = stmt.where(f.c.release_id.in_(list(conn.scalars(ids))))
    return conn.scalar(stmt) or 0


def _flag(condition: Any) -> Any:
    from sqlalchemy import case

    return case((condition, 1), else_=0)

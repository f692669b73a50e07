"""Re-matching the portfolio: every stored release, or only what changed since the last run.

The unit of work is the component *identity* (:mod:`mamori.portfolio.identity`), not the
(release, component) pair: identities are grouped by ecosystem and matched in bulk batches through
the scan matcher (:class:`mamori.match.Matcher`: one query per chunk of keys, advisories parsed once
and cached, version ranges evaluated with the ecosystem's rules), then the result fans out to every
release whose current SBOM lists the identity.

Coverage: a component whose scope (its purl's OSV ecosystem, or ``cpe``) no complete feed covers gets
an open "unknown" note ``coverage:<scope>`` (reason code ``coverage`` in ``method``), counted among the
portfolio's not-evaluated notes; it resolves on the first run after a complete feed of the scope was
imported (a changed-only run re-matches the components whose noted scope is complete now).

One exception keeps results exact: an NVD configuration that needs *another* component of the same
SBOM (an ``AND`` of two vulnerable CPEs) can only be decided per SBOM. Components whose CPE keys
appear in such a configuration are matched per release, together with the other such components of
that release.

Per (release, identity, vulnerability) a finding is opened (first run), kept, resolved (no longer
matched, or the component left the release's SBOM) or reopened; matches are written only when their
content changed, findings only for the matches whose set of releases changed. A full run reads every
current placement, match and finding in one scan of each table and counts its open totals as it writes
them. The cyclic garbage collector is paused during a run: the run builds millions of objects that all
stay alive until it ends and form no cycles, so each collection walked them all and found nothing (it was
about a third of a full run's CPU time). Each batch commits on its own; the run's marks (see :mod:`mamori.portfolio.changes`)
are written last, so an interrupted run is simply redone by the next one.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, bindparam, func, select, update

from mamori.match import Matcher
from mamori.match.ecosystems import VersionClass
from mamori.match.knowledge import Knowledge
from mamori.match.matcher import Hit
from mamori.match.reasons import CANNOT_COMPARE, COVERAGE
from mamori.model.cpe import index_key
from mamori.portfolio import changes as changelog
from mamori.portfolio import tables as t
from mamori.portfolio.identity import component_of
from mamori.portfolio.priority import priority_key
from mamori.sbom.gc_pause import gc_paused
from mamori.scan.describe import vulnerability_info
from mamori.scan.finding import finding_groups, fixed_versions, not_evaluated, ranked_evidence
from mamori.scan.result import Evidence, NotEvaluated, VulnerabilityInfo
from mamori.store import Store, schema
from mamori.store.writer import chunks, insert_rows, now, select_in, update_in

BATCH = 4000  # identities per matcher call
# PostgreSQL, where the next batch is matched while the current one is written: smaller batches, so that
# matching and writing overlap for most of a run (a 5,000-component upload of one ecosystem was 2 batches)
OVERLAPPED_BATCH = 1000
SELECT_IN = 20000  # ids per query sent as one array (:func:`mamori.store.writer.select_in`)
Progress = Callable[[int, int], None]  # identities done, identities in the run
PairKey = tuple[int, str]  # component id, vulnerability id
# (releases, identity, vulnerability ids): the findings that are to be open after the run
Wanted = list[tuple[set[int], int, Iterable[str]]]


@dataclass(slots=True)
class RunSummary:
    """What one run did; ``seconds`` is the wall time of the whole run."""

    run_id: int
    mode: str  # full | changed | release
    seconds: float = 0.0
    vulnerabilities_changed: int | None = None  # changed-only: merged vulnerabilities that changed
    components: int = 0  # identities re-matched
    placements: int = 0  # (release, component) pairs they stand for
    releases: int = 0
    opened: int = 0
    reopened: int = 0
    resolved: int = 0
    open_findings: int = 0  # across the portfolio after the run (not_affected/fixed ones left out)
    not_affected_or_fixed: int = 0  # unresolved findings a triage record took out of the gate
    not_evaluated: int = 0  # open "cannot tell" notes across the portfolio
    not_evaluated_by_reason: dict[str, int] = field(default_factory=dict)  # reason code → open notes
    by_rating: dict[str, int] = field(default_factory=dict)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Entry(NamedTuple):
    """What matching says about one identity and one vulnerability: affected, or cannot tell.

    A named tuple: a full re-match makes one per (identity, vulnerability), tens of thousands."""

    vuln_id: str
    verdict: str
    aliases: str | None
    method: str | None
    confidence: str | None
    detail: str
    fixed: str | None
    rating: str
    score: float | None

    @property
    def ids(self) -> set[str]:
        return {self.vuln_id, *(self.aliases or "").split()}

    def digest(self) -> str:
        """What ``portfolio_match.digest`` holds: a change in any field changes it."""
        return hashlib.blake2b(orjson.dumps(list(self)), digest_size=16).hexdigest()

    def row(self, component_id: int) -> dict[str, Any]:
        values = self._asdict()
        values["component_id"] = component_id
        values["digest"] = self.digest()
        return values


# what an Entry takes from the vulnerability: id, aliases, rating, score
Head = tuple[str, str | None, str, float | None]


def _head(info: VulnerabilityInfo) -> Head:
    return (info.id, " ".join(info.aliases) or None, info.rating, info.score)


def _affected(head: Head, hits: list[Hit], cls: VersionClass | None) -> Entry:
    """The match of one finding (its vulnerability's :func:`_head` and its hits,
    :func:`mamori.scan.finding.finding_groups`): what :func:`mamori.scan.finding.build_findings`
    gives, without the finding around it."""
    if len(hits) == 1:  # most findings: the one hit is the evidence, its fix the only one
        best: Hit | Evidence = hits[0]
        fixed = best.fixed or None
    else:
        evidence = ranked_evidence(hits)
        best = evidence[0]
        fixed = ", ".join(fixed_versions(evidence, cls)) or None
    vuln_id, aliases, rating, score = head
    return Entry(
        vuln_id, "affected", aliases, best.method, best.confidence, best.detail, fixed, rating, score
    )


COVERAGE_NOTE = "coverage:"  # vuln_id prefix of the note a component gets when its scope is not covered


def _unknown(note: NotEvaluated) -> Entry:
    """A "cannot tell" note: one record (its id), or the whole component for want of coverage."""
    vuln_id = note.vulnerability_id or f"{COVERAGE_NOTE}{note.values.get('scope')}"
    return Entry(vuln_id, "unknown", None, note.code, None, note.reason, None, "unknown", None)


class Engine:
    """Matches identities and writes their matches and findings; one engine per run."""

    def __init__(self, store: Store, matcher: Matcher, run_id: int, progress: Progress | None) -> None:
        self.store = store
        self.matcher = matcher
        self.run_id = run_id
        self.progress = progress
        self.summary = RunSummary(run_id, "")
        self._releases: set[int] = set()
        self._current: dict[int, int] | None = None  # current SBOM id → its release
        self._shared_sboms = False  # some SBOM is current in two releases (read with _current)
        # open findings after the run per (verdict, rating, method), counted as they are written
        self.counts: dict[tuple[str, str, str | None], int] = {}
        # a whole run's placements (identity → releases) and findings (match → releases, open and
        # resolved), read at once by preload and handed out per batch
        self._placed: dict[int, set[int]] | None = None
        self._matches: dict[int, list[tuple[int, str, str]]] = {}  # identity → (match id, vuln id, digest)
        self._open: dict[int, list[int]] = {}
        self._closed: dict[int, list[int]] = {}
        self._names: dict[int, tuple[str, str]] = {}  # release id → (product, version), for sort keys
        self._changed: set[int] = set()  # match ids whose content the current batch changed

    # -- reading -------------------------------------------------------------------------------
    def preload(self, conn: Connection) -> set[int]:
        """Read every current placement, match and finding, each in one scan of its table, and return
        the portfolio's identities: those a current SBOM lists, and those with open findings (to
        resolve what left). A whole run needs all of these rows; per batch they would be read through
        the component_id and match_id indexes (a table lookup per row). Plain driver tuples: these
        are the largest tables."""
        r, sc = t.ReleaseRow.__table__, t.SbomComponentRow.__table__
        m, f = t.MatchRow.__table__, t.FindingRow.__table__
        found: defaultdict[int, set[int]] = defaultdict(set)
        sbom_release = self._current_sboms(conn)
        joined = r.c.current_sbom_id == sc.c.sbom_id
        if self._shared_sboms:
            current = select(sc.c.component_id, sc.c.sbom_id, r.c.id).join(r, joined)
            for cid, sbom_id, rid in _plain(conn, current):
                if sbom_release[sbom_id] == rid:  # an SBOM current in two releases counts for one,
                    found[cid].add(rid)  # as in _placements
        else:  # the usual portfolio: no SBOM is current in two releases
            for cid, rid in _plain(conn, select(sc.c.component_id, r.c.id).join(r, joined)):
                found[cid].add(rid)
        placed = dict(found)
        matches: defaultdict[int, list[tuple[int, str, str]]] = defaultdict(list)
        owner: dict[int, int] = {}
        for mid, cid, vid, digest in _plain(conn, select(m.c.id, m.c.component_id, m.c.vuln_id, m.c.digest)):
            matches[cid].append((mid, vid, digest))
            owner[mid] = cid
        open_: defaultdict[int, list[int]] = defaultdict(list)
        for mid, rid in _plain(conn, select(f.c.match_id, f.c.release_id).where(f.c.resolved_run.is_(None))):
            open_[mid].append(rid)
        closed: defaultdict[int, list[int]] = defaultdict(list)
        for mid, rid in _plain(
            conn, select(f.c.match_id, f.c.release_id).where(f.c.resolved_run.is_not(None))
        ):
            closed[mid].append(rid)
        ids = set(placed)
        ids.update(owner[mid] for mid in open_ if mid in owner)
        self._placed, self._matches, self._open, self._closed = placed, matches, open_, closed
        return ids

    def _findings(
        self, conn: Connection, mids: list[int]
    ) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """match → releases of its open findings, and of its resolved ones."""
        open_: dict[int, list[int]] = {}
        closed: dict[int, list[int]] = {}
        if self._placed is not None:  # read by preload
            for mid in mids:
                if (rids := self._open.pop(mid, None)) is not None:
                    open_[mid] = rids
                if (rids := self._closed.pop(mid, None)) is not None:
                    closed[mid] = rids
            return open_, closed
        f = t.FindingRow.__table__
        for part in chunks(sorted(mids), SELECT_IN):
            for rid, mid, resolved in select_in(
                conn, f, ["release_id", "match_id", "resolved_run"], "match_id", part
            ):
                (open_ if resolved is None else closed).setdefault(mid, []).append(rid)
        return open_, closed

    def _release_names(self, conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """release id → (product, version) of every release (read again when one is missing)."""
        if not self._names or any(i not in self._names for i in ids):
            r, p = t.ReleaseRow.__table__, t.ProductRow.__table__
            stmt = select(r.c.id, p.c.name, r.c.version).join(p, p.c.id == r.c.product_id)
            self._names = {rid: (product, version) for rid, product, version in conn.execute(stmt)}
        return self._names

    def _current_sboms(self, conn: Connection) -> dict[int, int]:
        if self._current is None:
            r = t.ReleaseRow.__table__
            stmt = select(r.c.current_sbom_id, r.c.id).where(r.c.current_sbom_id.is_not(None))
            rows = conn.execute(stmt).all()
            self._current = dict(rows)
            self._shared_sboms = len(self._current) != len(rows)
        return self._current

    def _placements(self, conn: Connection, ids: Sequence[int]) -> dict[int, set[int]]:
        """identity → releases whose current SBOM lists it."""
        if self._placed is not None:
            return {i: self._placed.pop(i, set()) for i in ids}
        current = self._current_sboms(conn)
        sc = t.SbomComponentRow.__table__
        out: dict[int, set[int]] = {i: set() for i in ids}
        for part in chunks(list(ids), SELECT_IN):
            for cid, sbom_id in select_in(conn, sc, ["component_id", "sbom_id"], "component_id", part):
                rid = current.get(sbom_id)
                if rid is not None:
                    out[cid].add(rid)
        return out

    def _rows(self, conn: Connection, ids: Sequence[int]) -> list[Any]:
        c = t.ComponentRow.__table__
        columns = [column.name for column in c.columns]
        rows: list[Any] = []
        for part in chunks(list(ids), SELECT_IN):
            rows.extend(select_in(conn, c, columns, "id", part))
        rows.sort(key=lambda row: row.id)  # batches are made in this order
        return rows

    def context_keys(self) -> set[tuple[str, str]]:
        """vendor:product of every vulnerable CPE in configurations that need another component."""
        ac = schema.AffectedCpe.__table__
        stmt = (
            select(ac.c.vuln_id, ac.c.position)
            .where(ac.c.origin == "configuration", ac.c.vulnerable.is_(True))
            .group_by(ac.c.vuln_id, ac.c.position)
            .having(func.count() >= 2)
        )
        with self.store.engine.connect() as conn:
            pairs = [(v, p) for v, p in conn.execute(stmt)]
        advisories = self.matcher.knowledge.advisories({v for v, _ in pairs})
        keys: set[tuple[str, str]] = set()
        for vuln_id, position in pairs:
            advisory = advisories.get(vuln_id)
            config = advisory.configuration(position) if advisory else None
            if config is None:
                continue
            vulnerable = [m for node in config.nodes for m in node.matches if m.vulnerable]
            joined = config.operator == "AND" or any(node.operator == "AND" for node in config.nodes)
            if joined and len(vulnerable) > 1:
                keys.update((index_key(m.name.vendor), index_key(m.name.product)) for m in vulnerable)
        return keys

    def _in_context(self, conn: Connection, rows: list[Any], keys: set[tuple[str, str]]) -> set[int]:
        """Identities that must be matched per release (see the module's note)."""
        if not keys:
            return set()
        links = self.matcher.knowledge.links
        out = {
            r.id
            for r in rows
            if r.link_type is not None
            and any(
                pair in keys for pair in links.get((r.link_type, r.link_namespace or "", r.link_name), ())
            )
        }
        cc = t.ComponentCpeRow.__table__
        ids = [r.id for r in rows]
        for part in chunks(ids, 500):
            stmt = select(cc.c.component_id, cc.c.vendor, cc.c.product).where(cc.c.component_id.in_(part))
            out.update(cid for cid, vendor, product in conn.execute(stmt) if (vendor, product) in keys)
        return out

    # -- matching ------------------------------------------------------------------------------
    def _evaluate(self, rows: Sequence[Any]) -> dict[int, dict[str, Entry]]:
        comps = [component_of(r, str(i)) for i, r in enumerate(rows)]
        output = self.matcher.match(comps)
        records = self.matcher.knowledge.vulnerabilities({h.vuln_id for h in output.hits})
        result: dict[int, dict[str, Entry]] = {r.id: {} for r in rows}
        # per vulnerability (its member ids), shared by the matcher's runs until the store changes
        # (no KEV/EPSS in them here)
        heads: dict[tuple[str, ...], Head] = self.matcher.shared.setdefault("portfolio_heads", {})
        targets = output.targets
        for index, members, member_records, hits in finding_groups(output, records):
            key = tuple(members)
            head = heads.get(key)
            if head is None:
                head = heads[key] = _head(vulnerability_info(member_records, {}, {}))
            entry = _affected(head, hits, targets[index].cls)
            result[rows[index].id][entry.vuln_id] = entry
        for note in not_evaluated(comps, output):
            if note.vulnerability_id is None and note.code != COVERAGE:
                continue  # the component as a whole: its ``problem`` (kept on the component row)
            entries = result[rows[int(note.component.bom_ref or 0)].id]
            entry = _unknown(note)
            if not any(entry.vuln_id in e.ids for e in entries.values()):
                entries.setdefault(entry.vuln_id, entry)
        return result

    def run(self, conn: Connection, ids: Iterable[int]) -> None:
        """Re-match the identities and bring their matches and findings up to date."""
        rows = self._rows(conn, sorted(set(ids)))
        total = len(rows)
        self.summary.components = total
        context = self._in_context(conn, rows, self.context_keys())
        by_ecosystem: dict[str, list[Any]] = {}
        for row in rows:
            if row.id not in context:
                by_ecosystem.setdefault(row.ecosystem or "", []).append(row)
        size = OVERLAPPED_BATCH if conn.dialect.name == "postgresql" else BATCH
        parts = [part for _ecosystem, group in sorted(by_ecosystem.items()) for part in chunks(group, size)]
        done = 0
        for part, found in self._evaluated(conn, parts):
            placed = self._placements(conn, [r.id for r in part])
            wanted: Wanted = [(placed[cid], cid, entries) for cid, entries in found.items()]
            self._write(conn, part, found, wanted, placed)
            done += len(part)
            if self.progress:
                self.progress(done, total)
        if context:
            self._run_in_context(conn, [r for r in rows if r.id in context])
            if self.progress:
                self.progress(total, total)

    def _evaluated(
        self, conn: Connection, parts: list[Sequence[Any]]
    ) -> Iterator[tuple[Sequence[Any], dict[int, dict[str, Entry]]]]:
        """Each batch with what matching found, in order. On PostgreSQL the next batch is matched on
        another thread while the caller writes the current one: matching reads only the knowledge base
        (its own connections), writing waits mostly for the database, so the two overlap (the matcher
        is used by one thread at a time, and what is written is the same, in the same order). SQLite
        (one writer, and its knowledge reads on the writing connection's file) matches in turn."""
        if conn.dialect.name != "postgresql" or len(parts) < 2:
            for part in parts:
                yield part, self._evaluate(part)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mamori-match") as pool:
            ahead = pool.submit(self._evaluate, parts[0])
            try:
                for index, part in enumerate(parts):
                    found = ahead.result()
                    if index + 1 < len(parts):
                        ahead = pool.submit(self._evaluate, parts[index + 1])
                    yield part, found
            finally:
                ahead.cancel()

    def _run_in_context(self, conn: Connection, rows: list[Any]) -> None:
        placed = self._placements(conn, [r.id for r in rows])
        per_release: dict[int, list[Any]] = {}
        for row in rows:
            for rid in placed[row.id]:
                per_release.setdefault(rid, []).append(row)
        found: dict[int, dict[str, Entry]] = {r.id: {} for r in rows}
        wanted: Wanted = []
        for rid, members in sorted(per_release.items()):
            for cid, entries in self._evaluate(members).items():
                found[cid].update(entries)
                wanted.append(({rid}, cid, list(entries)))
        self._write(conn, rows, found, wanted, placed)

    # -- writing -------------------------------------------------------------------------------
    def _match_ids(
        self, conn: Connection, ids: list[int], found: dict[int, dict[str, Entry]]
    ) -> dict[PairKey, int]:
        """Insert new matches, update changed ones; (identity, vulnerability) → match id (every match
        row of the identities, also those no longer matched: their findings are resolved)."""
        m = t.MatchRow.__table__
        existing: dict[PairKey, tuple[int, str]] = {}
        if self._placed is not None:  # read by preload
            for cid in ids:
                for mid, vid, digest in self._matches.pop(cid, ()):
                    existing[(cid, vid)] = (mid, digest)
        else:
            for part in chunks(ids, SELECT_IN):
                for mid, cid, vid, digest in select_in(
                    conn, m, ["id", "component_id", "vuln_id", "digest"], "component_id", part
                ):
                    existing[(cid, vid)] = (mid, digest)
        fresh: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for cid, entries in found.items():
            for vid, entry in entries.items():
                old = existing.get((cid, vid))
                if old is None:
                    fresh.append(entry.row(cid))
                elif old[1] != entry.digest():
                    row = entry.row(cid)
                    row["match_id"] = old[0]
                    changed.append(row)
        insert_rows(conn, m, fresh)
        if changed:
            columns = [k for k in changed[0] if k not in ("match_id", "component_id", "vuln_id")]
            stmt = update(m).where(m.c.id == bindparam("match_id")).values({k: bindparam(k) for k in columns})
            for part in chunks(changed, 2000):
                conn.execute(stmt, [{k: r[k] for k in [*columns, "match_id"]} for r in part])
        self._changed = {r["match_id"] for r in changed}
        ids_by_pair = {pair: mid for pair, (mid, _) in existing.items()}
        if fresh:
            for part in chunks(sorted({r["component_id"] for r in fresh}), SELECT_IN):
                rows = select_in(conn, m, ["id", "component_id", "vuln_id"], "component_id", part)
                ids_by_pair.update({(cid, vid): mid for mid, cid, vid in rows})
        return ids_by_pair

    def _write(
        self,
        conn: Connection,
        rows: Sequence[Any],
        found: dict[int, dict[str, Entry]],
        wanted: Wanted,
        placed: dict[int, set[int]],
    ) -> None:
        """Bring the identities' matches and findings up to date; only what changed is written.

        Per match, the releases whose finding is to be open are compared with the releases of its
        open and resolved findings as sets; pairs are only listed for the matches that differ."""
        ids = [r.id for r in rows]
        previous = {r.id: r.matched_run for r in rows}
        match_ids = self._match_ids(conn, ids, found)
        owner = {mid: cid for (cid, _vid), mid in match_ids.items()}
        want: dict[int, set[int]] = {}  # match → releases whose finding is to be open
        for rids, cid, vids in wanted:
            for vid in vids:
                mid = match_ids[(cid, vid)]
                had = want.get(mid)
                want[mid] = rids if had is None else had | rids
        f = t.FindingRow.__table__
        open_, closed = self._findings(conn, list(owner))
        opened: list[dict[str, int]] = []
        reopened: list[dict[str, int]] = []
        resolved: list[dict[str, Any]] = []
        nothing: set[int] = set()
        counts = self.counts
        for (cid, vid), mid in match_ids.items():
            if (releases := want.get(mid)) is not None:
                entry = found[cid][vid]
                group = (entry.verdict, entry.rating, entry.method)
                counts[group] = counts.get(group, 0) + len(releases)
        for mid, cid in owner.items():
            releases = want.get(mid, nothing)
            now_open = open_.get(mid, ())
            was_closed = closed.get(mid)
            if not was_closed and len(now_open) == len(releases) and releases.issuperset(now_open):
                continue  # the same findings, all open
            now = set(now_open)
            shut = set(was_closed or ())
            opened.extend(
                {"release_id": rid, "match_id": mid, "first_run": self.run_id}
                for rid in releases - now - shut
            )
            reopened.extend({"r": rid, "m": mid} for rid in releases & shut)
            last, here = previous.get(cid), placed.get(cid, nothing)
            resolved.extend(
                {
                    "r": rid,
                    "m": mid,
                    "last": last,
                    "why": "not-matched" if rid in here else "component-removed",
                }
                for rid in now - releases
            )
        # the stored sort keys: of the new findings, and of the findings of the matches that changed
        pairs = {mid: pair for pair, mid in match_ids.items()}
        refs = {row.id: row.ref for row in rows}
        rekey = [(rid, mid) for mid in self._changed for rid in {*open_.get(mid, ()), *closed.get(mid, ())}]
        names = self._release_names(conn, {o["release_id"] for o in opened} | {rid for rid, _ in rekey})

        def sort_key(rid: int, mid: int) -> bytes | None:
            cid, vid = pairs[mid]
            entry = found.get(cid, {}).get(vid)
            if entry is None or entry.verdict != "affected":
                return None
            return priority_key(entry.rating, entry.score, *names[rid], refs[cid], vid)

        for row in opened:
            row["priority"] = sort_key(row["release_id"], row["match_id"])
        insert_rows(conn, f, opened)
        key = (f.c.release_id == bindparam("r")) & (f.c.match_id == bindparam("m"))
        stmt = update(f).where(key).values(priority=bindparam("k"))
        for part in chunks(rekey, 2000):
            conn.execute(stmt, [{"r": rid, "m": mid, "k": sort_key(rid, mid)} for rid, mid in part])
        for part in chunks(reopened, 2000):
            conn.execute(
                update(f).where(key).values(resolved_run=None, last_run=None, resolution=None), list(part)
            )
        stmt = (
            update(f)
            .where(key)
            .values(resolved_run=self.run_id, last_run=bindparam("last"), resolution=bindparam("why"))
        )
        for part in chunks(resolved, 2000):
            conn.execute(stmt, list(part))
        c = t.ComponentRow.__table__
        for part in chunks(ids, SELECT_IN):
            update_in(conn, c, {"matched_run": self.run_id}, "id", part)
        conn.commit()
        s = self.summary
        s.opened += len(opened)
        s.reopened += len(reopened)
        s.resolved += len(resolved)
        s.placements += sum(len(placed.get(i, ())) for i in ids)
        for i in ids:
            self._releases.update(placed.get(i, ()))
        s.releases = len(self._releases)


def _plain(conn: Connection, stmt: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of a statement without parameters as the driver's tuples (no SQLAlchemy row objects:
    for hundreds of thousands of rows they cost more than the query), in the connection's transaction.
    Iterated from the cursor itself: on SQLite a third faster than taking them in ``fetchmany`` lists."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(stmt.compile(dialect=conn.dialect)))
        yield from cursor
    finally:
        cursor.close()


def _totals(
    conn: Connection, summary: RunSummary, counts: dict[tuple[str, str, str | None], int] | None = None
) -> None:
    """Open findings across the portfolio by rating; those a triage record calls not_affected or fixed
    are counted apart (``not_affected_or_fixed``), as ``portfolio findings`` shows them.

    ``counts``: the open findings per (verdict, rating, method), when the run itself knows them all
    (a full run re-matched every identity with open findings); else they are counted in the store."""
    from mamori.portfolio.views import out_of_gate

    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    # counted per match first (along the match_id index), then joined: far fewer join lookups
    per_match = (
        select(f.c.match_id, func.count().label("n"))
        .where(f.c.resolved_run.is_(None))
        .group_by(f.c.match_id)
        .subquery()
    )
    stmt = (
        select(m.c.verdict, m.c.rating, m.c.method, func.sum(per_match.c.n))
        .select_from(per_match.join(m, m.c.id == per_match.c.match_id))
        .group_by(m.c.verdict, m.c.rating, m.c.method)
    )
    summary.by_rating = {}
    summary.not_evaluated_by_reason = {}
    summary.open_findings = summary.not_evaluated = 0
    # in the order of the grouped query's rows on SQLite (NULL first)
    groups = (
        [
            (*k, n)
            for k, n in sorted(counts.items(), key=lambda i: [(v is not None, v or "") for v in i[0]])
            if n
        ]
        if counts is not None
        else conn.execute(stmt)
    )
    for verdict, rating, method, count in groups:
        if verdict == "affected":
            summary.open_findings += int(count)
            summary.by_rating[rating] = summary.by_rating.get(rating, 0) + int(count)
        else:
            summary.not_evaluated += int(count)
            code = method or CANNOT_COMPARE  # notes stored before reason codes were kept
            summary.not_evaluated_by_reason[code] = summary.not_evaluated_by_reason.get(code, 0) + int(count)
    outside = out_of_gate(conn)
    ids = sorted({mid for mids in outside.values() for mid in mids})
    ratings: dict[int, str] = {}
    for part in chunks(ids, 500):
        ratings.update(conn.execute(select(m.c.id, m.c.rating).where(m.c.id.in_(part))).all())
    summary.not_affected_or_fixed = 0
    for mids in outside.values():
        for mid in mids:
            summary.not_affected_or_fixed += 1
            summary.open_findings -= 1
            summary.by_rating[ratings[mid]] -= 1


def _start(conn: Connection, mode: str) -> int:
    r = t.RunRow.__table__
    values = {
        "mode": mode,
        "started_at": now(),
        "done": False,
        **dict.fromkeys(
            ("vulnerabilities", "components", "placements", "releases", "opened", "reopened", "resolved"), 0
        ),
    }
    run_id = int(conn.execute(r.insert().values(**values)).inserted_primary_key[0])
    conn.commit()
    return run_id


def _finish(conn: Connection, summary: RunSummary, marks: changelog.Marks | None) -> None:
    r = t.RunRow.__table__
    conn.execute(
        update(r)
        .where(r.c.id == summary.run_id)
        .values(
            mode=summary.mode,
            finished_at=now(),
            seconds=summary.seconds,
            done=True,
            link_mark=marks.link if marks else None,
            sbom_mark=marks.sbom if marks else None,
            vulnerabilities=summary.vulnerabilities_changed or 0,
            components=summary.components,
            placements=summary.placements,
            releases=summary.releases,
            opened=summary.opened,
            reopened=summary.reopened,
            resolved=summary.resolved,
        )
    )
    conn.commit()


def _newly_covered(conn: Connection, knowledge: Knowledge) -> set[int]:
    """Identities holding an open "no complete feed" note for a scope that is complete now."""
    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    stmt = (
        select(m.c.component_id, m.c.vuln_id)
        .join(f, f.c.match_id == m.c.id)
        .where(f.c.resolved_run.is_(None), m.c.verdict == "unknown", m.c.method == COVERAGE)
        .distinct()
    )
    return {
        cid
        for cid, vuln_id in conn.execute(stmt)
        if knowledge.scope(vuln_id.removeprefix(COVERAGE_NOTE)).complete
    }


def rematch(
    store: Store,
    *,
    changed_only: bool = False,
    matcher: Matcher | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Re-match the whole portfolio, or (``changed_only``) what changed since the last run."""
    started = time.perf_counter()
    matcher = matcher or Matcher(store)
    with gc_paused(), store.engine.connect().execution_options(write=True) as conn:
        run_id = _start(conn, "changed" if changed_only else "full")
        engine = Engine(store, matcher, run_id, progress)
        summary = engine.summary
        marks = changelog.current_marks(conn)
        last = changelog.last_marks(conn) if changed_only else None
        if changed_only and last is None:
            summary.note = "no earlier full run: everything was matched"
        if last is None:
            summary.mode = "full"
            snapshot = changelog.all_records(conn)
            ids = engine.preload(conn)
            conn.commit()
            engine.run(conn, ids)
            changelog.replace_snapshot(conn, snapshot)
            counts: dict[tuple[str, str, str | None], int] | None = engine.counts
        else:
            summary.mode = "changed"
            found = changelog.record_changes(conn)
            summary.vulnerabilities_changed = len(found.vuln_ids)
            matcher.knowledge.refresh()
            ids = changelog.touched_components(conn, found.vuln_ids, matcher.knowledge.links)
            ids |= changelog.new_link_components(conn, last.link)
            ids |= changelog.new_revision_components(conn, last.sbom)
            ids |= _newly_covered(conn, matcher.knowledge)  # a complete feed came for their scope
            conn.commit()
            engine.run(conn, ids)
            changelog.update_snapshot(conn, found)
            counts = None
        _totals(conn, summary, counts)
        summary.seconds = round(time.perf_counter() - started, 3)
        _finish(conn, summary, marks)
    return summary


def match_release(
    store: Store,
    sbom_id: int,
    previous_sbom_id: int | None,
    *,
    matcher: Matcher | None = None,
    progress: Progress | None = None,
    totals: bool = True,
) -> RunSummary:
    """Match a newly stored SBOM revision (and resolve what the previous revision listed and this one drops).

    ``totals``: also count the open findings across the portfolio into the summary (``open_findings``,
    ``by_rating`` …, as ``release add`` prints them); a count of every open finding, so an upload, which
    reports its own release's, leaves it out."""
    from mamori.portfolio.archive import sbom_component_ids

    started = time.perf_counter()
    matcher = matcher or Matcher(store)
    with gc_paused(), matcher.one_generation(), store.engine.connect().execution_options(write=True) as conn:
        run_id = _start(conn, "release")
        engine = Engine(store, matcher, run_id, progress)
        engine.summary.mode = "release"
        ids = sbom_component_ids(conn, [sbom_id] + ([previous_sbom_id] if previous_sbom_id else []))
        conn.commit()
        engine.run(conn, ids)
        if totals:
            _totals(conn, engine.summary)
        engine.summary.seconds = round(time.perf_counter() - started, 3)
        _finish(conn, engine.summary, None)
    return engine.summary

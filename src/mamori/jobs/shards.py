"""Portfolio re-match in shards that workers take independently.

:mod:`mamori.portfolio.rematch` matches any set of component identities (its :class:`Engine` brings the
matches and findings of exactly those identities up to date) and knows which identities a changed-only
run must re-match (:mod:`mamori.portfolio.changes`). A sharded run uses that as it is:

1. :func:`plan` opens the run (a ``portfolio_run`` row), lists the identities to re-match (every one of
   the portfolio, or only what changed since the last run) and splits them into shards by ecosystem and
   package (every version of a package in one shard, at most ``size`` identities per shard). Identities
   that an NVD ``AND`` configuration ties to other components of the same SBOM are matched per release,
   so they all go into one shard.
2. :func:`run_shard` matches one shard and writes its matches, findings and its dedup key
   (``rematch:<run>:<shard>``) in **one transaction**: a shard is either merged whole or not at all,
   and a redelivered shard whose transaction committed does nothing again. Shards touch disjoint
   identities, hence disjoint match and finding rows: they merge without conflicts in any order. On
   SQLite the shard reads and matches outside the write transaction, so two workers match in parallel
   and only their writes take turns.
3. :func:`finish` counts the portfolio's totals and closes the run with its marks, after every shard.

The result is the same as one :func:`mamori.portfolio.rematch.rematch` run (the same findings opened,
kept and resolved); the run's counters are the sum of the shards'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from mamori.jobs import records
from mamori.portfolio import changes as changelog
from mamori.portfolio import tables as t
from mamori.portfolio.rematch import (
    BATCH,
    Engine,
    RunSummary,
    Wanted,
    _finish,
    _newly_covered,
    _start,
    _totals,
)
from mamori.store import Store
from mamori.store.writer import chunks

SHARD_SIZE = BATCH  # identities per shard: one matcher call, one write


@dataclass(slots=True)
class Plan:
    run_id: int
    mode: str  # full | changed
    shards: list[list[int]]
    identities: int
    vulnerabilities_changed: int | None = None
    link_mark: int = 0
    sbom_mark: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "shards": self.shards,
            "identities": self.identities,
            "vulnerabilities_changed": self.vulnerabilities_changed,
            "link_mark": self.link_mark,
            "sbom_mark": self.sbom_mark,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> Plan:
        return cls(**data)


def shard_key(run_id: int, index: int) -> str:
    return f"rematch:{run_id}:{index}"


def _portfolio_ids(conn: Connection) -> set[int]:
    """Every identity a current SBOM lists, and every identity with an open finding (to resolve)."""
    r, sc = t.ReleaseRow.__table__, t.SbomComponentRow.__table__
    m, f = t.MatchRow.__table__, t.FindingRow.__table__
    ids = set(conn.scalars(select(sc.c.component_id).join(r, r.c.current_sbom_id == sc.c.sbom_id).distinct()))
    ids.update(
        conn.scalars(
            select(m.c.component_id)
            .join(f, f.c.match_id == m.c.id)
            .where(f.c.resolved_run.is_(None))
            .distinct()
        )
    )
    return ids


def _package(row: Any) -> str:
    """What the identities of one package share: the advisories a shard of them needs."""
    return str(row.name_key or row.purl_base or row.name or "")


def split(rows: list[Any], context: set[int], size: int = SHARD_SIZE) -> list[list[int]]:
    """Shards of identity ids: by ecosystem, then by package (every version of a package in one shard
    unless the package alone has more than ``size``), at most ``size`` each; ``context`` in one.

    Keeping a package's versions together means a package's advisories are fetched and parsed by the
    one worker process that takes its shard, not by every process that gets one of its versions (each
    process parses what its shards need, once per run); each shard also asks the store for fewer keys."""
    size = max(1, size)
    by_package: dict[tuple[str, str], list[int]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        if row.id not in context:
            by_package.setdefault((row.ecosystem or "", _package(row)), []).append(row.id)
    shards: list[list[int]] = []
    current: list[int] = []
    ecosystem: str | None = None
    for (eco, _name), ids in sorted(by_package.items()):
        if current and (eco != ecosystem or len(current) + len(ids) > size):
            shards.append(current)
            current = []
        ecosystem = eco
        while len(ids) > size - len(current):  # a package larger than what the shard has left
            if current:
                shards.append(current)
                current = []
            else:
                shards.append(ids[:size])
                ids = ids[size:]
        current.extend(ids)
    if current:
        shards.append(current)
    if context:
        shards.append(sorted(context))
    return shards


def plan(store: Store, *, changed_only: bool = False, size: int = SHARD_SIZE, matcher: Any = None) -> Plan:
    """Open a run and split what it must re-match into shards (see the module's note)."""
    from mamori.match import Matcher

    matcher = matcher or Matcher(store)
    with store.engine.connect().execution_options(write=True) as conn:
        last = changelog.last_marks(conn) if changed_only else None
        mode = "changed" if last is not None else "full"
        run_id = _start(conn, mode)
        marks = changelog.current_marks(conn)
        changed: int | None = None
        if last is None:
            ids = _portfolio_ids(conn)
        else:
            found = changelog.record_changes(conn)
            changed = len(found.vuln_ids)
            matcher.knowledge.refresh()
            ids = changelog.touched_components(conn, found.vuln_ids, matcher.knowledge.links)
            ids |= changelog.new_link_components(conn, last.link)
            ids |= changelog.new_revision_components(conn, last.sbom)
            ids |= _newly_covered(conn, matcher.knowledge)
        conn.commit()
        engine = Engine(store, matcher, run_id, None)
        rows = engine._rows(conn, sorted(ids))
        context = engine._in_context(conn, rows, engine.context_keys())
        conn.commit()
    return Plan(run_id, mode, split(rows, context, size), len(rows), changed, marks.link, marks.sbom)


class _OneTransaction:
    """A connection whose ``commit`` waits for the shard's end: the engine commits after each batch."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def commit(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def run_shard(
    store: Store,
    run_id: int,
    index: int,
    ids: list[int],
    *,
    job_id: str | None = None,
    matcher: Any = None,
    before_commit: Any = None,
) -> dict[str, Any]:
    """Match one shard and merge it in one transaction with its dedup key; the shard's counts.

    A shard already merged (its key is in ``job_dedup``) is not matched again: its recorded counts are
    returned. ``before_commit``: called inside the transaction just before it commits (fault injection
    of the tests)."""
    from mamori.match import Matcher
    from mamori.sbom.gc_pause import gc_paused

    key = shard_key(run_id, index)
    with store.engine.connect() as conn:
        if records.is_done(conn, key):
            return records.done_result(store, key) or {"shard": index, "again": True}
    started, cpu = time.perf_counter(), time.process_time()
    matcher = matcher or Matcher(store)
    engine = Engine(store, matcher, run_id, None)
    with gc_paused():
        with store.engine.connect() as conn:  # reading and matching: no write lock held
            rows = engine._rows(conn, sorted(set(ids)))
            context = engine._in_context(conn, rows, engine.context_keys())
            placed = engine._placements(conn, [r.id for r in rows])
        plain = [r for r in rows if r.id not in context]
        found: dict[int, dict[str, Any]] = {}
        wanted: Wanted = []
        for part in chunks(plain, BATCH):
            for cid, entries in engine._evaluate(part).items():
                found[cid] = entries
                wanted.append((placed[cid], cid, entries))
        per_release: dict[int, list[Any]] = {}
        for row in rows:
            if row.id in context:
                found[row.id] = {}
                for rid in placed[row.id]:
                    per_release.setdefault(rid, []).append(row)
        for rid, members in sorted(per_release.items()):
            for cid, entries in engine._evaluate(members).items():
                found[cid].update(entries)
                wanted.append(({rid}, cid, list(entries)))
        with store.engine.connect().execution_options(write=True) as conn:
            if records.is_done(conn, key):  # merged meanwhile by a redelivered copy
                conn.rollback()
                return records.done_result(store, key) or {"shard": index, "again": True}
            engine._write(_OneTransaction(conn), rows, found, wanted, placed)  # type: ignore[arg-type]
            s = engine.summary
            result = {
                "shard": index,
                "components": len(rows),
                "placements": s.placements,
                "releases": s.releases,
                "opened": s.opened,
                "reopened": s.reopened,
                "resolved": s.resolved,
                "seconds": round(time.perf_counter() - started, 3),
                "cpu_seconds": round(time.process_time() - cpu, 3),  # this process's, not the database's
            }
            records.mark_done(conn, key, job_id, result)
            if before_commit is not None:
                before_commit()
            conn.commit()
    return result


def finish(store: Store, planned: Plan, results: list[dict[str, Any]], seconds: float) -> RunSummary:
    """Close the run after every shard merged: totals, counters (the sum of the shards'), marks and the
    snapshot of source records the next changed-only run compares with."""
    summary = RunSummary(
        planned.run_id, planned.mode, vulnerabilities_changed=planned.vulnerabilities_changed
    )
    summary.components = planned.identities
    for name in ("placements", "opened", "reopened", "resolved"):
        setattr(summary, name, sum(int(r.get(name) or 0) for r in results))
    summary.releases = max((int(r.get("releases") or 0) for r in results), default=0)
    with store.engine.connect().execution_options(write=True) as conn:
        if planned.mode == "full":
            changelog.replace_snapshot(conn, changelog.all_records(conn))
        else:
            changelog.update_snapshot(conn, changelog.record_changes(conn))
        if planned.mode == "full":  # every release with a current SBOM took part
            r = t.ReleaseRow.__table__
            summary.releases = int(
                conn.scalar(select(func.count()).select_from(r).where(r.c.current_sbom_id.is_not(None))) or 0
            )
        _totals(conn, summary, None)
        summary.seconds = round(seconds, 3)
        _finish(conn, summary, changelog.Marks(planned.link_mark, planned.sbom_mark))
    return summary


def rematch_in_shards(
    store: Store, *, changed_only: bool = False, size: int = SHARD_SIZE, matcher: Any = None
) -> RunSummary:
    """The whole sharded run in this process, shard after shard (what the embedded default does)."""
    from mamori.match import Matcher

    started = time.perf_counter()
    matcher = matcher or Matcher(store)
    planned = plan(store, changed_only=changed_only, size=size, matcher=matcher)
    results = [
        run_shard(store, planned.run_id, i, ids, matcher=matcher) for i, ids in enumerate(planned.shards)
    ]
    return finish(store, planned, results, time.perf_counter() - started)

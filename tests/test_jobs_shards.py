"""The portfolio re-match in shards (mamori.jobs.shards) ends exactly as one whole run: the same open
findings per release, for a full run and for a changed-only run after a new advisory; a shard merged
once is not merged again (its dedup key), and the run's finish counts what the shards did
(SQLite always, PostgreSQL when MAMORI_TEST_PG_URL is set)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from mamori.jobs import records, shards
from mamori.jobs.dispatch import run_inline
from mamori.portfolio import add_product, store_sbom
from mamori.portfolio import tables as t
from mamori.portfolio.rematch import rematch
from mamori.store import Store, open_store
from portfolio_support import import_held_back, kb, knowledge_template, sbom_file

__all__ = ["kb", "knowledge_template"]  # fixtures used below

RELEASES = {
    ("shop", "1.0"): [
        "pkg:pypi/django@1.11.20",
        "pkg:pypi/jinja2@2.10",
        "pkg:pypi/requests@2.19.0",
        "pkg:pypi/urllib3@1.24.1",
        "pkg:pypi/pyyaml@5.1",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10",
    ],
    ("shop", "1.1"): ["pkg:pypi/django@1.11.20", "pkg:pypi/requests@2.19.0"],
    ("gateway", "3.0"): ["pkg:pypi/django@2.2.0", "pkg:pypi/urllib3@1.24.1", "pkg:pypi/pyyaml@5.1"],
}


def _portfolio(store: Store, folder: Path) -> None:
    add_product(store, "shop")
    add_product(store, "gateway")
    for (product, version), purls in RELEASES.items():
        path = sbom_file(folder / f"{product}-{version}.cdx.json", purls, product)
        store_sbom(store, product, version, path, who="tester")


def findings(store: Store) -> set[tuple[int, str, str, bool]]:
    """(release, component purl, vulnerability, open) of every finding row."""
    f, m, c = t.FindingRow.__table__, t.MatchRow.__table__, t.ComponentRow.__table__
    stmt = (
        select(f.c.release_id, c.c.purl, m.c.vuln_id, f.c.resolved_run.is_(None))
        .join(m, m.c.id == f.c.match_id)
        .join(c, c.c.id == m.c.component_id)
    )
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    assert len(rows) == len(set(rows))  # no duplicate finding
    return set(rows)


def _count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_sharded_runs_end_as_one_whole_run(kb: Store, tmp_path: Path, knowledge_template: Path) -> None:
    _portfolio(kb, tmp_path)
    # the reference: the same portfolio in a second store (SQLite), re-matched in one run
    shutil.copy(knowledge_template, tmp_path / "whole.db")
    whole = open_store(tmp_path / "whole.db")
    _portfolio(whole, tmp_path)
    summary = shards.rematch_in_shards(kb, size=1)  # one identity per shard
    assert summary.mode == "full" and summary.open_findings > 0 and summary.opened > 0
    got = findings(kb)
    assert any(purl == "pkg:pypi/django@1.11.20" for _r, purl, _v, is_open in got if is_open)
    run = _count(kb, t.FindingRow.__table__)
    assert len(records.done_keys(kb, f"rematch:{summary.run_id}:")) == summary.components
    with whole:
        reference = rematch(whole)
        assert findings(whole) == got
        assert (reference.opened, reference.open_findings, reference.by_rating) == (
            summary.opened,
            summary.open_findings,
            summary.by_rating,
        )
        # a new advisory: the changed-only sharded run opens exactly what a changed-only whole run opens
        import_held_back(kb)
        import_held_back(whole)
        changed = shards.rematch_in_shards(kb, changed_only=True, size=2)
        assert changed.mode == "changed" and changed.vulnerabilities_changed == 1
        reference = rematch(whole, changed_only=True)
        after = findings(kb)
        assert after == findings(whole)
        new = after - got
        assert new and {purl for _r, purl, _v, _o in new} >= {"pkg:pypi/django@1.11.20"}
        assert _count(kb, t.FindingRow.__table__) == run + len(new)
        assert (changed.opened, changed.open_findings, changed.components) == (
            reference.opened,
            reference.open_findings,
            reference.components,
        )


def test_a_shard_merged_once_is_not_merged_again(kb: Store, tmp_path: Path) -> None:
    _portfolio(kb, tmp_path)
    planned = shards.plan(kb, size=3)
    assert len(planned.shards) >= 2 and sum(map(len, planned.shards)) == planned.identities
    first = shards.run_shard(kb, planned.run_id, 0, planned.shards[0])
    before = findings(kb)
    again = shards.run_shard(kb, planned.run_id, 0, planned.shards[0])
    assert again == first and findings(kb) == before
    results = [first] + [
        shards.run_shard(kb, planned.run_id, i, ids) for i, ids in enumerate(planned.shards) if i
    ]
    summary = shards.finish(kb, planned, results, 0.0)
    assert summary.opened == sum(r["opened"] for r in results) == len(findings(kb))


def test_jobs_run_in_process_and_are_recorded(kb: Store, tmp_path: Path) -> None:
    _portfolio(kb, tmp_path)
    result = run_inline(kb, "rematch", {"size": 2}, job_id="job-1")
    job = records.get(kb, "job-1")
    assert job is not None and job.state == records.DONE and job.kind == "rematch"
    assert job.result["open_findings"] == result["open_findings"] > 0
    try:
        run_inline(kb, "probe", {"fail_times": 1}, job_id="job-2")
    except Exception as exc:
        assert type(exc).__name__ == "TransientError"
    failed = records.get(kb, "job-2")
    assert failed is not None and failed.state == records.FAILED and failed.error == "TransientError"


def test_shards_keep_every_version_of_a_package_together() -> None:
    from types import SimpleNamespace

    def row(i: int, eco: str, name: str) -> SimpleNamespace:
        return SimpleNamespace(id=i, ecosystem=eco, name_key=name, purl_base=None, name=name)

    # ids interleave packages, as identities are made in the order SBOMs list them
    rows = [row(i, "PyPI", ["django", "jinja2", "requests"][i % 3]) for i in range(1, 10)]
    rows += [row(10, "npm", "lodash"), row(11, "npm", "lodash"), row(12, "PyPI", "huge")]
    rows += [row(i, "PyPI", "huge") for i in range(13, 20)]
    found = shards.split(rows, {4}, size=4)
    by_id = {r.id: (r.ecosystem, r.name_key) for r in rows}
    assert sorted(i for part in found for i in part) == sorted(r.id for r in rows)
    assert all(len(part) <= 4 for part in found) and found[-1] == [4]  # the context identity alone
    for part in found[:-1]:
        assert len({by_id[i][0] for i in part}) == 1  # one ecosystem per shard
    # a package that fits in a shard is in exactly one; "huge" (8 versions) fills two
    assert found[:-1] == [[3, 6, 9], [12, 13, 14, 15], [16, 17, 18, 19], [1, 7], [2, 5, 8], [10, 11]]
    holders = {
        key: [n for n, part in enumerate(found[:-1]) if any(by_id[i] == key for i in part)]
        for key in set(by_id.values())
    }
    assert all(len(v) == 1 for k, v in holders.items() if k[1] != "huge")
    assert len(holders[("PyPI", "huge")]) == 2

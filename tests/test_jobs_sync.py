"""A feed sync as a job, and the re-match of what it changed, against a local server that answers like
OSV (tests/vulndb_server.py, real records): in this process (the embedded default) and on a real
``mamori worker`` over RabbitMQ (skipped when it does not answer). The portfolio lists pillow 2.0.0 and
requests 2.19.0, both noted "no complete feed" at first; the served PyPI export holds only pillow's
records, so the sync's changed-only re-match takes exactly those two (pillow for its new records,
requests because PyPI is covered now): pillow's findings open, both notes resolve. Also: the
scheduler's feed schedules."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from jobs_support import BROKER, MAMORI, Workers, needs_broker, prefix, wait_for, workers
from mamori.errors import InputError
from mamori.jobs import records, schedule
from mamori.jobs.dispatch import Dispatcher, run_inline
from mamori.jobs.settings import Queues
from mamori.portfolio import add_product, store_sbom
from mamori.portfolio import tables as t
from mamori.portfolio.rematch import rematch
from mamori.store import Store, open_store
from portfolio_support import sbom_file
from test_jobs_shards import findings
from vulndb_server import Server, Services

__all__ = ["prefix", "workers"]  # fixtures used below

PILLOW = "pkg:pypi/pillow@2.0.0"


@pytest.fixture
def server(shared_data: Path) -> Iterator[Server]:
    with Server(Services(shared_data, shared_data / "osv" / "pypi" / "pillow")) as running:
        yield running


def _portfolio(store: Store, folder: Path) -> None:
    add_product(store, "imaging")
    path = sbom_file(folder / "imaging.cdx.json", [PILLOW, "pkg:pypi/requests@2.19.0"], "imaging")
    store_sbom(store, "imaging", "1.0", path, who="tester")
    first = rematch(store)  # nothing known yet: two "no complete feed" notes
    assert first.open_findings == 0 and first.not_evaluated == 2


def _options(server: Server) -> dict[str, object]:
    return {"urls": {"osv": server.url("/osv")}, "ecosystems": ["PyPI"], "timeout": 30}


def _check(store: Store) -> None:
    found = findings(store)
    assert found and {purl for _r, purl, _v, is_open in found if is_open} == {PILLOW}
    r = t.RunRow.__table__
    with store.engine.connect() as conn:
        last = conn.execute(select(r.c.mode, r.c.components, r.c.opened).order_by(r.c.id.desc())).first()
    open_rows = [row for row in found if row[3]]
    assert last.mode == "changed" and last.components == 2 and last.opened == len(open_rows)
    resolved = {(purl, v) for _r, purl, v, is_open in found if not is_open}
    assert resolved == {(PILLOW, "coverage:PyPI"), ("pkg:pypi/requests@2.19.0", "coverage:PyPI")}


def test_sync_job_in_process_rematches_what_changed(server: Server, tmp_path: Path) -> None:
    with open_store(tmp_path / "kb.db") as store:
        _portfolio(store, tmp_path)
        result = run_inline(store, "sync", {"feed": "osv", "options": _options(server)}, job_id="sync-1")
        assert result["steps"] >= 1 and result["new"] > 0
        assert result["rematch"]["mode"] == "changed" and result["rematch"]["components"] == 2
        assert records.get(store, "sync-1").state == records.DONE
        _check(store)


@needs_broker
def test_sync_job_on_a_worker_rematches_what_changed(
    server: Server, tmp_path: Path, prefix: str, workers: type[Workers]
) -> None:
    path = tmp_path / "kb.db"
    with open_store(path) as store:
        _portfolio(store, tmp_path)
        w = workers(str(path))
        w.start()
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        job_id = dispatcher.submit("sync", feed="osv", options=_options(server))
        job = wait_for(
            lambda: (j := records.get(store, job_id)) and j.state == records.DONE and j, "sync done", w.logs
        )
        assert job.result["new"] > 0
        r = t.RunRow.__table__

        def changed_run_done() -> bool:
            with store.engine.connect() as conn:
                return bool(conn.scalar(select(r.c.id).where(r.c.mode == "changed", r.c.done.is_(True))))

        wait_for(changed_run_done, "the changed-only re-match after the sync", w.logs)
        _check(store)
        dispatcher.shutdown()


def test_feed_schedules() -> None:
    intervals = schedule.parse(["osv=30m", "kev=1d", "nvd=off"])
    assert intervals["osv"] == 1800 and intervals["kev"] == 86400 and "nvd" not in intervals
    assert intervals["epss"] == schedule.DEFAULTS["epss"]
    beat = schedule.beat_schedule(intervals)
    assert beat["sync-osv"] == {
        "task": "mamori.sync",
        "schedule": 1800.0,
        "kwargs": {"feed": "osv", "options": None},
    }
    assert "sync-nvd" not in beat and beat["sweep-uploads"]["task"] == "mamori.sweep"
    for bad in ("osv", "foo=1h", "osv=5s", "osv=1w", "osv="):
        with pytest.raises(InputError):
            schedule.parse([bad])


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "MAMORI_BROKER_URL"}
    return subprocess.run(
        [str(MAMORI), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**full, "MAMORI_LANG": "en", **(env or {})},
    )


def test_worker_and_scheduler_usage_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        (("worker",), "no message broker"),
        (("worker", "--broker", "redis://127.0.0.1:6379/0"), "expected an amqp:// URL"),
        (("worker", "--broker", BROKER, "--queues", "mamori,elsewhere"), "--queues"),
        (("worker", "--broker", BROKER, "--pool", "gevent"), "--pool"),
        (("scheduler", "--broker", BROKER, "--every", "osv=5s"), "at least 60s"),
        (
            ("jobs", "dead", "list", "--broker", "amqp://guest:guest@127.0.0.1:1//"),
            "cannot reach the message broker",
        ),
        (("jobs", "status", "nope", "--db", str(tmp_path / "kb.db")), "no job 'nope'"),
    ]
    for args, text in cases:
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and text in lines[0] and "guest:guest" not in lines[0], (args, lines)
    japanese = _cli("worker", env={"MAMORI_LANG": "ja"})
    assert japanese.returncode == 2 and "メッセージブローカーがありません" in japanese.stderr


@needs_broker
def test_scheduler_starts_on_the_broker(tmp_path: Path, prefix: str) -> None:
    log = tmp_path / "beat.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(MAMORI),
                "scheduler",
                "--broker",
                BROKER,
                "--db",
                str(tmp_path / "kb.db"),
                "--every",
                "kev=1h",
                "--every",
                "osv=off",
                "--schedule-file",
                str(tmp_path / "beat-schedule"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MAMORI_LANG": "en", "MAMORI_QUEUE_PREFIX": prefix},
            start_new_session=True,
        )
    try:
        text = wait_for(
            lambda: "beat: Starting" in (t := log.read_text(errors="replace")) and t, "beat started"
        )
        assert "mamori scheduler: amqp://guest:***@127.0.0.1:5672//" in text
        assert "kev=3600s" in text and "osv=" not in text.split("feeds:")[1].splitlines()[0]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_server_seam_runs_named_tasks_in_process_without_a_broker(tmp_path: Path) -> None:
    from mamori.server import background

    with open_store(tmp_path / "kb.db") as store:
        background.configure(1, store, None)
        try:
            assert not background.broker_configured()
            job_id = background.submit_task("probe", key="probe:seam")
            status = wait_for(
                lambda: (s := background.status(job_id)) and s.state == "done" and s,
                "the in-process job done",
            )
            assert status.result == {"attempt": 0} and records.done_keys(store, "probe:") == ["probe:seam"]
            assert background.status("no-such-job") is None
        finally:
            background.shutdown(wait=True)

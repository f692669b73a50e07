"""The real RabbitMQ of the machine (127.0.0.1:5672, or MAMORI_TEST_BROKER_URL) for the jobs tests.

Each test gets queue and exchange names of its own (``MAMORI_QUEUE_PREFIX``: ``mamori-test-<random>``),
deleted after it (the broker's management API is not assumed, so no throw-away vhost), and starts real
``mamori worker`` processes against a store of its own. The tests skip when the broker does not answer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BROKER = os.environ.get("MAMORI_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
MAMORI = Path(sys.executable).parent / "mamori"
BOUND = 120.0  # seconds a worker gets to finish what a test waits for (a bound, not a measurement)


def broker_answers() -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(BROKER)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=1):
            pass
    except OSError:
        return False
    try:
        from kombu import Connection

        with Connection(BROKER, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        return False
    return True


needs_broker = pytest.mark.skipif(not broker_answers(), reason="no RabbitMQ answers on " + BROKER)


def delete_topology(prefix: str) -> None:
    from kombu import Connection

    from mamori.jobs.settings import Queues

    q = Queues(prefix)
    with Connection(BROKER, connect_timeout=2) as conn:
        for name in (*q.names, q.dead):
            with contextlib.suppress(Exception):
                conn.channel().queue_delete(name)
        for name in (q.exchange, q.dead_exchange):
            with contextlib.suppress(Exception):
                conn.channel().exchange_delete(name)


@pytest.fixture
def prefix() -> Iterator[str]:
    """Queue names of this test only (deleted after it)."""
    name = f"mamori-test-{uuid.uuid4().hex[:10]}"
    old = os.environ.get("MAMORI_QUEUE_PREFIX")
    os.environ["MAMORI_QUEUE_PREFIX"] = name
    try:
        yield name
    finally:
        if old is None:
            os.environ.pop("MAMORI_QUEUE_PREFIX", None)
        else:
            os.environ["MAMORI_QUEUE_PREFIX"] = old
        delete_topology(name)


class Workers:
    """``mamori worker`` processes started by one test (each stopped after it, by its own pid)."""

    def __init__(self, db: str, prefix: str, log_dir: Path) -> None:
        self.db, self.prefix, self.log_dir = db, prefix, log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        *,
        pool: str = "solo",
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        queues: str | None = None,
    ) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        args = [str(MAMORI), "worker", "--broker", BROKER, "--db", self.db, "--pool", pool]
        args += ["--concurrency", str(concurrency), "--loglevel", "info"]
        if queues:
            args += ["--queues", queues]
        full_env = {**os.environ, "MAMORI_QUEUE_PREFIX": self.prefix, "MAMORI_LANG": "en", **(env or {})}
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the main process: a warm shutdown of its pool
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker and its pool processes (its own session)
                proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            self.stop(proc)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in sorted(self.log_dir.glob("worker-*.log"))
        )


@pytest.fixture
def workers(prefix: str, tmp_path: Path) -> Iterator[Callable[[str], Workers]]:
    made: list[Workers] = []

    def make(db: str) -> Workers:
        w = Workers(db, prefix, tmp_path)
        made.append(w)
        return w

    try:
        yield make
    finally:
        for w in made:
            w.stop_all()


def wait_for(
    condition: Callable[[], Any], what: str, logs: Callable[[], str] | None = None, bound: float = BOUND
) -> Any:
    """Poll ``condition`` until it is true (its value returned) or the bound passes (a failure naming
    ``what``, with the workers' logs)."""
    end = time.monotonic() + bound
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"not within {bound:.0f} s: {what}\n{logs() if logs else ''}")
        time.sleep(0.2)

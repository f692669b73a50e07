"""A store held open by a long-running process (the team server) keeps its SQLite locks when the same
process opens the store again: another process that opens and closes the store (a command adding an API
key, say) must not take the file for unused, checkpoint it and delete its WAL from under the first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from mamori.store import open_store

OTHER_PROCESS = """
import sys
from mamori.store import open_store
store = open_store(sys.argv[1])
with store.writer() as w:
    w.touch("other", None)
store.close()
"""


def _count(store) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM source_state")).scalar_one())


def test_a_second_open_in_the_same_process_keeps_the_locks_another_process_respects(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    server = open_store(str(path))
    with server.writer() as w:
        w.touch("server", None)
    with server.engine.connect() as held:  # a connection the server keeps open, as its pool does
        held.execute(text("SELECT 1")).all()
        again = open_store(str(path))  # the same process opens the store again (a request, a job)
        again.close()
        subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(path)], check=True, timeout=120)
        assert path.with_name("store.db-wal").exists(), "the other process deleted the WAL under the server"
        assert held.execute(text("SELECT count(*) FROM source_state")).scalar_one() == 2
    with server.writer() as w:
        w.touch("later", None)
    assert _count(server) == 3
    server.close()

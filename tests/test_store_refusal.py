"""The store named by --db or MAMORI_DB, as the installed ``mamori`` sees it (issue 13, point 6).

* Another program's database (SQLite written by sqlite3, a SQLite file with its own application id,
  another Alembic application, PostgreSQL tables) is refused by every command, read-only ones included:
  one line, exit 2, not a byte of the file changed, no table created.
* A new file, a 0-byte file, a database without tables and an older mamori store are opened (the last one
  upgraded) as before.
* A damaged store (random bytes, cut short, a zero-filled page) and one from a newer mamori: one line
  saying what it is, exit 2, nothing changed.
* A PostgreSQL connection killed mid-import: one line, exit 3 (the input was fine, the command could not
  finish; run it again), the store consistent: the rerun resumes to the same rows as an uninterrupted import.
* SIGTERM (and Ctrl-C's SIGINT) to the whole process group during an import that parses in worker
  processes: one line "interrupted", exit 143 (130), no traceback, no process or file left behind, a sound
  store that a rerun completes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from conftest import SHARED_DATA
from kb_support import kb_rows
from mamori.store.throwaway import throwaway_postgres

MAMORI = Path(sys.executable).with_name("mamori")
PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
KEV = SHARED_DATA / "kev"
OSV = SHARED_DATA / "osv" / "pypi"
CVE5_2021 = SHARED_DATA / "cve5" / "2021"
SBOM = SHARED_DATA / "sbom" / "cyclonedx" / "keycloak-10.0.2" / "bom.json"
TIMEOUT = 300


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAMORI_DB", "MAMORI_LANG", "LC_ALL", "LANG")}
    env.update(XDG_DATA_HOME=str(tmp_path / "xdg"), MAMORI_LANG="en", **extra)
    return env


def mamori(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAMORI), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (never a traceback)."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.glob(path.name + "-*"))


def sqlite_tables(path: Path) -> set[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def mamori_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mamori store holding the real KEV catalog and the PyPI advisories (OSV)."""
    if not (KEV.is_dir() and OSV.is_dir()):
        pytest.skip("../shared/data is absent")
    tmp = tmp_path_factory.mktemp("store")
    path = tmp / "kb.db"
    for source in (KEV, OSV):
        result = mamori(tmp, "db", "import", str(source), "--db", str(path))
        assert result.returncode == 0, result.stderr
    return path


# ------------------------------------------------------------------ 1. another program's database

READ_ONLY = (
    ("db", "status"),
    ("db", "show", "CVE-2021-44228"),
    ("scan", str(SBOM), "--format", "json"),
)
COMMANDS = (*READ_ONLY, ("db", "import", str(KEV)), ("product", "list"))


def _notes_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
        "CREATE INDEX ix_notes_body ON notes (body);"
        "INSERT INTO notes (body) VALUES ('shopping list'), ('mamori?');"
    )
    conn.commit()
    conn.close()
    return path


def _application_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA application_id = 1196444487; CREATE TABLE gpkg_contents (table_name TEXT);")
    conn.commit()
    conn.close()
    return path


def _alembic_app_db(path: Path) -> Path:
    """Another Alembic application whose first revision is also called 0001."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('0001');"
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
    )
    conn.commit()
    conn.close()
    return path


FOREIGN = {"sqlite3-notes": _notes_db, "application-id": _application_db, "other-alembic": _alembic_app_db}


CASES = [("sqlite3-notes", c) for c in COMMANDS] + [
    (k, ("db", "status")) for k in sorted(FOREIGN) if k != "sqlite3-notes"
]


@pytest.mark.parametrize(
    ("kind", "command"), CASES, ids=lambda c: c if isinstance(c, str) else "-".join(c[:2])
)
def test_another_programs_sqlite_file_is_refused_unchanged(
    tmp_path: Path, shared_data: Path, kind: str, command: tuple[str, ...]
) -> None:
    path = FOREIGN[kind](tmp_path / "other.db")
    before, tables = digest(path), sqlite_tables(path)
    result = mamori(tmp_path, *command, "--db", str(path))
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    line = one_line(result)
    assert line.startswith(f"mamori: error: {path}: not a mamori store"), line
    assert digest(path) == before and sqlite_tables(path) == tables
    assert side_files(path) == []


def test_mamori_db_variable_is_refused_too_and_the_line_follows_lang(tmp_path: Path) -> None:
    path = _notes_db(tmp_path / "notes.db")
    before = digest(path)
    result = mamori(tmp_path, "db", "status", "--lang", "ja", MAMORI_DB=str(path))
    assert result.returncode == 2
    line = one_line(result)
    assert str(path) in line and "mamori のストアではありません" in line and "notes" in line
    assert digest(path) == before


@needs_pg
@pytest.mark.parametrize("command", (("db", "status"), ("db", "import", str(KEV))), ids=("status", "import"))
def test_a_postgresql_database_with_other_tables_is_refused_unchanged(
    tmp_path: Path, shared_data: Path, command: tuple[str, ...]
) -> None:
    assert PG_URL is not None
    with throwaway_postgres(PG_URL, prefix="mamori_refusal") as url:
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE invoices (id integer PRIMARY KEY, amount numeric)"))
                conn.execute(text("INSERT INTO invoices VALUES (1, 9.5)"))
            result = mamori(tmp_path, *command, "--db", url)
            assert result.returncode == 2, result.stderr[-2000:]
            assert "not a mamori store" in one_line(result) and "invoices" in result.stderr
            with engine.connect() as conn:
                assert inspect(conn).get_table_names() == ["invoices"]
                assert conn.execute(text("SELECT amount FROM invoices")).scalar_one() == 9.5
        finally:
            engine.dispose()


@pytest.mark.parametrize("kind", ("missing", "zero-bytes", "no-tables"))
def test_a_new_or_empty_database_becomes_a_mamori_store(tmp_path: Path, kind: str) -> None:
    """Documented: every command, read-only ones too, makes a new or empty database an empty store."""
    path = tmp_path / "new.db"
    if kind == "zero-bytes":
        path.write_bytes(b"")
    elif kind == "no-tables":
        sqlite3.connect(path).execute("PRAGMA user_version = 0").connection.close()
    result = mamori(tmp_path, "db", "status", "--db", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert {"alembic_version", "vulnerability", "source_record"} <= sqlite_tables(path)


def test_an_older_mamori_store_is_upgraded(tmp_path: Path) -> None:
    from alembic import command

    from mamori.store.engine import alembic_config, head_revision

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite+pysqlite:///{path}")
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "product_context")
    engine.dispose()
    result = mamori(tmp_path, "db", "status", "--db", str(path))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]


# ------------------------------------------------------------------ 2. damaged stores, newer stores


def _random(src: Path, dst: Path) -> None:
    dst.write_bytes(os.urandom(256 * 1024))


def _cut_short(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])


def _schema_page(path: Path) -> int:
    """The (0-based) first page below page 1 that holds the schema (where the store's tables are
    declared); where it lies depends on how the store was set up."""
    conn = sqlite3.connect(path)
    try:
        found = conn.execute(
            "SELECT min(pageno) FROM dbstat WHERE name = 'sqlite_schema' AND pageno > 1"
        ).fetchone()[0]
        return int(found) - 1
    finally:
        conn.close()


def _zero_page(page: int | Callable[[Path], int]) -> object:
    def damage(src: Path, dst: Path) -> None:
        dst.write_bytes(_zeroed(src, page(src) if callable(page) else page))

    return damage


def _zeroed(src: Path, page: int) -> bytes:
    data = bytearray(src.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[page * size : (page + 1) * size] = bytes(size)
    return bytes(data)


def _vulnerability_page(path: Path) -> int:
    """The (0-based) first page of the vulnerability table's rows."""
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'vulnerability'").fetchone()[0] - 1
        )
    finally:
        conn.close()


DAMAGE = {
    "random-bytes": (_random, "not a SQLite database"),
    "cut-short": (_cut_short, "the file is cut short"),
    "zero-first-page": (_zero_page(0), "not a SQLite database"),
    "zero-schema-page": (_zero_page(_schema_page), "the file is damaged"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_store_is_one_line(tmp_path: Path, mamori_store: Path, kind: str) -> None:
    damage, reason = DAMAGE[kind]
    path = tmp_path / "damaged.db"
    damage(mamori_store, path)
    before = digest(path)
    result = mamori(tmp_path, "db", "status", "--db", str(path))
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    line = one_line(result)
    assert line.startswith(f"mamori: error: {path}: not a readable mamori store ({reason}"), line
    assert digest(path) == before


def test_a_zero_filled_data_page_is_one_line_when_read(tmp_path: Path, mamori_store: Path) -> None:
    """Found when a command reads the page (no full check on every open: stores are gigabytes)."""
    path = tmp_path / "damaged.db"
    _zero_page(_vulnerability_page(mamori_store))(mamori_store, path)
    result = mamori(tmp_path, "db", "status", "--db", str(path))
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    line = one_line(result)
    assert line.startswith(f"mamori: error: {path}: not a readable mamori store (the file is damaged"), line


def test_a_store_from_a_newer_mamori_is_one_line_and_unchanged(tmp_path: Path, mamori_store: Path) -> None:
    path = tmp_path / "newer.db"
    shutil.copyfile(mamori_store, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zz_from_the_future'")
    conn.close()
    before = digest(path)
    for command in (("db", "status"), ("db", "import", str(KEV))):
        result = mamori(tmp_path, *command, "--db", str(path))
        assert result.returncode == 2, result.stderr[-2000:]
        line = one_line(result)
        assert "written by a newer mamori (schema revision zz_from_the_future" in line, line
        assert digest(path) == before and side_files(path) == []


@needs_pg
def test_a_postgresql_store_from_a_newer_mamori_is_one_line(tmp_path: Path) -> None:
    assert PG_URL is not None
    with throwaway_postgres(PG_URL, prefix="mamori_refusal") as url:
        assert mamori(tmp_path, "db", "status", "--db", url).returncode == 0
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = 'zz_from_the_future'"))
            result = mamori(tmp_path, "db", "status", "--db", url)
            assert result.returncode == 2
            assert "written by a newer mamori" in one_line(result)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
                    "zz_from_the_future"
                )
        finally:
            engine.dispose()


# ------------------------------------------------------------------ 3. PostgreSQL connection lost


def _wait_for(condition: object, what: str, limit: float = 120.0) -> None:
    """Poll ``condition`` until true (the limit only stops a broken run; nothing asserts on time)."""
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"never saw: {what}")
        time.sleep(0.01)


def test_the_database_drivers_warnings_do_not_add_a_line_to_stderr() -> None:
    """When a connection is lost inside a pipeline psycopg logs a warning besides raising the error that
    becomes mamori's one line; with no logging set up Python printed it on stderr as a second line
    (seen in the test below when the cut fell on a pipelined insert). Opening a PostgreSQL store's engine
    gives psycopg's logger a handler that drops records; a handler on the root logger still gets them."""
    code = (
        "import logging\n"
        "from mamori.store.engine import create\n"
        "create('postgresql+psycopg://nobody@127.0.0.1:1/none')\n"  # not connected: engines connect lazily
        "logging.getLogger('psycopg').warning('error ignored terminating <psycopg.Pipeline [BAD]>')\n"
        "logging.basicConfig(format='configured: %(message)s')\n"
        "logging.getLogger('psycopg').warning('kept for a configured log')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "configured: kept for a configured log\n"


@needs_pg
def test_a_postgresql_connection_lost_mid_import_is_one_line_and_the_rerun_resumes(
    tmp_path: Path, shared_data: Path
) -> None:
    assert PG_URL is not None
    with (
        throwaway_postgres(PG_URL, prefix="mamori_lost") as url,
        throwaway_postgres(PG_URL, prefix="mamori_whole") as whole,
    ):
        name = url.rsplit("/", 1)[1]
        assert mamori(tmp_path, "db", "status", "--db", url).returncode == 0
        # Hold every table of the store in EXCLUSIVE mode: reads go on, the import's first write waits on the lock,
        # and its connection is cut while that write is in flight (no race with a fast import).
        holder = create_engine(url)
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        child = None
        try:
            with holder.connect() as lock_conn, admin.connect() as conn:
                tables = lock_conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                ).scalars()
                lock_conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
                child = subprocess.Popen(
                    [str(MAMORI), "db", "import", str(OSV), "--db", url],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=_env(tmp_path),
                    cwd=tmp_path,
                )
                waiting = text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
                    " AND wait_event_type = 'Lock' AND state = 'active'"
                    " AND (query ILIKE 'INSERT%' OR query ILIKE 'COPY%' OR query ILIKE 'UPDATE%' OR query ILIKE 'DELETE%')"
                )
                pids: list[int] = []

                def write_waiting() -> bool:
                    pids[:] = list(conn.execute(waiting, {"db": name}).scalars())
                    return bool(pids) or child.poll() is not None

                _wait_for(write_waiting, "a write of the import")
                assert child.poll() is None, "the import ended before its connection could be cut"
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:p AS int[])) AS pid"),
                    {"p": pids},
                )
                lock_conn.rollback()
            _out, err = child.communicate(timeout=TIMEOUT)
        finally:
            if child is not None and child.poll() is None:
                child.kill()
            admin.dispose()
            holder.dispose()
        assert child.returncode == 3, err[-3000:]
        assert "Traceback" not in err and len(err.splitlines()) == 1, err[-3000:]
        assert "the connection to the database was lost" in err and url.split("@")[1] in err
        rerun = mamori(tmp_path, "db", "import", str(OSV), "--db", url)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert mamori(tmp_path, "db", "import", str(OSV), "--db", whole).returncode == 0
        assert kb_rows(url) == kb_rows(whole)


# ------------------------------------------------------------------ 4. SIGTERM and SIGINT


@pytest.fixture
def cve5_year() -> Path:
    if not CVE5_2021.is_dir():
        pytest.skip("../shared/data is absent")
    return CVE5_2021


def _records(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute("SELECT count(*) FROM source_record").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet
        return 0


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def whole_import(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not CVE5_2021.is_dir():
        pytest.skip("../shared/data is absent")
    tmp = tmp_path_factory.mktemp("whole")
    path = tmp / "whole.db"
    result = mamori(tmp, "db", "import", str(CVE5_2021), "--db", str(path))
    assert result.returncode == 0, result.stderr
    yield path


@pytest.mark.parametrize(
    ("signum", "code"), ((signal.SIGTERM, 143), (signal.SIGINT, 130)), ids=("TERM", "INT")
)
def test_a_signal_to_the_process_group_mid_import_is_one_line(
    tmp_path: Path, cve5_year: Path, whole_import: Path, signum: int, code: int
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "kb.db"
    assert mamori(tmp_path, "db", "status", "--db", str(path)).returncode == 0
    child = subprocess.Popen(
        [str(MAMORI), "db", "import", str(cve5_year), "--db", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path, MAMORI_IMPORT_WORKERS="2"),
        cwd=work,
        start_new_session=True,  # its own process group: the signal reaches the parsing workers too
    )
    try:
        _wait_for(lambda: _records(path) > 0 or child.poll() is not None, "a first committed batch")
        assert child.poll() is None, "the import ended before the signal"
        os.killpg(child.pid, signum)
        _out, err = child.communicate(timeout=TIMEOUT)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == code, err[-3000:]
    assert err.splitlines() == ["mamori: interrupted"], err[-3000:]
    _wait_for(lambda: _group_gone(child.pid), "the workers gone")
    assert sorted(p.name for p in work.iterdir()) == ["kb.db"]  # no journal, no temporary file
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    if signum == signal.SIGTERM:  # the rerun resumes to the same store as one uninterrupted import
        rerun = mamori(tmp_path, "db", "import", str(cve5_year), "--db", str(path))
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert kb_rows(str(path)) == kb_rows(str(whole_import))


def test_sigterm_to_the_main_process_only_is_one_line_in_the_chosen_language(
    tmp_path: Path, cve5_year: Path
) -> None:
    path = tmp_path / "kb.db"
    child = subprocess.Popen(
        [str(MAMORI), "db", "import", str(cve5_year), "--db", str(path), "--lang", "ja"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path, MAMORI_IMPORT_WORKERS="2"),
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _records(path) > 0 or child.poll() is not None, "a first committed batch")
        assert child.poll() is None, "the import ended before the signal"
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=TIMEOUT)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 143 and err.splitlines() == ["mamori: 中断しました"], err[-3000:]
    _wait_for(lambda: _group_gone(child.pid), "the workers gone")


def _blocked_writing(pid: int) -> bool:
    """The process waits for its reader: the pipe of its standard output is full."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text().endswith("pipe_write")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc")
def test_sigterm_during_a_scan_is_one_line(tmp_path: Path, mamori_store: Path) -> None:
    """A scan whose report fills the pipe nobody reads yet: stopped mid-output, it exits 143 with one line."""
    with (tmp_path / "err.txt").open("w+") as err:
        child = subprocess.Popen(
            [
                str(MAMORI),
                "scan",
                str(SBOM),
                "--db",
                str(mamori_store),
                "--format",
                "json",
                "--allow-partial",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            env=_env(tmp_path),
            cwd=tmp_path,
        )
        try:
            _wait_for(lambda: _blocked_writing(child.pid) or child.poll() is not None, "the report mid-way")
            assert child.poll() is None, "the scan ended with its report in the pipe"
            child.send_signal(signal.SIGTERM)
            child.communicate(timeout=TIMEOUT)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        err.seek(0)
        lines = err.read().splitlines()
    assert child.returncode == 143, lines[-20:]
    assert lines[-1] == "mamori: interrupted" and not any("Traceback" in line for line in lines), lines[-20:]


@needs_pg
def test_a_postgresql_connection_cut_while_idle_in_the_pool_is_replaced() -> None:
    """Only a connection lost while in use stops the command: an idle one is replaced (pre-ping)."""
    from mamori.store import open_store

    assert PG_URL is not None
    with throwaway_postgres(PG_URL, prefix="mamori_idle") as url:
        store = open_store(url)
        try:
            assert store.status()["database"].endswith(url.rsplit("/", 1)[1])
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    cut = conn.execute(
                        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                        {"db": url.rsplit("/", 1)[1]},
                    ).scalars()
                    assert list(cut) == [True]
            finally:
                admin.dispose()
            assert store.status()["database"].endswith(url.rsplit("/", 1)[1])
        finally:
            store.close()


def test_the_workers_of_an_import_end_when_its_main_process_is_killed(
    tmp_path: Path, cve5_year: Path
) -> None:
    """SIGKILL (or the out-of-memory killer) gives the main process no chance to end its workers: they end
    with it instead of waiting for ever on their queue."""
    path = tmp_path / "kb.db"
    child = subprocess.Popen(
        [str(MAMORI), "db", "import", str(cve5_year), "--db", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(tmp_path, MAMORI_IMPORT_WORKERS="2"),
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _records(path) > 0 or child.poll() is not None, "a first committed batch")
        assert child.poll() is None, "the import ended before the kill"
        child.kill()
        child.wait()
        _wait_for(lambda: _group_gone(child.pid), "the workers gone", limit=60.0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


# ------------------------------------------------------------------ 5. the disk under the store is full


def test_a_full_disk_under_the_store_is_one_line_and_the_store_stays_sound(
    tmp_path: Path, cve5_year: Path
) -> None:
    point = tmp_path / "small"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        path = point / "kb.db"
        result = mamori(tmp_path, "db", "import", str(cve5_year), "--db", str(path))
        assert result.returncode == 2, result.stderr[-2000:]
        line = one_line(result)
        assert str(path) in line and "the disk holding the store is full" in line
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)

"""A local ``db import`` whose stderr is no terminal sets up no console (rich is not imported: no
progress bar to show), and prints the same summary; a terminal (or one rich is told to assume) still
gets its console. An input too small for decoding workers imports no multiprocessing. A JSON input
loads neither yaml-rs nor pydantic-core (good records); workers reading YAML are forked with yaml-rs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

RECORD = {
    "schema_version": "1.6.0",
    "id": "GHSA-2xpw-w6gg-jr37",
    "modified": "2024-05-01T12:00:00Z",
    "published": "2024-04-30T09:00:00Z",
    "aliases": ["CVE-2024-3651"],
    "summary": "idna: denial of service in idna.encode()",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "idna", "purl": "pkg:pypi/idna"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.7"}]}],
        }
    ],
}

CODE = (
    "import sys\n"
    "from mamori.cli.main import main\n"
    "code = main(['db', 'import', sys.argv[1], '--db', sys.argv[2]])\n"
    "loaded = {m.split('.')[0] for m in sys.modules}\n"
    "print('RESULT', code, 'rich' in loaded, 'multiprocessing' in loaded or 'concurrent' in loaded)\n"
    "print('LOADED', 'yaml_rs' in loaded, 'pydantic_core' in loaded)\n"
)


def _run(tmp_path: Path, name: str, **env: str) -> tuple[str, str]:
    folder = tmp_path / "osv"
    folder.mkdir(exist_ok=True)
    (folder / "GHSA-2xpw-w6gg-jr37.json").write_bytes(orjson.dumps(RECORD))
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_TERMINAL", "TTY_INTERACTIVE")}
    run = subprocess.run(
        [sys.executable, "-c", CODE, str(folder), str(tmp_path / name)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, **env},
    )
    result = [line for line in run.stdout.splitlines() if line.startswith("RESULT")]
    assert result, run.stdout + run.stderr
    return result[-1], run.stdout


def test_a_local_import_without_a_terminal_imports_no_rich(tmp_path: Path) -> None:
    result, out = _run(tmp_path, "a.db")
    assert result == "RESULT 0 False False", out
    assert "osv: 1 read, 1 new" in out


def test_a_terminal_still_gets_the_console(tmp_path: Path) -> None:
    result, out = _run(tmp_path, "b.db", FORCE_TERMINAL="1")
    assert result == "RESULT 0 True False", out
    assert "osv: 1 read, 1 new" in out


def test_a_json_import_loads_no_yaml_reader_nor_pydantic(tmp_path: Path) -> None:
    _, out = _run(tmp_path, "c.db")
    assert "LOADED False False" in out, out


def test_workers_for_yaml_are_forked_with_yaml_rs(tmp_path: Path) -> None:
    """The pool loads yaml-rs before it forks when its first documents are YAML, not when they are JSON."""
    code = (
        "import sys\n"
        "from mamori.vulndb import parallel\n"
        "from mamori.vulndb.sources import Blob\n"
        "blobs = [Blob(f'r{i}.' + sys.argv[1], b'id: x') for i in range(parallel.MIN_DOCUMENTS)]\n"
        "pool = parallel._Pool(iter(blobs), 2, None)\n"
        "pool.stop(wait=True)\n"
        "print('YAML', 'yaml_rs' in sys.modules)\n"
    )
    answers = []
    for suffix in ("yaml", "json"):
        run = subprocess.run(
            [sys.executable, "-c", code, suffix], capture_output=True, text=True, timeout=120, check=True
        )
        answers.append(run.stdout.strip())
    assert answers == ["YAML True", "YAML False"]

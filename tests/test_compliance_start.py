"""What the compliance commands load at start: no schema validator, no Alembic unless a migration is due."""

from __future__ import annotations

import subprocess
import sys

from mamori.store import engine


def test_revisions_read_from_the_files_equal_alembics_reading() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(engine.alembic_config())
    assert engine.revisions() == {r.revision: r.down_revision for r in scripts.walk_revisions()}
    assert engine.head_revision() == scripts.get_current_head()
    assert engine.known_revisions() == frozenset(r.revision for r in scripts.walk_revisions())


def _modules_after(tmp_path, *argv: str) -> set[str]:  # type: ignore[no-untyped-def]
    code = (
        "import sys\n"
        "from mamori.cli.main import main\n"
        f"code = main({list(argv)!r})\n"
        "assert code == 0, code\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {"MAMORI_DB": str(tmp_path / "m.db"), "XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return set(done.stdout.split("\n")[-2].split())


def test_answer_loads_neither_alembic_nor_jsonschema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = _modules_after(
        tmp_path,
        "assess",
        "new",
        "--framework",
        "checklist",
        "--org",
        "X",
        "--target",
        "user",
        "--scope",
        "s",
    )
    assert "alembic" not in first  # a new store is created from the shipped DDL, without Alembic
    modules = _modules_after(tmp_path, "assess", "answer", "1", "T12-1", "--status", "implemented")
    assert "alembic" not in modules and "jsonschema" not in modules and "openpyxl" not in modules
    assert "jsonschema" not in _modules_after(tmp_path, "catalog", "list")

"""tests/cli_forks.py, which other tests run mamori's entry point with: each run is its own process (what
one run sets does not reach the next), and a run that does not end is killed at its timeout."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_forks import ForkedCli


@pytest.fixture(scope="module")
def forked() -> Iterator[ForkedCli]:
    runner = ForkedCli()
    try:
        yield runner
    finally:
        runner.close()


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAMORI_LANG", "LC_ALL", "LANG", "LANGUAGE")}
    return {**env, "MAMORI_DB": str(folder / "kb.db"), "XDG_DATA_HOME": str(folder / "data"), **extra}


def test_a_run_keeps_nothing_of_the_previous_one(forked: ForkedCli, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such.cdx.json")
    ja = forked.run(
        ["sbom", "check", missing, "--lang", "ja"],
        cwd=tmp_path,
        env=_env(tmp_path),
        folder=tmp_path,
        timeout=60,
    )
    assert ja.returncode == 2 and ja.stderr.startswith("mamori: エラー: ") and missing in ja.stderr, ja
    en = forked.run(["sbom", "check", missing], cwd=tmp_path, env=_env(tmp_path, MAMORI_LANG="en"),
                    folder=tmp_path, timeout=60)  # fmt: skip
    assert en.returncode == 2 and en.stderr.startswith("mamori: error: ") and missing in en.stderr, en
    assert en.stderr.count("\n") == 1
    version = forked.run(["--version"], cwd=tmp_path, env=_env(tmp_path), folder=tmp_path, timeout=60)
    assert (version.returncode, version.stdout.split()[0], version.stderr) == (0, "mamori", "")


def test_a_run_that_does_not_end_is_killed_at_its_timeout(forked: ForkedCli, tmp_path: Path) -> None:
    served = forked.run(
        ["serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=_env(tmp_path),
        folder=tmp_path,
        timeout=3,
    )
    assert served.returncode is None, served
    after = forked.run(["--version"], cwd=tmp_path, env=_env(tmp_path), folder=tmp_path, timeout=60)
    assert after.returncode == 0, after  # the helper still answers

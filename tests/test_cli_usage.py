"""Usage errors from the installed ``mamori`` for every command: one line on stderr and exit 2 (never a
traceback, never exit 1, which means "the gate fired"); a group run alone prints its help and exits 0.

Every group's own cases (alone, unknown command) run as the installed script in new processes; the cases
of each command run its entry point in a fork of a process that has imported mamori (tests/cli_forks.py:
the same code and Typer, without starting Python and importing for each of them).

The commands are read from the application itself, so a new command is covered when it is added.
``.ci/run`` also runs these tests (marker ``cli_usage``) in an environment installed with the newest
versions the declared ranges allow, and again with the oldest Typer the range allows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest
import typer

from cli_forks import ForkedCli
from conftest import once_per_run
from mamori.cli.main import app

pytestmark = pytest.mark.cli_usage

MAMORI = Path(sys.executable).with_name("mamori")


def _tree() -> tuple[list[tuple[str, ...]], list[tuple[tuple[str, ...], list[str]]]]:
    """(groups, [(command path, its required parameters)])."""
    groups: list[tuple[str, ...]] = []
    commands: list[tuple[tuple[str, ...], list[str]]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            groups.append(path)
            for name, sub in sorted(subs.items()):
                walk(sub, (*path, name))
        else:
            required = [p.name for p in command.params if getattr(p, "required", False)]  # type: ignore[attr-defined]
            commands.append((path, required))

    walk(typer.main.get_command(app), ())
    return groups, commands


GROUPS, COMMANDS = _tree()


def _cases() -> dict[str, tuple[str, ...]]:
    cases: dict[str, tuple[str, ...]] = {}
    for path, required in COMMANDS:
        name = " ".join(path)
        cases[f"unknown-option:{name}"] = (*path, "--no-such-option")
        if required:
            cases[f"missing-argument:{name}"] = path
    for path in GROUPS:
        name = " ".join(path) or "mamori"
        cases[f"unknown-command:{name}"] = (*path, "no-such-command")
    cases.update(
        {
            "bad-choice:scan --format": ("scan", "x.json", "--format", "nope"),
            "bad-choice:scan --fail-on": ("scan", "x.json", "--fail-on", "nope"),
            "bad-choice:triage --role": ("triage", "x.json", "--role", "nope", "--skill", "low"),
            "bad-type:db import --batch": ("db", "import", "x.json", "--batch", "many"),
            "bad-range:db import --batch": ("db", "import", "x.json", "--batch", "0"),
            "option-without-value:scan --format": ("scan", "x.json", "--format"),
            "control-characters:scan": ("scan", "\x1b[31mred\x07"),
        }
    )
    return cases


CASES = _cases()


def _env(cwd: Path) -> dict[str, str]:
    return {**os.environ, "MAMORI_DB": str(cwd / "kb.db"), "NO_COLOR": "1", "COLUMNS": "100"}


def _run(args: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAMORI), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=_env(cwd), check=False
    )


@cache
def _results(cwd: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    forked = ForkedCli()

    def run(name: str) -> subprocess.CompletedProcess[str]:
        args = CASES[name]
        if name.startswith("unknown-command:"):
            return _run(args, cwd)
        done = forked.run(args, cwd=cwd, env=_env(cwd), folder=cwd, timeout=120)
        return subprocess.CompletedProcess([str(MAMORI), *args], done.returncode, done.stdout, done.stderr)

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            runs = dict(zip(CASES, pool.map(run, CASES), strict=True))
    finally:
        forked.close()
    groups = {" ".join(p) or "mamori": _run(p, cwd) for p in GROUPS}
    return {**runs, **{f"group-alone:{k}": v for k, v in groups.items()}}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    return once_per_run(
        tmp_path_factory, "cli-usage-runs", lambda: _results(tmp_path_factory.mktemp("usage"))
    )


def test_every_command_group_is_covered() -> None:
    names = {p[0] for p, _ in COMMANDS if p}
    assert {"scan", "sbom", "db", "vex", "triage", "assess", "catalog", "product", "portfolio"} <= names
    assert len(CASES) > 2 * len(COMMANDS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_usage_error_is_one_line_and_exit_2(case: str, results: dict) -> None:
    run = results[case]
    lines = run.stderr.splitlines()
    assert run.returncode == 2, (case, run.returncode, run.stderr[-2000:])
    assert len(lines) == 1, (case, run.stderr[-2000:])
    assert "Traceback" not in run.stderr
    assert lines[0].startswith("mamori")
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr


def test_messages_name_the_problem(results: dict) -> None:
    assert "--no-such-option" in results["unknown-option:scan"].stderr
    assert "no-such-command" in results["unknown-command:db"].stderr
    assert "target" in results["missing-argument:scan"].stderr.lower()
    assert "nope" in results["bad-choice:scan --format"].stderr
    assert "--help" in results["unknown-option:sbom convert"].stderr
    assert "\\x1b[31mred\\x07" in results["control-characters:scan"].stderr


@pytest.mark.parametrize("group", sorted(" ".join(p) or "mamori" for p in GROUPS))
def test_group_alone_prints_help(group: str, results: dict) -> None:
    run = results[f"group-alone:{group}"]
    assert run.returncode == 0, run.stderr
    assert "Usage" in run.stdout and "Traceback" not in run.stderr

"""Shared fixtures. Tests that read ../shared/data skip cleanly when it is absent."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
SHARED_SEEDS = SHARED_DATA.parent / "seeds"
T = TypeVar("T")


MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one test process per usable core, at most :data:`MAX_WORKERS` (the store, subprocess and
    browser tests gain nothing from more, and every process builds its own session fixtures)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


@pytest.fixture(autouse=True)
def _forget_chosen_language() -> Iterator[None]:
    """A command run in-process remembers its ``--lang`` (errors raised far from it use it): forget it after
    each test, so that a test's language never leaks into the next one's messages."""
    yield
    from mamori.i18n import set_lang

    set_lang(None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only present in the mamori workplace and CI)")
    return SHARED_DATA


def shared_files(*parts: str, pattern: str = "*") -> list[Path]:
    """Files under ../shared/data/<parts> for parametrisation; empty when the folder is absent."""
    base = SHARED_DATA.joinpath(*parts)
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob(pattern) if p.is_file())


def requires_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


def once_per_run(tmp_path_factory: pytest.TempPathFactory, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, run once for the whole test run even when the suite runs in parallel processes
    (pytest-xdist): the first process to ask computes it under a file lock in the run's shared temp folder and
    leaves it there pickled; the others wait for it and read it. Run alone, pytest just computes it.

    For expensive products of the tests' own fixtures (sweeps of subprocess runs ...), never for state a test
    changes: each caller gets its own unpickled copy. ``key`` names the product (a file name)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return compute()
    shared = tmp_path_factory.getbasetemp().parent  # pytest-of-USER/pytest-N: every worker's base is below it
    done = shared / f"{key}.pickle"
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            with done.open("rb") as f:
                return pickle.load(f)  # written by a sibling worker of this run, never input from outside
        value = compute()
        partial = done.with_suffix(".partial")
        with partial.open("wb") as f:
            pickle.dump(value, f)
        partial.replace(done)
        return value

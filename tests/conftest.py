"""Shared fixtures. Tests that read ../shared/data skip cleanly when it is absent."""

from __future__ import annotations

import fcntl
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
SHARED_SEEDS = SHARED_DATA.parent / "seeds"
T = TypeVar("T")
# the tests' notification receivers listen on loopback, which mamori refuses unless the operator allows
# it (mamori.notify.netguard); set for the whole run so that workers started by the tests inherit it too
# (tests/test_notify_netguard.py proves the refusal without it)
os.environ.setdefault("MAMORI_NOTIFY_ALLOW_NETWORKS", "127.0.0.0/8,::1/128")


MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one test process per usable core, at most :data:`MAX_WORKERS` (the store, subprocess and
    browser tests gain nothing from more, and every process builds its own session fixtures)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked ``runs_first`` (the longest single tests, and the module whose sweep of subprocess
    runs the others wait for) come first, the rest in their usual order. ``--dist worksteal`` hands each
    process a contiguous run of the list and an idle process takes tests from the end of another's: a long
    test at the end of a run would be the last thing running while the other process sits idle."""
    items.sort(key=lambda item: item.get_closest_marker("runs_first") is None)  # stable: order kept


@pytest.fixture(autouse=True)
def _forget_chosen_language() -> Iterator[None]:
    """A command run in-process remembers its ``--lang`` (errors raised far from it use it): forget it after
    each test, so that a test's language never leaks into the next one's messages."""
    yield
    from mamori.i18n import set_lang

    set_lang(None)


FAST_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}  # KiB: about a millisecond a hash


@pytest.fixture(autouse=True)
def _fast_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Password hashes made in the test process use argon2id with the smallest costs (the default costs
    take a few tenths of a second of CPU per hash or check, and the server and accounts tests make hundreds
    of them). Hashing, checking, renewal and refusal work exactly as with the default costs; the tests
    marked ``argon2_default`` (those about the costs themselves) keep the product's defaults. Patched only
    where mamori.accounts is loaded already (the test modules that use it import it at the top)."""
    core = sys.modules.get("mamori.accounts.core")
    if core is None or request.node.get_closest_marker("argon2_default"):
        return

    def fast_hasher() -> object:
        from argon2 import PasswordHasher

        return PasswordHasher(**FAST_ARGON2)

    monkeypatch.setattr(core, "_hasher", fast_hasher)
    monkeypatch.setattr(core, "_DUMMY_HASH", None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only present in the mamori workplace and CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_knowledge_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of a PostgreSQL database holding the portfolio tests' knowledge base, built once per test
    process; the ``kb`` fixture (portfolio_support.py) copies it for each PostgreSQL test (``CREATE DATABASE
    ... TEMPLATE``, a file copy on the server, instead of migrating and importing again)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only present in the mamori workplace and CI)")
    from portfolio_support import pg_knowledge_base

    with pg_knowledge_base(tmp_path_factory.mktemp("portfolio-pg-kb")) as name:
        yield name


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright for Python, one per test module (tests/browser_support.py)."""
    import shutil

    from browser_support import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()

"""Shared fixtures. Tests that read ../shared/data skip cleanly when it is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
SHARED_SEEDS = SHARED_DATA.parent / "seeds"


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

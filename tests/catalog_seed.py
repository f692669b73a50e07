"""Checks shared by the catalog tests: seed text near an item's source line, summaries in our own words."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import cache

import pytest

from conftest import SHARED_SEEDS
from mamori.compliance.catalog import Catalog, Item, all_catalogs, references

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: A summary may share terms and short runs with the seed (names, enumerations), never most of its text.
MAX_SHARED_SHARE = 0.5
MAX_SHARED_TERM = 12


def norm(text: str) -> str:
    """Seed and catalog text compared alike: NFKC, markup tags dropped, no whitespace."""
    text = re.sub(r"<[^>]+>", "", unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", "", text)


@cache
def seed_lines(name: str) -> tuple[str, ...]:
    path = SHARED_SEEDS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (the seeds are only in the mamori workplace)")
    return tuple(path.read_text(encoding="utf-8").splitlines())


@cache
def seed_text(name: str) -> str:
    """The whole seed file, normalised."""
    return norm("".join(seed_lines(name)))


def seed_window(item: Item, before: int = 3, after: int = 3) -> str:
    """The normalised seed text from ``before`` lines above to ``after`` lines below the item's source line."""
    lines = seed_lines(item.source.file)
    assert 1 <= item.source.line <= len(lines), (
        f"{item.id}: line {item.source.line} is not in {item.source.file}"
    )
    start = max(0, item.source.line - 1 - before)
    return norm("".join(lines[start : item.source.line + after]))


def seed_line(item: Item) -> str:
    return norm(seed_window(item, 0, 0))


def assert_near_seed(item: Item, before: int = 3, after: int = 3) -> None:
    """The item's title (or its id) is printed within a few lines of its recorded source line."""
    window = seed_window(item, before, after)
    assert norm(item.title_ja) in window or norm(item.id) in window, (
        f"{item.framework} {item.id}: neither {item.title_ja!r} nor the id is near line {item.source.line}"
    )


def assert_bilingual(catalog: Catalog) -> None:
    """Every item has titles and summaries in both languages, each in its own language."""
    for item in catalog:
        assert item.title_ja.strip() and _JAPANESE.search(item.summary.ja), f"{item.id}: {item.summary.ja!r}"
        for text in (item.title_en, item.summary.en):
            assert text.strip() and not _JAPANESE.search(text), f"{item.id}: English text {text!r}"
        assert item.summary.ja != item.title_ja and item.summary.en != item.title_en, item.id
        assert len(item.evidence_hints.ja) == len(item.evidence_hints.en), item.id


def assert_own_words(catalog: Catalog, after: int = 30) -> None:
    """No Japanese summary is copied from the seed: not contained in it, no long run shared with its context."""
    for item in catalog:
        summary = norm(item.summary.ja)
        assert summary not in seed_text(item.source.file), f"{item.id}: summary is seed text"
        window = seed_window(item, 5, after)
        run = SequenceMatcher(None, summary, window, autojunk=False).find_longest_match(
            0, len(summary), 0, len(window)
        )
        assert run.size <= max(MAX_SHARED_TERM, MAX_SHARED_SHARE * len(summary)), (
            f"{item.id}: summary shares {summary[run.a : run.a + run.size]!r} with the seed"
        )


def assert_tree(catalog: Catalog) -> None:
    """Ids are unique, parents exist one level up, top-level items have no parent."""
    ids = [norm(item.id).casefold() for item in catalog]
    assert len(ids) == len(set(ids))
    for item in catalog:
        if item.kind == catalog.levels[0]:
            assert item.parent is None, item.id
        else:
            parent = catalog.get(item.parent or "")
            assert parent is not None, f"{item.id}: parent {item.parent!r} missing"
            assert catalog.levels.index(parent.kind) < catalog.levels.index(item.kind), item.id


def assert_refs_resolve(catalog: Catalog) -> None:
    """Every cross-reference names an item of an installed catalog."""
    catalogs = all_catalogs()
    for item in catalog:
        for ref in references(item, catalogs):
            assert ref.framework in catalogs, f"{item.id}: refs into unknown catalog {ref.framework!r}"
            assert ref.target is not None, f"{item.id}: {ref.framework} {ref.id!r} does not exist"

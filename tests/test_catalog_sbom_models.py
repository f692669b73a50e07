"""METI SBOM guide v2.0: the response model (28 options) and the transaction model (22 contract items), seed 004."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from catalog_seed import (
    assert_bilingual,
    assert_own_words,
    assert_refs_resolve,
    assert_tree,
    norm,
    seed_line,
    seed_lines,
)
from mamori.compliance.catalog import Catalog, load

SEED = "004_5a7e085e8f826f8d.txt"
COST_MARK = {"small": "小", "medium": "中", "large": "大"}
LEVEL_MARK = {"basic": "基礎", "advanced": "発展"}


@pytest.fixture(scope="module")
def response() -> Catalog:
    return load("sbom-response-model")


@pytest.fixture(scope="module")
def transaction() -> Catalog:
    return load("sbom-transaction-model")


def test_response_model_options(response: Catalog) -> None:
    assert response.counts() == {"axis": 8, "option": 28}
    per_axis = Counter(o.parent for o in response.of_kind("option"))
    assert per_axis == {"a": 3, "b": 2, "c": 4, "c'": 6, "c''": 3, "d": 3, "e": 4, "f": 3}
    assigned = {o.id for o in response.of_kind("option") if o.extra.get("id_basis") == "assigned"}
    assert assigned == {f"c'{n}" for n in range(1, 7)} | {f"c''{n}" for n in range(1, 4)}
    for option in response.of_kind("option"):
        assert option.id.startswith(option.parent) and option.id[len(option.parent) :].isdigit()
        assert option.extra["cost"]["basis"] == "text"
    costs = Counter(o.extra["cost"]["value"] for o in response.of_kind("option"))
    assert costs == {"small": 8, "medium": 11, "large": 9}
    assert response.get("a3").extra["related_options"]["value"] == ["b2", "c2"]
    assert_tree(response)
    assert_bilingual(response)
    assert_refs_resolve(response)


def test_response_model_seed(response: Catalog) -> None:
    """Each option is printed on its source line, followed by its cost mark 小/中/大."""
    seed_lines(SEED)
    for axis in response.of_kind("axis"):
        assert f"({axis.id}){norm(axis.title_ja)}" in seed_line(axis), axis.id
    for option in response.of_kind("option"):
        line = seed_line(option)
        if option.extra.get("id_basis") != "assigned":
            assert f"({option.id})" in line, option.id
        match = re.search(re.escape(norm(option.title_ja)) + r"(?:※\d)?。?([小中大])", line)
        assert match, option.id
        assert match.group(1) == COST_MARK[option.extra["cost"]["value"]], option.id


def test_transaction_model_items(transaction: Catalog) -> None:
    assert transaction.counts() == {"category": 4, "item": 22}
    items = transaction.of_kind("item")
    assert [i.id for i in items] == [f"TX-{n:02d}" for n in range(1, 23)]
    assert Counter(i.parent for i in items) == {"TX-A": 12, "TX-B": 6, "TX-C": 2, "TX-D": 2}
    assert Counter(i.applicability.level.value for i in items) == {"basic": 10, "advanced": 12}
    assert all(i.applicability.level.basis == "text" for i in items)
    assert sum(i.extra["order_spec"] for i in items) == 11
    assert {i.id for i in items if i.extra["footnote2"]} == {"TX-18", "TX-20"}
    # clauses that pin down a response-model choice point at it
    assert transaction.get("TX-11").refs["sbom-response-model"] == ("e3",)
    assert_tree(transaction)
    assert_bilingual(transaction)
    assert_refs_resolve(transaction)


def test_transaction_model_seed(transaction: Catalog) -> None:
    """Each item's bracketed label, its ※1 mark and its level 基礎/発展 are printed on its source line."""
    seed_lines(SEED)
    for category in transaction.of_kind("category"):
        assert seed_line(category).startswith(norm(category.title_ja)), category.id
    for item in transaction.of_kind("item"):
        line = seed_line(item)
        assert f"({norm(item.title_ja)})" in line, item.id
        assert line.endswith(LEVEL_MARK[item.applicability.level.value]), item.id
        assert ("※1" in line) == item.extra["order_spec"] and ("※2" in line) == item.extra["footnote2"], (
            item.id
        )


def test_summaries_are_own_words(response: Catalog, transaction: Catalog) -> None:
    assert_own_words(response, after=3)
    assert_own_words(transaction, after=3)

"""JC-STAR ☆1: the 16 evaluation items and the 22 fields of the label information page (seed 004)."""

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
VALUE_TYPES = {"text", "url", "date", "enum", "list", "document"}


@pytest.fixture(scope="module")
def star1() -> Catalog:
    return load("jcstar1")


@pytest.fixture(scope="module")
def label() -> Catalog:
    return load("jcstar1-label")


def test_sixteen_items_product_or_vendor(star1: Catalog) -> None:
    assert star1.counts() == {"item": 16}
    assert [i.id for i in star1] == [f"STAR1-{n}" for n in range(1, 17)]
    subjects = {i.id: i.extra["subject"]["value"] for i in star1}
    assert {k for k, v in subjects.items() if v == "vendor"} == {"STAR1-5", "STAR1-9", "STAR1-16"}
    assert Counter(subjects.values()) == {"product": 13, "vendor": 3}
    assert all(i.extra["subject"]["basis"] == "text" for i in star1)
    # the printed form "(5)" finds the item, full-width brackets too
    assert star1.get("(5)").id == "STAR1-5" and star1.get("（５）").id == "STAR1-5"


def test_star1_structure(star1: Catalog) -> None:
    assert_tree(star1)
    assert_bilingual(star1)
    assert_refs_resolve(star1)
    for item in star1:
        assert item.evidence_hints.ja and item.extra["requirement_refs"] and item.extra["threats"]
    assert star1.get("STAR1-5").refs["checklist"] == ("T12-31", "T12-32")


def test_star1_seed_rows(star1: Catalog) -> None:
    """Each item's number, title and bracketed requirement numbers are printed on its source line."""
    seed_lines(SEED)
    for item in star1:
        line = seed_line(item)
        printed = item.extra["printed_id"]
        assert printed == f"({item.id.removeprefix('STAR1-')})"
        start = line.index(printed)
        assert line.index(norm(item.title_ja), start) > start, item.id
        if "printed_title_ja" in item.extra:
            assert norm(item.extra["printed_title_ja"]) == norm(item.title_ja)
            assert re.sub(r"\s+", "", item.extra["printed_title_ja"]) in re.sub(
                r"\s+", "", seed_lines(SEED)[item.source.line - 1]
            )
        brackets = re.match(r"[^\[]*\[([0-9,\-]+)\]", line[start:])
        assert brackets and brackets.group(1).split(",") == list(item.extra["requirement_refs"]), item.id


def test_label_page_fields(label: Catalog) -> None:
    assert label.counts() == {"section": 5, "field": 22}
    per_section = Counter(f.parent for f in label.of_kind("field"))
    assert per_section == {"LP.A": 1, "LP.B": 8, "LP.C": 10, "LP.D": 2, "LP.E": 1}
    fields = label.of_kind("field")
    assert [f.id for f in fields] == [f"LP-{n:02d}" for n in range(1, 23)]
    assert {f.extra["value_type"] for f in fields} <= VALUE_TYPES
    optional = {f.id for f in fields if not f.extra["required"]}
    assert optional == {"LP-04", "LP-05", "LP-09", "LP-12", "LP-22"}
    assert all(
        f.extra["required_basis"] in ("text", "inferred") and f.extra["id_basis"] == "assigned"
        for f in fields
    )
    assert label.get("LP-11").extra["values"] == ["☆1", "☆2", "☆3", "☆4"]
    assert label.get("LP-16").extra["value_type"] == label.get("LP-17").extra["value_type"] == "date"
    assert label.get("LP-17").extra["max_validity_years"]["value"] == 2
    assert label.extra["self_declaration_validity"]["max_years"] == 2
    assert_tree(label)
    assert_bilingual(label)
    assert_refs_resolve(label)


def test_label_seed(label: Catalog) -> None:
    """Each field name is printed on its section's line; the 2-year validity is printed where recorded."""
    lines = seed_lines(SEED)
    for item in label:
        line = seed_line(item)
        assert norm(item.title_ja) in line, item.id
        if item.kind == "field":
            assert line.count("●") == Counter(f.parent for f in label.of_kind("field"))[item.parent]
    validity = label.extra["self_declaration_validity"]
    assert "最大2年間" in norm(lines[validity["line"] - 1])


def test_summaries_are_own_words(star1: Catalog, label: Catalog) -> None:
    assert_own_words(star1, after=6)
    assert_own_words(label, after=3)

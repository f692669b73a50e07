"""The 101-item OSS-management checklist of seed 003 (Tables 12 and 13) as a catalog."""

from __future__ import annotations

from collections import Counter

import pytest

from catalog_seed import (
    assert_bilingual,
    assert_near_seed,
    assert_own_words,
    assert_refs_resolve,
    assert_tree,
    norm,
    seed_lines,
    seed_window,
)
from mamori.compliance.catalog import Catalog, load

# As printed: advanced (高度) rows and rows whose target is not both user company and provider.
ADVANCED = {12: {19, 27, 36, 37}, 13: {16, 26, 30, 32, 43, 50, 53, 59, 60, 63, 64}}
PROVIDER_ONLY_T12 = {6, 20, 21, 32, 33, 34, 35, 36, 37}
BOTH_T13 = {44, 45, 46, 47, 48, 49, 50, 52, 55, 56, 57, 58, 59, 60}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load("checklist")


def items(catalog: Catalog, table: int | None = None) -> list:
    return [i for i in catalog.of_kind("item") if table is None or i.extra["table"] == table]


def test_counts(catalog: Catalog) -> None:
    assert catalog.counts() == {"table": 2, "category": 6, "subcategory": 24, "item": 101}
    assert len(items(catalog, 12)) == 37 and len(items(catalog, 13)) == 64
    for table, advanced in ADVANCED.items():
        numbers = [int(i.extra["printed_id"]) for i in items(catalog, table)]
        assert numbers == list(range(1, len(numbers) + 1))
        levels = {int(i.extra["printed_id"]): i.applicability.level.value for i in items(catalog, table)}
        assert {n for n, level in levels.items() if level == "advanced"} == advanced
        assert set(levels.values()) == {"mandatory", "advanced"}
    split = Counter((i.extra["table"], i.applicability.level.value) for i in items(catalog))
    assert split == {(12, "mandatory"): 33, (12, "advanced"): 4, (13, "mandatory"): 53, (13, "advanced"): 11}


def test_targets_as_printed(catalog: Catalog) -> None:
    both, provider, user = ("user_company", "provider"), ("provider",), ("user_company",)
    for item in items(catalog):
        assert item.applicability.target.basis == "text" and item.applicability.level.basis == "text"
        n, target = int(item.extra["printed_id"]), tuple(item.applicability.target.value)
        if item.extra["table"] == 12:
            expected = user if n == 25 else provider if n in PROVIDER_ONLY_T12 else both
        else:
            expected = both if n in BOTH_T13 else provider
        assert target == expected, item.id
        assert item.applicability.roles.basis == "inferred"
    targets = Counter((i.extra["table"], tuple(i.applicability.target.value)) for i in items(catalog))
    assert targets == {(12, both): 27, (12, provider): 9, (12, user): 1, (13, provider): 50, (13, both): 14}


def test_structure(catalog: Catalog) -> None:
    assert_tree(catalog)
    assert_bilingual(catalog)
    assert_refs_resolve(catalog)
    for item in items(catalog):
        assert item.id == f"T{item.extra['table']}-{item.extra['printed_id']}"
        assert catalog.get(item.parent).kind == "subcategory"
        assert item.evidence_hints.ja and item.periodicity is not None
    # T13 third-party rows per acquisition type sit under the matching mid category
    acquisition = {
        i.id: i.extra["acquisition"] for i in catalog.of_kind("subcategory") if "acquisition" in i.extra
    }
    for item in items(catalog, 13):
        if "acquisition" in item.extra:
            assert acquisition[item.parent] == item.extra["acquisition"], item.id


def test_repeated_rows_have_the_same_title(catalog: Catalog) -> None:
    linked = [(i, i.extra.get("duplicate_of") or i.extra.get("same_text_as")) for i in items(catalog)]
    linked = [(i, other) for i, other in linked if other]
    assert len(linked) == 1 + 14  # T12-30, and the ODM and OSS repeats of T13-37..43
    for item, other in linked:
        assert catalog.get(other).title_ja == item.title_ja
        assert catalog.get(other).source.line < item.source.line


def test_cross_references_reach_guideline_and_ssdf(catalog: Catalog) -> None:
    sbom = catalog.get("T13-10")
    assert "S(2)-2.3" in sbom.refs["guideline"] and "PS.3.2" in sbom.refs["ssdf"]
    with_refs = [i for i in items(catalog) if i.refs.get("guideline") or i.refs.get("ssdf")]
    assert len(with_refs) >= 90
    assert all(i.extra["refs_basis"] == "inferred" for i in items(catalog))


def test_seed_rows(catalog: Catalog) -> None:
    """Each item's source line starts with its printed number; its title is printed before the next row."""
    seed_lines("003_7cf674b23f9b0e1d.txt")
    for table in (12, 13):
        rows = items(catalog, table)
        for item, following in zip(rows, [*rows[1:], None], strict=True):
            line = norm(seed_window(item, 0, 0))
            number = item.extra["printed_id"]
            assert line.startswith(number) and not line[len(number)].isdigit(), (item.id, line)
            span = (following.source.line if following else item.source.line + 10) - item.source.line
            assert norm(item.title_ja) in seed_window(item, 0, span - 1), item.id
    for group in [*catalog.of_kind("table"), *catalog.of_kind("category"), *catalog.of_kind("subcategory")]:
        assert_near_seed(group, before=1, after=8)


def test_summaries_are_own_words(catalog: Catalog) -> None:
    assert_own_words(catalog)


def test_printed_number_finds_table_12_first(catalog: Catalog) -> None:
    """The printed number alone is ambiguous across the two tables; it resolves to Table 12, ids do not."""
    assert catalog.get("25").id == "T12-25" and catalog.get("44").id == "T13-44"
    assert catalog.get("t13-1").id == "T13-1"

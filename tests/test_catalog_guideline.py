"""The guideline catalog (seed 000): 6 duties, 6 categories, 21 requirements, 69 individual requirements."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from conftest import SHARED_SEEDS
from mamori.compliance import catalog as cat
from mamori.compliance.sources import source_problems

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SEED = SHARED_SEEDS / "000_55e9a5e5dde4ddb4.txt"


@pytest.fixture(scope="module")
def guideline() -> cat.Catalog:
    return cat.load("guideline")


def test_counts(guideline: cat.Catalog) -> None:
    assert guideline.counts() == {"duty": 6, "category": 6, "requirement": 21, "individual": 69}
    per_category = Counter(item.id[:4] for item in guideline.of_kind("individual"))
    assert per_category == {"S(1)": 16, "S(2)": 13, "S(3)": 9, "S(4)": 19, "S(5)": 5, "S(6)": 7}
    requirements = Counter(item.parent for item in guideline.of_kind("requirement"))
    assert requirements == {"(1)": 4, "(2)": 4, "(3)": 3, "(4)": 6, "(5)": 2, "(6)": 2}
    assert guideline.get("S(1)-1.1") is guideline.of_kind("individual")[0]
    assert guideline.of_kind("individual")[-1].id == "S(6)-2.4"


def test_hierarchy_follows_the_numbering(guideline: cat.Catalog) -> None:
    for item in guideline.items:
        if item.kind == "duty":
            assert item.parent is None and re.fullmatch(r"D[1-6]", item.id)
            continue
        parent = guideline.get(item.parent)
        assert guideline.levels.index(parent.kind) == guideline.levels.index(item.kind) - 1, item.id
        if item.kind == "category":
            assert item.id == f"({parent.id[1]})"
        elif item.kind == "requirement":
            assert re.fullmatch(r"S\([1-6]\)-[1-6]", item.id) and item.id[1:4] == parent.id
        else:
            assert re.fullmatch(r"S\([1-6]\)-[1-6]\.[1-5]", item.id) and item.id.startswith(parent.id + ".")


def test_every_item_has_both_languages(guideline: cat.Catalog) -> None:
    for item in guideline.items:
        assert item.title_ja.strip() and item.title_en.strip(), item.id
        assert JAPANESE.search(item.summary.ja), item.id
        assert item.summary.en.strip() and not JAPANESE.search(item.summary.en), item.id
        assert not JAPANESE.search(item.title_en), item.id
        assert item.summary.ja != item.title_ja and item.summary.en != item.title_en


def test_individual_requirements_are_complete(guideline: cat.Catalog) -> None:
    for item in guideline.of_kind("individual"):
        assert item.applicability.roles is not None and item.applicability.roles.value, item.id
        assert item.evidence_hints.ja and item.evidence_hints.en, item.id
        assert item.periodicity is not None, item.id


def test_roles_stated_by_the_text_and_inferred_otherwise(guideline: cat.Catalog) -> None:
    stated = {
        item.id: item.applicability.role_list()
        for item in guideline.of_kind("individual")
        if item.applicability.roles.basis == "text"
    }
    customer = {
        item.id: ("customer",) for item in guideline.of_kind("individual") if item.id.startswith("S(6)")
    }
    assert stated == {
        "S(1)-4.1": ("operator",),
        "S(1)-4.2": ("operator",),
        "S(1)-4.4": ("operator",),
        "S(3)-2.1": ("developer",),
        "S(3)-2.2": ("developer",),
        "S(3)-2.3": ("developer", "operator"),
        **customer,
    }
    providers = [i for i in guideline.of_kind("individual") if not i.id.startswith("S(6)")]
    assert all("customer" not in i.applicability.role_list() for i in providers)


def test_sbom_per_release_for_release_provenance(guideline: cat.Catalog) -> None:
    item = guideline.get("S(2)-2.3")
    assert item.periodicity.value == "per_release" and item.periodicity.basis == "text"
    assert any("SBOM" in hint for hint in item.evidence_hints.en)
    assert any("SBOM" in hint for hint in item.evidence_hints.ja)
    assert item.refs == {"ssdf": ("PS.3.2",)}


def test_ssdf_references_resolve_and_stop_at_category_5(guideline: cat.Catalog) -> None:
    ssdf = cat.load("ssdf")
    referenced = set()
    for item in guideline.items:
        assert set(item.refs) <= {"ssdf"}, item.id
        for ref in item.refs.get("ssdf", ()):
            assert ssdf.get(ref) is not None and ssdf.get(ref).kind == "task", (item.id, ref)
            referenced.add(ref)
        if item.id.startswith(("S(5)", "S(6)")):
            assert not item.refs, item.id
    assert len(referenced) >= 35
    assert guideline.extra["refs_basis"] == {"ssdf": "inferred"}


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"{SEED} is absent")
    return SEED.read_text(encoding="utf-8")


def test_ids_and_titles_sit_at_their_seed_lines(guideline: cat.Catalog, seed_text: str) -> None:
    assert [str(p) for p in source_problems(guideline, SHARED_SEEDS)] == []


def test_the_seed_has_exactly_these_69_individual_requirements(
    guideline: cat.Catalog, seed_text: str
) -> None:
    found = {}
    for number, line in enumerate(seed_text.splitlines(), 1):
        match = re.match(r"^ ?(S\(\d\)-\d\.\S+) (.+)$", unicodedata.normalize("NFKC", line))
        if match:
            found[match.group(1)] = (number, line.strip().split(" ", 1)[1].strip())
    individual = {item.id: (item.source.line, item.title_ja) for item in guideline.of_kind("individual")}
    assert found == individual


def test_summaries_are_not_copied_from_the_seed(guideline: cat.Catalog, seed_text: str) -> None:
    flat = re.sub(r"\s+", "", seed_text)
    for item in guideline.items:
        text = re.sub(r"\s+", "", item.summary.ja)
        longest = _longest_shared(text, flat)
        assert longest < 24, (item.id, longest)


def _longest_shared(text: str, corpus: str) -> int:
    best = 0
    for start in range(len(text)):
        while start + best < len(text) and text[start : start + best + 1] in corpus:
            best += 1
    return best

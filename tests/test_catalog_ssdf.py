"""The SSDF catalog (seed 001): 42 tasks, the 7-guideline mapping grades and the demonstration results."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from conftest import SHARED_SEEDS
from mamori.compliance import catalog as cat
from mamori.compliance.sources import source_problems

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SEED = SHARED_SEEDS / "001_8c9604f30124da5e.txt"
GUIDELINES = [
    "sbom_guide",
    "sw_isac",
    "digital_agency_sbd",
    "meti_mgmt",
    "nisc_standards",
    "cpsf",
    "mic_cloud",
]


@pytest.fixture(scope="module")
def ssdf() -> cat.Catalog:
    return cat.load("ssdf")


def test_counts(ssdf: cat.Catalog) -> None:
    assert ssdf.counts() == {"group": 4, "practice": 19, "task": 42}
    per_group = Counter(item.id[:2] for item in ssdf.of_kind("task"))
    assert per_group == {"PO": 13, "PS": 4, "PW": 16, "RV": 9}
    practices = [item.id for item in ssdf.of_kind("practice")]
    assert "PW.3" not in practices and practices[:5] == ["PO.1", "PO.2", "PO.3", "PO.4", "PO.5"]
    for task in ssdf.of_kind("task"):
        assert re.fullmatch(r"(PO|PS|PW|RV)\.\d\.\d", task.id)
        assert task.parent == task.id.rsplit(".", 1)[0]


def test_every_item_has_both_languages(ssdf: cat.Catalog) -> None:
    for item in ssdf.items:
        assert JAPANESE.search(item.title_ja) and JAPANESE.search(item.summary.ja), item.id
        for text in (item.title_en, item.summary.en):
            assert text.strip() and not JAPANESE.search(text), item.id
    for task in ssdf.of_kind("task"):
        assert task.evidence_hints.ja and task.evidence_hints.en and task.periodicity is not None, task.id


def test_every_task_has_the_seven_guideline_grades(ssdf: cat.Catalog) -> None:
    assert ssdf.extra["mapping_guidelines"]["order"] == GUIDELINES
    assert set(ssdf.extra["mapping_grades"]["grades"]) == set(cat.GRADES)
    columns: dict[str, Counter[str]] = {key: Counter() for key in GUIDELINES}
    for task in ssdf.of_kind("task"):
        mapping = task.extra["mapping"]
        assert list(mapping) == GUIDELINES, task.id
        for key, cell in mapping.items():
            assert cell["grade"] in cat.GRADES
            columns[key][cell["grade"]] += 1
            if cell["clauses"] is not None:
                assert cell["grade"] != "×" or cell["clauses"], task.id
    counts = {key: tuple(columns[key][g] for g in cat.GRADES) for key in GUIDELINES}
    # ◎ ○ △ × per guideline, as counted over the seed's 42 × 7 table
    assert counts == {
        "sbom_guide": (0, 10, 20, 12),
        "sw_isac": (2, 17, 12, 11),
        "digital_agency_sbd": (0, 4, 17, 21),
        "meti_mgmt": (7, 0, 4, 31),
        "nisc_standards": (0, 23, 9, 10),
        "cpsf": (12, 0, 2, 28),
        "mic_cloud": (0, 22, 10, 10),
    }


def test_tasks_no_japanese_guideline_covers(ssdf: cat.Catalog) -> None:
    uncovered = [
        task.id
        for task in ssdf.of_kind("task")
        if not any(cell["grade"] in ("◎", "○") for cell in task.extra["mapping"].values())
    ]
    assert uncovered == ["PO.3.1", "PO.3.2", "PW.6.1", "PW.6.2", "PW.7.2", "PW.8.2", "RV.3.4"]
    assert {cell["grade"] for cell in ssdf.get("PW.6.2").extra["mapping"].values()} == {"×"}


def test_demonstration_table_is_reproduced(ssdf: cat.Catalog) -> None:
    demo = ssdf.extra["demonstration"]
    table = demo["distribution"]
    tasks_per_group = Counter(item.id[:2] for item in ssdf.of_kind("task"))
    for group, row in table.items():
        assert len(row) == 4 and sum(row) == tasks_per_group[group], group
    totals = [sum(row[level] for row in table.values()) for level in range(4)]
    assert totals == demo["total"] == [1, 18, 22, 1]
    assert sum(totals) == 42
    rated = {task.id: task.extra["demo_level"] for task in ssdf.of_kind("task") if "demo_level" in task.extra}
    assert rated == {"PW.4.1": 2}  # the only per-task result the seed publishes
    for task_id, level in rated.items():
        assert table[task_id[:2]][level] >= 1
    levels = ssdf.extra["achievement_levels"]["levels"]
    assert [entry["level"] for entry in levels] == [0, 1, 2, 3]
    assert all(entry["ja"] and entry["en"] for entry in levels)


def test_level_criteria_examples(ssdf: cat.Catalog) -> None:
    for task_id in ("PO.1.1", "PW.4.1"):
        criteria = ssdf.get(task_id).extra["level_criteria"]
        assert len(criteria["ja"]) == len(criteria["en"]) == 3


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    if not SEED.is_file():
        pytest.skip(f"{SEED} is absent")
    return [unicodedata.normalize("NFKC", line) for line in SEED.read_text(encoding="utf-8").splitlines()]


def test_ids_and_titles_sit_at_their_seed_lines(ssdf: cat.Catalog, seed_lines: list[str]) -> None:
    assert [str(p) for p in source_problems(ssdf, SHARED_SEEDS)] == []


def test_grades_match_the_seed_table(ssdf: cat.Catalog, seed_lines: list[str]) -> None:
    tasks = ssdf.of_kind("task")
    for index, task in enumerate(tasks):
        end = (
            tasks[index + 1].source.line
            if index + 1 < len(tasks)
            else ssdf.extra["mapping_guidelines"]["source_line"]
        )
        block = "".join(seed_lines[task.source.line - 1 : end - 1]).replace("〇", "○")
        symbols = [ch for ch in block if ch in cat.GRADES]
        assert symbols == [cell["grade"] for cell in task.extra["mapping"].values()], task.id


def test_demonstration_numbers_match_the_seed(ssdf: cat.Catalog, seed_lines: list[str]) -> None:
    demo = ssdf.extra["demonstration"]
    start = demo["source_line"] - 1
    rows = {}
    for line in seed_lines[start : start + 12]:
        match = re.fullmatch(r"(PO|PS|PW|RV|合計) (\d+) (\d+) (\d+) (\d+) (\d+)", line.strip())
        if match:
            rows[match.group(1)] = [int(n) for n in match.groups()[1:]]
    assert {g: r[:4] for g, r in rows.items() if g != "合計"} == demo["distribution"]
    assert rows["合計"] == [*demo["total"], 42]
    pw41 = ssdf.get("PW.4.1")
    assert "レベル2" in seed_lines[pw41.extra["demo_source_line"] - 1]

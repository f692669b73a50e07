"""``mamori plan response`` explains its cost score: what it counts, each cost level's share and the maximum."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assess_helpers import REPO
from mamori.compliance import planner

MAMORI = Path(sys.executable).with_name("mamori")
CATALOG = REPO / "src" / "mamori" / "data" / "catalogs" / "sbom-response-model.yaml"
WEIGHT = {"small": 1, "medium": 2, "large": 3}
CHOICE = "a1,b2,c1,c'1,c'2,d1,e1,f2"


def _costs() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each option's printed cost and each axis's options, read from the catalog file itself."""
    items = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["items"]
    cost = {i["id"]: i["extra"]["cost"]["value"] for i in items if i["kind"] == "option"}
    axes: dict[str, list[str]] = {i["id"]: [] for i in items if i["kind"] == "axis"}
    for i in items:
        if i["kind"] == "option":
            axes[i["parent"]].append(i["id"])
    return cost, axes


def _mamori(*args: str) -> subprocess.CompletedProcess[str]:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    return subprocess.run([str(MAMORI), *args], capture_output=True, text=True, timeout=120)


def test_score_components_add_up_and_the_maximum_is_one_costliest_option_per_axis() -> None:
    cost, axes = _costs()
    chosen = CHOICE.split(",")
    plan = planner.plan_response(chosen)
    explained = planner.score_explanation(plan)
    expected = sum(WEIGHT[cost[o]] for o in chosen)
    assert plan.score == explained["value"] == expected == 14
    assert explained["max"] == sum(max(WEIGHT[cost[o]] for o in options) for options in axes.values()) == 22
    parts = explained["components"]
    for level, weight in WEIGHT.items():
        n = sum(1 for o in chosen if cost[o] == level)
        assert parts[level] == {"options": n, "weight": weight, "points": n * weight}
    assert sum(p["points"] for p in parts.values()) == plan.score
    assert explained["several_on_one_axis"] == ["c'"]
    assert "コストの点数 14点（最大 22点）" in explained["explanation"]["ja"]
    assert "小 3件×1点（3点）" in explained["explanation"]["ja"]
    assert explained["explanation"]["en"].startswith("Cost score 14 of at most 22 = 3 small × 1 (3)")
    assert (
        "原典に点数はない" in explained["basis"]["ja"] and "the weighting is ours" in explained["basis"]["en"]
    )


def test_text_output_explains_the_score_in_both_languages() -> None:
    ja = _mamori("plan", "response", "--options", CHOICE, "--lang", "ja")
    assert ja.returncode == 0, ja.stderr
    assert "点数 14、" not in ja.stdout and "（点数" not in ja.stdout  # no unlabelled number
    assert (
        "コストの点数 14点（最大 22点）= 小 3件×1点（3点）＋ 中 4件×2点（8点）＋ 大 1件×3点（3点）"
        in ja.stdout
    )
    assert "観点 (c') では複数の選択肢を選んでいるため" in ja.stdout
    en = _mamori("plan", "response", "--options", "a3,b2,c3", "--lang", "en")
    assert en.returncode == 0, en.stderr
    assert "Cost score 9 of at most 22 = 0 small × 1 (0) + 0 medium × 2 (0) + 3 large × 3 (9)" in en.stdout
    assert "Several options" not in en.stdout


def test_json_output_carries_the_explanation() -> None:
    done = _mamori("plan", "response", "--options", CHOICE, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["cost_profile"]["score"] == data["score"]["value"] == 14  # the old field stays
    assert data["score"]["max"] == 22 and data["score"]["weights"] == WEIGHT
    assert {lang for lang in data["score"]["explanation"]} == {"ja", "en"}
    assert data["score"]["components"]["medium"] == {"options": 4, "weight": 2, "points": 8}

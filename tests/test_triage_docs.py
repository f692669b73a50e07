"""The examples in the triage docs are valid input, and the tables in them agree with the data."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mamori.triage.context import parse_context
from mamori.triage.policy import parse_policy
from mamori.triage.score import priority_score
from mamori.triage.variants import variant_data

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _example(name: str) -> dict:
    text = (DOCS / name).read_text(encoding="utf-8")
    block = text.split("## Example", 1)[1]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", block, re.S).group(1))


def test_context_example_parses_and_names_every_context_point() -> None:
    ctx = parse_context(_example("triage-context.md"), "triage-context.md")
    shop = ctx.entries("shop-portal", "pkg:npm/lodash@4.17.21")
    assert {k: e.value for k, e in shop.items()} == {
        "system_exposure": "small",
        "safety_impact": "negligible",
        "mission_impact": "mef_failure",
        "value_density": "concentrated",
    }
    text = (DOCS / "triage-context.md").read_text(encoding="utf-8")
    for point in variant_data().context_points:
        assert f"`{point}`" in text


def test_policy_example_parses() -> None:
    policy = parse_policy(_example("triage-policy.md"), "triage-policy.md")
    assert [r.id for r in policy.rules] == ["kev", "urgent", "likely", "untriaged-critical", "copyleft"]


def test_score_table_matches_the_formula() -> None:
    text = (DOCS / "triage-score.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([\d.]+) \| ([\d.—]+) \| (yes|no) \| ([\d.]+) \|$", text, re.M)
    assert len(rows) == 5
    for cvss, epss, kev, score in rows:
        assert priority_score(float(cvss), None if epss == "—" else float(epss), kev == "yes") == float(score)

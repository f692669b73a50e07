"""Our SSVC tables against the official CERT/CC tables (CSV and JSON in ../shared/data/ssvc), row for row."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from conftest import SHARED_DATA, shared_files
from mamori.triage import ssvc

CSV_FILES = shared_files("ssvc", "csv", pattern="*.csv")
JSON_FILES = shared_files("ssvc", "json", "decision_tables", pattern="*.json")
HEADER_VERSION = re.compile(r"\s+v\d+\.\d+\.\d+(\s+\(\w+\))?$")


def _json_for(csv_path: Path) -> dict:
    rel = csv_path.relative_to(SHARED_DATA / "ssvc" / "csv")
    return json.loads(
        (SHARED_DATA / "ssvc" / "json" / "decision_tables" / rel).with_suffix(".json").read_text()
    )


def _ours(official: dict) -> ssvc.DecisionTable:
    table = ssvc.default_catalog().table(official["key"])  # our tables answer to the official table key
    assert table.source["key"] == official["key"] and table.source["version"] == official["version"]
    return table


@pytest.mark.shared
@pytest.mark.parametrize("path", CSV_FILES, ids=[p.stem for p in CSV_FILES])
def test_every_official_csv_row_gives_the_same_outcome(path: Path) -> None:
    catalog = ssvc.default_catalog()
    table = _ours(_json_for(path))
    with path.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    names = [HEADER_VERSION.sub("", h) for h in header[1:]]
    # the official column names resolve to exactly our inputs, and the last column names our outcome
    resolved = [catalog.point_in_scope(table, n) for n in names[:-1]]
    assert sorted(p.id for p in resolved) == sorted(p.id for p in table.inputs)
    assert ssvc.norm(names[-1]) in table.outcome.tokens()
    disagree = []
    for row in rows:
        decision = catalog.decide(table, dict(zip(names[:-1], row[1:-1], strict=True)))
        assert {s.source for s in decision.path} == {"given"}
        if ssvc.norm(row[-1]) not in decision.outcome.tokens():
            disagree.append((row, decision.outcome.id))
    print(f"{table.id}: {len(rows)} official rows checked, {len(rows) - len(disagree)} agree")
    assert disagree == []
    assert len(rows) == len(table.grid)  # the official table lists every combination, so ours agrees in full


@pytest.mark.shared
@pytest.mark.parametrize("path", JSON_FILES, ids=[p.stem for p in JSON_FILES])
def test_official_json_points_and_mapping_match(path: Path) -> None:
    official = json.loads(path.read_text(encoding="utf-8"))
    table = _ours(official)
    ours = {p.ref: p for p in (*table.inputs, table.outcome)}
    assert set(ours) == set(official["decision_points"])
    assert table.outcome.ref == official["outcome"]
    for ref, point in official["decision_points"].items():
        assert [v.key for v in ours[ref].values] == [v["key"] for v in point["values"]], ref
        assert [ssvc.norm(v.name.en) for v in ours[ref].values] == [
            ssvc.norm(v["name"]) for v in point["values"]
        ]
    for row in official["mapping"]:
        chosen = {p.id: p.value(row[p.ref]).id for p in table.inputs}  # by official value keys
        assert table.lookup(chosen).key == row[official["outcome"]], row
    assert len(official["mapping"]) == len(table.grid)

"""SBOM response-model planner and transaction-model contract checklist."""

from __future__ import annotations

import json

import openpyxl
import pytest

from assess_helpers import run
from mamori.compliance import catalog as cat
from mamori.compliance.planner import contract_items, contract_markdown, plan_response
from mamori.errors import InputError


def test_cost_profile_and_coverage():
    plan = plan_response(["a1", "a3", "b1", "c'1", "d1", "e1", "e2", "f2"])
    assert plan.costs == {"small": 3, "medium": 4, "large": 1}
    assert plan.score == 3 * 1 + 4 * 2 + 3 and plan.peak == "large"
    assert [a.id for a in plan.missing_axes] == ["c", "c''"]
    assert [(item.id, ids) for item, ids in plan.related] == [("a3", ["b2", "c2"])]
    assert {c.id for c in plan.clauses} >= {"TX-01", "TX-04"}
    with pytest.raises(InputError, match="unknown option 'z9'"):
        plan_response(["a1", "z9"])
    with pytest.raises(InputError, match="unknown option 'a'"):
        plan_response(["a"])  # an axis, not an option
    every = plan_response([o.id for o in cat.load("sbom-response-model").of_kind("option")])
    assert sum(every.costs.values()) == 28 and every.missing_axes == []


def test_plan_response_cli(capsys):
    code, out, _ = run(capsys, "plan", "response", "--options", "a1,b2,c1", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["cost_profile"]["large"] == 1 and len(data["missing_axes"]) == 5
    code, out, _ = run(capsys, "plan", "response", "--options", "a1,b2,c1", "--lang", "ja")
    assert code == 0 and "間接利用部品" in out and "コスト: 大" in out and "まだ選んでいない観点" in out


def test_contract_checklist_levels(tmp_path, capsys):
    assert len(contract_items("basic")) == 10 and len(contract_items("advanced")) == 22
    md = contract_markdown("basic", "en")
    assert md.count("- [ ] **TX-") == 10 and "## SBOM requirements" in md
    code, _, _ = run(
        capsys, "plan", "contract", "--level", "advanced", "-o", str(tmp_path / "c.xlsx"), "--lang", "ja"
    )
    assert code == 0
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    ids = [ws.cell(row=r, column=1).value for r in range(3, ws.max_row + 1)]
    assert len(ids) == 22 and ids[0] == "TX-01"
    assert any(dv.type == "list" for dv in ws.data_validations.dataValidation)
    code, _, err = run(capsys, "plan", "contract", "--level", "gold", "-o", str(tmp_path / "c.md"))
    assert code == 2 and "basic or advanced" in err
    code, _, err = run(capsys, "plan", "contract", "-o", str(tmp_path / "c.pdf"))
    assert code == 2 and ".xlsx or .md" in err

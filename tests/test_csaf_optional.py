"""The optional tests of CSAF 2.0 (section 6.2) on the OASIS validator test data: every file testcases.json
lists as failing an optional test gets a finding of that test (a warning when the file is valid), every
file listed as passing it gets none; ``mamori advisory validate`` prints them as warnings and exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA
from mamori.advisory.publish import validate
from mamori.vex.csaf_optional import TESTS, optional_problems

CASES = SHARED_DATA / "csaf" / "validator-tests"
MAMORI = str(Path(sys.executable).with_name("mamori"))


def _optional_cases() -> list[dict[str, Any]]:
    listed = CASES / "testcases.json"
    if not listed.is_file():
        return []
    return [t for t in json.loads(listed.read_text(encoding="utf-8"))["tests"] if t["group"] == "optional"]


@pytest.fixture(autouse=True)
def _shared() -> None:
    if not (CASES / "testcases.json").is_file():
        pytest.skip("../shared/data/csaf is absent")


def test_every_optional_test_is_run() -> None:
    ids = {t.__name__[2:].replace("_", ".") for t in TESTS}
    assert ids == {f"6.2.{n}" for n in range(1, 21)}
    if _optional_cases():
        assert {t["id"] for t in _optional_cases()} <= ids


@pytest.mark.parametrize("test_id", [f"6.2.{n}" for n in range(1, 21)])
def test_the_oasis_cases(test_id: str) -> None:
    case = next(t for t in _optional_cases() if t["id"] == test_id)
    assert case["failures"]
    for item in case["failures"]:
        doc = json.loads((CASES / item["name"]).read_text(encoding="utf-8"))
        assert [p for p in optional_problems(doc) if p.test == test_id], item["name"]
        result = validate(doc, optional=True)
        if result.valid:  # two OASIS files (6-2-08-02, 6-2-09-02) also fail mandatory test 6.1.25
            assert any(f"optional test {test_id})" in w for w in result.warnings), item["name"]
        else:
            assert result.warnings == [] and all("6.1.25" in e for e in result.errors), item["name"]
    for item in case.get("valid", []):
        doc = json.loads((CASES / item["name"]).read_text(encoding="utf-8"))
        found = [str(p) for p in optional_problems(doc) if p.test == test_id]
        assert found == [], item["name"]


def test_validate_prints_them_as_warnings_and_exits_0() -> None:
    target = CASES / "optional" / "oasis_csaf_tc-csaf_2_0-2021-6-2-17-01.json"
    env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    run = subprocess.run(
        [MAMORI, "advisory", "validate", str(target), "--format", "json"],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout)[str(target)]
    assert out["valid"] and out["errors"] == []
    assert any(
        "CSAF 2.0 optional test 6.2.17" in w and "/vulnerabilities/0/ids/" in w for w in out["warnings"]
    )

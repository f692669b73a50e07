"""``mamori ssvc tables`` and ``mamori ssvc decide`` run in-process through mamori.cli.main.main."""

from __future__ import annotations

import json

import pytest

from mamori.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tables_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ssvc", "tables", "--format", "json")
    assert code == 0 and err == ""
    tables = {t["id"]: t for t in json.loads(out)}
    assert len(tables) == 17
    supplier = tables["supplier"]
    assert supplier["source"]["key"] == "DT_SP" and supplier["rows"] == 36 and supplier["form"] == "rules"
    assert [p["id"] for p in supplier["inputs"]] == [
        "exploitation", "utility", "technical_impact", "public_safety_impact",
    ]  # fmt: skip
    exploitation = supplier["inputs"][0]
    assert exploitation["ref"] == "ssvc:E:1.1.0" and exploitation["conservative"] == "active"
    assert [v["id"] for v in exploitation["values"]] == ["none", "public_poc", "active"]
    assert exploitation["question"] and supplier["inputs"][1]["derived_by"] == "utility"
    assert [v["id"] for v in supplier["outcome"]["values"]] == [
        "defer",
        "scheduled",
        "out_of_cycle",
        "immediate",
    ]
    assert [v["key"] for v in tables["cisa"]["outcome"]["values"]] == ["T", "T*", "AT", "AC"]


def test_tables_text_in_japanese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ssvc", "tables", "--lang", "ja")
    assert code == 0
    assert "supplier: サプライヤのパッチ開発優先度" in out
    assert "  -> dsoi: defer | scheduled | out_of_cycle | immediate" in out


def test_decide_json_outcome_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "ssvc", "decide", "deployer", "exploitation=active", "exposure=open", "automatable=yes",
        "safety_impact=critical", "mission_impact=MEF failure", "--format", "json",
    )  # fmt: skip
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["table"] == "deployer"
    assert data["outcome"]["value"] == "immediate" and data["outcome"]["key"] == "I"
    assert data["outcome"]["ref"] == "ssvc:DSOI:1.0.0"
    assert [(s["point"], s["value"], s["source"]) for s in data["path"]] == [
        ("exploitation", "active", "given"),
        ("system_exposure", "open", "given"),
        ("automatable", "yes", "given"),
        ("human_impact", "high", "derived"),
    ]
    assert data["path"][3]["via"]["table"] == "human_impact"


def test_decide_text_in_japanese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "ssvc", "decide", "cisa", "E=none", "A=yes", "TI=total", "MWI=high", "--lang", "ja"
    )
    assert code == 0
    assert out.splitlines()[0] == "CISA の判断ツリー (cisa): 注意 (attend)"


def test_decide_conservative_fills_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ssvc", "decide", "supplier", "E=none", "--conservative", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["outcome"]["value"] == "out_of_cycle"
    assert [s["source"] for s in data["path"]] == ["given", "default", "default", "default"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["ssvc", "decide", "supplier", "exploitation=sometimes"], "allowed: none, public_poc, active"),
        (["ssvc", "decide", "supplier", "colour=red"], "unknown decision point 'colour'"),
        (["ssvc", "decide", "supplier", "exploitation"], "expected POINT=VALUE"),
        (["ssvc", "decide", "nosuch", "exploitation=none"], "unknown SSVC table 'nosuch'"),
        (["ssvc", "decide", "utility", "A=yes"], "missing value for value_density"),
        (["ssvc", "tables", "--format", "xml"], "--format: expected text or json"),
        (["ssvc", "decide", "utility", "A=yes", "VD=D", "--lang", "fr"], "--lang: expected en or ja"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mamori: error: ") and needle in err

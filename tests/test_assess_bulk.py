"""Answers in bulk (``mamori assess answer ID --from FILE``): CSV, YAML, XLSX; a bad row is rejected alone with
a one-line message naming the file and the row, the others are recorded in one transaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from assess_helpers import run


def _new(capsys, db: str, framework: str = "checklist", roles: str = "developer,supplier") -> str:  # type: ignore[no-untyped-def]
    code, out, err = run(
        capsys, "assess", "new", "--framework", framework, "--org", "Example", "--roles", roles, "--scope", "x 1",
        "--db", db, "--lang", "en",
    )  # fmt: skip
    assert code == 0, err
    return out.split()[2]


def _answers(capsys, db: str, aid: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "assess", "show", aid, "--db", db, "--format", "json")
    assert code == 0
    return {item["id"]: item for item in json.loads(out)["items"]}


def test_csv_bad_rows_rejected_alone(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db)
    evidence = tmp_path / "policy.pdf"
    evidence.write_bytes(b"%PDF-1.4 policy")
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "item,status,level,evidence,note\n"
        "T12-1,implemented,,policy.pdf,approved 2025\n"  # row 2: evidence relative to the file
        "T12-2,実施済,,,\n"  # row 3: Japanese status
        "T12-99,implemented,,,\n"  # row 4: no such item
        'T12-3,"=HYPERLINK(""http://x"")",,,\n'  # row 5: a formula is text, not a status
        "T12-4,not_applicable,,,\n"  # row 6: not applicable needs a reason (note)
        "T12-5,一部実施 / partial,,,in progress\n"  # row 7: the questionnaire's spelling
        "T12-1,partial,,,\n"  # row 8: same item twice
        "T12-6,implemented,2,,\n"  # row 9: a level is for SSDF only
        ",,,,\n",  # an empty row is skipped
        encoding="utf-8",
    )
    code, out, err = run(capsys, "assess", "answer", aid, "--from", str(answers), "--db", db, "--lang", "en")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith(f"{answers}: row ") for line in lines)
    assert [line.split(": ")[1] for line in lines] == ["row 4", "row 5", "row 6", "row 8", "row 9"]
    assert "T12-99" in lines[0] and "HYPERLINK" in lines[1] and "reason" in lines[2] and "row 2" in lines[3]
    assert "8 rows read: 3 applied, 5 rejected" in out
    got = _answers(capsys, db, aid)
    assert got["T12-1"]["status"] == "implemented" and got["T12-1"]["reason"] == "approved 2025"
    assert got["T12-1"]["evidence"][0]["ref"].endswith("policy.pdf") and got["T12-1"]["evidence"][0]["sha256"]
    assert got["T12-2"]["status"] == "implemented" and got["T12-5"]["status"] == "partial"
    assert got["T12-3"]["status"] is None and got["T12-4"]["status"] is None
    # Japanese summary
    code, out, _ = run(capsys, "assess", "answer", aid, "--from", str(answers), "--db", db, "--lang", "ja")
    assert code == 1 and "件" in out


def test_yaml_ssdf_levels_follow_the_one_rule(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db, "ssdf", "developer")
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "answers:\n"
        "  - {item: PO.1.1, level: 2}\n"
        "  - {item: PO.1.2, level: 0}\n"
        "  - {item: PO.1.3, status: partial, level: 1, owner: Suzuki, due: 2025-06-30}\n"
        "  - {item: PO.2.1, status: implemented, level: 0}\n"  # contradicts itself: rejected
        "  - just text\n"  # not a mapping: rejected
        "  - {item: PW.4.1, evidence: [https://example.com/a, https://example.com/b], note: two links}\n",
        encoding="utf-8",
    )
    code, _out, err = run(capsys, "assess", "answer", aid, "--from", str(answers), "--db", db, "--lang", "en")
    assert code == 1
    assert [line.split(": ")[1] for line in err.strip().splitlines()] == ["entry 4", "entry 5"]
    got = _answers(capsys, db, aid)
    assert (got["PO.1.1"]["status"], got["PO.1.1"]["level"]) == ("implemented", 2)
    assert (got["PO.1.2"]["status"], got["PO.1.2"]["level"]) == ("not_implemented", 0)
    assert (got["PO.1.3"]["status"], got["PO.1.3"]["owner"], got["PO.1.3"]["due"]) == (
        "partial",
        "Suzuki",
        "2025-06-30",
    )
    assert [e["ref"] for e in got["PW.4.1"]["evidence"]] == ["https://example.com/a", "https://example.com/b"]
    assert got["PW.4.1"]["status"] is None  # evidence and a note alone leave the status as it was
    # the same level given with the answer command gives the same answer
    aid2 = _new(capsys, db, "ssdf", "developer")
    run(capsys, "assess", "answer", aid2, "PO.1.1", "--level", "2", "--db", db)
    assert _answers(capsys, db, aid2)["PO.1.1"]["status"] == "implemented"


def test_xlsx_formulas_are_text(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db)
    path = tmp_path / "answers.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["項目", "状況", "備考"])
    ws.append(["T12-1", "implemented", None])
    ws.append(["T12-2", '=CONCATENATE("imple","mented")', None])  # never evaluated
    ws.append(["T12-3", "対象外", "=1+1"])
    wb.save(path)
    code, _out, err = run(capsys, "assess", "answer", aid, "--from", str(path), "--db", db, "--lang", "en")
    assert code == 1 and err.count("\n") == 1 and ": row 3: " in err
    got = _answers(capsys, db, aid)
    assert got["T12-1"]["status"] == "implemented" and got["T12-2"]["status"] is None
    assert got["T12-3"]["status"] == "not_applicable" and got["T12-3"]["reason"] == "=1+1"


def test_unreadable_files_are_one_line_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db)
    no_item = tmp_path / "a.csv"
    no_item.write_text("status\nimplemented\n", encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("x", encoding="utf-8")
    for path, words in (
        (no_item, "'item' column"),
        (text, ".csv, .yaml"),
        (tmp_path / "none.csv", "none.csv"),
    ):
        code, _, err = run(capsys, "assess", "answer", aid, "--from", str(path), "--db", db)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    big = tmp_path / "big.csv"
    big.write_text("item,status\n" + "T12-1,implemented\n" * 5001, encoding="utf-8")
    code, _, err = run(capsys, "assess", "answer", aid, "--from", str(big), "--db", db)
    assert code == 2 and "more than 5000 rows" in err
    code, _, err = run(capsys, "assess", "answer", aid, "T12-1", "--from", str(no_item), "--db", db)
    assert code == 2 and "--from" in err
    code, _, err = run(capsys, "assess", "answer", aid, "--db", db)
    assert code == 2 and "ITEM" in err


def test_bulk_answer_as_a_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    mamori = str(Path(sys.executable).with_name("mamori"))
    if not Path(mamori).exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    env = {
        **os.environ,
        "MAMORI_DB": str(tmp_path / "m.db"),
        "XDG_DATA_HOME": str(tmp_path),
        "MAMORI_LANG": "en",
    }
    new = [
        mamori,
        "assess",
        "new",
        "--framework",
        "checklist",
        "--org",
        "X",
        "--target",
        "user",
        "--scope",
        "s",
    ]
    subprocess.run(new, env=env, check=True, capture_output=True)
    answers = tmp_path / "a.csv"
    answers.write_text("item,status\nT12-1,implemented\nT12-2,partial\n", encoding="utf-8")
    done = subprocess.run(
        [mamori, "assess", "answer", "1", "--from", str(answers)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and "2 rows read: 2 applied, 0 rejected; 2 changes recorded." in done.stdout

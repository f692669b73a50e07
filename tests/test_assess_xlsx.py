"""The Excel questionnaire: export with drop-downs, import with per-row problems, all or nothing."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from assess_helpers import book_at, run
from mamori.compliance.questionnaire import (
    ABOUT_SHEET,
    COLUMNS,
    ITEMS_SHEET,
    QuestionnaireProblems,
    export,
    read,
    status_label,
)
from mamori.errors import InputError


def _column(ws, key):
    header = [c.value for c in ws[1]]
    return header.index(COLUMNS[key][0]) + 1


def _rows(ws):
    return {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}


@pytest.fixture()
def ssdf(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("ssdf", "Example Corp", ("developer",), "tool 1.0")
        book.answer(a, "PO.1.1", status="partial", owner="Suzuki")
        yield book, book.get(a.id)


def test_export_has_one_row_per_item_and_drop_downs(tmp_path, ssdf):
    _, a = ssdf
    path = tmp_path / "q.xlsx"
    assert export(a, path) == 42
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == [ABOUT_SHEET, "Lists"] and wb["Lists"].sheet_state == "hidden"
    ws = wb[ITEMS_SHEET]
    rows = _rows(ws)
    assert len(rows) == 42 and "PW.4.1" in rows
    assert ws.cell(row=rows["PO.1.1"], column=_column(ws, "status")).value == status_label("partial")
    assert ws.cell(row=rows["PO.1.1"], column=_column(ws, "owner")).value == "Suzuki"
    assert ws.cell(row=rows["PW.4.1"], column=_column(ws, "title_ja")).value
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    kinds = sorted((dv.type, dv.formula1) for dv in validations.values())
    assert (
        ("list", '"0,1,2,3"') in kinds
        and ("list", "='Lists'!$A$1:$A$4") in kinds
        and any(k[0] == "date" for k in kinds)
    )
    assert [wb["Lists"].cell(row=n, column=1).value for n in range(1, 5)] == [
        "実施済 / implemented",
        "一部実施 / partial",
        "未実施 / not_implemented",
        "対象外 / not_applicable",
    ]


def test_guideline_questionnaire_filters_by_role_and_has_no_level(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example", ("customer",), "procurement 2025")
        export(a, tmp_path / "g.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "g.xlsx")[ITEMS_SHEET]
    assert sorted(_rows(ws)) == sorted(i.id for i in a.items()) and len(_rows(ws)) == 7
    assert COLUMNS["level"][0] not in [c.value for c in ws[1]]


def test_import_applies_answers_in_any_spelling(tmp_path, ssdf):
    book, a = ssdf
    path = tmp_path / "q.xlsx"
    export(a, path)
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "sbom-policy.md").write_text("policy")
    wb = openpyxl.load_workbook(path)
    ws = wb[ITEMS_SHEET]
    rows = _rows(ws)
    col = {k: _column(ws, k) for k in ("status", "level", "owner", "due", "evidence", "reason")}
    ws.cell(row=rows["PW.4.1"], column=col["level"], value=2)
    ws.cell(row=rows["PW.4.1"], column=col["status"], value="実施済")
    ws.cell(
        row=rows["PW.4.1"],
        column=col["evidence"],
        value="evidence/sbom-policy.md\nhttps://wiki.example.com/sbom",
    )
    ws.cell(row=rows["PO.5.2"], column=col["status"], value="Not applicable")
    ws.cell(row=rows["PO.5.2"], column=col["reason"], value="開発端末は使わない")
    ws.cell(row=rows["RV.1.1"], column=col["status"], value="partial")
    ws.cell(row=rows["RV.1.1"], column=col["due"], value=dt.datetime(2026, 6, 30))
    wb.save(path)
    rows_read = read(a, path)
    changes = book.answer_many(a, rows_read, via="xlsx")
    a = book.get(a.id)
    assert (a.answer("PW.4.1").status, a.answer("PW.4.1").level) == ("implemented", 2)
    assert [e.kind for e in a.answer("PW.4.1").evidence] == ["file", "url"]
    assert a.answer("PO.5.2").status == "not_applicable" and a.answer("PO.5.2").reason == "開発端末は使わない"
    assert a.answer("RV.1.1").due == "2026-06-30"
    assert a.answer("PO.1.1").owner == "Suzuki"  # untouched rows keep their answers
    assert {h["via"] for h in book.history(a.id)[-len(changes) :]} == {"xlsx"}
    # importing the same workbook again changes nothing and adds no evidence twice
    assert book.answer_many(a, read(a, path), via="xlsx") == []


def test_import_reports_every_problem_and_imports_nothing(tmp_path, ssdf, capsys):
    book, a = ssdf
    path = tmp_path / "q.xlsx"
    export(a, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[ITEMS_SHEET]
    rows = _rows(ws)
    col = {k: _column(ws, k) for k in ("status", "level", "due", "evidence", "reason")}
    ws.cell(row=rows["PW.4.1"], column=col["status"], value="done")
    ws.cell(row=rows["PW.4.2"], column=col["level"], value=7)
    ws.cell(row=rows["PO.5.2"], column=col["status"], value="対象外")
    ws.cell(row=rows["RV.1.1"], column=col["evidence"], value="no-such-file.pdf")
    ws.cell(row=rows["RV.1.2"], column=col["due"], value="next week")
    ws.cell(row=rows["PO.1.2"], column=col["status"], value="implemented")  # valid, but must not be applied
    ws.cell(row=ws.max_row + 1, column=1, value="XX.9.9")
    wb.save(path)
    with pytest.raises(QuestionnaireProblems) as caught:
        read(a, path)
    text = [str(p) for p in caught.value.problems]
    assert len(text) == 6
    assert any(
        f"sheet '{ITEMS_SHEET}' row {rows['PW.4.1']} column '{COLUMNS['status'][0]}': 'done' is not one of"
        in t
        for t in text
    )
    assert any(f"row {rows['PW.4.2']} column '{COLUMNS['level'][0]}'" in t for t in text)
    assert any(
        f"row {rows['PO.5.2']} column '{COLUMNS['reason'][0]}': not_applicable needs a reason" in t
        for t in text
    )
    assert any(
        f"row {rows['RV.1.1']} column '{COLUMNS['evidence'][0]}'" in t and "not found" in t for t in text
    )
    assert any(f"row {rows['RV.1.2']} column '{COLUMNS['due'][0]}'" in t for t in text)
    assert any("column 'ID': no item 'XX.9.9'" in t for t in text)
    db = str(book.store.url).split("///")[-1]
    code, _, err = run(capsys, "assess", "import-xlsx", str(a.id), str(path), "--db", db)
    assert (
        code == 2
        and err.count(f"sheet '{ITEMS_SHEET}' row") == 6
        and "6 problems; nothing was imported" in err
    )
    assert book.get(a.id).answer("PO.1.2").status is None


def test_import_refuses_other_files(tmp_path, ssdf):
    book, a = ssdf
    not_xlsx = tmp_path / "q.xlsx"
    not_xlsx.write_text("hello")
    with pytest.raises(InputError, match="not an Excel workbook"):
        read(a, not_xlsx)
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    with pytest.raises(InputError, match="not a mamori questionnaire"):
        read(a, plain)
    other = book.create("ssdf", "Other", ("developer",), "other 2")
    theirs = tmp_path / "theirs.xlsx"
    export(other, theirs)
    with pytest.raises(InputError, match=f"exported from assessment {other.id}, not {a.id}"):
        read(a, theirs)

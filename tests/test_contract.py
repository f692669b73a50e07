"""Supplier contracts: SBOM transaction-model terms per supplier, real deliveries checked against them item by
item, the plan-contract checklist read back as terms, and questionnaires sent to a supplier and compared."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from assess_helpers import DEMO_SBOM, run
from mamori.contract.check import Delivery, check
from mamori.contract.terms import load
from mamori.errors import InputError

TERMS = """\
supplier: ignored here
items:
  TX-01: {formats: "cyclonedx 1.2 1.4"}
  TX-02: {identifiers: purl}
  TX-03: {licenses: 90%, hashes: 0.95}
  TX-05: {depth: transitive}
  TX-10: {delivery: file}
  TX-11: {vex: yes, vex_within_days: 7}
  TX-12: {sbom_within_days: 30}
  TX-14: {triage: yes}
  TX-16: {declaration: yes}
  TX-18: {clause: "第12条"}
"""


def _cli_json(capsys, *argv: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def _set_terms(capsys, tmp_path: Path, db: str, body: str = TERMS) -> None:  # type: ignore[no-untyped-def]
    terms = tmp_path / "terms.yaml"
    terms.write_text(body, encoding="utf-8")
    code, _out, err = run(capsys, "contract", "terms", "set", "ACME", "--from", str(terms), "--db", db)
    assert code == 0, err


def _by(results: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["item"], r["term"]): r for r in results}


# --------------------------------------------------------------------------------------------- terms


def test_terms_file_round_trips_through_the_store(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "db.sqlite")
    _set_terms(capsys, tmp_path, db)
    back = tmp_path / "back.yaml"
    code, shown = _cli_json(capsys, "contract", "terms", "show", "ACME", "-o", str(back), "--db", db)
    assert code == 0
    items = shown["items"]
    assert len(items) == 22 and sum(i["agreed"] for i in items.values()) == 10
    assert items["TX-01"]["params"] == {"formats": {"cyclonedx": ["1.2", "1.4"]}}
    assert items["TX-03"]["params"] == {"licenses": 0.9, "hashes": 0.95}
    assert items["TX-18"] == {"agreed": True, "params": {}, "clause": "第12条"}
    assert not items["TX-04"]["agreed"]
    again = load(back, "ACME")
    assert {k: v.to_dict() for k, v in again.items.items()} == items


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("items:\n  TX-99: {}\n", "TX-99"),
        ("items:\n  TX-01: {depth: direct}\n", "depth"),
        ("items:\n  TX-01: {formats: swid}\n", "cyclonedx / spdx"),
        ("items:\n  TX-03: {licenses: 120%}\n", "licenses"),
        ("items:\n  TX-12: {sbom_within_days: soon}\n", "sbom_within_days"),
        ("- just a list\n", "items"),
    ],
)
def test_bad_terms_are_one_error_naming_the_term(tmp_path, body: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(path, "ACME")
    assert problem in str(caught.value)


def test_plan_contract_checklist_reads_back_as_terms(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "db.sqlite")
    plan = tmp_path / "plan.xlsx"
    assert run(capsys, "plan", "contract", "--level", "advanced", "-o", str(plan), "--lang", "ja")[0] == 0
    book = openpyxl.load_workbook(plan)
    ws = book.active
    header = [c.value for c in ws[2]]
    agreed, clause, note = (
        header.index("合意済") + 1,
        header.index("契約書の該当条項") + 1,
        header.index("備考") + 1,
    )
    rows = {ws.cell(row=r, column=1).value: r for r in range(3, ws.max_row + 1)}
    for item, value in {
        "TX-01": "はい",
        "TX-03": "はい",
        "TX-11": "はい",
        "TX-18": "はい",
        "TX-22": "いいえ",
    }.items():
        ws.cell(row=rows[item], column=agreed).value = value
    ws.cell(row=rows["TX-01"], column=note).value = "formats: cyclonedx 1.4, spdx 2.3\n版は年1回見直す"
    ws.cell(row=rows["TX-03"], column=note).value = "licenses: 80%\nhashes: yes"
    ws.cell(row=rows["TX-11"], column=note).value = "vex: はい"
    ws.cell(row=rows["TX-18"], column=clause).value = "第15条"
    book.save(plan)
    code, _out, err = run(
        capsys, "contract", "terms", "set", "ACME", "--from", str(plan), "--db", db, "--lang", "en"
    )
    assert code == 0, err
    code, shown = _cli_json(capsys, "contract", "terms", "show", "ACME", "--db", db)
    items = shown["items"]
    assert [k for k, v in items.items() if v["agreed"]] == ["TX-01", "TX-03", "TX-11", "TX-18"]
    assert items["TX-01"] == {
        "agreed": True,
        "params": {"formats": {"cyclonedx": ["1.4"], "spdx": ["2.3"]}},
        "note": "版は年1回見直す",
    }
    assert items["TX-03"]["params"] == {"licenses": 0.8, "hashes": 1.0}
    assert items["TX-11"]["params"] == {"vex": True} and items["TX-18"]["clause"] == "第15条"
    # a value the item does not take is refused with the row
    ws.cell(row=rows["TX-11"], column=note).value = "depth: direct"
    book.save(plan)
    code, _out, err = run(
        capsys, "contract", "terms", "set", "ACME", "--from", str(plan), "--db", db, "--lang", "en"
    )
    assert code == 2 and "TX-11" in err and "depth" in err and len(err.splitlines()) == 1


def test_plan_contract_markdown_reads_back_as_terms(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.md"
    assert run(capsys, "plan", "contract", "-o", str(plan), "--lang", "en")[0] == 0
    text = plan.read_text(encoding="utf-8").replace("- [ ] **TX-01", "- [x] **TX-01")
    text = text.replace("- [ ] **TX-03", "- [x] **TX-03")
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("- [x] **TX-01"))
    lines.insert(at + 2, "      formats: spdx 2.3")
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    terms = load(plan, "ACME")
    assert [k for k, v in terms.items.items() if v.agreed] == ["TX-01", "TX-03"]
    assert terms.items["TX-01"].params == {"formats": {"spdx": ["2.3"]}} and terms.items["TX-03"].params == {}


# --------------------------------------------------------------------------------------------- deliveries


def test_delivery_that_omits_agreed_items_lists_each_gap(tmp_path, capsys, shared_data) -> None:  # type: ignore[no-untyped-def]
    spdx = shared_data / "sbom/spdx/presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json"
    db = str(tmp_path / "db.sqlite")
    _set_terms(capsys, tmp_path, db)
    report = tmp_path / "report.xlsx"
    code, result = _cli_json(
        capsys, "contract", "check", "ACME", "--sbom", str(spdx), "--release-date", "2024-01-01",
        "--delivered", "2024-03-15", "-o", str(report), "--db", db,
    )  # fmt: skip
    assert code == 1
    by = _by(result["results"])
    gaps = sorted(k for k, r in by.items() if r["status"] == "gap")
    assert gaps == [
        ("TX-01", "formats"),  # SPDX where CycloneDX was agreed
        ("TX-02", "identifiers"),  # 2 of 4 packages carry a purl
        ("TX-03", "hashes"),
        ("TX-03", "licenses"),
        ("TX-05", "depth"),
        ("TX-11", "vex"),  # no VEX
        ("TX-11", "vex_within_days"),
        ("TX-12", "sbom_within_days"),  # late: 74 days after the release
        ("TX-14", "triage"),
        ("TX-16", "declaration"),
    ]
    assert by[("TX-01", "formats")]["found"]["en"] == "spdx 2.3 (ACME-v2.3.spdx.json)"
    assert by[("TX-01", "formats")]["agreed"]["en"] == "cyclonedx 1.2 1.4"
    assert by[("TX-12", "sbom_within_days")]["found"] == {"ja": "74日", "en": "74 days"}
    assert by[("TX-03", "licenses")]["found"]["en"] == "3 of 4 components (75%)"
    assert by[("TX-11", "vex")]["reason"]["ja"] == "VEXが受け取られていない"
    assert by[("TX-18", "item")]["status"] == "confirm" and by[("TX-10", "delivery")]["status"] == "met"
    assert by[("TX-01", "formats")]["source"] == "004 L545"
    assert result["counts"] == {"met": 1, "gap": 10, "confirm": 1, "not_agreed": 12}
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["確認結果", "Results"]
    rows = [[c.value for c in row] for row in book["Results"].iter_rows(min_row=5)]
    assert rows[[r[0] for r in rows].index("TX-12")][:6] == [
        "TX-12",
        "SBOM updates",
        "days from release to SBOM delivery",
        "gap",
        "within 30 days",
        "74 days",
    ]


def test_supplier_missing_fails_the_minimum_elements(tmp_path, shared_data) -> None:  # type: ignore[no-untyped-def]
    from mamori.sbom.formats import read

    cern = shared_data / "sbom/cyclonedx/cern-lhc-vdm-editor-e564943/bom.json"
    path = tmp_path / "t.yaml"
    path.write_text("items:\n  TX-03: {minimum_elements: ntia}\n", encoding="utf-8")
    results = check(load(path, "CERN"), Delivery(sboms=[(str(cern), read(cern))]))
    (term,) = [r for r in results if r.item == "TX-03"]
    assert term.status == "gap" and "supplier (0/44, bom.json)" in term.found["en"]
    assert "timestamp" not in term.found["en"]


def test_delivery_meeting_every_term_exits_0(tmp_path, capsys, shared_data) -> None:  # type: ignore[no-untyped-def]
    shop = shared_data / "sbom/cyclonedx/juice-shop/via_npm/flat/bom.1.4.json"
    vex = shared_data / "vex/cyclonedx/CISA-Use-Cases/Case-1/vex-not_affected.json"
    db = str(tmp_path / "db.sqlite")
    _set_terms(capsys, tmp_path, db, TERMS.replace("  TX-16: {declaration: yes}\n", ""))
    code, result = _cli_json(
        capsys, "contract", "check", "ACME", "--sbom", str(shop), "--vex", str(vex), "--release-date",
        "2024-01-01", "--delivered", "2024-01-20", "--critical-published", "2022-03-01", "--db", db,
    )  # fmt: skip
    assert code == 0
    by = _by(result["results"])
    assert {k for k, r in by.items() if r["status"] not in ("met", "not_agreed")} == {("TX-18", "item")}
    assert by[("TX-05", "depth")]["found"]["en"] == "depth 11 (71 direct, 1044 indirect)"
    assert by[("TX-11", "vex_within_days")]["found"]["en"] == "2 days"
    assert by[("TX-03", "hashes")]["found"]["en"] == "1115 of 1116 components (99.9%)"
    assert by[("TX-14", "triage")]["found"]["en"] == "1 of 1 statements give an action or justification"
    # without dates the timing terms are for a person to confirm, never passed
    code, result = _cli_json(
        capsys, "contract", "check", "ACME", "--sbom", str(shop), "--vex", str(vex), "--db", db
    )
    by = _by(result["results"])
    assert code == 0
    assert by[("TX-12", "sbom_within_days")]["status"] == "confirm"
    assert by[("TX-11", "vex_within_days")]["status"] == "confirm"


def test_no_terms_cannot_judge(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run(
        capsys, "contract", "check", "Nobody", "--sbom", str(DEMO_SBOM), "--db", str(tmp_path / "db.sqlite")
    )
    assert code == 3 and "Nobody" in err


def test_report_cells_are_never_formulas(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "db.sqlite")
    _set_terms(capsys, tmp_path, db, 'items:\n  TX-01: {formats: spdx}\n  TX-04: {components: "=1+2"}\n')
    sbom = tmp_path / "=HYPERLINK(1).cdx.json"
    shutil.copyfile(DEMO_SBOM, sbom)
    report = tmp_path / "r.xlsx"
    code, _out, err = run(capsys, "contract", "check", "=cmd|' /C calc'!A0", "--sbom", str(sbom), "--db", db)
    assert code == 3
    code, _out, err = run(
        capsys, "contract", "check", "ACME", "--sbom", str(sbom), "-o", str(report), "--db", db
    )
    assert code == 1, err
    ws = openpyxl.load_workbook(report)["Results"]
    values = [
        c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert values and all(c.data_type == "s" and c.quotePrefix for c in values)
    assert {c.value for c in values} >= {"=HYPERLINK(1).cdx.json", "=1+2"}
    md = tmp_path / "r.md"
    assert run(capsys, "contract", "check", "ACME", "--sbom", str(sbom), "-o", str(md), "--db", db)[0] == 1
    assert "| TX-04 |" in md.read_text(encoding="utf-8")


def test_python_api_takes_a_delivery(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mamori.contract.check import Advisory
    from mamori.sbom.formats import read

    path = tmp_path / "t.yaml"
    path.write_text(
        "items:\n  TX-13: {advisory_within_days: 5}\n  TX-16: {declaration: yes}\n", encoding="utf-8"
    )
    terms = load(path, "ACME")
    late = Advisory("ADV-1", dt.date(2024, 1, 1), dt.date(2024, 1, 9))
    fine = Advisory("ADV-2", dt.date(2024, 2, 1), dt.date(2024, 2, 3))
    delivery = Delivery(
        sboms=[("demo", read(DEMO_SBOM))],
        advisories=[late, fine],
        declaration={"organization": "ACME", "date": "2024-02-01"},
    )
    by = {(r.item, r.term): r for r in check(terms, delivery)}
    assert by[("TX-13", "advisory_within_days")].status == "gap"
    assert by[("TX-13", "advisory_within_days")].found["en"] == "late: ADV-1"
    assert by[("TX-16", "declaration")].status == "met"
    assert by[("TX-13", "advisory_within_days")].to_dict()["status_name"] == {"ja": "不足", "en": "gap"}


# --------------------------------------------------------------------------------------------- questionnaires


def test_questionnaire_to_a_supplier_and_compare(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "db.sqlite")
    sent = tmp_path / "q.xlsx"
    code, out, err = run(
        capsys,
        "contract",
        "questionnaire",
        "send",
        "ACME",
        "--framework",
        "checklist",
        "-o",
        str(sent),
        "--db",
        db,
    )
    assert code == 0, err
    book = openpyxl.load_workbook(sent)
    ws = book["質問票 Questionnaire"]
    header = [c.value for c in ws[1]]
    status, reason = header.index("状況 Status") + 1, header.index("理由 Reason") + 1
    ids = [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)]
    first, second, third = ids[0], ids[1], ids[2]
    ws.cell(row=2, column=status).value = "実施済 / implemented"
    ws.cell(row=3, column=status).value = "partial"
    ws.cell(row=3, column=reason).value = '=HYPERLINK("x")'
    ws.cell(row=3, column=reason).data_type = "s"  # typed as text (a typed formula would have no value)
    ws.cell(row=4, column=status).value = "sometimes"  # a bad row, rejected alone
    book.save(sent)
    code, out, err = run(
        capsys, "contract", "questionnaire", "import", "ACME", str(sent), "--db", db, "--lang", "en"
    )
    assert code == 1
    assert "row 4" in err and "sometimes" in err and len(err.splitlines()) == 1
    assert out.startswith(f"{len(ids) - 1} rows applied, 1 rejected")
    # our own answers: first implemented, second implemented, third partial
    code, out, err = run(
        capsys, "assess", "new", "--framework", "checklist", "--org", "Us", "--target", "provider", "--scope", "s",
        "--db", db, "--lang", "en",
    )  # fmt: skip
    assert code == 0, err
    ours = out.split()[2]
    for item, value in ((first, "implemented"), (second, "implemented"), (third, "partial")):
        assert run(capsys, "assess", "answer", ours, item, "--status", value, "--db", db)[0] == 0
    code, result = _cli_json(capsys, "assess", "compare", "--ours", ours, "--supplier", "ACME", "--db", db)
    assert code == 1
    found = {d["item"]: d["problem"] for d in result["differences"]}
    assert found == {second: "below", third: "unanswered"}
    assert result["theirs"]["organization"] == "ACME"
    from mamori.compliance.repository import Assessments
    from mamori.store import open_store

    with open_store(db) as store:
        theirs = Assessments(store).get(result["theirs"]["id"])
    assert theirs.answer(second).reason == '=HYPERLINK("x")'
    # sending again exports the same assessment, answers included
    assert run(capsys, "contract", "questionnaire", "send", "ACME", "-o", str(sent), "--db", db)[0] == 0
    again = openpyxl.load_workbook(sent)["質問票 Questionnaire"]
    assert again.cell(row=3, column=status).value.endswith("/ partial")
    assert again.cell(row=3, column=reason).data_type == "s"


def test_questionnaire_not_sent_is_refused(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "db.sqlite")
    sent = tmp_path / "q.xlsx"
    assert run(capsys, "contract", "questionnaire", "send", "ACME", "-o", str(sent), "--db", db)[0] == 0
    code, _out, err = run(capsys, "contract", "questionnaire", "import", "Other", str(sent), "--db", db)
    assert code == 2 and "Other" in err and len(err.splitlines()) == 1


# --------------------------------------------------------------------------------------------- PostgreSQL


PG_URL = os.environ.get("MAMORI_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_terms_and_questionnaire_on_postgresql(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from mamori.store.throwaway import throwaway_postgres

    assert PG_URL is not None
    with throwaway_postgres(PG_URL) as url:
        _set_terms(capsys, tmp_path, url)
        code, shown = _cli_json(capsys, "contract", "terms", "show", "ACME", "--db", url)
        assert code == 0 and shown["items"]["TX-03"]["params"] == {"licenses": 0.9, "hashes": 0.95}
        sent = tmp_path / "q.xlsx"
        assert run(capsys, "contract", "questionnaire", "send", "ACME", "-o", str(sent), "--db", url)[0] == 0
        code, out, err = run(capsys, "contract", "questionnaire", "import", "ACME", str(sent), "--db", url)
        assert code == 0 and out.startswith("100 rows applied, 0 rejected"), err

"""Assessments that agree with themselves: one SSDF level rule for every path, VEX proposals that state their
coverage, the checklist for a user company, headings in gaps, the checklist roadmap, transaction-model ※2,
and no catalog key shown to a person."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from assess_helpers import run
from mamori.compliance import catalog as cat
from mamori.compliance.questionnaire import COLUMNS, ITEMS_SHEET

# --------------------------------------------------------------------------------------------- SSDF level rule


def _json(capsys, *argv: str):  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _new(capsys, db: str, framework: str, *who: str) -> str:  # type: ignore[no-untyped-def]
    code, out, err = run(
        capsys, "assess", "new", "--framework", framework, "--org", "Example", *who, "--scope", "tool 1",
        "--db", db, "--lang", "en",
    )  # fmt: skip
    assert code == 0, err
    return out.split()[2]


def _verdicts(capsys, db: str, aid: str, out: Path):  # type: ignore[no-untyped-def]
    gaps = _json(capsys, "assess", "gaps", aid, "--db", db)
    roadmap = _json(capsys, "assess", "roadmap", aid, "--db", db)
    code, _, _err = run(
        capsys, "assess", "declare", aid, "--approver", "Sato, CISO", "--date", "2025-04-01", "-o", str(out),
        "--only-lang", "en", "--db", db,
    )  # fmt: skip
    return gaps["total"], (roadmap["covered"], roadmap["base"]), code


def test_level_only_spreadsheet_agrees_with_the_answer_command(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    by_sheet = _new(capsys, db, "ssdf", "--roles", "developer")
    by_command = _new(capsys, db, "ssdf", "--roles", "developer")
    book = tmp_path / "q.xlsx"
    assert run(capsys, "assess", "export-xlsx", by_sheet, "-o", str(book), "--db", db)[0] == 0
    wb = openpyxl.load_workbook(book)
    ws = wb[ITEMS_SHEET]
    header = [c.value for c in ws[1]]
    level_col = header.index(COLUMNS["level"][0]) + 1
    ids = [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)]
    levels = {item: (0 if n == 0 else 1 + n % 3) for n, item in enumerate(ids)}  # one task at level 0
    for r, item in enumerate(ids, start=2):
        ws.cell(row=r, column=level_col).value = levels[item]  # Level only; the status column stays empty
    wb.save(book)
    code, _out, err = run(capsys, "assess", "import-xlsx", by_sheet, str(book), "--db", db)
    assert code == 0, err
    for item, level in levels.items():
        assert run(capsys, "assess", "answer", by_command, item, "--level", str(level), "--db", db)[0] == 0

    sheet = _verdicts(capsys, db, by_sheet, tmp_path / "d1")
    command = _verdicts(capsys, db, by_command, tmp_path / "d2")
    assert sheet == command
    total, (covered, base), declared = sheet
    assert total["counts"]["implemented"] == len(ids) - 1 and total["counts"]["not_implemented"] == 1
    assert total["counts"]["unanswered"] == 0 and total["met_percent"] == round(
        100 * (len(ids) - 1) / len(ids), 1
    )
    assert (covered, base) == (len(ids) - 1, len(ids))
    assert declared == 0  # nothing unanswered: the declaration is written
    shown = _json(capsys, "assess", "show", by_sheet, "--db", db)
    assert {i["id"]: i["status"] for i in shown["items"]}[ids[0]] == "not_implemented"


def test_a_level_keeps_a_given_status(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db, "ssdf", "--roles", "developer")
    assert run(capsys, "assess", "answer", aid, "PO.1.1", "--status", "partial", "--db", db)[0] == 0
    assert run(capsys, "assess", "answer", aid, "PO.1.1", "--level", "2", "--db", db)[0] == 0
    shown = _json(capsys, "assess", "show", aid, "--db", db)
    assert {i["id"]: (i["status"], i["level"]) for i in shown["items"]}["PO.1.1"] == ("partial", 2)


# --------------------------------------------------------------------------------------------- VEX coverage


def _scan(path: Path, count: int) -> Path:
    findings = [
        {
            "component": {"name": "lib"},
            "vulnerability": {"id": f"CVE-2024-{n:04d}", "aliases": [f"GHSA-x-{n}"]},
        }
        for n in range(1, count + 1)
    ]
    path.write_text(
        json.dumps({"target": "shop.cdx.json", "sbom": {}, "findings": findings}), encoding="utf-8"
    )
    return path


def _vex(path: Path, names: list[str]) -> Path:
    statements = [
        {
            "vulnerability": {"name": name},
            "products": [{"@id": "pkg:npm/shop@2.1.0"}],
            "status": "not_affected",
            "justification": "component_not_present",
        }
        for name in names
    ]
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "Example",
        "timestamp": "2025-01-01T00:00:00Z",
        "version": 1,
        "statements": statements,
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("names", "status", "covered"),
    [
        (["CVE-2024-0001", "ghsa-x-2"], "partial", 2),  # one by id, one by alias (any case)
        ([f"CVE-2024-{n:04d}" for n in range(1, 26)], "implemented", 25),
    ],
)
def test_vex_proposal_states_its_coverage(tmp_path, capsys, names, status, covered) -> None:  # type: ignore[no-untyped-def]
    from assess_helpers import book_at
    from mamori.compliance.artifacts import FileArtifacts
    from mamori.compliance.proposals import propose

    scan, vex = _scan(tmp_path / "scan.json", 25), _vex(tmp_path / "vex.json", names)
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "Example", ("developer",), "shop 2.1.0")
        _, proposals = propose(a, [FileArtifacts(scans=[scan], vexes=[vex])])
        s321 = next(p for p in proposals if p.item_id == "S(3)-2.1")
        assert s321.suggested_status == status
        assert f"cover {covered} of the scan report's 25 findings" in s321.reason["en"]
        assert f"検出 25 件のうち {covered} 件" in s321.reason["ja"]
        ssdf = book.create("ssdf", "Example", ("developer",), "shop 2.1.0")
        _, proposals = propose(ssdf, [FileArtifacts(scans=[scan], vexes=[vex])])
        assert next(p for p in proposals if p.item_id == "RV.2.1").suggested_status == status
    # the command shows the basis with each proposal
    db = str(tmp_path / "cli.db")
    aid = _new(capsys, db, "guideline", "--roles", "developer")
    code, out, _ = run(capsys, "assess", "propose", aid, "--scan", str(scan), "--vex", str(vex), "--db", db)
    assert code == 0 and f"cover {covered} of the scan report's 25 findings" in out


# --------------------------------------------------------------------------------------------- checklist


def test_checklist_target_user_or_provider(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    user = _new(capsys, db, "checklist", "--target", "user")
    user_ja = _new(capsys, db, "checklist", "--target", "ユーザ企業")
    provider = _new(capsys, db, "checklist", "--target", "提供者")
    by_roles = _new(capsys, db, "checklist", "--roles", "operator,customer")
    items = {
        aid: [i["id"] for i in _json(capsys, "assess", "show", aid, "--db", db)["items"]]
        for aid in (user, user_ja, provider, by_roles)
    }
    catalog = cat.load("checklist")
    for_user = [i.id for i in catalog.of_kind("item") if "user_company" in i.applicability.target.value]  # type: ignore[union-attr]
    for_provider = [i.id for i in catalog.of_kind("item") if "provider" in i.applicability.target.value]  # type: ignore[union-attr]
    assert items[user] == items[user_ja] == items[by_roles] == for_user and len(for_user) == 42
    assert items[provider] == for_provider
    code, _, err = run(capsys, "assess", "new", "--framework", "checklist", "--org", "X", "--target", "vendor",
                       "--scope", "s", "--db", db)  # fmt: skip
    assert code == 2 and "--target" in err
    code, _, err = run(
        capsys, "assess", "new", "--framework", "checklist", "--org", "X", "--scope", "s", "--db", db
    )
    assert code == 2 and "--roles or --target" in err


def test_gaps_keep_items_under_their_heading(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db, "checklist", "--target", "user")
    gaps = _json(capsys, "assess", "gaps", aid, "--db", db)["gaps"]
    order = [g["id"] for g in gaps]
    # T12-31/32 (T12.B.2, printed under the second 対外対応 heading) come with T12.B, before the supply chain
    assert order.index("T12-31") < order.index("T12-25") if "T12-25" in order else True
    assert [p["id"] for p in next(g for g in gaps if g["id"] == "T12-31")["path"]] == [
        "T12",
        "T12.B",
        "T12.B.2",
    ]
    _code, out, _ = run(capsys, "assess", "gaps", aid, "--db", db, "--lang", "en")
    lines = out.splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("T12-31"))
    headings = [line.strip().split()[0] for line in lines[:at] if line.strip().startswith("T12.")]
    assert headings[-2:] == ["T12.B", "T12.B.2"] or headings[-1] == "T12.B.2"
    last_category = next(h for h in reversed(headings) if h.count(".") == 1)
    assert last_category == "T12.B"


def test_checklist_roadmap_follows_mandatory_then_advanced(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db, "checklist", "--target", "provider")
    roadmap = _json(capsys, "assess", "roadmap", aid, "--db", db)
    added = [item for step in roadmap["steps"] for item in step["add"]]
    flags = [item["mandatory"] for item in added]
    assert flags == sorted(flags, reverse=True) and True in flags and False in flags
    _code, out, _ = run(capsys, "assess", "roadmap", aid, "--db", db, "--lang", "ja")
    assert "必須の項目をすべて先に" in out and "◎" not in out and "[高度]" in out


def test_questionnaire_shows_reference_and_examples(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db, "checklist", "--target", "user")
    book = tmp_path / "q.xlsx"
    assert run(capsys, "assess", "export-xlsx", aid, "-o", str(book), "--db", db)[0] == 0
    ws = openpyxl.load_workbook(book)[ITEMS_SHEET]
    header = [c.value for c in ws[1]]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ref = ws.cell(row=rows["T12-4"], column=header.index(COLUMNS["reference"][0]) + 1).value
    examples = ws.cell(row=rows["T12-4"], column=header.index(COLUMNS["examples"][0]) + 1).value
    assert ref.startswith("003 L2580") and "表12 No.4" in ref
    assert "CVSS v3" in examples and "\n" in examples  # Japanese, then English
    # the added columns do not get in the way of reading the workbook back
    assert run(capsys, "assess", "import-xlsx", aid, str(book), "--db", db)[0] == 0


# --------------------------------------------------------------------------------------------- transaction model


def test_transaction_model_footnote_2_is_restored(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    catalog = cat.load("sbom-transaction-model")
    note = catalog.extra["footnotes"]["footnote2"]
    assert note["line"] == 573 and "cut off" not in note["en"] and "請負契約" in note["ja"]
    for lang, word in (("ja", "請負契約"), ("en", "work contracts")):
        out = tmp_path / f"c.{lang}.md"
        assert run(capsys, "plan", "contract", "-o", str(out), "--lang", lang)[0] == 0
        text = out.read_text(encoding="utf-8")
        lines = {
            line.split("**")[1].split()[0]: line for line in text.splitlines() if line.startswith("- [ ]")
        }
        assert word in lines["TX-18"] and word in lines["TX-20"]
        assert all("※2" not in line for key, line in lines.items() if key not in ("TX-18", "TX-20"))
    xlsx = tmp_path / "c.xlsx"
    assert run(capsys, "plan", "contract", "-o", str(xlsx), "--level", "advanced")[0] == 0
    ws = openpyxl.load_workbook(xlsx).active
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    marked = {row[0] for row in values if any(isinstance(v, str) and "work contracts" in v for v in row)}
    assert marked == {"TX-18", "TX-20"}


# --------------------------------------------------------------------------------------------- no catalog keys


def test_no_catalog_key_reaches_a_person(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "m.db")
    aid = _new(capsys, db, "ssdf", "--roles", "developer")
    for lang in ("en", "ja"):
        texts = [
            run(capsys, "assess", "gaps", aid, "--db", db, "--lang", lang)[1],
            run(capsys, "assess", "show", aid, "--db", db, "--lang", lang)[1],
            run(capsys, "assess", "list", "--db", db, "--lang", lang)[1],
            run(capsys, "catalog", "show", "PW.4.1", "--lang", lang)[1],
            run(capsys, "catalog", "show", "T12-4", "--lang", lang)[1],
            run(capsys, "catalog", "list", "--lang", lang)[1],
        ]
        text = "\n".join(texts)
        for key in ("meti_mgmt", "sbom_guide", "nisc_standards", "[ssdf 1]", "[checklist 1]", "user_company",
                    "individual)", "on_event", "per_release"):  # fmt: skip
            assert key not in text, (lang, key)
    d = tmp_path / "decl"
    run(capsys, "assess", "answer", aid, "PO.1.1", "--status", "implemented", "--db", db)
    run(capsys, "assess", "declare", aid, "--approver", "Sato, CISO", "-o", str(d), "--allow-unanswered",
        "--only-lang", "en", "--db", db)  # fmt: skip
    html = (d / "declaration.en.html").read_text(encoding="utf-8")
    assert "(ssdf)" not in html

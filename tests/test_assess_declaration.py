"""Self-conformity declaration (JSON/HTML/PDF, ja and en) and a customer's comparison with its profile."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest

from assess_helpers import book_at, new_assessment, run
from mamori.compliance import declaration as dec
from mamori.compliance.compare import compare, load_profile, required_items
from mamori.compliance.pdf import declaration_pdf, font_name
from mamori.errors import InputError


@pytest.fixture()
def declared(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("ssdf", "株式会社サンプル", ("developer",), "在庫管理システム 3.0")
        answers = [(t.id, {"level": 1}, []) for t in a.items()]
        answers[0] = (answers[0][0], {"level": 2, "owner": "品質保証部"}, [])
        answers[1] = (answers[1][0], {"status": "not_applicable", "reason": "委託先が担う"}, [])
        book.answer_many(a, answers, via="cli")
        evidence = tmp_path / "sbom-policy.pdf"
        evidence.write_bytes(b"policy")
        from mamori.compliance.evidence import file_evidence, url_evidence

        book.answer(
            book.get(a.id),
            "PW.4.1",
            level=2,
            evidence=[file_evidence(evidence), url_evidence("https://example.com/p")],
        )
        yield dec.build(book.get(a.id), dec.parse_approver("山田太郎, 代表取締役社長"), "2026-11-01")


def test_declaration_json_carries_scope_approver_items_and_evidence(declared, tmp_path):
    d = declared
    assert d["catalog"] == {
        "framework": "ssdf",
        "version": "1",
        "title": d["catalog"]["title"],
        "source": "001_8c9604f30124da5e.txt",
    }
    assert d["approver"] == {"name": "山田太郎", "title": "代表取締役社長"} and d["date"] == "2026-11-01"
    items = {i["id"]: i for i in d["items"]}
    assert (
        len(items) == 42
        and items["PO.1.1"]["owner"] == "品質保証部"
        and items["PO.1.2"]["reason"] == "委託先が担う"
    )
    refs = [(e["kind"], e["ref"]) for e in items["PW.4.1"]["evidence"]]
    assert refs == [
        ("file", "sbom-policy.pdf"),
        ("url", "https://example.com/p"),
    ]  # file names, not local paths
    assert d["levels"]["rows"]["total"] == [0, 39, 2, 0]
    paths = dec.write_all(d, tmp_path / "out")
    assert sorted(p.name for p in paths) == [
        "declaration.en.html",
        "declaration.en.pdf",
        "declaration.ja.html",
        "declaration.ja.pdf",
        "declaration.json",
    ]
    assert dec.load(tmp_path / "out" / "declaration.json") == json.loads(json.dumps(d))
    ja = (tmp_path / "out" / "declaration.ja.html").read_text(encoding="utf-8")
    en = (tmp_path / "out" / "declaration.en.html").read_text(encoding="utf-8")
    assert "<h1>自己適合宣言書</h1>" in ja and "山田太郎 (代表取締役社長)" in ja and "対象外" in ja
    assert "<h1>Self-conformity declaration</h1>" in en and "Not applicable" in en
    assert "sha256:" + items["PW.4.1"]["evidence"][0]["sha256"] in en


def test_html_escapes_what_people_typed(tmp_path):
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("jcstar1", "<script>alert(1)</script>", ("supplier",), "x & y")
        html = dec.render_html(dec.build(a, {"name": "a", "title": "b"}, "2026-01-01"), "en")
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "x &amp; y" in html


def test_pdf_renders_japanese(declared, tmp_path):
    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(declaration_pdf(declared, "ja"))
    assert pdf.read_bytes().startswith(b"%PDF-")
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("poppler-utils (pdftoppm, pdftotext) are not installed")
    text = subprocess.run(
        ["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "自己適合宣言書" in text and "株式会社サンプル" in text and "山田太郎" in text
    subprocess.run(
        ["pdftoppm", "-r", "60", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    page = next(tmp_path.glob("page*.pgm"))
    pixels = page.read_bytes().split(b"\n", 3)[3]
    dark = sum(1 for value in pixels if value < 200)
    assert dark > 0.003 * len(pixels)  # not blank
    if font_name() != "MamoriJapanese":
        pytest.skip("no Japanese TrueType font to embed; glyph rendering depends on the viewer's fonts")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert any("yes" in line.split()[-5:-2] for line in fonts.splitlines() if "TrueType" in line)


def test_compare_lists_the_gaps(declared, tmp_path):
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        """
profile: 調達要件 2026
organization: 顧客株式会社
framework: ssdf
catalog_version: "1"
max_age_days: 365
requirements:
  - under: PW.4          # every task of practice PW.4 at level 2 or more
    level: 2
  - id: PO.1.2           # not applicable is not accepted here
    allow_not_applicable: false
  - id: PO.1.1
    evidence: true
  - id: PS.3.2
""",
        encoding="utf-8",
    )
    wanted = load_profile(profile)
    assert list(required_items(wanted)) == ["PO.1.1", "PO.1.2", "PS.3.2", "PW.4.1", "PW.4.2", "PW.4.4"]
    findings = compare(declared, wanted, today=dt.date(2026, 12, 1))
    got = sorted((f.item, f.problem) for f in findings)
    assert got == [
        ("PO.1.1", "evidence"),
        ("PO.1.2", "not_applicable"),
        ("PW.4.2", "level"),
        ("PW.4.4", "level"),
    ]
    late = compare(declared, wanted, today=dt.date(2028, 1, 1))
    assert "too_old" in {f.problem for f in late}
    other = dict(declared, framework="guideline")
    assert [f.problem for f in compare(other, wanted)] == ["framework"]
    decl = tmp_path / "declaration.json"
    decl.write_text(json.dumps(declared, ensure_ascii=False), encoding="utf-8")


def test_compare_cli_and_bad_inputs(declared, tmp_path, capsys):
    decl = tmp_path / "declaration.json"
    decl.write_text(json.dumps(declared, ensure_ascii=False), encoding="utf-8")
    profile = tmp_path / "p.yaml"
    profile.write_text("profile: p\nframework: ssdf\nrequirements:\n  - id: PW.4.4\n    level: 2\n")
    code, out, _ = run(capsys, "assess", "compare", str(decl), "--profile", str(profile), "--lang", "ja")
    assert (
        code == 1
        and "PW.4.4" in out
        and "達成レベルが 1 で、要件は 2 以上" in out
        and "1 件のギャップ" in out
    )
    ok = tmp_path / "ok.yaml"
    ok.write_text("profile: p\nframework: ssdf\nrequirements:\n  - id: PW.4.1\n    level: 2\n")
    code, out, _ = run(capsys, "assess", "compare", str(decl), "--profile", str(ok), "--lang", "en")
    assert code == 0 and "meets every requirement" in out
    bad_profile = tmp_path / "bad.yaml"
    bad_profile.write_text("profile: p\nframework: ssdf\nrequirements:\n  - id: PW.4\n")
    with pytest.raises(InputError, match=r"use 'under: PW\.4'"):
        load_profile(bad_profile)
    bad_profile.write_text(
        "profile: p\nframework: guideline\nrequirements:\n  - id: S(2)-2.3\n    level: 2\n"
    )
    with pytest.raises(InputError, match="level applies to SSDF tasks only"):
        load_profile(bad_profile)
    broken = tmp_path / "broken.json"
    broken.write_text('{"framework": "ssdf"}')
    code, _, err = run(capsys, "assess", "compare", str(broken), "--profile", str(ok))
    assert code == 2 and "not a mamori self-conformity declaration" in err and str(broken) in err


def test_declare_cli_refuses_unanswered_and_records_the_approver(tmp_path, capsys):
    db = str(tmp_path / "m.db")
    new_assessment(capsys, db, "jcstar1", "IoT Maker", "supplier", "CAM-100")
    code, _, err = run(
        capsys,
        "assess",
        "declare",
        "1",
        "--approver",
        "Hanako Ito, CEO",
        "-o",
        str(tmp_path / "d"),
        "--db",
        db,
    )
    assert code == 2 and "16 items have no answer" in err
    code, _, err = run(
        capsys, "assess", "declare", "1", "--approver", "Hanako Ito", "-o", str(tmp_path / "d"), "--db", db
    )
    assert code == 2 and '"name, title"' in err
    code, out, _ = run(
        capsys,
        "assess",
        "declare",
        "1",
        "--approver",
        "Hanako Ito, CEO",
        "--date",
        "2026-10-01",
        "--allow-unanswered",
        "--only-lang",
        "en",
        "-o",
        str(tmp_path / "d"),
        "--db",
        db,
        "--lang",
        "en",
    )
    assert (
        code == 0
        and (tmp_path / "d" / "declaration.en.pdf").exists()
        and not (tmp_path / "d" / "declaration.ja.pdf").exists()
    )
    code, out, _ = run(capsys, "assess", "list", "--format", "json", "--db", db)
    assert json.loads(out)[0]["declared_on"] == "2026-10-01"


def test_pdf_without_a_font_file_uses_the_builtin_cid_font(declared, tmp_path, monkeypatch):
    monkeypatch.setenv("MAMORI_PDF_FONT", str(tmp_path / "no-such-font.ttf"))
    assert font_name() == "HeiseiKakuGo-W5"
    pdf = tmp_path / "cid.pdf"
    pdf.write_bytes(declaration_pdf(declared, "ja"))
    assert b"/HeiseiKakuGo-W5" in pdf.read_bytes() and b"UniJIS-UCS2-H" in pdf.read_bytes()
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils are not installed")
    text = subprocess.run(
        ["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "自己適合宣言書" in text

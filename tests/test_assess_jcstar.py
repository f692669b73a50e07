"""JC-STAR ☆1: label information page from the 22 fields, two-year validity and the expiry reminder."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assess_helpers import book_at, new_assessment, run
from mamori.compliance import jcstar
from mamori.errors import InputError

FIELDS = """\
LP-01: https://www.ipa.go.jp/security/jc-star/
LP-02: ネットワークカメラ X
LP-03: CAM-100
LP-04: 株式会社カメラ製作所
LP-06: 屋内用の見守りカメラ
LP-07: https://camera.example.jp/cam-100
LP-08: support@camera.example.jp
LP-09:
  - ISO/IEC 27001 (IS 000000)
LP-10: JC-STAR-0000-0001
LP-13: "2024"
LP-20: https://camera.example.jp/security/advisories
LP-21: https://camera.example.jp/security/report
"""


def test_validity_is_two_years_from_the_label_date():
    assert jcstar.validity_years() == 2
    assert jcstar.valid_until(dt.date(2025, 4, 1)) == dt.date(2027, 4, 1)
    assert jcstar.valid_until(dt.date(2024, 2, 29)) == dt.date(2026, 2, 28)


def test_label_fields_are_checked(tmp_path):
    bad = tmp_path / "f.yaml"
    bad.write_text("LP-07: camera.example.jp\n")
    with pytest.raises(InputError, match=r"LP-07 .* must be an http"):
        jcstar.read_fields(bad)
    bad.write_text("LP-11: ☆5\n")
    with pytest.raises(InputError, match="must be one of ☆1, ☆2, ☆3, ☆4"):
        jcstar.read_fields(bad)
    bad.write_text("LP-99: x\n")
    with pytest.raises(InputError, match="not a label field"):
        jcstar.read_fields(bad)


def test_label_workflow_from_the_cli(tmp_path, capsys):
    db = str(tmp_path / "m.db")
    fields = tmp_path / "fields.yaml"
    fields.write_text(FIELDS, encoding="utf-8")
    new_assessment(
        capsys, db, "jcstar1", "株式会社カメラ製作所", "developer,supplier", "ネットワークカメラ X CAM-100"
    )
    code, out, _ = run(capsys, "assess", "show", "1", "--db", db, "--lang", "ja")
    assert code == 0 and out.index("製品に対する基準") < out.index("ベンダーに対する基準")
    page = tmp_path / "label.html"
    code, _, err = run(
        capsys,
        "assess",
        "label",
        "1",
        "-o",
        str(page),
        "--fields",
        str(fields),
        "--issued",
        "2025-04-01",
        "--db",
        db,
    )
    assert code == 2 and "STAR1-1" in err and not page.exists()  # nothing conforms yet
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.get(1)
        book.answer_many(a, [(i.id, {"status": "implemented"}, []) for i in a.items()], via="cli")
    code, out, err = run(capsys, "assess", "label", "1", "-o", str(page), "--db", db, "--lang", "ja")
    assert code == 0 and "有効期限 2027-04-01" in out, err
    html = page.read_text(encoding="utf-8")
    assert html.count('<dt id="LP-') == 19  # the optional LP-05, LP-12 and LP-22 are empty: left out
    assert "ネットワークカメラ X" in html and "CAM-100" in html and "☆1" in html and "適合 16/16" in html
    assert "2025-04-01" in html and "2027-04-01" in html and "ベンダー自己評価" in html
    assert '<a href="https://camera.example.jp/security/report">' in html and "（未記入）" not in html
    # the list shows the expiry and reminds when it is near
    code, out, _ = run(capsys, "assess", "list", "--format", "json", "--db", db, "--lang", "en")
    listed = json.loads(out)[0]
    assert listed["valid_until"] == "2027-04-01"
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.get(1)
    assert jcstar.reminder(a, today=dt.date(2027, 1, 10)) == ("soon", 81)
    assert jcstar.reminder(a, today=dt.date(2026, 12, 1)) is None
    assert jcstar.reminder(a, today=dt.date(2027, 4, 3)) == ("expired", 2)


def test_list_reminds_within_90_days(tmp_path, capsys):
    db = str(tmp_path / "m.db")
    new_assessment(capsys, db, "jcstar1", "IoT Maker", "supplier", "Hub H1")
    issued = (dt.date.today() - dt.timedelta(days=2 * 365 - 30)).isoformat()
    code, out, _ = run(
        capsys,
        "assess",
        "label",
        "1",
        "-o",
        str(tmp_path / "l.html"),
        "--issued",
        issued,
        "--draft",
        "--db",
        db,
        "--lang",
        "en",
    )
    assert code == 0 and "days until the label expires" in out
    assert "Draft" in (tmp_path / "l.html").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "assess", "list", "--db", db, "--lang", "ja")
    assert code == 0 and "日です。再宣言の準備をしてください。" in out
    code, _, err = new_assessment(capsys, db, "guideline", "X", "developer", "Y")
    code, _, err = run(capsys, "assess", "label", "2", "-o", str(tmp_path / "x.html"), "--db", db)
    assert code == 2 and "the label page is for jcstar1" in err

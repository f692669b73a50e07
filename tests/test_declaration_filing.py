"""A declaration people can file: the items the role choice leaves out (and a note where roles are inferred),
the edition of the source text, the next review date, a signature block, and page numbers in the PDF."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assess_helpers import REPO, book_at
from mamori.compliance import declaration as dec
from mamori.compliance.pdf import declaration_pdf
from mamori.errors import InputError

MAMORI = Path(sys.executable).with_name("mamori")
GUIDELINE = REPO / "src" / "mamori" / "data" / "catalogs" / "guideline.yaml"
LEAF_KIND = "individual"


def _catalog_roles() -> dict[str, tuple[list[str], str]]:
    """Every leaf item of the guideline catalog with its roles and their basis, read from the YAML file."""
    data = yaml.safe_load(GUIDELINE.read_text(encoding="utf-8"))
    out = {}
    for item in data["items"]:
        if item["kind"] == LEAF_KIND:
            roles = (item.get("applicability") or {}).get("roles") or {"value": [], "basis": "text"}
            out[item["id"]] = (list(roles["value"]), roles["basis"])
    return out


@pytest.fixture()
def guideline_declaration(tmp_path: Path) -> dict:
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("guideline", "株式会社サンプル", ("developer",), "在庫管理システム 3.0")
        book.answer_many(a, [(i.id, {"status": "implemented"}, []) for i in a.items()], via="cli")
        return dec.build(book.get(a.id), dec.parse_approver("山田太郎, 代表取締役社長"), "2026-03-31")


def test_excluded_items_are_those_the_role_choice_leaves_out(guideline_declaration: dict) -> None:
    d = guideline_declaration
    catalog = _catalog_roles()
    expected = {i for i, (roles, _) in catalog.items() if roles and "developer" not in roles}
    excluded = {e["id"]: e for e in d["excluded"]}
    assert set(excluded) == expected and len(expected) > 0
    assert {i["id"] for i in d["items"]} | set(excluded) == set(catalog)  # nothing lost, nothing twice
    assert not {i["id"] for i in d["items"]} & set(excluded)
    for item_id, entry in excluded.items():
        roles, basis = catalog[item_id]
        assert entry["roles"] == roles and entry["roles_inferred"] == (basis == "inferred")
        assert entry["title"]["ja"] and entry["title"]["en"]
    # the catalog infers most role assignments (the source lost the role legend): the declaration says so
    inferred = sum(1 for i in d["items"] if i.get("roles_inferred")) + sum(
        1 for e in d["excluded"] if e["roles_inferred"]
    )
    assert d["role_applicability"]["inferred"] == inferred > 0
    assert "強調表示がテキスト化で失われており" in d["role_applicability"]["catalog_note"]["ja"]
    ja = dec.render_html(d, "ja")
    en = dec.render_html(d, "en")
    assert "役割の選択により対象外とした項目" in ja and "Items left out by the choice of roles" in en
    section = ja[ja.index('id="excluded"') :]
    assert all(f"<td>{item_id}" in section for item_id in expected)
    assert "役割の表示が失われている" in ja and "The source text does not state, or has lost, the roles" in en


def test_source_edition_review_date_and_signature_block(guideline_declaration: dict) -> None:
    d = guideline_declaration
    (source,) = d["sources"]
    assert source["framework"] == "guideline" and source["catalog_version"] == "1"
    assert source["published"] == "2025-03" and source["file"] == "000_55e9a5e5dde4ddb4.txt"
    assert "令和7年3月" in source["edition_note"]["ja"]
    assert d["review"] == {"interval": "1y", "next": "2027-03-31"}
    ja = dec.render_html(d, "ja")
    en = dec.render_html(d, "en")
    assert "依拠した原典の版" in ja and "2025-03" in ja and "Edition of the source texts" in en
    assert "次回見直し日" in ja and "2027-03-31" in ja and "Next review" in en and "1 year" in en
    for word in ("承認欄", "氏名", "役職", "署名又は印", "日付"):
        assert word in ja
    assert "Signature or seal" in en and 'class="seal"' in en
    assert "@bottom-center" in ja and "counter(pages)" in ja and "break-inside: avoid" in ja


@pytest.mark.parametrize(
    ("date", "interval", "expected"),
    [
        ("2026-03-31", "1y", "2027-03-31"),
        ("2026-03-31", "6m", "2026-09-30"),  # no 31 September: the month's last day
        ("2024-02-29", "1y", "2025-02-28"),
        ("2026-11-15", "3m", "2027-02-15"),
        ("2026-01-01", "90d", "2026-04-01"),
    ],
)
def test_next_review_is_the_date_plus_the_interval(date: str, interval: str, expected: str) -> None:
    assert dec.review("ssdf", date, interval) == {"interval": interval, "next": expected}


def test_jcstar_review_never_runs_past_the_two_year_validity() -> None:
    got = dec.review("jcstar1", "2026-04-01", "3y")
    assert got["validity_years"] == 2 and got["valid_until"] == "2028-04-01"
    assert got["next"] == "2028-04-01"
    assert dec.review("jcstar1", "2026-04-01")["next"] == "2027-04-01"


@pytest.mark.parametrize("bad", ["", "1", "0y", "1w", "-1y", "1y2m"])
def test_bad_review_intervals_are_refused(bad: str) -> None:
    with pytest.raises(InputError, match="--review-interval"):
        dec.parse_interval(bad)


def _pdftotext(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pdf_has_page_numbers_excluded_items_and_signature(
    guideline_declaration: dict, tmp_path: Path, lang: str
) -> None:
    pdf = tmp_path / f"d.{lang}.pdf"
    pdf.write_bytes(declaration_pdf(guideline_declaration, lang))  # type: ignore[arg-type]
    assert pdf.read_bytes().startswith(b"%PDF-")
    if not shutil.which("pdftotext") or not shutil.which("pdfinfo"):
        pytest.skip("poppler-utils (pdftotext, pdfinfo) are not installed")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert pages >= 2
    for n in range(1, pages + 1):
        footer = [line.strip() for line in _pdftotext(pdf, n).splitlines() if line.strip()][-1]
        assert re.fullmatch(rf"{n}\s*/\s*{pages}", footer), footer
    text = _pdftotext(pdf)
    flat = re.sub(r"\s+", "", text)
    if lang == "ja":
        for word in ("役割の選択により対象外とした項目", "依拠した原典の版", "次回見直し日", "署名又は印"):
            assert word in flat
    else:
        for word in (
            "Itemsleftoutbythechoiceofroles",
            "Editionofthesourcetexts",
            "Nextreview",
            "Signatureorseal",
        ):
            assert word in flat
    assert "2027-03-31" in text and "2025-03" in text and "山田太郎" in text
    excluded = [e["id"] for e in guideline_declaration["excluded"]]
    assert all(item_id in flat for item_id in excluded)


def test_declare_cli_takes_the_review_interval(tmp_path: Path) -> None:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    env = {**os.environ, "MAMORI_DB": str(tmp_path / "m.db"), "XDG_DATA_HOME": str(tmp_path / "xdg")}

    def mamori(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(MAMORI), *args], env=env, capture_output=True, text=True, timeout=120)

    made = mamori(
        "assess", "new", "--framework", "jcstar1", "--org", "IoT Maker", "--roles", "supplier",
        "--scope", "CAM-100", "--lang", "en",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    out = tmp_path / "d"
    args = ["assess", "declare", "1", "--approver", "Hanako Ito, CEO", "-o", str(out), "--allow-unanswered"]
    bad = mamori(*args, "--review-interval", "soon")
    assert (
        bad.returncode == 2
        and len(bad.stderr.strip().splitlines()) == 1
        and "--review-interval" in bad.stderr
    )
    done = mamori(*args, "--date", "2026-05-10", "--review-interval", "6m", "--only-lang", "en")
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "declaration.json").read_text(encoding="utf-8"))
    assert data["review"] == {
        "interval": "6m",
        "next": "2026-11-10",
        "valid_until": "2028-05-10",
        "validity_years": 2,
    }
    assert data["excluded"] == []  # every ☆1 item applies to a supplier
    assert dec.load(out / "declaration.json")["review"]["next"] == "2026-11-10"
    html = (out / "declaration.en.html").read_text(encoding="utf-8")
    assert "The choice of roles leaves no item out." in html and "Declaration valid until" in html
    assert dt.date.fromisoformat(data["review"]["next"]) < dt.date.fromisoformat(
        data["review"]["valid_until"]
    )

"""The JC-STAR ☆1 label page people publish: a QR code of the page's own address, the checklist under LP-14,
the product's stored findings under LP-20, and no empty optional fields."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assess_helpers import DEMO_SBOM, book_at
from mamori.compliance import jcstar
from mamori.demo import load_demo_vulnerabilities
from mamori.portfolio import views
from mamori.store import open_store

MAMORI = Path(sys.executable).with_name("mamori")
PAGE_URL = "https://camera.example.jp/jc-star/cam-100?lang=ja&v=2"
FIELDS = """\
LP-01: https://www.ipa.go.jp/security/jc-star/
LP-02: Shop Portal
LP-03: SP-210
LP-06: 店舗向けポータル
LP-07: https://shop.example.jp/portal
LP-08: support@shop.example.jp
LP-10: JC-STAR-0000-0002
LP-13: "2024"
LP-21: https://shop.example.jp/security/report
"""
NEW = ("assess", "new", "--framework", "jcstar1", "--org", "Shop Co", "--roles", "supplier", "--scope")
NEW += ("shop-portal 2.1.0",)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MAMORI), *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """A store with the demo vulnerability set, the demo product's release 2.1.0 stored and matched, and a
    ☆1 assessment of it with every item implemented."""
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    tmp = tmp_path_factory.mktemp("label")
    db = tmp / "m.db"
    env = {**os.environ, "MAMORI_DB": str(db), "XDG_DATA_HOME": str(tmp / "xdg"), "MAMORI_LANG": "en"}
    load_demo_vulnerabilities(db)
    for args in (
        ("product", "add", "shop-portal"),
        ("release", "add", "shop-portal", "2.1.0", "--sbom", str(DEMO_SBOM)),
        NEW,
        NEW,
    ):
        done = _cli(env, *args)
        assert done.returncode == 0, done.stderr
    store, book = book_at(db)
    with store:
        for aid in (1, 2):  # 2 is given a page URL, 1 never is
            a = book.get(aid)
            book.answer_many(a, [(i.id, {"status": "implemented"}, []) for i in a.items()], via="cli")
    (tmp / "fields.yaml").write_text(FIELDS, encoding="utf-8")
    return env, tmp


def _label(
    env: dict[str, str], tmp: Path, name: str, *args: str, aid: str = "1"
) -> tuple[subprocess.CompletedProcess[str], Path]:
    page = tmp / name
    done = _cli(env, "assess", "label", aid, "-o", str(page), "--fields", str(tmp / "fields.yaml"), *args)
    return done, page


def _svg_matrix(html: str) -> list[list[bool]]:
    """The dark modules of the page's inline QR SVG, read back from its path (segno draws one horizontal
    line per run of dark modules: M/m moves, h draws)."""
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg, "no inline SVG on the page"
    size = int(re.search(r'width="(\d+)"', svg.group(0)).group(1))  # type: ignore[union-attr]
    scale = int(re.search(r"scale\((\d+)\)", svg.group(0)).group(1))  # type: ignore[union-attr]
    path = re.search(r' d="([^"]+)"', svg.group(0)).group(1)  # type: ignore[union-attr]
    n = size // scale
    grid = [[False] * n for _ in range(n)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for col in range(int(x), int(x + float(a))):
                grid[int(y)][col] = True
            x += float(a)
    return grid


def _decode(grid: list[list[bool]]) -> str | None:
    """Decode the QR matrix with a real decoder (zxing-cpp) when it is installed."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return None
    n, px = len(grid), 6
    image = Image.new("L", (n * px, n * px), 255)
    for r, row in enumerate(grid):
        for c, dark in enumerate(row):
            if dark:
                image.paste(0, (c * px, r * px, (c + 1) * px, (r + 1) * px))
    found = zxingcpp.read_barcodes(image)
    return found[0].text if found else None


def test_page_qr_code_decodes_to_the_page_url(scanned: tuple[dict[str, str], Path]) -> None:
    env, tmp = scanned
    done, page = _label(
        env, tmp, "qr.ja.html", "--issued", "2026-04-01", "--url", PAGE_URL, "--lang", "ja", aid="2"
    )
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    grid = _svg_matrix(html)
    decoded = _decode(grid)
    if decoded is not None:
        assert decoded == PAGE_URL
    else:  # no decoder installed: the page's matrix is segno's for the URL
        import segno

        expected = [
            [bool(v) for v in row] for row in segno.make_qr(PAGE_URL, error="m").matrix_iter(border=4)
        ]
        assert grid == expected
    assert 'id="no-qr"' not in html and PAGE_URL.replace("&", "&amp;") in html
    # the URL is kept: the next rendering without --url still has the QR code
    done, again = _label(env, tmp, "qr.en.html", "--lang", "en", aid="2")
    assert done.returncode == 0, done.stderr
    assert _svg_matrix(again.read_text(encoding="utf-8")) == grid


def test_checklist_findings_and_no_empty_fields(scanned: tuple[dict[str, str], Path]) -> None:
    env, tmp = scanned
    done, page = _label(env, tmp, "label.ja.html", "--issued", "2026-04-01", "--lang", "ja")
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    # LP-14: the 16 evaluation items with their answers, not a bare count
    checklist = html[
        html.index('<table class="checklist">') : html.index("</table>", html.index("checklist"))
    ]
    rows = re.findall(
        r"<tr><td>\((\d+)\)</td><td>([^<]+)</td><td class=\"(ok|ng)\">([^<]+)</td></tr>", checklist
    )
    assert [int(r[0]) for r in rows] == list(range(1, 17))
    assert all(r[2] == "ok" and r[3] == "実施済" for r in rows)
    assert "適切な認証に基づくアクセス制御" in checklist
    # LP-20: the findings of the stored release, with their status and the reporting contact
    with open_store(env["MAMORI_DB"]) as store:
        stored = views.release(store, "shop-portal", "2.1.0")["findings"]
    ids = {f["vulnerability"]["id"] for f in stored}
    assert len(ids) >= 10
    vulns = html[html.index('<table class="vulns">') :]
    vulns = vulns[: vulns.index("</table>")]
    assert set(re.findall(r"<tr><td>((?:CVE|GHSA)-[^ <]+)", vulns)) == ids
    assert vulns.count("未対応") == len(stored)  # nothing triaged yet: every finding open
    assert "CVE-2021-44228" in vulns and "(KEV)" in vulns
    assert f"うち未対応 {len(stored)} 件" in html
    assert '脆弱性の報告・問い合わせ先: <a href="https://shop.example.jp/security/report">' in html
    # optional fields with no value are left out; nothing reads "(not given)"
    assert "（未記入）" not in html and "(not given)" not in html
    for hidden in ("LP-04", "LP-05", "LP-09", "LP-12", "LP-22", "LP.E"):
        assert f'id="{hidden}"' not in html
    assert html.count('<dt id="LP-') == 17
    # no page URL given: no QR code and a visible note
    assert "<svg" not in html and 'id="no-qr"' in html and "mamori assess label --url" in html


def test_explicit_release_and_bad_values(scanned: tuple[dict[str, str], Path]) -> None:
    env, tmp = scanned
    done, page = _label(env, tmp, "label.en.html", "--release", "shop-portal@2.1.0", "--lang", "en")
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    assert "Vulnerabilities found in the components of shop-portal 2.1.0" in html and "open" in html
    assert "Vulnerability ID" in html and "No QR code" in html
    bad, _ = _label(env, tmp, "x.html", "--url", "javascript:alert(1)")
    assert bad.returncode == 2 and "http(s) URL" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    bad, _ = _label(env, tmp, "x.html", "--release", "shop-portal")
    assert bad.returncode == 2 and "PRODUCT@VERSION" in bad.stderr


def test_page_url_as_a_field_and_no_store_findings(tmp_path: Path) -> None:
    """Without stored findings, LP-20 is the text the vendor gives; page_url may come from the fields file."""
    fields = tmp_path / "f.yaml"
    fields.write_text(
        FIELDS + "LP-20: https://shop.example.jp/security/advisories\npage_url: " + PAGE_URL + "\n"
    )
    values = jcstar.read_fields(fields)
    assert values["page_url"] == PAGE_URL and values["LP-20"].endswith("/advisories")
    store, book = book_at(tmp_path / "m.db")
    with store:
        a = book.create("jcstar1", "Shop Co", ("supplier",), "another product 9")
        book.update_header(a, {"label_fields": values})
        a = book.get(a.id)
        assert jcstar.vulnerability_info(store, a, "en") is None
    html = jcstar.render(a, "en", draft=True)
    assert '<a href="https://shop.example.jp/security/advisories">' in html and "<svg" in html
    assert html.count("<tr><td>(") == 16 and "Unanswered" in html
    assert "(not given)" in html  # a draft still flags required fields that have no value (LP-15 ... LP-17)

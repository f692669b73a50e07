"""The default scan table: a summary (by severity and status, components affected, KEV, fixable), the
most urgent findings (``--top N``, default 20), a line saying how many more there are, ``--all`` and
``--top 0``; English and Japanese; the installed ``mamori`` as a subprocess with MAMORI_TOP and
mamori.toml. A small real store: Django, Airflow and reportlab advisories (OSV), CVE-2019-17626
(CVE 5), CVE-2017-5638 (NVD, reached through purl2cpe) and the CISA KEV catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.model.sbom import Component
from mamori.report.table import findings_text, ordered
from mamori.sbom import write
from mamori.scan.result import RATING_ORDER
from match_support import build_store, cve_file, document, purl2cpe_subset

OUT_OF_GATE = {"not_affected", "fixed"}
RATING_WORDS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "none": "None"}
RATING_WORDS["unknown"] = "Unknown"


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("scan-table")
    osv = SHARED_DATA / "osv" / "pypi"
    files = [
        osv / "django",
        osv / "apache-airflow",
        osv / "reportlab",
        cve_file("CVE-2019-17626"),
        SHARED_DATA / "nvd" / "CVE-2017-5638-cvssv3-rating.json",
        SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json",
        purl2cpe_subset(folder, ["pkg:pypi/reportlab", "pkg:maven/org.apache.struts/struts-core"]),
    ]
    build_store(folder, files, complete=True).close()
    doc = document(
        Component("django", "1.11.0", purl="pkg:pypi/django@1.11.0", bom_ref="django"),
        Component("reportlab", "3.5.26", purl="pkg:pypi/reportlab@3.5.26", bom_ref="reportlab"),
        Component("apache-airflow", "1.10.10", purl="pkg:pypi/apache-airflow@1.10.10", bom_ref="airflow"),
        Component(
            "struts-core", "2.3.5", purl="pkg:maven/org.apache.struts/struts-core@2.3.5", bom_ref="struts"
        ),
        Component("six", "1.16.0", purl="pkg:pypi/six@1.16.0", bom_ref="six"),
    )
    sbom = folder / "app.cdx.json"
    write(doc, sbom)
    return {
        "db": str(folder / "kb.db"),
        "sbom": str(sbom),
        "folder": str(folder),
        "json": str(folder / "r.json"),
    }


@pytest.fixture(scope="module")
def report(setup) -> dict:
    out = Path(setup["json"])
    main(["scan", setup["sbom"], "--db", setup["db"], "--allow-partial", "-f", "json", "-o", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["findings"]) > 40  # enough for the top 20 to leave some out
    return data


def _table(setup, capsys, *args: str) -> str:
    assert main(["scan", setup["sbom"], "--db", setup["db"], "--allow-partial", *args]) == 0
    return capsys.readouterr().out


def _rows(out: str) -> list[list[str]]:
    """The finding lines cut at the columns the rule line (─ runs) marks (ASCII text: cells = chars)."""
    lines = out.splitlines()
    (rule_at,) = [i for i, line in enumerate(lines) if line.startswith("─")]
    spans, start = [], 0
    for part in lines[rule_at].split("  "):
        spans.append((start, start + len(part)))
        start += len(part) + 2
    rows = []
    for line in lines[rule_at + 1 :]:
        if not line.strip():
            break
        rows.append([line[a:b].strip() for a, b in spans])
    return rows


def _json_order(f: dict) -> tuple:
    v = f["vulnerability"]
    severity = v["severity"] or {}
    rating = severity.get("rating", "unknown")
    score = severity.get("score") or 0.0
    return (
        f["status"] in OUT_OF_GATE,
        -RATING_ORDER.get(rating, -1),
        -score,
        f["component"]["name"],
        v["id"],
    )


def test_the_summary_counts_are_the_json_reports(setup, report, capsys) -> None:
    out = _table(setup, capsys)
    summary, findings = report["summary"], report["findings"]
    affected = summary["components_affected"]
    assert f"5 components, {len(findings)} findings in {affected} components" in out
    by_rating = ", ".join(f"{RATING_WORDS[r]} {n}" for r, n in summary["by_rating"].items() if n)
    assert f"By severity: {by_rating}\n" in out
    by_status = ", ".join(f"{s.replace('_', ' ')} {n}" for s, n in summary["by_status"].items() if n)
    assert f"By status: {by_status}\n" in out
    kev = sum(1 for f in findings if f["vulnerability"]["kev"])
    fixable = sum(1 for f in findings if f["vulnerability"]["fixed_versions"])
    assert kev >= 2 and 0 < fixable < len(findings)
    assert (
        f"Known exploited (KEV): {kev} · with a fixed version: {fixable} of {len(findings)} findings" in out
    )
    # the summary comes before the findings, the components not evaluated after them
    assert out.index("By severity") < out.index("Component") < out.index("could not be evaluated")


def test_the_top_20_in_order_then_how_many_more(setup, report, capsys) -> None:
    out = _table(setup, capsys)
    rows = _rows(out)
    total = len(report["findings"])
    expected = sorted(report["findings"], key=_json_order)[:20]
    assert [(r[0], r[2]) for r in rows] == [
        (f["component"]["name"], f["vulnerability"]["id"]) for f in expected
    ]
    assert rows[0][:5] == ["struts-core", "2.3.5", "CVE-2017-5638", "Critical 10.0", "yes"]
    assert f"The 20 most urgent of {total} findings" in out
    assert f"… {total - 20} more findings not shown: --all lists every one" in out


def test_all_and_top(setup, report, capsys) -> None:
    total = len(report["findings"])
    out = _table(setup, capsys, "--all")
    assert len(_rows(out)) == total and "more findings not shown" not in out
    assert f"All {total} findings" in out
    rows = _rows(_table(setup, capsys, "--top", "3"))
    assert [r[2] for r in rows] == [
        f["vulnerability"]["id"] for f in sorted(report["findings"], key=_json_order)[:3]
    ]
    out = _table(setup, capsys, "--top", "0")
    assert "─" not in out and "CVE-" not in out.split("Coverage")[0]
    assert f"{total} findings not listed (--top 0)" in out and "By severity" in out
    out = _table(setup, capsys, "--top", str(total + 5))  # more than there are: all of them, no "more" line
    assert len(_rows(out)) == total and "more findings" not in out


def test_a_finding_out_of_the_gate_comes_last(setup, report, tmp_path, capsys) -> None:
    ignore = tmp_path / ".mamoriignore"
    ignore.write_text("# not reachable in this deployment\nCVE-2017-5638\n", encoding="utf-8")
    out = _table(setup, capsys, "--all", "--ignorefile", str(ignore))
    rows = _rows(out)
    assert rows[-1][2] == "CVE-2017-5638" and rows[-1][-1] == "not affected"
    assert rows[0][2] == "CVE-2019-17626"
    assert "1 findings are not affected or fixed" in out


def test_japanese_labels_and_columns_line_up(setup, report, capsys) -> None:
    total = len(report["findings"])
    out = _table(setup, capsys, "--lang", "ja")
    assert "深刻度別: " in out and "対応状況別: 未対応" in out and "既知の悪用 (KEV): " in out
    assert f"全 {total} 件のうち緊急度の高い 20 件" in out
    assert f"… ほか {total - 20} 件は表示していません" in out
    lines = out.splitlines()
    (rule_at,) = [i for i, line in enumerate(lines) if line.startswith("─")]
    assert lines[rule_at - 1].startswith("コンポーネント  バージョン")
    # the vulnerability column starts at the same terminal cell on every line (wide characters count 2)
    column = sum(len(part) + 2 for part in lines[rule_at].split("  ")[:2])
    assert cell_len(lines[rule_at - 1].split("脆弱性")[0]) == column
    rows = lines[rule_at + 1 : rule_at + 21]
    ids = [f["vulnerability"]["id"] for f in sorted(report["findings"], key=_json_order)[:20]]
    for row, vid in zip(rows, ids, strict=True):
        assert cell_len(row.split(vid)[0]) == column
    assert "緊急 10.0" in rows[0] and "該当" in rows[0] and "未対応" in rows[0]
    out = _table(setup, capsys, "--lang", "ja", "--top", "0")
    assert f"{total} 件の検出は一覧表示していません (--top 0)" in out


def test_on_a_narrow_terminal_long_cells_are_cut(setup, report) -> None:
    from mamori.match import Matcher
    from mamori.scan.run import load_target, scan_document
    from mamori.store import open_store

    console = Console(width=100, force_terminal=True, color_system=None, record=True)
    with open_store(setup["db"]) as store:
        doc, fmt = load_target(Path(setup["sbom"]))
        result = scan_document(doc, store, target=setup["sbom"], sbom_format=fmt, matcher=Matcher(store))
    console.print(findings_text(ordered(result)[:10], "en", 90), soft_wrap=True)
    lines = console.export_text().splitlines()
    assert all(cell_len(line) <= 90 for line in lines) and "Matched by" in lines[0]
    assert any("1.10.11… " in line for line in lines) and any("purl-range… " in line for line in lines)
    assert any("CVE-2017-5638" in line for line in lines)  # ids are never cut
    # an 80-column terminal: the match method goes, the rest stays
    narrow = findings_text(ordered(result)[:10], "en", 80).plain.splitlines()
    assert all(cell_len(line) <= 80 for line in narrow) and "Matched by" not in narrow[0]
    assert "Critical 10.0" in narrow[2] and narrow[2].endswith("open")
    # without a width (a pipe, a file) nothing is cut
    wide = findings_text(ordered(result)[:10], "en").plain
    assert "…" not in wide and "purl-range (high)" in wide


def test_the_installed_command_honours_mamori_top_and_mamori_toml(setup, report) -> None:
    mamori = Path(sys.executable).with_name("mamori")
    if not mamori.exists():
        pytest.skip("mamori is not installed next to this interpreter")
    total = len(report["findings"])
    cmd = [str(mamori), "scan", setup["sbom"], "--db", setup["db"], "--allow-partial", "--lang", "en"]
    env = {**os.environ, "MAMORI_TOP": "4"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=setup["folder"], check=False)
    assert done.returncode == 0, done.stderr
    assert len(_rows(done.stdout)) == 4 and f"… {total - 4} more findings" in done.stdout
    # the project's mamori.toml (the scanned folder's) sets it when the variable does not
    config = Path(setup["folder"]) / "mamori.toml"
    config.write_text("[scan]\nall = true\n", encoding="utf-8")
    try:
        env.pop("MAMORI_TOP")
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=setup["folder"], check=False)
        assert done.returncode == 0, done.stderr
        assert len(_rows(done.stdout)) == total
    finally:
        config.unlink()

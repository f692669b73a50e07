"""The triage context as a property of the product: `mamori product context set/show/clear` and `product
show`, used alike by `mamori scan`, `mamori triage` and `mamori portfolio findings` (same SSVC outcome per
finding), a context file still winning for one run; without any context one notice, first, says the ranking
assumes the worst case and gives the command; `mamori triage` text groups findings decided alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mamori.cli.main import main
from mamori.demo import demo_data
from triage_support import abc_sbom, build_kb


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kb(tmp_path_factory.mktemp("kb"))


@pytest.fixture
def release(kb: Path, tmp_path: Path) -> tuple[str, Path]:
    db = tmp_path / "kb.db"
    db.write_bytes(kb.read_bytes())
    sbom = abc_sbom(tmp_path)
    assert main(["product", "add", "ABC", "--db", str(db)]) == 0
    assert main(["release", "add", "ABC", "4.2", "--sbom", str(sbom), "--db", str(db)]) == 0
    return str(db), sbom


def _run(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> tuple[str, str]:
    capsys.readouterr()
    assert main(argv) == code
    done = capsys.readouterr()
    return done.out, done.err


def _scan(db: str, sbom: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict, str]:
    out, err = _run(capsys, ["scan", str(sbom), "--db", db, "--format", "json", *extra])
    data = json.loads(out)
    return {
        (f["component"]["purl"], f["vulnerability"]["id"]): f["ssvc"]["outcome"] for f in data["findings"]
    }, err


def _portfolio(db: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict, dict]:
    out, _ = _run(capsys, ["portfolio", "findings", "--product", "ABC", "--db", db, "--format", "json"])
    data = json.loads(out)
    return {
        (f["component"]["purl"], f["vulnerability"]["id"]): f["ssvc"]["outcome"] for f in data["findings"]
    }, data["triage"]


def _triage(db: str, sbom: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    argv = ["triage", str(sbom), "--db", db, "--role", "user", "--skill", "low", "--format", "json", *extra]
    out, _ = _run(capsys, argv)
    data = json.loads(out)
    return {
        (f["component"]["purl"], f["vulnerability"]["id"]): f["ssvc"]["outcome"] for f in data["findings"]
    }


def test_set_show_clear_and_bad_values(release: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = release
    base = ["product", "context", "set", "ABC", "--db", db]
    _, err = _run(capsys, [*base, "--exposure", "everywhere"], 2)
    assert err.count("\n") == 1 and "--system-exposure" in err and "unknown value 'everywhere'" in err
    argv = [*base, "--exposure", "制御あり", "--mission-impact", "mef_support_crippled", "--safety-impact"]
    argv += ["negligible", "--set", "value_density=diffuse", "--reason", "back office", "--by", "alice"]
    _run(capsys, argv)
    out, _ = _run(capsys, ["product", "context", "show", "ABC", "--db", db, "--format", "json"])
    values = {k: (v["value"], v["reason"], v["set_by"]) for k, v in json.loads(out)["context"].items()}
    assert values == {
        "system_exposure": ("controlled", "back office", "alice"),
        "mission_impact": ("mef_support_crippled", "back office", "alice"),
        "safety_impact": ("negligible", "back office", "alice"),
        "value_density": ("diffuse", "back office", "alice"),
    }
    out, _ = _run(capsys, ["product", "show", "ABC", "--db", db, "--lang", "ja"])
    assert "システムの露出度 (system_exposure) = 制御あり (controlled) — back office" in out
    assert "4.2: 未対応の検出 12 件" in out
    out, _ = _run(capsys, ["product", "context", "clear", "ABC", "--point", "value_density", "--db", db])
    assert "Removed 1 context point(s) of ABC." in out
    out, _ = _run(capsys, ["product", "context", "set", "router", "--safety-impact", "critical", "--db", db])
    assert "Product router added." in out  # set once, even before the product was added
    _run(capsys, ["product", "context", "clear", "router", "--db", db])
    out, _ = _run(capsys, ["product", "show", "router", "--db", db])
    assert "No triage context is set: rankings assume the worst case." in out


def test_scan_triage_and_portfolio_use_the_product_context_alike(
    release: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, sbom = release
    # no context: the worst case is assumed and said once, first; all three agree
    worst, err = _scan(db, sbom, capsys)
    notices = [line for line in err.splitlines() if "No triage context is set for ABC" in line]
    assert len(notices) == 1 and "mamori product context set ABC --system-exposure" in notices[0]
    portfolio, said = _portfolio(db, capsys)
    assert portfolio == worst and said["notice"] and "ABC" in said["notice"]
    assert worst == _triage(db, sbom, capsys)
    assert "defer" not in worst.values() and "out_of_cycle" in worst.values()
    table, _ = _run(capsys, ["scan", str(sbom), "--db", db, "--lang", "en"])
    assert table.splitlines()[1].startswith("No triage context is set for ABC")  # the table's first line
    page = tmp_path / "r.html"
    _run(capsys, ["scan", str(sbom), "--db", db, "--format", "html", "-o", str(page)])
    (note,) = lxml_html.document_fromstring(page.read_bytes()).xpath("//p[@id='triage-notice']")
    assert (
        "No triage context is set for ABC" in note.text_content()
        and "ABC のトリアージ" in note.text_content()
    )
    text, _ = _run(capsys, ["triage", str(sbom), "--db", db, "--role", "user", "--skill", "low"])
    assert (
        text.splitlines()[1].startswith("! No triage context is set for ABC")
        and text.count("! No triage") == 1
    )
    # set once for the product: every command ranks with it, and says nothing about the worst case
    argv = ["product", "context", "set", "ABC", "--db", db, "--exposure", "small"]
    _run(capsys, [*argv, "--mission-impact", "degraded", "--safety-impact", "negligible"])
    calm, err = _scan(db, sbom, capsys)
    assert "No triage context" not in err
    _run(capsys, ["scan", str(sbom), "--db", db, "--format", "html", "-o", str(page)])
    assert not lxml_html.document_fromstring(page.read_bytes()).xpath("//p[@id='triage-notice']")
    assert set(calm.values()) <= {"defer", "scheduled"} and calm != worst
    portfolio, said = _portfolio(db, capsys)
    assert portfolio == calm and said["notice"] is None
    assert calm == _triage(db, sbom, capsys)
    # a context file still wins for one run, point by point; the stored context stays
    context = tmp_path / "context.yaml"
    context.write_text(
        "products:\n  ABC: {system_exposure: open, mission_impact: mission_failure}\n", encoding="utf-8"
    )
    exposed, _ = _scan(db, sbom, capsys, "--context", str(context))
    assert exposed != calm and exposed == _triage(db, sbom, capsys, "--context", str(context))
    assert _scan(db, sbom, capsys)[0] == calm
    # an explicit --product names it when the SBOM's root does not
    other = json.loads(sbom.read_text())
    other["metadata"]["component"]["name"] = "abc-build"
    renamed = tmp_path / "renamed.cdx.json"
    renamed.write_text(json.dumps(other), encoding="utf-8")
    assert _scan(db, renamed, capsys)[0] == worst
    assert _scan(db, renamed, capsys, "--product", "ABC")[0] == calm


def test_triage_text_groups_findings_decided_alike(kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sbom = next(demo_data().glob("*.cdx.json"))
    argv = ["triage", str(sbom), "--db", str(kb), "--role", "user", "--skill", "low", "--lang", "en"]
    grouped, _ = _run(capsys, argv)
    verbose, _ = _run(capsys, [*argv, "--verbose"])
    paths = [line for line in grouped.splitlines() if line.startswith("    exploitation=")]
    assert len(paths) == len(set(paths))  # every path through the tree once per outcome
    assert "findings, decided the same way:" in grouped
    listed = [line for line in verbose.splitlines() if "CVE-" in line or "GHSA-" in line or "GO-" in line]
    assert (
        len({line.split()[1] if line.strip().startswith("-") else line.split()[0] for line in listed}) >= 12
    )
    assert len(grouped.splitlines()) < len(verbose.splitlines())
    data = json.loads(_run(capsys, [*argv, "--format", "json"])[0])
    assert len(data["findings"]) == 13 and data["worst_case"]["notice"]

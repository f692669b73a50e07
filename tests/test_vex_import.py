"""`mamori vex import FILE --product P --release R`: CISA's VEX use cases (CycloneDX, ../shared/data/vex)
stored as triage records of a release, resolved against its stored SBOM (the product itself, BOM-Links
into that SBOM with version checks); then `mamori scan` (table, JSON, SARIF, HTML) and `mamori portfolio
findings` show the same status for every finding, and the gate lets not_affected findings go (exit 1 → 0).
A triage record does the same. Bad statements are rejected alone; statements about other products or
components the release does not have are counted with examples; importing again changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import requires_shared
from mamori.cli.main import main
from triage_support import CISA, LOG4J, abc_sbom, build_kb


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kb(tmp_path_factory.mktemp("kb"))


def _setup(kb: Path, tmp_path: Path) -> tuple[str, Path]:
    db = tmp_path / "kb.db"
    db.write_bytes(kb.read_bytes())
    sbom = abc_sbom(tmp_path)
    assert main(["product", "add", "ABC", "--db", str(db)]) == 0
    assert main(["release", "add", "ABC", "4.2", "--sbom", str(sbom), "--db", str(db)]) == 0
    return str(db), sbom


def _out(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> str:
    capsys.readouterr()
    assert main(argv) == code
    return capsys.readouterr().out


def _scan_statuses(db: str, sbom: Path, tmp_path: Path, *extra: str) -> dict[tuple[str, str], str]:
    out = tmp_path / "scan.json"
    main(["scan", str(sbom), "--db", db, "--format", "json", "-o", str(out), *extra])
    data = json.loads(out.read_text())
    return {(f["component"]["purl"], f["vulnerability"]["id"]): f["status"] for f in data["findings"]}


def _portfolio_statuses(db: str, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], str]:
    data = json.loads(
        _out(capsys, ["portfolio", "findings", "--product", "ABC", "--db", db, "--format", "json"])
    )
    return {(f["component"]["purl"], f["vulnerability"]["id"]): f["status"] for f in data["findings"]}


def _check_everywhere(
    db: str, sbom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], who: str
) -> None:
    """log4j-core's CVE-2021-44228 is not_affected in the table, JSON, SARIF, HTML and the portfolio,
    the gate lets it go, and every other finding is open in both views."""
    scanned = _scan_statuses(db, sbom, tmp_path)
    assert scanned[(LOG4J, "CVE-2021-44228")] == "not_affected"
    assert scanned == _portfolio_statuses(db, capsys)  # one status everywhere
    assert {s for k, s in scanned.items() if k != (LOG4J, "CVE-2021-44228")} == {"open"}
    table = _out(capsys, ["scan", str(sbom), "--db", db, "--fail-on", "kev", "--lang", "en"])  # exit 0
    assert "not affected" in next(x for x in table.splitlines() if "CVE-2021-44228" in x)
    sarif = tmp_path / "r.sarif"
    assert main(["scan", str(sbom), "--db", db, "--format", "sarif", "-o", str(sarif)]) == 0
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    (log4j,) = [r for r in results if r["ruleId"] == "CVE-2021-44228"]
    assert (
        log4j["suppressions"][0]["status"] == "accepted" and who in log4j["suppressions"][0]["justification"]
    )
    assert not [r for r in results if r["ruleId"] != "CVE-2021-44228" and "suppressions" in r]
    page = tmp_path / "r.html"
    assert main(["scan", str(sbom), "--db", db, "--format", "html", "-o", str(page)]) == 0
    doc = lxml_html.document_fromstring(page.read_bytes())
    statuses = {
        g.xpath("./tr[1]/th/span[@class='vid']")[0].text: g.get("data-status")
        for g in doc.xpath("//table[@id='findings-table']/tbody")
        if "log4j-core" in g.xpath(".//span[@class='comp']")[0].text
    }
    assert statuses["CVE-2021-44228"] == "not_affected" and statuses["CVE-2021-45046"] == "open"
    listing = _out(capsys, ["portfolio", "findings", "--product", "ABC", "--db", db, "--lang", "ja"])
    assert "影響なし" in listing and "影響なし・修正済み 1 件" in listing
    # the counts leave it out of the open findings, everywhere they are given
    (release,) = json.loads(_out(capsys, ["product", "list", "--db", db, "--format", "json"]))["products"][0][
        "releases"
    ]
    assert (release["open_findings"], release["not_affected_or_fixed"]) == (len(scanned) - 1, 1)
    run = json.loads(_out(capsys, ["portfolio", "rematch", "--db", db, "--format", "json"]))
    assert (run["open_findings"], run["not_affected_or_fixed"]) == (len(scanned) - 1, 1)


def test_a_triage_record_changes_scan_portfolio_and_gate_alike(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, sbom = _setup(kb, tmp_path)
    assert main(["scan", str(sbom), "--db", db, "--fail-on", "kev"]) == 1  # log4j-core 2.14.1: KEV
    before = _scan_statuses(db, sbom, tmp_path)
    assert set(before.values()) == {"open"} and before == _portfolio_statuses(db, capsys)
    record = [
        "triage", "record", "--db", db, "--product", "ABC", "--release", "4.2", "--component", LOG4J,
        "--vulnerability", "CVE-2021-44228", "--status", "not_affected",
        "--justification", "code_not_reachable", "--who", "alice",
    ]  # fmt: skip
    assert main(record) == 0
    _check_everywhere(db, sbom, tmp_path, capsys, "alice")


@pytest.mark.shared
def test_cisa_case1_imported_changes_scan_portfolio_and_gate_alike(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case1 = requires_shared(CISA / "Case-1" / "vex-not_affected.json")
    db, sbom = _setup(kb, tmp_path)
    assert main(["scan", str(sbom), "--db", db, "--fail-on", "kev"]) == 1
    # the file alone, given to scan, already says so (statement about product ABC 4.2 as a whole)
    assert (
        _scan_statuses(db, sbom, tmp_path, "--vex", str(case1))[(LOG4J, "CVE-2021-44228")] == "not_affected"
    )
    argv = [
        "vex",
        "import",
        str(case1),
        "--product",
        "ABC",
        "--release",
        "4.2",
        "--db",
        db,
        "--format",
        "json",
    ]
    done = json.loads(_out(capsys, argv))
    assert (done["statements"], done["records"], done["created"], done["whole_release"]) == (1, 1, 1, 1)
    assert done["author"] == "vex-not_affected.json"  # the VEX names no author: the file
    _check_everywhere(db, sbom, tmp_path, capsys, "vex-not_affected.json")
    again = json.loads(_out(capsys, argv))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)  # nothing changes
    # your own record beats the supplier's statement, in scan and portfolio alike
    record = [
        "triage", "record", "--db", db, "--product", "ABC", "--release", "4.2", "--component", LOG4J,
        "--vulnerability", "CVE-2021-44228", "--status", "affected", "--response", "update", "--who", "bob",
    ]  # fmt: skip
    assert main(record) == 0
    scanned = _scan_statuses(db, sbom, tmp_path)
    assert scanned[(LOG4J, "CVE-2021-44228")] == "affected" and scanned == _portfolio_statuses(db, capsys)
    assert main(["scan", str(sbom), "--db", db, "--fail-on", "kev"]) == 1
    records = json.loads(
        _out(capsys, ["triage", "records", "--db", db, "--product", "ABC", "--format", "json"])
    )
    assert sorted((r["origin"], r["status"], r["component"]) for r in records) == [
        ("user", "affected", LOG4J),
        ("vex", "not_affected", "*"),
    ]


@pytest.mark.shared
def test_cisa_case8_bomlinks_resolve_against_the_release_sbom(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case8 = requires_shared(CISA / "Case-8" / "vex.json")
    db, sbom = _setup(kb, tmp_path)
    argv = [
        "vex",
        "import",
        str(case8),
        "--product",
        "ABC",
        "--release",
        "4.2",
        "--db",
        db,
        "--format",
        "json",
    ]
    done = json.loads(_out(capsys, argv))
    # ABC 4.2 is listed unaffected by CVE-2021-44228 and CVE-2021-45105: two whole-release records; the
    # other versions of ABC and everything about product JKL (another SBOM) are counted, not stored
    assert (done["records"], done["created"], done["whole_release"]) == (2, 2, 2)
    # 12 (statement, product) pairs name other versions of ABC, 10 name product JKL (another SBOM)
    assert done["other_product"] == 22 and any("product-JKL" in e for e in done["other_product_examples"])
    assert done["rejected"] == [] and done["not_in_release"] == 0
    scanned = _scan_statuses(db, sbom, tmp_path)
    assert scanned[(LOG4J, "CVE-2021-44228")] == "not_affected" and scanned == _portfolio_statuses(db, capsys)
    text = _out(capsys, [*argv[:-2], "--lang", "en"])
    assert "about another product, release or SBOM (not stored), e.g.:" in text


def test_bad_statement_rejected_alone_and_unknown_components_reported(
    kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _sbom = _setup(kb, tmp_path)
    vex_file = tmp_path / "supplier.openvex.json"
    vex_file.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/abc-4.2",
                "author": "Example PSIRT",
                "timestamp": "2026-01-10T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2021-45046"},
                        "products": [{"@id": LOG4J}],
                        "status": "not_affected",
                    },
                    {
                        "vulnerability": {"name": "CVE-2021-44228"},
                        "products": [{"@id": LOG4J}, {"@id": "pkg:npm/left-pad@1.3.0"}],
                        "status": "fixed",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["vex", "import", str(vex_file), "--product", "ABC", "--release", "4.2", "--db", db]) == 1
    captured = capsys.readouterr()
    assert "statement 0 (CVE-2021-45046) rejected" in captured.err and str(vex_file) in captured.err
    assert "1 statement products name components ABC 4.2 does not have" in captured.out
    assert "CVE-2021-44228: left-pad 1.3.0" in captured.out
    records = json.loads(
        _out(capsys, ["triage", "records", "--db", db, "--product", "ABC", "--format", "json"])
    )
    assert [(r["vulnerability"], r["status"], r["who"], r["origin"]) for r in records] == [
        ("CVE-2021-44228", "fixed", "Example PSIRT", "vex")
    ]
    assert records[0]["source"] == "supplier.openvex.json (https://example.com/vex/abc-4.2)"
    # a release without an SBOM, or --product without --release: one line, exit 2
    assert main(["vex", "import", str(vex_file), "--product", "ABC", "--db", db]) == 2
    assert main(["vex", "import", str(vex_file), "--product", "ABC", "--release", "9.9", "--db", db]) == 2
    assert "has no release '9.9'" in capsys.readouterr().err

"""``mamori scan`` with triage: SSVC, score and VEX in JSON and SARIF, --vex taking findings out of the
gate (--fail-on and --policy) while they stay in the report, --policy messages, --role/--context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.cli.main import main
from mamori.demo import demo_data, load_demo_vulnerabilities

OPENVEX = """{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/shop-portal-2.1.0",
  "author": "Example PSIRT",
  "timestamp": "2026-01-10T00:00:00Z",
  "version": 1,
  "statements": [
    {"vulnerability": {"name": "CVE-2021-44228"},
     "products": [{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],
     "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
    {"vulnerability": {"name": "CVE-2022-22965"},
     "products": [{"@id": "pkg:maven/org.springframework/spring-beans@5.3.15"}],
     "status": "fixed"}
  ]
}
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("triage-scan")
    load_demo_vulnerabilities(folder / "demo.db")
    (folder / "shop.openvex.json").write_text(OPENVEX, encoding="utf-8")
    (folder / "policy.yaml").write_text(
        "rules:\n  - {id: no-kev, action: fail, kev: true}\n  - {id: soon, action: warn, ssvc: [immediate]}\n",
        encoding="utf-8",
    )
    return {
        "db": folder / "demo.db",
        "sbom": next(demo_data().glob("*.cdx.json")),
        "vex": folder / "shop.openvex.json",
        "policy": folder / "policy.yaml",
        "folder": folder,
    }


def _scan(demo: dict[str, Path], *argv: str) -> int:
    return main(["scan", str(demo["sbom"]), "--db", str(demo["db"]), *argv])


def test_json_and_sarif_carry_ssvc_score_and_vex(demo: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert _scan(demo, "--format", "json", "-o", str(out), "--vex", str(demo["vex"])) == 0
    findings = {
        (f["vulnerability"]["id"], f["component"]["name"]): f for f in json.loads(out.read_text())["findings"]
    }
    log4j = findings[("CVE-2021-44228", "log4j-core")]
    assert set(log4j["ssvc"]) >= {"table", "outcome", "inputs", "path"}
    assert log4j["ssvc"]["table"] == "deployer" and log4j["ssvc"]["variant"] == "user-low"
    assert log4j["priority_score"] == 20.0 and log4j["vulnerability"]["kev"]["source"] == "kev"
    assert log4j["vex"]["status"] == "not_affected" and log4j["vex"]["source"] == "shop.openvex.json"
    assert findings[("CVE-2022-22965", "spring-beans")]["vex"]["status"] == "fixed"
    assert findings[("CVE-2021-45046", "log4j-core")]["vex"] is None
    sarif = tmp_path / "r.sarif"
    assert _scan(demo, "--format", "sarif", "-o", str(sarif), "--role", "developer") == 0
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    props = next(r["properties"] for r in results if r["ruleId"] == "CVE-2021-44228")
    assert props["ssvc"]["table"] == "supplier" and props["priority_score"] == 20.0


def test_vex_takes_findings_out_of_the_gate(
    demo: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "r.json")
    assert _scan(demo, "--format", "json", "-o", out, "--fail-on", "kev") == 1
    assert _scan(demo, "--format", "json", "-o", out, "--fail-on", "kev", "--vex", str(demo["vex"])) == 0
    capsys.readouterr()
    assert _scan(demo, "--format", "json", "-o", out, "--policy", str(demo["policy"])) == 1
    err = capsys.readouterr().err
    assert "FAIL [no-kev] CVE-2021-44228 in log4j-core@2.14.1: listed in CISA KEV" in err
    assert "WARN [soon] CVE-2021-44228" in err
    argv = ["--format", "json", "-o", out, "--policy", str(demo["policy"]), "--vex", str(demo["vex"])]
    assert _scan(demo, *argv) == 0
    err = capsys.readouterr().err
    assert "[no-kev]" not in err and "CVE-2021-44228" not in err
    assert len(json.loads(Path(out).read_text())["findings"]) == 13  # still all in the report


def test_context_and_bad_triage_inputs(
    demo: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = tmp_path / "context.yaml"
    context.write_text(
        "products:\n  shop-portal: {system_exposure: small, safety_impact: negligible, mission_impact: degraded}\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    assert _scan(demo, "--format", "json", "-o", str(out), "--context", str(context)) == 0
    outcomes = {f["ssvc"]["outcome"] for f in json.loads(out.read_text())["findings"]}
    assert outcomes <= {"defer", "scheduled"}  # a small, unimportant system: nothing urgent
    capsys.readouterr()
    context.write_text("products:\n  other-product: {system_exposure: small}\n", encoding="utf-8")
    assert _scan(demo, "--format", "json", "-o", str(out), "--context", str(context)) == 0
    assert "has no entry for product 'shop-portal'" in capsys.readouterr().err
    context.write_text("products:\n  shop-portal: {system_exposure: everywhere}\n", encoding="utf-8")
    assert _scan(demo, "--context", str(context)) == 2
    assert "unknown value 'everywhere'" in capsys.readouterr().err
    assert _scan(demo, "--set", "exploitation=none") == 2
    assert "--skill high" in capsys.readouterr().err

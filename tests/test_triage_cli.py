"""``mamori triage``: prioritize an SBOM or a scan report (four variants, context, --set, VEX, records,
policy), record / records / export, and one-line errors. Runs on the bundled demo product and demo set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.cli.main import main
from mamori.demo import demo_data, load_demo_vulnerabilities

LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("triage-cli")
    db = folder / "demo.db"
    load_demo_vulnerabilities(db)
    sbom = next(demo_data().glob("*.cdx.json"))
    context = folder / "context.yaml"
    context.write_text(
        "version: 1\n"
        "products:\n"
        "  shop-portal:\n"
        "    system_exposure: open\n"
        "    safety_impact: negligible\n"
        "    mission_impact: mef_failure\n"
        "    value_density: concentrated\n"
        "    components:\n"
        "      pkg:npm/lodash: {system_exposure: small}\n",
        encoding="utf-8",
    )
    return {"db": str(db), "sbom": str(sbom), "context": str(context), "folder": str(folder)}


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _by_id(data: dict) -> dict[tuple[str, str], dict]:
    return {(f["vulnerability"]["id"], f["component"]["name"]): f for f in data["findings"]}


def test_prioritize_sbom_by_variant(demo: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    base = ["triage", demo["sbom"], "--db", demo["db"], "--context", demo["context"], "--format", "json"]
    user = _json(capsys, *base, "--role", "user", "--skill", "low")
    dev = _json(capsys, *base, "--role", "developer", "--skill", "low")
    assert user["variant"]["table"] == "deployer" and dev["variant"]["table"] == "supplier"
    assert user["product"] == "shop-portal" and user["summary"]["findings"] == len(user["findings"]) > 10
    log4j = _by_id(user)[("CVE-2021-44228", "log4j-core")]
    assert log4j["kev"]["source"] == "kev" and log4j["priority_score"] == 20.0
    ssvc = log4j["ssvc"]
    assert ssvc["outcome"] == "out_of_cycle"  # active, open, automatable, medium human impact
    assert ssvc["inputs"]["exploitation"]["basis"] == "evidence"
    assert ssvc["inputs"]["automatable"]["basis"] == "derived"
    assert ssvc["inputs"]["system_exposure"]["basis"] == "context"
    assert ssvc["assumed"] == []
    assert [s["point"] for s in ssvc["path"]] == [
        "exploitation",
        "system_exposure",
        "automatable",
        "human_impact",
    ]
    lodash = _by_id(user)[("CVE-2020-8203", "lodash")]
    assert lodash["ssvc"]["inputs"]["system_exposure"]["value"] == "small"  # the component entry
    # the developer tree on the same findings
    assert _by_id(dev)[("CVE-2021-44228", "log4j-core")]["ssvc"]["path"][1]["point"] == "utility"
    outcomes = list(user["summary"]["by_outcome"])
    assert outcomes == sorted(outcomes, key=["immediate", "out_of_cycle", "scheduled", "defer"].index)
    # findings come out most urgent first
    order = [f["ssvc"]["outcome"] for f in user["findings"]]
    assert order == sorted(order, key=["immediate", "out_of_cycle", "scheduled", "defer"].index)


def test_text_output_and_high_skill_set(demo: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    argv = [
        "triage",
        demo["sbom"],
        "--db",
        demo["db"],
        "--role",
        "developer",
        "--skill",
        "high",
        "--lang",
        "ja",
    ]
    assert main([*argv, "--set", "exploitation=none", "--set", "value_density=diffuse"]) == 0
    out = capsys.readouterr().out
    assert "判定表: サプライヤのパッチ開発優先度 (supplier)" in out
    assert "exploitation=none [指定]" in out and "! --set replaced exploitation=active (kev:" in out
    assert "immediate" not in out.split("\n\n", 2)[1]  # nothing is active any more
    assert main(["triage", demo["sbom"], "--db", demo["db"], "--role", "user", "--skill", "low"]) == 0
    low = capsys.readouterr().out
    assert "Questions mamori could not answer from data" in low
    assert "- open (Open): Reachable from the Internet" in low


def test_scan_json_input_gives_the_same_decisions(
    demo: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "scan.json"
    assert main(["scan", demo["sbom"], "--db", demo["db"], "--format", "json", "-o", str(report)]) == 0
    common = [
        "--role",
        "user",
        "--skill",
        "high",
        "--context",
        demo["context"],
        "--product",
        "shop-portal",
        "--format",
        "json",
    ]
    from_sbom = _json(capsys, "triage", demo["sbom"], "--db", demo["db"], *common)
    from_report = _json(capsys, "triage", str(report), *common)
    assert from_report["target"] == from_sbom["target"]

    def summary(data: dict) -> list[tuple[str, str, str, float | None]]:
        return [
            (f["vulnerability"]["id"], f["component"]["name"], f["ssvc"]["outcome"], f["priority_score"])
            for f in data["findings"]
        ]

    assert summary(from_report) == summary(from_sbom)


def test_records_vex_and_policy(
    demo: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "records.db")
    load_demo_vulnerabilities(db)
    record = [
        "triage",
        "record",
        "--db",
        db,
        "--product",
        "shop-portal",
        "--release",
        "2.1.0",
        "--component",
        LOG4J,
        "--vulnerability",
        "CVE-2021-44228",
    ]
    assert main([*record, "--status", "under_investigation", "--who", "alice"]) == 0
    assert (
        main(
            [
                *record,
                "--status",
                "not_affected",
                "--justification",
                "code_not_reachable",
                "--detail",
                "JNDI lookups disabled",
                "--who",
                "bob",
                "--format",
                "json",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["record"]["version"] == 2
    assert (
        main([*record, "--status", "affected", "--who", "carol"]) == 2
    )  # no action: refused, nothing stored
    assert "needs an action statement" in capsys.readouterr().err
    history = _json(
        capsys,
        "triage",
        "records",
        "--db",
        db,
        "--product",
        "shop-portal",
        "--release",
        "2.1.0",
        "--history",
        f"{LOG4J},CVE-2021-44228",
        "--format",
        "json",
    )
    assert [(h["version"], h["status"], h["who"]) for h in history] == [
        (1, "under_investigation", "alice"),
        (2, "not_affected", "bob"),
    ]
    # export as VEX, then use that VEX (or the records themselves) on the scan
    vex_file = tmp_path / "shop.openvex.json"
    assert (
        main(
            [
                "triage",
                "export",
                "--db",
                db,
                "--product",
                "shop-portal",
                "--release",
                "2.1.0",
                "--format",
                "openvex",
                "--author",
                "Example PSIRT",
                "-o",
                str(vex_file),
            ]
        )
        == 0
    )
    assert json.loads(vex_file.read_text())["statements"][0]["status"] == "not_affected"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n  - {id: no-kev, action: fail, kev: true}\n  - {id: urgent, action: warn, ssvc: [immediate]}\n",
        encoding="utf-8",
    )
    run = [
        "triage",
        demo["sbom"],
        "--db",
        db,
        "--role",
        "user",
        "--skill",
        "low",
        "--policy",
        str(policy),
        "--format",
        "json",
    ]
    capsys.readouterr()
    assert main([*run, "--release", "2.0.0"]) == 1  # a release without records; Spring4Shell is in KEV too
    data = json.loads(capsys.readouterr().out)
    fired = {(p["rule"], p["vulnerability"]) for p in data["policy"]}
    assert ("no-kev", "CVE-2021-44228") in fired and ("no-kev", "CVE-2022-22965") in fired
    # the VEX exported from the records, or the records of the SBOM's own release (its root's version)
    for extra in (["--vex", str(vex_file), "--release", "2.0.0"], [], ["--release", "2.1.0"]):
        capsys.readouterr()
        assert main([*run, *extra]) == 1
        data = json.loads(capsys.readouterr().out)
        log4j = _by_id(data)[("CVE-2021-44228", "log4j-core")]
        assert log4j["status"] == "not_affected"  # still visible ...
        assert log4j["state"]["origin"]["kind"] == ("vex" if "--vex" in extra else "record")
        fired = {(p["rule"], p["vulnerability"]) for p in data["policy"]}
        assert ("no-kev", "CVE-2021-44228") not in fired  # ... but out of the gate
        assert ("no-kev", "CVE-2022-22965") in fired
        assert "FAIL [no-kev] CVE-2022-22965 in spring-beans@5.3.15: listed in CISA KEV" in {
            p["message"] for p in data["policy"]
        }


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--role", "auditor", "--skill", "low"], "--role: expected developer or user"),
        (["--role", "user", "--skill", "medium"], "--skill: expected high or low"),
        (["--role", "user", "--skill", "low", "--set", "exploitation=none"], "use --skill high"),
        (["--role", "user", "--skill", "high", "--set", "exposure"], "expected POINT=VALUE"),
        (["--role", "user", "--skill", "high", "--context", "missing.yaml"], "missing.yaml"),
    ],
)
def test_errors_are_one_line(
    demo: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    capsys.readouterr()
    assert main(["triage", demo["sbom"], "--db", demo["db"], *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mamori: error: ") and problem in err and err.count("\n") == 1


def test_export_without_records_or_author(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "empty.db")
    out = str(tmp_path / "x.json")
    export = ["triage", "export", "--product", "p", "--release", "1", "--db", db, "-o", out]
    assert main([*export, "--format", "csaf"]) == 2
    assert "no triage records for p 1" in capsys.readouterr().err
    record = "triage record --product p --release 1 --component pkg:npm/a@1 --vulnerability CVE-2020-1"
    assert main([*record.split(), "--status", "fixed", "--who", "x", "--db", db]) == 0
    assert main([*export, "--format", "openvex"]) == 2
    assert "give --author" in capsys.readouterr().err
    assert not Path(out).exists()

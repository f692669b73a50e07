"""``mamori scan`` with the conventions of Trivy, Grype and OSV-Scanner, run as the installed command on
the demo set plus three records (every severity occurs, two findings have no fix): ``--severity``,
``--ignore-unfixed``, ``--fail-on`` in any case, ``--exit-code``, ``-q``, their ``MAMORI_*`` variables,
and a single lockfile or manifest as the target (the same findings as the SBOM generated from it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanconv_support import DEMO_SBOM, build_kb, found, rating, run, scan_json


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("conventions")
    home = folder / "home"
    home.mkdir()
    db = build_kb(folder / "kb", home)
    code, data, _ = scan_json(DEMO_SBOM, "--db", db, "--max-age", "0", home=home)
    assert code == 0
    return {"home": home, "db": db, "all": data, "folder": folder}


def _scan(kb: dict, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    return scan_json(DEMO_SBOM, "--db", kb["db"], "--max-age", "0", *args, home=kb["home"], env=env)


def test_baseline_has_every_severity(kb) -> None:
    counts = kb["all"]["summary"]["by_rating"]
    assert counts == {"critical": 8, "high": 5, "medium": 1, "low": 1, "none": 0, "unknown": 1}
    assert "filters" not in kb["all"]


@pytest.mark.parametrize("given", ["critical,HIGH", "MEDIUM", "low,Unknown", "CRITICAL , low"])
def test_severity_keeps_exactly_the_findings_of_those_severities(kb, given) -> None:
    wanted = {w.strip().lower() for w in given.split(",")}
    expected = {
        (f["vulnerability"]["id"], f["component"]["purl"])
        for f in kb["all"]["findings"]
        if rating(f) in wanted
    }
    code, data, err = _scan(kb, "--severity", given)
    assert code == 0, err
    assert found(data) == expected and expected
    assert data["filters"]["hidden_by_severity"] == len(kb["all"]["findings"]) - len(expected)
    assert data["filters"]["severity"] == [
        r for r in ("critical", "high", "medium", "low", "none", "unknown") if r in wanted
    ]
    assert f"{data['filters']['hidden_by_severity']} findings hidden by --severity" in err


def test_ignore_unfixed_hides_and_counts_the_findings_without_fix(kb) -> None:
    unfixed = [f for f in kb["all"]["findings"] if not f["vulnerability"]["fixed_versions"]]
    assert len(unfixed) == 2
    code, data, err = _scan(kb, "--ignore-unfixed")
    assert code == 0
    assert data["filters"]["hidden_unfixed"] == len(unfixed) and data["filters"]["hidden"] == len(unfixed)
    assert found(data) == found(kb["all"]) - {
        (f["vulnerability"]["id"], f["component"]["purl"]) for f in unfixed
    }
    assert all(f["vulnerability"]["fixed_versions"] for f in data["findings"])
    assert "2 findings without a fixed version hidden by --ignore-unfixed" in err
    # both filters: the severity first, then what is left without a fix
    code, data, _ = _scan(kb, "-s", "medium,low", "--ignore-unfixed")
    assert data["filters"] == {
        "severity": ["medium", "low"],
        "ignore_unfixed": True,
        "hidden_by_severity": 14,
        "hidden_unfixed": 1,
        "hidden": 15,
    }
    assert found(data) == {("TEST-2026-0002", "pkg:pypi/certifi@2024.8.30")}


def test_bad_severity_is_one_line(kb) -> None:
    code, data, err = _scan(kb, "--severity", "high,urgent")
    assert code == 2 and not data
    assert err.strip().splitlines() == [
        "mamori: error: --severity: expected one or more of critical, high, medium, low, none, unknown, got 'urgent'"
    ]


@pytest.mark.parametrize("level", ["HIGH", "high", "High", "KEV"])
def test_fail_on_any_case(kb, level) -> None:
    code, _, err = _scan(kb, "--fail-on", level)
    assert code == 1
    assert f"findings reach --fail-on {level.lower()}" in err


def test_the_gate_sees_only_the_filtered_findings(kb) -> None:
    assert _scan(kb, "--fail-on", "critical", "-s", "medium,low")[0] == 0
    assert _scan(kb, "--fail-on", "medium", "-s", "medium")[0] == 1
    assert _scan(kb, "--fail-on", "medium", "-s", "medium", "--ignore-unfixed")[0] == 0


def test_exit_code(kb) -> None:
    assert _scan(kb, "--fail-on", "high", "--exit-code", "4")[0] == 4
    assert _scan(kb, "--fail-on", "critical", "-s", "low", "--exit-code", "4")[0] == 0
    # alone, as in Trivy: any finding left fires it
    code, _, err = _scan(kb, "--exit-code", "9")
    assert code == 9 and "findings reported (--exit-code 9)" in err
    assert _scan(kb, "--exit-code", "9", "-s", "none")[0] == 0  # nothing left
    assert _scan(kb, "--fail-on", "high", "--exit-code", "0")[0] == 0  # report only
    for reserved in ("2", "3", "126", "-1"):
        code, data, err = _scan(kb, "--exit-code", reserved)
        assert code == 2 and not data
        assert len(err.strip().splitlines()) == 1 and "--exit-code" in err


def test_exit_code_does_not_hide_cannot_judge(kb, tmp_path) -> None:
    empty = tmp_path / "empty.db"
    code, _, err = scan_json(DEMO_SBOM, "--db", empty, "--exit-code", "5", home=kb["home"])
    assert code == 3 and "cannot judge" in err


def test_quiet_prints_the_report_and_nothing_else(kb, tmp_path) -> None:
    code, loud, err = _scan(kb, "--ignore-unfixed", "-s", "critical,high,medium")
    assert code == 0 and err.strip()
    code, quiet, err = _scan(kb, "--ignore-unfixed", "-s", "critical,high,medium", "-q")
    assert code == 0 and err == ""
    assert found(quiet) == found(loud) and quiet["filters"] == loud["filters"]
    out = tmp_path / "r.sarif"
    done = run(
        "scan",
        DEMO_SBOM,
        "--db",
        kb["db"],
        "--max-age",
        "0",
        "--quiet",
        "-f",
        "sarif",
        "-o",
        out,
        "--fail-on",
        "high",
        home=kb["home"],
    )
    assert done.returncode == 1 and done.stderr == "" and done.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["runs"][0]["properties"]["coverage"]["complete"]
    done = run("scan", DEMO_SBOM, "--db", kb["db"], "--max-age", "0", "-q", home=kb["home"])  # the table
    assert done.returncode == 0 and done.stderr == "" and "CVE-2021-44228" in done.stdout


def test_quiet_keeps_errors_and_cannot_judge(kb, tmp_path) -> None:
    done = run("scan", tmp_path / "missing.json", "-q", home=kb["home"])
    assert done.returncode == 2 and done.stderr.startswith("mamori: error:")
    code, _, err = scan_json(DEMO_SBOM, "--db", tmp_path / "empty.db", "-q", home=kb["home"])
    assert code == 3 and "cannot judge" in err and len(err.strip().splitlines()) == 1


def test_environment_variables(kb) -> None:
    code, data, err = _scan(kb, env={"MAMORI_SEVERITY": "HIGH", "MAMORI_QUIET": "1"})
    assert (
        code == 0
        and err == ""
        and data["summary"]["by_rating"]["high"] == 5
        and data["filters"]["hidden_by_severity"] == 11
    )
    assert _scan(kb, env={"MAMORI_FAIL_ON": "Critical"})[0] == 1
    assert _scan(kb, env={"MAMORI_FAIL_ON": "critical", "MAMORI_EXIT_CODE": "7"})[0] == 7
    code, data, _ = _scan(kb, env={"MAMORI_IGNORE_UNFIXED": "true"})
    assert data["filters"]["hidden_unfixed"] == 2
    # the command line wins
    code, data, _ = _scan(kb, "-s", "low", env={"MAMORI_SEVERITY": "high"})
    assert data["summary"]["by_rating"]["low"] == 1 and data["summary"]["by_rating"]["high"] == 0
    done = run(
        "scan",
        DEMO_SBOM,
        "--db",
        kb["db"],
        "--max-age",
        "0",
        home=kb["home"],
        env={"MAMORI_FORMAT": "json", "MAMORI_QUIET": "yes"},
    )
    assert json.loads(done.stdout)["summary"]["by_rating"]["critical"] == 8 and done.stderr == ""


def test_help_names_the_variables(kb) -> None:
    done = run("scan", "--help", home=kb["home"])
    assert done.returncode == 0
    for name in (
        "MAMORI_SEVERITY",
        "MAMORI_FAIL_ON",
        "MAMORI_FORMAT",
        "MAMORI_IGNORE_UNFIXED",
        "MAMORI_QUIET",
        "MAMORI_EXIT_CODE",
        "MAMORI_IGNOREFILE",
        "MAMORI_TOP",
        "MAMORI_ALL",
    ):
        assert name in done.stdout, name


POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>shop</artifactId>
  <version>1.0.0</version>
  <dependencies>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.14.1</version></dependency>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-text</artifactId><version>1.9</version></dependency>
  </dependencies>
</project>
"""
POETRY = """[[package]]
name = "requests"
version = "2.19.1"
description = ""
optional = false
python-versions = "*"

[[package]]
name = "urllib3"
version = "1.24.1"
description = ""
optional = false
python-versions = "*"

[metadata]
lock-version = "2.0"
python-versions = "^3.8"
content-hash = "0"
"""

LOCKFILES = {
    "pom.xml": POM,
    "poetry.lock": POETRY,
    "requirements.txt": "requests==2.19.1\nurllib3==1.24.1\ndjango==3.2.12\npyyaml==3.13\ncertifi==2024.8.30\n",
    "package-lock.json": json.dumps(
        {
            "name": "web",
            "version": "1.0.0",
            "lockfileVersion": 3,
            "requires": True,
            "packages": {
                "": {
                    "name": "web",
                    "version": "1.0.0",
                    "dependencies": {"lodash": "4.17.15", "minimist": "1.2.5"},
                },
                "node_modules/lodash": {
                    "version": "4.17.15",
                    "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz",
                },
                "node_modules/minimist": {
                    "version": "1.2.5",
                    "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz",
                },
            },
        }
    ),
}


@pytest.mark.parametrize("name", sorted(LOCKFILES))
def test_a_single_lockfile_finds_what_its_generated_sbom_finds(kb, tmp_path, name) -> None:
    lockfile = tmp_path / name
    lockfile.write_text(LOCKFILES[name], encoding="utf-8")
    code, direct, err = _scan_target(kb, lockfile)
    assert code == 0, err
    assert direct["sbom"]["format"] == "generated"
    sbom = tmp_path / "generated.cdx.json"
    done = run("sbom", "generate", lockfile, "-o", sbom, home=kb["home"])
    assert done.returncode == 0, done.stderr
    code, generated, err = _scan_target(kb, sbom)
    assert code == 0, err
    assert found(direct) == found(generated) and found(direct)
    assert direct["summary"]["by_rating"] == generated["summary"]["by_rating"]


def test_go_sum_stands_for_the_go_mod_beside_it(kb, tmp_path) -> None:
    (tmp_path / "go.mod").write_text(
        "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.7\n", encoding="utf-8"
    )
    (tmp_path / "go.sum").write_text(
        "golang.org/x/text v0.3.7 h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=\n"
        "golang.org/x/text v0.3.7/go.mod h1:5Zoc/QRtKVWzQhOtBMvqHzDpF6irO9z98xDceosuGiQ=\n",
        encoding="utf-8",
    )
    code, by_sum, _ = _scan_target(kb, tmp_path / "go.sum")
    code2, by_mod, _ = _scan_target(kb, tmp_path / "go.mod")
    assert code == code2 == 0
    assert found(by_sum) == found(by_mod) == {("CVE-2022-32149", "pkg:golang/golang.org/x/text@v0.3.7")}


def _scan_target(kb: dict, target: Path) -> tuple[int, dict, str]:
    return scan_json(target, "--db", kb["db"], "--max-age", "0", home=kb["home"])

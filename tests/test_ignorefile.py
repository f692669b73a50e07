"""The ignore file (``.mamoriignore`` and ``.mamoriignore.yaml``, the conventions of ``.trivyignore``): its
entries become triage records of origin ``ignore`` with their reason, the findings stay in every report
as not affected and leave the gate, expired entries apply no more and are reported; a flawed file is one
line and exit 2. The installed ``mamori`` on the demo set."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from mamori.triage.ignorefile import load
from scanconv_support import DEMO_SBOM, build_kb, run, scan_json

CRITICALS = {
    "CVE-2021-44228",
    "CVE-2021-45046",
    "CVE-2022-42889",
    "CVE-2022-22965",
    "CVE-2021-44906",
    "CVE-2018-18074",
    "CVE-2022-34265",
    "CVE-2017-18342",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("ignorefile")
    home = folder / "home"
    home.mkdir()
    return {"home": home, "db": build_kb(folder / "kb", home)}


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copy(DEMO_SBOM, tmp_path / DEMO_SBOM.name)
    return tmp_path


def _scan(
    kb: dict, project: Path, *args: str | Path, env: dict[str, str] | None = None
) -> tuple[int, dict, str]:
    return scan_json(
        project / DEMO_SBOM.name, "--db", kb["db"], "--max-age", "0", *args, home=kb["home"], env=env
    )


def _by_id(data: dict) -> dict[str, dict]:
    return {f["vulnerability"]["id"]: f for f in data["findings"]}


TEXT = """\
# log4j-core is on the class path but JNDI lookups are disabled by configuration
CVE-2021-44228
CVE-2021-45046 pkg:maven/org.apache.logging.log4j/log4j-core  # same configuration
# the alias of CVE-2022-42889
GHSA-599f-7c49-w659
CVE-2022-22965 pkg:maven/org.springframework/spring-beans@5.3.15 exp:2999-12-31 # no WebDataBinder
CVE-2021-44906 exp:2020-01-01 # minimist: build-time only (expired)
CVE-2018-18074 pkg:pypi/requests@9.9.9 # another version: does not apply
"""


def test_text_entries_become_records_with_their_reason(kb, project) -> None:
    (project / ".mamoriignore").write_text(TEXT, encoding="utf-8")
    code, data, err = _scan(kb, project, "--fail-on", "critical")
    found = _by_id(data)
    suppressed = {"CVE-2021-44228", "CVE-2021-45046", "CVE-2022-42889", "CVE-2022-22965"}
    for vid in suppressed:
        f = found[vid]
        assert f["status"] == "not_affected" and f["state"]["in_gate"] is False, vid
        assert f["state"]["origin"]["kind"] == "ignore"
        assert f["state"]["origin"]["source"].startswith(".mamoriignore:")
    assert found["CVE-2021-44228"]["state"]["detail"] == (
        "log4j-core is on the class path but JNDI lookups are disabled by configuration"
    )
    assert found["CVE-2021-45046"]["state"]["detail"] == "same configuration"
    assert found["CVE-2021-45046"]["state"]["origin"]["source"] == ".mamoriignore:3"
    assert found["CVE-2022-42889"]["state"]["detail"] == "the alias of CVE-2022-42889"
    # expired, and for another version: not applied, the findings stay open and in the gate
    assert found["CVE-2021-44906"]["status"] == "open" and found["CVE-2018-18074"]["status"] == "open"
    assert code == 1  # the criticals left open still fire the gate
    # nothing dropped: every finding is still in the report, the summary counts them by status
    assert len(data["findings"]) == 16
    assert data["summary"]["by_status"]["not_affected"] == 4
    info = data["triage"]["ignorefile"]
    assert info["path"] == str(project / ".mamoriignore")
    assert (info["entries"], info["active"], info["suppressed"]) == (6, 5, 4)
    assert info["expired"] == [
        {
            "id": "CVE-2021-44906",
            "purls": [],
            "reason": "minimist: build-time only (expired)",
            "expired_at": "2020-01-01",
            "where": "line 7",
        }
    ]
    assert data["triage"]["records"] == 0  # stored records, not the ignore file's
    assert f"4 findings suppressed by {project / '.mamoriignore'}" in err
    assert (
        f"{project / '.mamoriignore'}:7: the entry for CVE-2021-44906 expired on 2020-01-01: it no longer applies"
        in err
    )


def test_suppressing_every_critical_passes_the_gate(kb, project) -> None:
    (project / ".mamoriignore").write_text("\n".join(sorted(CRITICALS)) + "\n", encoding="utf-8")
    code, data, _ = _scan(kb, project, "--fail-on", "critical")
    assert code == 0
    assert data["triage"]["ignorefile"]["suppressed"] == 8
    assert {f["vulnerability"]["id"] for f in data["findings"] if f["status"] == "not_affected"} == CRITICALS
    assert all(
        f["state"]["detail"] == "listed in the ignore file" for f in data["findings"] if f["status"] != "open"
    )
    # an expired entry no longer suppresses: the gate fires again
    lines = sorted(CRITICALS)
    lines[0] += " exp:2021-01-01"
    (project / ".mamoriignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, data, err = _scan(kb, project, "--fail-on", "critical")
    assert code == 1 and "expired on 2021-01-01" in err
    assert data["triage"]["ignorefile"]["suppressed"] == 7


def test_yaml_form_and_ignorefile_option(kb, project, tmp_path_factory) -> None:
    other = tmp_path_factory.mktemp("elsewhere") / "ignore.yaml"
    other.write_text(
        """\
vulnerabilities:
  - id: CVE-2020-8203
    purls: [pkg:npm/lodash@4.17.15]
    statement: zipObjectDeep is never called
    expired_at: 2999-01-01
  - id: cve-2021-23337
    reason: template() only gets constant strings
  - id: CVE-2019-11324
    expired_at: 2022-06-30
licenses:
  - id: GPL-3.0
""",
        encoding="utf-8",
    )
    code, data, err = _scan(kb, project, "--ignorefile", other)
    assert code == 0, err
    found = _by_id(data)
    assert found["CVE-2020-8203"]["state"]["detail"] == "zipObjectDeep is never called"
    assert found["CVE-2020-8203"]["state"]["origin"]["source"] == "ignore.yaml:vulnerabilities[0]"
    assert found["CVE-2021-23337"]["status"] == "not_affected"  # ids compare in any case
    assert found["CVE-2019-11324"]["status"] == "open"
    assert data["triage"]["ignorefile"]["expired"][0]["where"] == "vulnerabilities[2]"
    # the same through the variable, and a .mamoriignore.yaml found in the project folder
    code, data, _ = _scan(kb, project, env={"MAMORI_IGNOREFILE": str(other)})
    assert data["triage"]["ignorefile"]["suppressed"] == 2
    shutil.copy(other, project / ".mamoriignore.yaml")
    code, data, _ = _scan(kb, project)
    assert data["triage"]["ignorefile"]["path"] == str(project / ".mamoriignore.yaml")


def test_sarif_and_html_show_suppressed_and_expired(kb, project, tmp_path) -> None:
    (project / ".mamoriignore").write_text(
        "CVE-2021-44228 # JNDI lookups disabled\nCVE-2020-8203 exp:2020-02-02\n", encoding="utf-8"
    )
    sarif = tmp_path / "r.sarif"
    done = run(
        "scan",
        project / DEMO_SBOM.name,
        "--db",
        kb["db"],
        "--max-age",
        "0",
        "-f",
        "sarif",
        "-o",
        sarif,
        home=kb["home"],
    )
    assert done.returncode == 0, done.stderr
    log = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]
    suppressed = [r for r in log["results"] if r.get("suppressions")]
    assert len(suppressed) == 1 and suppressed[0]["ruleId"] == "CVE-2021-44228"
    justification = suppressed[0]["suppressions"][0]["justification"]
    assert "JNDI lookups disabled" in justification and ".mamoriignore:1" in justification
    assert log["properties"]["ignorefile"]["suppressed"] == 1
    notes = log["invocations"][0]["toolExecutionNotifications"]
    assert any(
        n["descriptor"]["id"] == "mamori/ignorefile/expired" and "CVE-2020-8203" in n["message"]["text"]
        for n in notes
    )
    html = tmp_path / "r.html"
    done = run(
        "scan",
        project / DEMO_SBOM.name,
        "--db",
        kb["db"],
        "--max-age",
        "0",
        "-f",
        "html",
        "-o",
        html,
        home=kb["home"],
    )
    page = html.read_text(encoding="utf-8")
    assert "1 findings suppressed by" in page
    assert "the entry for CVE-2020-8203 expired on 2020-02-02" in page


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (".mamoriignore", "CVE-2021-44228 because\n", "line 1: unexpected field 'because'"),
        (
            ".mamoriignore",
            "CVE-1\nCVE-2 exp:2024-13-01\n",
            "line 2: expiry '2024-13-01' is not a date YYYY-MM-DD",
        ),
        (".mamoriignore", "CVE-1 pkg:npm/\n", "line 1:"),
        (".mamoriignore", "<script>\n", "line 1: '<script>' is not a vulnerability id"),
        (
            ".mamoriignore.yaml",
            "vulnerabilities:\n  - id: CVE-1\n    reasn: x\n",
            "vulnerabilities[0]: unknown key 'reasn'",
        ),
        (".mamoriignore.yaml", "vulns: []\n", "unknown key 'vulns'"),
        (
            ".mamoriignore.yaml",
            "vulnerabilities:\n  - purls: [pkg:npm/a]\n",
            "vulnerabilities[0]: id is required",
        ),
        (".mamoriignore.yaml", "vulnerabilities: [\n", "not valid YAML"),
    ],
)
def test_a_flawed_ignore_file_is_one_line(kb, project, name, content, problem) -> None:
    (project / name).write_text(content, encoding="utf-8")
    code, data, err = _scan(kb, project)
    assert code == 2 and not data
    (line,) = err.strip().splitlines()
    assert line.startswith(f"mamori: error: {project / name}: ")
    assert problem in line


def test_hostile_ignore_files(kb, project) -> None:
    (project / ".mamoriignore").mkdir()
    code, _, err = _scan(kb, project)
    assert code == 2 and len(err.strip().splitlines()) == 1 and ".mamoriignore" in err
    (project / ".mamoriignore").rmdir()
    (project / ".mamoriignore").write_bytes(b"CVE-1 # \xff\xfe\n")
    code, _, err = _scan(kb, project)
    assert code == 2 and "not UTF-8" in err
    (project / ".mamoriignore").write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    code, _, err = _scan(kb, project)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_loader_keeps_reasons_and_dates(tmp_path) -> None:
    path = tmp_path / ".mamoriignore"
    path.write_text("# a\n# b\nCVE-1 pkg:npm/x exp:2030-01-02\n\n# unrelated\n\nCVE-2\n", encoding="utf-8")
    loaded = load(path)
    first, second = loaded.entries
    assert (first.id, first.purls, first.reason, first.expires, first.line) == (
        "CVE-1",
        ("pkg:npm/x",),
        "a b",
        date(2030, 1, 2),
        3,
    )
    assert second.reason is None  # a comment block separated by an empty line belongs to nothing
    assert loaded.expired(date(2030, 1, 2)) == [first]  # expires at the start of the day
    assert loaded.active(date(2030, 1, 1)) == [first, second]
    records = loaded.records(date(2030, 1, 1))
    assert [(r.vulnerability, r.component_purl, r.origin, r.source) for r in records] == [
        ("CVE-1", "pkg:npm/x", "ignore", ".mamoriignore:3"),
        ("CVE-2", "*", "ignore", ".mamoriignore:7"),
    ]

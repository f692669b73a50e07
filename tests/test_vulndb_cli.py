"""``mamori db import | status | show`` in-process, on real data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from mamori.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_status_show(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "kb.db")
    code, out, _ = _run(capsys, "db", "import", str(shared_data / "osv" / "pypi" / "salt"), "--db", db)
    assert code == 0 and "osv: " in out and " new" in out
    salt = len(list((shared_data / "osv" / "pypi" / "salt").glob("*.yaml")))
    code, out, _ = _run(
        capsys,
        "db",
        "import",
        str(shared_data / "cve5" / "2020" / "35xxx" / "CVE-2020-35662.json"),
        "--db",
        db,
    )
    assert code == 0
    code, out, _ = _run(capsys, "db", "status", "--db", db, "--format", "json")
    status = json.loads(out)
    assert status["sources"]["osv"]["records"] == salt and status["sources"]["cve5"]["records"] == 1
    code, out, _ = _run(capsys, "db", "show", "PYSEC-2021-75", "--db", db, "--format", "json")
    record = json.loads(out)
    assert code == 0 and record["id"] == "CVE-2020-35662" and "PYSEC-2021-75" in record["aliases"]
    assert {s["source"] for s in record["sources"]} == {"osv", "cve5"}
    assert record["ssvc"][0]["exploitation"] in {"none", "poc", "active"}
    code, out, _ = _run(capsys, "db", "show", "CVE-2020-35662", "--db", db, "--lang", "ja")
    assert (
        code == 0
        and out.startswith("CVE-2020-35662\n")
        and "別名: PYSEC-2021-75" in out
        and "影響を受けるパッケージ" in out
    )
    code, out, _ = _run(capsys, "db", "status", "--db", db)
    assert "osv" in out and "cve5" in out and "Vulnerabilities (merged)" in out


def test_jvn_show_in_japanese(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "kb.db")
    code, out, _ = _run(capsys, "db", "import", str(shared_data / "jvn"), "--db", db, "--format", "json")
    summary = json.loads(out)
    assert code == 0 and summary["sources"]["jvn"]["read"] == 2 and len(summary["skipped"]) == 2
    code, out, _ = _run(capsys, "db", "show", "JVNDB-2020-006469", "--db", db, "--lang", "ja")
    assert "タイトル (ja): 三菱電機製 GOT2000 シリーズ" in out and "深刻度: CVSS_V3 3.0 9.8 Critical" in out


def test_osv_zip_like_all_zip(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "all.zip"
    misc = sorted((shared_data / "osv" / "misc").glob("*.json"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in misc:
            z.write(path, path.name)
    db = str(tmp_path / "kb.db")
    code, out, _ = _run(
        capsys, "db", "import", str(archive), "--db", db, "--source", "osv", "--format", "json"
    )
    summary = json.loads(out)
    ids = {json.loads(p.read_bytes())["id"] for p in misc}
    assert code == 0 and summary["files"] == len(misc) and summary["sources"]["osv"]["read"] == len(misc)
    code, out, _ = _run(capsys, "db", "status", "--db", db, "--format", "json")
    assert json.loads(out)["sources"]["osv"]["records"] == len(ids)
    code, out, _ = _run(capsys, "db", "show", "DSA-5474-1", "--db", db, "--format", "json")
    assert [p["ecosystem"] for p in json.loads(out)["affected_packages"]] == ["Debian:11", "Debian:12"]


def test_bad_input_is_reported_and_the_rest_imported_or_one_line_exit_2(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "kb.db")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_bytes((shared_data / "nvd" / "cve.json").read_bytes())
    (folder / "b.json").write_bytes(b'{"cve": {"id": "CVE-2024-0001", "descriptions": 7}}')
    code, out, err = _run(capsys, "db", "import", str(folder), "--db", db)
    assert code == 1 and "nvd: 1 read, 1 new" in out and "1 rejected" in out
    assert f"{folder / 'b.json'}: CVE-2024-0001: cve.descriptions: expected a list, got a number" in err
    code, out, _ = _run(capsys, "db", "status", "--db", db, "--format", "json")
    assert json.loads(out)["sources"]["nvd"]["records"] == 1
    code, _, err = _run(
        capsys,
        "db",
        "import",
        str(shared_data / "kev" / "known_exploited_vulnerabilities_schema.json"),
        "--db",
        db,
    )
    assert code == 2 and "not vulnerability data mamori reads" in err
    code, _, err = _run(capsys, "db", "import", str(folder), "--db", db, "--source", "ghsa")
    assert code == 2 and "--source: expected one of osv, nvd" in err
    code, _, err = _run(capsys, "db", "show", "CVE-2000-0000001", "--db", db)
    assert code == 2 and err == "mamori: error: CVE-2000-0000001: not found in the knowledge base\n"
    code, _, err = _run(capsys, "db", "import", str(tmp_path / "missing"), "--db", db)
    assert code == 2 and "file not found" in err


def test_mamori_db_environment_variable(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAMORI_DB", str(tmp_path / "env.db"))
    code, _, _ = _run(capsys, "db", "import", str(shared_data / "nvd"))
    assert code == 0 and (tmp_path / "env.db").is_file()
    code, out, _ = _run(capsys, "db", "show", "CVE-2024-23113", "--format", "json")
    record = json.loads(out)
    assert (
        record["kev"][0]["source"] == "nvd"
        and record["cpe_configurations"][0]["nodes"][0]["operator"] == "OR"
    )

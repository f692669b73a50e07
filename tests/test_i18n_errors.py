"""The one-line error of a bad input is in the user's language (issue 14, point 1): Japanese under
MAMORI_LANG=ja, English under MAMORI_LANG=en or ``--lang en``, run as the installed ``mamori``.

Each case is a real bad input of the file readers, the SBOM readers and generators, the vulnerability data
readers and the store; the English text is the one the code raises (the gettext msgid), so the Japanese
run must not show it."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

MAMORI = Path(sys.executable).with_name("mamori")
DEMO = Path(__file__).resolve().parents[1] / "src" / "mamori" / "data" / "demo"
KEV = DEMO / "kev" / "known_exploited_demo.json"
OSV = sorted((DEMO / "osv").glob("*.json"))[0]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
TIMEOUT = 90


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # {d}: the folder of the bad inputs
    english: str  # a fixed part of the English message
    lang_option: bool = True  # the command takes --lang
    db: str | None = None  # MAMORI_DB, relative to {d}
    code: int = 2


CASES: dict[str, Case] = {
    "missing file": Case(("sbom", "check", "{d}/no-such.cdx.json"), "file not found"),
    "folder instead of a file": Case(("sbom", "check", "{d}/folder"), "is a directory, not a file"),
    "cut-short JSON": Case(("sbom", "check", "{d}/cut.cdx.json"), "invalid JSON at line 1 column"),
    "not an SBOM": Case(("sbom", "check", "{d}/kev.json"), "not an SBOM: JSON without CycloneDX 'bomFormat'"),
    "unknown CycloneDX version": Case(
        ("sbom", "check", "{d}/future.cdx.json"), "unsupported CycloneDX spec version 9.9"
    ),
    "CycloneDX XML with a DTD": Case(("sbom", "check", "{d}/dtd.cdx.xml"), "entity declarations are refused"),
    "SPDX top level not an object": Case(
        ("sbom", "convert", "{d}/list.spdx.json", "--from", "spdx-json", "-o", "{d}/out.cdx.json"),
        "not an SPDX 2 document",
    ),
    "unknown output format": Case(
        ("sbom", "convert", "{d}/good.cdx.json", "-o", "{d}/out.unknown"),
        "cannot tell the output format from the file name",
    ),
    "bad go.mod": Case(
        ("sbom", "generate", "{d}/goproject", "-o", "{d}/g.cdx.json"),
        "unknown go.mod directive",
        lang_option=False,
    ),
    "truncated zip feed": Case(("db", "import", "{d}/feed.zip"), "not a valid zip file"),
    "OSV record without id": Case(
        ("db", "import", "{d}/noid.json", "--source", "osv"), "OSV record has no id"
    ),
    "OSV record with a number id": Case(
        ("db", "import", "{d}/numberid.json", "--source", "osv"), "expected a string, got a number"
    ),
    "EPSS CSV without header": Case(
        ("db", "import", "{d}/epss.csv", "--source", "epss"), "expected the header 'cve,epss,percentile'"
    ),
    "SBOM given as advisory data": Case(
        ("db", "import", "{d}/good.cdx.json"), "not vulnerability data mamori reads"
    ),
    "not a snapshot": Case(
        ("db", "snapshot", "import", "{d}/kev.json"), "not a mamori snapshot, or cut short", lang_option=False
    ),
    "foreign SQLite store": Case(("db", "status"), "not a mamori store", db="foreign.db"),
    "damaged store file": Case(("db", "status"), "not a readable mamori store", db="garbage.db"),
    "bad --lang": Case(("sbom", "check", "{d}/good.cdx.json", "--lang", "xx"), "--lang must be ja or en"),
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GHSA-1.json", OSV.read_bytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MAMORI.exists():
        pytest.skip(f"the installed mamori is not next to {sys.executable}")
    d = tmp_path_factory.mktemp("bad-inputs")
    (d / "folder").mkdir()
    (d / "cut.cdx.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [')
    (d / "kev.json").write_bytes(KEV.read_bytes())
    (d / "future.cdx.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "9.9"}')
    (d / "good.cdx.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}')
    (d / "dtd.cdx.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY x "y">]>\n'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">&x;</bom>\n'
    )
    (d / "list.spdx.json").write_text("[]")
    (d / "goproject").mkdir()
    (d / "goproject" / "go.mod").write_text("module example.com/x\n\ngo 1.22\n\nfrobnicate now\n")
    whole = _zip()
    (d / "feed.zip").write_bytes(whole[: len(whole) // 2])
    (d / "noid.json").write_text('{"summary": "x", "modified": "2024-01-01T00:00:00Z"}')
    (d / "numberid.json").write_text('{"id": 5, "modified": "2024-01-01T00:00:00Z"}')
    (d / "epss.csv").write_text("a,b\n1,2\n")
    with sqlite3.connect(d / "foreign.db") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    (d / "garbage.db").write_bytes(b"this is not a database\n" * 100)
    return d


def _run(inputs: Path, case: Case, env_lang: str, option: str | None) -> subprocess.CompletedProcess[str]:
    argv = [a.replace("{d}", str(inputs)) for a in case.argv]
    if option is not None:
        argv += ["--lang", option]
    env = {
        **os.environ,
        "MAMORI_LANG": env_lang,
        "MAMORI_DB": str(inputs / (case.db or "kb.db")),
        "XDG_DATA_HOME": str(inputs / "data"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(MAMORI), *argv],
        env=env,
        cwd=inputs,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _one_line(run: subprocess.CompletedProcess[str], case: Case) -> str:
    lines = run.stderr.splitlines()
    assert run.returncode == case.code, (run.returncode, run.stderr)
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_japanese_under_mamori_lang_ja(inputs: Path, name: str) -> None:
    case = CASES[name]
    line = _one_line(_run(inputs, case, "ja", None), case)
    assert JAPANESE.search(line), line
    assert case.english not in line, line


@pytest.mark.parametrize("name", sorted(CASES))
def test_english_under_mamori_lang_en(inputs: Path, name: str) -> None:
    case = CASES[name]
    line = _one_line(_run(inputs, case, "en", None), case)
    assert case.english in line, line
    assert not JAPANESE.search(line), line


@pytest.mark.parametrize(
    "name", sorted(n for n, c in CASES.items() if c.lang_option and "--lang" not in c.argv)
)
def test_lang_option_overrides_mamori_lang(inputs: Path, name: str) -> None:
    """``--lang en`` wins over MAMORI_LANG=ja, for errors raised far from the command too."""
    case = CASES[name]
    line = _one_line(_run(inputs, case, "ja", "en"), case)
    assert case.english in line, line
    assert not JAPANESE.search(line), line


def test_ja_locale_picks_japanese(inputs: Path) -> None:
    """Without MAMORI_LANG, a ja_* locale gives Japanese."""
    case = CASES["missing file"]
    env_lang = ""
    run = subprocess.run(
        [str(MAMORI), "sbom", "check", str(inputs / "no-such.cdx.json")],
        env={**{k: v for k, v in os.environ.items() if k not in ("MAMORI_LANG", "LC_ALL")}, "MAMORI_LANG": env_lang,
             "LANG": "ja_JP.UTF-8", "MAMORI_DB": str(inputs / "kb.db"), "XDG_DATA_HOME": str(inputs / "data")},
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    line = _one_line(run, case)
    assert JAPANESE.search(line) and case.english not in line, line

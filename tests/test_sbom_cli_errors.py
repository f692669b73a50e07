"""Bad input through ``mamori sbom convert``: one line on stderr naming the file and the problem, exit 2,
no traceback, and nothing written (no output file, no temp file) in the output folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.fileio import read_bytes

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>'
    b'<component type="library"><name>&xxe;</name></component></components></bom>\n'
)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>\n'
    b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
    b'<component type="library"><name>&b;</name></component></components></bom>\n'
)
RDF_DTD = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY a "aaaa">]>\n'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:spdx="http://spdx.org/rdf/terms#">'
    b'<spdx:SpdxDocument rdf:about="https://example.org/doc#SPDXRef-DOCUMENT"/></rdf:RDF>\n'
)
SMALL_BOM = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}\n'

# name of the input file, its bytes, and the problem the one line must state (after "<file>: ")
CASES: dict[str, tuple[str, bytes, str]] = {
    "cyclonedx-json-syntax": (
        "bom.cdx.json",
        b'{"bomFormat": "CycloneDX",\n "specVersion": "1.6",\n "components": [\n  {"name": "a",,}\n ]\n}\n',
        "invalid JSON at line 4 column 16: ",
    ),
    "spdx-json-syntax": (
        "doc.spdx.json",
        b'{"spdxVersion": "SPDX-2.3",\n "SPDXID": "SPDXRef-DOCUMENT",\n "name": }',
        "invalid JSON at line 3 column 10: ",
    ),
    "xml-syntax": (
        "bom.xml",
        b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">\n'
        b'<components><component type="library"></components></bom>\n',
        "invalid XML at line 3 column 51: ",
    ),
    "cyclonedx-unknown-spec-version": (
        "bom.json",
        b'{"bomFormat": "CycloneDX", "specVersion": "9.9", "version": 1}',
        "unsupported CycloneDX spec version 9.9",
    ),
    "cyclonedx-xml-unknown-namespace": (
        "bom.xml",
        b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/9.9" version="1"/>\n',
        "unsupported CycloneDX spec version 9.9",
    ),
    "spdx-unknown-version": (
        "doc.spdx.json",
        b'{"spdxVersion": "SPDX-9.9", "SPDXID": "SPDXRef-DOCUMENT"}',
        "unknown spdxVersion 'SPDX-9.9'; supported: SPDX-2.1, SPDX-2.2, SPDX-2.3",
    ),
    "spdx-3-jsonld": (
        "doc.spdx3.json",
        b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}',
        "SPDX 3 (JSON-LD) is not supported yet",
    ),
    "xml-external-entity": ("bom.xml", XXE, "XML DTD/entity declarations are refused"),
    "xml-entity-expansion": ("bom.xml", LAUGHS, "XML DTD/entity declarations are refused"),
    "rdf-doctype": ("doc.rdf", RDF_DTD, "XML with a DOCTYPE (DTD or entity declarations) is refused"),
    "not-an-sbom-png": ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an SBOM: "),
    "not-an-sbom-json": ("package.json", b'{"name": "left-pad", "version": "1.3.0"}', "not an SBOM: "),
    "not-an-sbom-text": ("notes.txt", b"meeting notes, not a bill of materials\n", "not an SBOM: "),
    "not-an-sbom-xml": ("pom.xml", b"<project><artifactId>x</artifactId></project>", "not an SBOM: "),
    "empty-file": ("bom.json", b"", "file is empty"),
}


def _convert(tmp_path: Path, name: str, data: bytes | None, capsys: pytest.CaptureFixture[str]):
    source = tmp_path / "in" / name
    source.parent.mkdir()
    if data is not None:
        source.write_bytes(data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = main(["sbom", "convert", str(source), "-o", str(out_dir / "result.cdx.json")])
    captured = capsys.readouterr()
    return source, out_dir, code, captured


def _assert_one_line(stderr: str, source: Path, problem: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"mamori: error: {source}: {problem}"), lines[0]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_line_exit_2_and_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, data, problem = CASES[case]
    source, out_dir, code, captured = _convert(tmp_path, name, data, capsys)
    assert code == 2
    _assert_one_line(captured.err, source, problem)
    assert captured.out == ""
    assert list(out_dir.iterdir()) == []


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out_dir, code, captured = _convert(tmp_path, "absent.cdx.json", None, capsys)
    assert code == 2
    _assert_one_line(captured.err, source, "file not found")
    assert list(out_dir.iterdir()) == []


def test_file_over_the_size_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_MAX_INPUT_BYTES", "64")
    source, out_dir, code, captured = _convert(tmp_path, "bom.cdx.json", SMALL_BOM, capsys)
    assert code == 2
    size = len(SMALL_BOM)
    _assert_one_line(captured.err, source, f"file is {size} bytes, over the input size limit of 64 bytes")
    assert list(out_dir.iterdir()) == []
    # the same file under a limit it fits converts
    monkeypatch.setenv("MAMORI_MAX_INPUT_BYTES", str(size))
    assert main(["sbom", "convert", str(source), "-o", str(out_dir / "result.cdx.json")]) == 0
    assert [p.name for p in out_dir.iterdir()] == ["result.cdx.json"]


def test_reading_a_file_does_not_reserve_the_size_limit(shared_data: Path) -> None:
    """A real 740 kB SBOM is read with a buffer of its own size, not one of the input limit (1 GiB by
    default): BufferedReader.read(n) allocates n bytes up front."""
    source = shared_data / "sbom" / "cyclonedx" / "juice-shop" / "v11.1.2" / "bom.json"
    size = source.stat().st_size
    tracemalloc.start()
    try:
        data = read_bytes(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) == size
    assert peak < 2 * size + (1 << 20)


def test_an_existing_output_file_is_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bom.xml"
    source.write_bytes(XXE)
    target = tmp_path / "out" / "result.spdx.json"
    target.parent.mkdir()
    target.write_bytes(b"previous result\n")
    assert main(["sbom", "convert", str(source), "-o", str(target)]) == 2
    _assert_one_line(capsys.readouterr().err, source, "XML DTD/entity declarations are refused")
    assert target.read_bytes() == b"previous result\n"
    assert [p.name for p in target.parent.iterdir()] == ["result.spdx.json"]


def test_an_output_the_writer_refuses_names_the_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bom.cdx.json"
    source.write_bytes(SMALL_BOM)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "result.cdx.json"
    assert main(["sbom", "convert", str(source), "-o", str(target), "--spec-version", "9.9"]) == 2
    _assert_one_line(capsys.readouterr().err, target, "CycloneDX output supports spec versions 1.4, 1.5, 1.6")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("case", ["cyclonedx-json-syntax", "xml-external-entity"])
def test_the_installed_command_prints_one_line_too(tmp_path: Path, case: str) -> None:
    """The same through the real entry point (a separate process), where a traceback would show."""
    name, data, problem = CASES[case]
    source = tmp_path / name
    source.write_bytes(data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MAMORI_MAX_INPUT_BYTES"}
    run = subprocess.run(
        [sys.executable, "-c", "from mamori.cli.main import run; run()", "sbom", "convert", str(source),
         "-o", str(out_dir / "result.spdx.json")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    _assert_one_line(run.stderr, source, problem)
    assert list(out_dir.iterdir()) == []


SPDX3_EXAMPLE = SHARED_DATA / "sbom/spdx/software/example1/spdx3.0/example1.json"


@pytest.mark.parametrize("command", ["check", "convert"])
def test_spdx_3_is_named_as_unsupported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    source = tmp_path / "doc.spdx3.json"
    source.write_bytes(CASES["spdx-3-jsonld"][1])
    sources = [source] + ([SPDX3_EXAMPLE] if SPDX3_EXAMPLE.is_file() else [])
    for path in sources:
        args = ["sbom", command, str(path)] + (
            ["-o", str(tmp_path / "x.cdx.json")] if command == "convert" else []
        )
        assert main(args) == 2
        _assert_one_line(
            capsys.readouterr().err,
            path,
            "SPDX 3 (JSON-LD) is not supported yet; mamori reads SPDX 2.1, 2.2 and 2.3",
        )
    assert not (tmp_path / "x.cdx.json").exists()

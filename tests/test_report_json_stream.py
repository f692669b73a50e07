"""The JSON report written a finding at a time is byte for byte the report rendered whole, and the scan
command writes it so, to a file and to standard output."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from conftest import SHARED_DATA
from mamori.model.sbom import Component
from mamori.report import json_report
from mamori.report import write as write_report
from mamori.scan.run import scan_document
from match_support import build_store, document

PACKAGES = ("reportlab", "jinja2", "pillow")
VERSIONS = {
    "reportlab": ["3.5.26", "3.6.12"],
    "jinja2": ["2.10", "3.1.2"],
    "pillow": ["6.2.0", "9.0.0", "10.4.0"],
}


@pytest.fixture(scope="module")
def store(shared_data, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("stream")
    files = [SHARED_DATA / "osv" / "pypi" / name for name in PACKAGES]
    with build_store(folder, files, complete=True) as kb:
        yield kb


def _components() -> list[Component]:
    return [
        Component(name, version, purl=f"pkg:pypi/{name}@{version}")
        for name, versions in VERSIONS.items()
        for version in versions
    ]


def _render_both(result, lang: str) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    whole = json_report.render(result, lang)
    stream = io.BytesIO()
    write_report("json", result, stream, lang)
    return whole, stream.getvalue()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_streamed_report_is_the_whole_report(store, lang: str) -> None:  # type: ignore[no-untyped-def]
    result = scan_document(document(*_components()), store, target="t", sbom_format="cyclonedx-json")
    assert len(result.findings) > 20
    whole, streamed = _render_both(result, lang)
    assert streamed == whole
    report = orjson.loads(streamed)
    assert len(report["findings"]) == len(result.findings)
    assert list(report) == ["target", "sbom", "database", "coverage", "findings", "not_evaluated", "warnings",
                            "summary", "fix_first"]  # fmt: skip


def test_streamed_report_without_findings(store) -> None:  # type: ignore[no-untyped-def]
    doc = document(Component("pillow", "99.0", purl="pkg:pypi/pillow@99.0"))
    result = scan_document(doc, store, target="t", sbom_format="cyclonedx-json")
    assert result.findings == []
    whole, streamed = _render_both(result, "en")
    assert streamed == whole and orjson.loads(streamed)["findings"] == []


def test_a_report_bigger_than_one_chunk(store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(json_report, "_CHUNK", 64)  # every batch flushes the buffer
    monkeypatch.setattr(json_report, "_BATCH", 3)  # batches of 3 findings, the last one shorter
    result = scan_document(document(*_components()), store, target="t", sbom_format="cyclonedx-json")
    whole, streamed = _render_both(result, "en")
    assert streamed == whole


def test_the_installed_command_writes_the_same_report_to_a_file_and_to_stdout(  # type: ignore[no-untyped-def]
    store, tmp_path: Path
) -> None:
    sbom = tmp_path / "bom.json"
    components = [
        {"type": "library", "name": c.name, "version": c.version, "purl": c.purl} for c in _components()
    ]
    sbom.write_bytes(orjson.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                   "components": components}))  # fmt: skip
    mamori = str(Path(sys.executable).with_name("mamori"))
    db = str(store.engine.url.database)
    out = tmp_path / "report.json"
    to_file = subprocess.run([mamori, "scan", str(sbom), "--db", db, "-f", "json", "-o", str(out)],
                             capture_output=True, check=False)  # fmt: skip
    to_stdout = subprocess.run([mamori, "scan", str(sbom), "--db", db, "-f", "json"], capture_output=True,
                               check=False)  # fmt: skip
    assert to_file.returncode == to_stdout.returncode == 0, to_file.stderr
    a, b = orjson.loads(out.read_bytes()), orjson.loads(to_stdout.stdout)
    for report in (a, b):
        for scope in report["coverage"]["scopes"]:
            scope.pop("age_days")
    assert a == b and len(a["findings"]) > 20
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".report.json*"))

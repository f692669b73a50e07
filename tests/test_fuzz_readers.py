"""Every reader of untrusted input returns a result or raises a MamoriError — never another exception.

Issue 13, point 7. One table lists each reader mamori has for files that someone else can write: SBOMs
(CycloneDX JSON/XML, SPDX JSON/YAML/tag-value/RDF, SPDX Lite and component lists as CSV/XLSX), VEX
(CycloneDX, OpenVEX, CSAF, the statements YAML), every lockfile and manifest parser of ``sbom generate``
(and the OS package databases), the vulnerability data parsers (OSV JSON/YAML, NVD, CVE 5, KEV, JVN XML,
EPSS CSV, purl2cpe TSV/YAML) up to their parsed records, the triage policy and context YAML, and the
questionnaire of ``assess import-xlsx``. Each is fed

- random bytes (bare, and behind the first bytes of a real file so the format is recognised), and
- real files (../shared/data and tests/fixtures) mutated with structure: a value replaced by one of
  another type, keys deleted or duplicated, values nested thousands of levels deep, huge strings,
  control characters, lone surrogates, invalid UTF-8, XML elements deleted/duplicated/nested, external
  and expanding entities, lines deleted/duplicated/swapped, xlsx members mutated — plus byte edits.

The property (tests/fuzz_support.py): the reader returns, or raises a one-line MamoriError; no external
entity is resolved. The example count is small in the normal suite (derandomised); MAMORI_FUZZ=long
runs many more (bench/fuzz_soak.py).
"""

from __future__ import annotations

import csv
import functools
import io
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import SHARED_DATA
from fuzz_support import (
    fuzz,
    mutated_bytes,
    mutated_lines,
    mutated_tree,
    mutated_xml,
    mutated_zip,
    reads_or_refuses,
    scratch_file,
    shuffled,
)
from mamori.errors import InputError
from mamori.sbom import ReadOptions
from mamori.sbom.formats import READ_FORMATS, _resolve, detect_format

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
GENERATE = FIXTURES / "generate"
SMALL = 80_000  # seed files above this size make examples slow; there are enough small ones


@dataclass(frozen=True)
class Reader:  # seeds are read once per reader (see _seeds_of)
    name: str
    read: Callable[[bytes], Any]
    seeds: Callable[[], list[bytes]]
    shapes: tuple[str, ...]  # which structure-aware mutators fit: tree, xml, lines, zip (bytes always)
    shared: bool = False  # the seeds come from ../shared/data


@functools.cache
def _files(base: Path, pattern: str, limit: int = 8, size: int = SMALL) -> list[Path]:
    if not base.is_dir():
        return []
    found = sorted(p for p in base.rglob(pattern) if p.is_file() and p.stat().st_size <= size)
    return sorted(shuffled(found, pattern)[:limit])


def _bytes(paths: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in paths]


# ---------------------------------------------------------------------------------------------- SBOMs

DT = SHARED_DATA / "sbom" / "dependency-track-tests"
SPDX = SHARED_DATA / "sbom" / "spdx"


def _sbom_reader(fmt: str, suffix: str) -> Callable[[bytes], Any]:
    def read(data: bytes) -> Any:
        return _resolve(READ_FORMATS[fmt])(data, Path(f"fuzz{suffix}"), ReadOptions())

    return read


def _detected(data: bytes) -> Any:
    """What `mamori sbom check` does with a file of unknown kind: sniff, then read."""
    path = Path("fuzz.input")
    fmt = detect_format(data, path)
    return _resolve(READ_FORMATS[fmt])(data, path, ReadOptions(strict=True))


@functools.cache
def _spdx_json() -> list[bytes]:
    from test_spdx_read import SPDX2_FILES

    return _bytes([SPDX / rel for rel in SPDX2_FILES if rel.endswith(".json")][:8])


@functools.cache
def _spdx_tv() -> list[bytes]:
    from test_spdx_read import SPDX2_FILES

    return _bytes([SPDX / rel for rel in SPDX2_FILES if rel.endswith(".spdx")][:8])


@functools.cache
def _spdx_rdf() -> list[bytes]:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.writer.rdf.rdf_writer import write_document_to_stream

    from test_spdx_read import SPDX2_FILES

    out = []
    for rel in [r for r in SPDX2_FILES if r.endswith(".spdx")][:3]:
        stream = io.BytesIO()
        write_document_to_stream(parse_file(str(SPDX / rel)), stream, validate=False)
        out.append(stream.getvalue())
    return out


@functools.cache
def _real_document() -> Any:
    from mamori.sbom.cyclonedx import read_json

    return read_json.read((DT / "valid-bom-1.6.json").read_bytes(), Path("valid-bom-1.6.json"))


@functools.cache
def _lite_xlsx() -> list[bytes]:
    from mamori.sbom.spreadsheet.spdx_lite import write_xlsx
    from spreadsheet_fixtures import lite_workbook

    seeds = [lite_workbook()]
    if DT.is_dir():
        seeds.append(write_xlsx(_real_document(), None))
    return seeds


@functools.cache
def _lite_csv() -> list[bytes]:
    from mamori.sbom.spreadsheet.spdx_lite import write_csv

    return [write_csv(_real_document(), None)] if DT.is_dir() else []


def _csv_of(workbook: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(workbook), data_only=True)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in book.worksheets[-1].iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


@functools.cache
def _vendor_xlsx() -> list[bytes]:
    from spreadsheet_fixtures import vendor_workbook

    return [vendor_workbook()]


# ------------------------------------------------------------------------------------------------ VEX


def _vex(data: bytes) -> Any:
    from mamori import vex

    return vex.parse(data, Path("fuzz.vex.json"), strict=False)


def _vex_strict(data: bytes) -> Any:
    from mamori import vex

    return vex.parse(data, Path("fuzz.vex.json"), strict=True)


@functools.cache
def _vex_seeds() -> list[bytes]:
    from mamori import vex

    cdx = _files(SHARED_DATA / "vex" / "cyclonedx", "vex*.json", limit=5)
    csaf = _files(SHARED_DATA / "csaf" / "examples" / "csaf" / "csaf_vex", "*.json", limit=3)
    seeds = _bytes(cdx + csaf)
    if cdx:  # OpenVEX: a real CycloneDX VEX written as OpenVEX by mamori
        options = vex.WriteOptions(
            author="Example PSIRT", namespace="https://psirt.example.com", strict=False
        )
        seeds.append(vex.dumps(vex.read(cdx[0]), "openvex", options))
    return seeds


STATEMENTS_EXAMPLE = b"""document:
  author: Example Corp PSIRT
  role: vendor
  namespace: https://psirt.example.com
  id: EXAMPLE-VEX-2024-001
  timestamp: 2024-05-01T09:00:00+09:00
  version: 1
statements:
  - vulnerability: CVE-2024-35195
    status: affected
    action_statement: Update requests to 2.32.0 or later.
    responses: [update]
    products:
      - pkg:pypi/requests@2.31.0
  - vulnerability: {id: CVE-2021-44228, aliases: [GHSA-jfh8-c2jp-5v3q], description: Log4Shell}
    status: not_affected
    justification: component_not_present
    impact_statement: The product is written in Python and ships no Java.
    products:
      - {name: shop-portal, version: "2.1.0", vendor: Example Corp, ref: shop-portal}
"""


def _statements(data: bytes) -> Any:
    from mamori.vex.statements import read_statements

    return read_statements(scratch_file("statements.yaml", data))


# ------------------------------------------------------------------------------- sbom generate inputs


def _generate_files() -> dict[str, Path]:
    """One fixture per lockfile/manifest pattern of the registry (the smallest)."""
    from mamori.sbom.generate import registry

    chosen: dict[str, Path] = {}
    for path in sorted(GENERATE.rglob("*"), key=lambda p: (p.stat().st_size if p.is_file() else 0, p)):
        spec = registry.spec_for(path) if path.is_file() and path.stat().st_size <= 2 * SMALL else None
        if spec is not None and spec.pattern not in chosen:
            chosen[spec.pattern] = path
    return chosen


def _generate_reader(path: Path) -> Callable[[bytes], Any]:
    from mamori.sbom.generate import read_text, registry

    spec = registry.spec_for(path)
    assert spec is not None
    parse = registry.resolve(spec.target)
    siblings = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file() and p != path}

    def read(data: bytes) -> Any:
        target = scratch_file(path.name, data)
        for name, content in siblings.items():  # go.sum beside go.mod, and the like
            (target.parent / name).write_bytes(content)
        return parse(target, read_text(target))

    return read


def _go_binary(data: bytes) -> Any:
    from mamori.sbom.generate.golang import buildinfo

    return buildinfo.parse(scratch_file("program", data), "")


def _dpkg(data: bytes) -> Any:
    from mamori.sbom.generate import read_text
    from mamori.sbom.generate.base import Found
    from mamori.sbom.generate.ospkg import dpkg

    path = scratch_file("status", data)
    found = Found("deb")
    dpkg.parse_status([(path, read_text(path))], path.parent, {"ID": "debian", "VERSION_ID": "12"}, found)
    return found


def _apk(data: bytes) -> Any:
    from mamori.sbom.generate import read_text
    from mamori.sbom.generate.ospkg import apk

    path = scratch_file("installed", data)
    return apk.parse_installed(path, read_text(path), {"ID": "alpine", "VERSION_ID": "3.19.1"})


RPMDB = GENERATE / "ospkg" / "rocky" / "var" / "lib" / "rpm" / "rpmdb.sqlite"


@functools.cache
def _rpm_headers() -> list[bytes]:
    db = sqlite3.connect(f"file:{RPMDB}?mode=ro&immutable=1", uri=True)  # writes nothing beside it
    try:
        return [bytes(b) for (b,) in db.execute("SELECT blob FROM Packages ORDER BY hnum LIMIT 3")]
    finally:
        db.close()


def _rpm(header: bytes) -> Any:
    """An RPM database whose one package header is ``header``."""
    from mamori.sbom.generate.ospkg import rpm

    path = scratch_file("rpmdb.sqlite", b"")
    path.unlink()
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
        db.execute("INSERT INTO Packages VALUES (1, ?)", (header,))
        db.commit()
    finally:
        db.close()
    return rpm.parse_rpmdb(path, {"ID": "rocky", "VERSION_ID": "9.3"})


# --------------------------------------------------------------------------------- vulnerability data


def _vulndb(name: str, source: str | None = None) -> Callable[[bytes], Any]:
    def read(data: bytes) -> Any:
        from mamori.vulndb.detect import parse_blob
        from mamori.vulndb.sources import Blob

        parsed = parse_blob(Blob(name, data), source)
        return None if parsed is None else list(parsed.items)

    return read


@functools.cache
def _kev() -> list[bytes]:
    catalog = orjson.loads((SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    catalog["vulnerabilities"] = catalog["vulnerabilities"][:4]
    catalog["count"] = 4
    return [orjson.dumps(catalog)]


@functools.cache
def _jvn() -> list[bytes]:
    return _bytes(
        [SHARED_DATA / "jvn" / n for n in ("get_vuln_detail_info.xml", "get_vuln_overview_list.xml")]
    )


EPSS_SAMPLE = b"""#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
cve,epss,percentile
CVE-2025-48384,0.00123,0.31000
CVE-2017-5638,0.94000,0.99900
"""
SCANOSS_SAMPLE = b"""purls:
- pkg:pypi/protobuf
- pkg:maven/com.google.protobuf/protobuf-java
cpes:
- cpe:2.3:a:google:protobuf:*:*:*:*:*:*:*:*
"""


@functools.cache
def _purl2cpe() -> list[bytes]:
    with (SHARED_DATA / "purl2cpe" / "purl2cpe.tsv").open("rb") as handle:
        return [b"".join(handle.readline() for _ in range(25))]


# ------------------------------------------------------------------------------ policy, context, xlsx

POLICY_EXAMPLE = b"""version: 1
rules:
  - id: kev
    action: fail
    kev: true
    message: {en: patch or mitigate before release, ja: \xe3\x83\xaa\xe3\x83\xaa\xe3\x83\xbc\xe3\x82\xb9\xe5\x89\x8d}
  - id: urgent
    action: fail
    ssvc: [immediate]
  - id: likely
    action: warn
    epss_above: 0.1
  - id: untriaged-critical
    action: warn
    rating: [critical]
    vex_status: [none, under_investigation]
  - id: copyleft
    action: fail
    license_denied: [GPL-3.0-only, GPL-3.0-or-later, AGPL-3.0-only, AGPL-3.0-or-later]
"""
CONTEXT_EXAMPLE = b"""version: 1
default:
  system_exposure: controlled
  safety_impact: negligible
  mission_impact: {value: mef_support_crippled, reason: back-office support functions stop}
products:
  shop-portal:
    system_exposure: open
    components:
      pkg:npm/lodash: {system_exposure: small}
      pkg:pypi/requests@2.31.0: {safety_impact: marginal}
"""


def _policy(data: bytes) -> Any:
    from mamori.triage.policy import load_policy

    return load_policy(scratch_file("policy.yaml", data))


def _context(data: bytes) -> Any:
    from mamori.triage.context import load_context

    return load_context(scratch_file("context.yaml", data))


@functools.cache
def _questionnaire() -> tuple[Any, bytes]:
    """An assessment (kept in a scratch store) and its exported questionnaire with a few answers."""
    from mamori.compliance.questionnaire import export
    from mamori.compliance.repository import Assessments
    from mamori.store import open_store

    store = open_store(scratch_file("assess.db", b"").with_suffix(".sqlite"))
    with store:
        book = Assessments(store)
        created = book.create("ssdf", "Example Corp", ("developer",), "tool 1.0")
        book.answer(created, "PO.1.1", status="partial", owner="Suzuki")
        assessment = book.get(created.id)
    path = scratch_file("questionnaire.xlsx", b"")
    export(assessment, path)
    return assessment, path.read_bytes()


def _import_xlsx(data: bytes) -> Any:
    from mamori.compliance.questionnaire import read

    assessment, _ = _questionnaire()
    return read(assessment, scratch_file("questionnaire.xlsx", data))


# ---------------------------------------------------------------------------------------------- table


def _shared(
    name: str, read: Callable[[bytes], Any], seeds: Callable[[], list[bytes]], *shapes: str
) -> Reader:
    return Reader(name, read, seeds, shapes, shared=True)


READERS: list[Reader] = [
    _shared(
        "cyclonedx-json",
        _sbom_reader("cyclonedx-json", ".cdx.json"),
        lambda: _bytes(_files(DT, "*.json", limit=10)),
        "tree",
    ),
    _shared(
        "cyclonedx-xml", _sbom_reader("cyclonedx-xml", ".cdx.xml"), lambda: _bytes(_files(DT, "*.xml")), "xml"
    ),
    _shared("spdx-json", _sbom_reader("spdx-json", ".spdx.json"), _spdx_json, "tree"),
    _shared(
        "spdx-yaml",
        _sbom_reader("spdx-yaml", ".spdx.yaml"),
        lambda: [yaml.safe_dump(orjson.loads(s)).encode() for s in _spdx_json()],
        "tree",
        "lines",
    ),
    _shared("spdx-tv", _sbom_reader("spdx-tv", ".spdx"), _spdx_tv, "lines"),
    _shared("spdx-rdf", _sbom_reader("spdx-rdf", ".spdx.rdf.xml"), _spdx_rdf, "xml"),
    _shared(
        "sbom-detected",
        _detected,
        lambda: _spdx_tv()[:2] + _bytes(_files(DT, "*.json", limit=3)),
        "tree",
        "lines",
    ),
    _shared("spdx-lite-csv", _sbom_reader("spdx-lite-csv", ".csv"), _lite_csv, "lines"),
    Reader("spdx-lite-xlsx", _sbom_reader("spdx-lite-xlsx", ".xlsx"), _lite_xlsx, ("zip",)),
    Reader(
        "spreadsheet-csv",
        _sbom_reader("spreadsheet-csv", ".csv"),
        lambda: [_csv_of(s) for s in _vendor_xlsx()],
        ("lines",),
    ),
    Reader("spreadsheet-xlsx", _sbom_reader("spreadsheet-xlsx", ".xlsx"), _vendor_xlsx, ("zip",)),
    _shared("vex", _vex, _vex_seeds, "tree"),
    _shared("vex-strict", _vex_strict, _vex_seeds, "tree"),
    Reader(
        "vex-statements",
        _statements,
        lambda: [STATEMENTS_EXAMPLE],
        ("tree", "lines"),
    ),
    *[
        Reader(
            f"generate:{pattern}",
            _generate_reader(path),
            lambda path=path: [path.read_bytes()],
            ("tree", "lines") if path.read_bytes().lstrip()[:1] == b"{" else ("lines",),
        )
        for pattern, path in sorted(_generate_files().items())
    ],
    Reader(
        "generate:go-binary", _go_binary, lambda: [(GENERATE / "golang" / "bin" / "idgen").read_bytes()], ()
    ),
    Reader(
        "ospkg:dpkg-status",
        _dpkg,
        lambda: [(GENERATE / "ospkg" / "debian" / "var" / "lib" / "dpkg" / "status").read_bytes()],
        ("lines",),
    ),
    Reader(
        "ospkg:apk-installed",
        _apk,
        lambda: [(GENERATE / "ospkg" / "alpine" / "lib" / "apk" / "db" / "installed").read_bytes()],
        ("lines",),
    ),
    Reader("ospkg:rpm-header", _rpm, _rpm_headers, ()),
    _shared(
        "osv-json",
        _vulndb("osv/GHSA-x.json"),
        lambda: _bytes(_files(SHARED_DATA / "osv" / "misc", "*.json")),
        "tree",
    ),
    _shared(
        "osv-yaml",
        _vulndb("PYSEC-x.yaml"),
        lambda: _bytes(_files(SHARED_DATA / "osv" / "pypi", "*.yaml", limit=4)),
        "tree",
        "lines",
    ),
    _shared(
        "nvd",
        _vulndb("nvd/CVE-x.json"),
        lambda: _bytes(_files(SHARED_DATA / "nvd", "*.json", limit=5)),
        "tree",
    ),
    _shared(
        "cve5",
        _vulndb("cve5/CVE-x.json"),
        lambda: _bytes(_files(SHARED_DATA / "cve5", "CVE-*.json", limit=8, size=20_000)),
        "tree",
    ),
    _shared("kev", _vulndb("known_exploited_vulnerabilities.json"), _kev, "tree"),
    _shared("jvn-xml", _vulndb("jvn/vuln.xml"), _jvn, "xml"),
    Reader("epss-csv", _vulndb("epss_scores-2025-08-25.csv"), lambda: [EPSS_SAMPLE], ("lines",)),
    _shared("purl2cpe-tsv", _vulndb("purl2cpe.tsv"), _purl2cpe, "lines"),
    Reader(
        "purl2cpe-yaml",
        _vulndb("data/google/protobuf.yml", "purl2cpe"),
        lambda: [SCANOSS_SAMPLE],
        ("tree", "lines"),
    ),
    Reader("triage-policy", _policy, lambda: [POLICY_EXAMPLE], ("tree", "lines")),
    Reader("triage-context", _context, lambda: [CONTEXT_EXAMPLE], ("tree", "lines")),
    Reader(
        "assess-import-xlsx",
        _import_xlsx,
        lambda: [_questionnaire()[1]],
        ("zip",),
    ),
]
BY_NAME = {r.name: r for r in READERS}


def _reader(name: str) -> Reader:
    reader = BY_NAME[name]
    if reader.shared and not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return reader


_SEEDS: dict[str, list[bytes]] = {}


def _seeds_of(reader: Reader) -> list[bytes]:
    if reader.name not in _SEEDS:
        _SEEDS[reader.name] = reader.seeds()
    return _SEEDS[reader.name]


@functools.cache
def _tree_seeds(reader: Reader) -> list[Any]:
    out = []
    for seed in _seeds_of(reader):
        try:
            out.append(orjson.loads(seed))
        except orjson.JSONDecodeError:
            try:
                out.append(yaml.safe_load(seed))
            except yaml.YAMLError:
                continue  # a tag-value seed of a reader that also reads JSON
    return out


@functools.cache
def _mutations(reader: Reader) -> st.SearchStrategy[bytes]:
    seeds = _seeds_of(reader)
    options = [mutated_bytes(seeds)]
    if "tree" in reader.shapes:
        options += [mutated_tree(_tree_seeds(reader))] * 2
    if "xml" in reader.shapes:
        options += [mutated_xml(seeds)] * 2
    if "lines" in reader.shapes:
        options += [mutated_lines(seeds)] * 2
    if "zip" in reader.shapes:
        options += [mutated_zip(seeds)] * 2
    return st.one_of(options)


NAMES = [r.name for r in READERS]


@pytest.mark.parametrize("name", NAMES)
@fuzz(10)
@given(data=st.data())
def test_random_bytes(name: str, data: st.DataObject) -> None:
    reader = _reader(name)
    head = data.draw(st.sampled_from([b"", *[s[:64] for s in _seeds_of(reader)]]))
    raw = head + data.draw(st.binary(max_size=512))
    reads_or_refuses(name, lambda: reader.read(raw))


@pytest.mark.parametrize("name", NAMES)
@fuzz(40)
@given(data=st.data())
def test_mutated_real_files(name: str, data: st.DataObject) -> None:
    reader = _reader(name)
    raw = data.draw(_mutations(reader))
    reads_or_refuses(name, lambda: reader.read(raw))


def test_every_reader_has_seeds_and_reads_them() -> None:
    """The table is complete and its seeds are real inputs each reader accepts."""
    from mamori.sbom.generate import registry

    assert {f"generate:{spec.pattern}" for spec in registry.FILES} - set(BY_NAME) <= {
        # no fixture of these in tests/fixtures/generate
        "generate:buildscript-gradle.lockfile",
        "generate:gems.locked",
        "generate:gems.rb",
        "generate:pubspec.yaml",
    }
    for fmt in READ_FORMATS:
        assert fmt in BY_NAME
    for reader in READERS:
        if reader.shared and not SHARED_DATA.is_dir():
            continue
        seeds = reader.seeds()
        assert seeds, reader.name
        for seed in seeds:
            try:
                reader.read(seed)
            except InputError as exc:  # pragma: no cover - shown when a seed stops being readable
                raise AssertionError(f"{reader.name}: a seed is refused: {exc}") from None


# ------------------------------------------------------------------ what the fuzzing found, one by one


def _broken_workbook() -> bytes:
    """A real workbook with a sheet state openpyxl does not know (its error spans three lines)."""
    source = _vendor_xlsx()[0]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'state="visible"', b'state="bogus"', 1)
            dst.writestr(info, data)
    return out.getvalue()


def _pom_with_comment() -> bytes:
    """The real pom.xml fixture with a comment that breaks XML (a double hyphen) over several lines."""
    pom = next(p for p in sorted(GENERATE.rglob("pom.xml")))
    return pom.read_bytes().replace(b"<project", b"<!-- one\n-- two\nthree -->\n<project", 1)


DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
# Each case: the reader, the input, and what the person sees. These failed on the code before the
# fuzzing ran (a traceback, or an error message of several lines) and must stay fixed.
FOUND = {
    "spdx-rdf: a NUL byte gives a one-line error": (
        "spdx-rdf",
        lambda: b"<?xml version='1.0'?>\n<rdf:RDF\x00>",
    ),
    "xlsx: a damaged workbook gives a one-line error (SPDX Lite)": ("spdx-lite-xlsx", _broken_workbook),
    "xlsx: a damaged workbook gives a one-line error (component list)": (
        "spreadsheet-xlsx",
        _broken_workbook,
    ),
    "VEX statements: a byte YAML does not allow gives a one-line error": (
        "vex-statements",
        lambda: b"statements:\n- \x81",
    ),
    "composer.json nested 100,000 deep is refused": ("generate:composer.json", lambda: DEEP_JSON),
    "Package.resolved nested 100,000 deep is refused": ("generate:Package.resolved", lambda: DEEP_JSON),
    "conan.lock nested 100,000 deep is refused": ("generate:conan.lock", lambda: DEEP_JSON),
    "pnpm-lock.yaml nested 100,000 deep is refused (a guard: PyYAML refused it already)": (
        "generate:pnpm-lock.yaml",
        lambda: b"lockfileVersion: " + b"[" * 100_000 + b"]" * 100_000,
    ),
    "pom.xml: a broken comment gives a one-line error": ("generate:pom.xml", _pom_with_comment),
    "requirements: -r with a name too long for the file system is refused": (
        "generate:requirements*.txt",
        lambda: b"-r " + b"A" * 5000 + b"\nrequests==2.31.0\n",
    ),
    "requirements: -r with a NUL byte is refused": (
        "generate:requirements*.txt",
        lambda: b"-r \x00base.txt\nrequests==2.31.0\n",
    ),
    "component list CSV: a header cell over several lines gives a one-line error": (
        "spreadsheet-csv",
        lambda: b'"foo\nbar",x\n1,2\n',
    ),
    "Pipfile: a package entry that is a boolean": (
        "generate:Pipfile",
        lambda: b"[packages]\nrequests = true\n",
    ),
    "Pipfile.lock: a package with an empty name": (
        "generate:Pipfile.lock",
        lambda: b'{"_meta": {}, "default": {"": {"version": "==1.0"}}, "develop": {}}',
    ),
    "dpkg status: a stanza with an empty package name is skipped": (
        "ospkg:dpkg-status",
        lambda: (
            b"Package: \nStatus: install ok installed\nVersion: 1.0\n\nPackage: bash\n"
            b"Status: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n"
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(FOUND))
def test_found_by_fuzzing(case: str) -> None:
    name, make = FOUND[case]
    reader = _reader(name)
    try:
        result = reader.read(make())
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).strip() == str(exc), repr(exc)
        return
    if name == "ospkg:dpkg-status":
        assert [c.name for c in result.components] == ["bash"]
    elif name == "generate:Pipfile":  # declared without a version: read, with no version
        assert [(c.name, c.version) for c in result.components] == [("requests", None)]
    else:
        raise AssertionError(f"{case}: read without an error: {result!r}"[:500])

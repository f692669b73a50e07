"""Rich text output of ``mamori sbom check`` and ``mamori sbom diff`` in English or Japanese.

Text from the SBOMs (file names, component names, versions, hashes, problem details) goes in as
:func:`mamori.display.plain` or with ``markup=False``, never as rich markup."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mamori.display import plain, visible
from mamori.sbom.check import CheckReport, Problem
from mamori.sbom.diff import Change, DiffReport
from mamori.sbom.messages import label, text

MAX_LISTED = 5  # components named per missing element in text output; JSON lists them all


def _status(ok: bool, lang: str) -> str:
    return f"[green]{text(lang, 'ui', 'ok')}[/]" if ok else f"[red]{text(lang, 'ui', 'missing')}[/]"


def _problem_lines(problems: list[Problem], element: str, lang: str) -> list[str]:
    mine = [p for p in problems if p.element == element]
    lines = [visible(f"  {p.message[lang]}") for p in mine if p.component is None]
    by_message: dict[str, list[str]] = {}
    for p in mine:
        if p.component is not None:
            by_message.setdefault(p.message[lang], []).append(p.component)
    for message, names in by_message.items():
        shown = ", ".join(names[:MAX_LISTED])
        more = (
            f" {text(lang, 'ui', 'and_more', count=len(names) - MAX_LISTED)}"
            if len(names) > MAX_LISTED
            else ""
        )
        lines.append(visible(f"  {message} ({len(names)}): {shown}{more}"))
    return lines


def render_check(report: CheckReport, console: Console, lang: str = "en") -> None:
    result = report.result
    console.print(plain(text(lang, "ui", "check_title", profile=report.profile), style="bold"))
    for key, value in (
        ("file", report.file),
        ("format", report.format),
        ("spec_version", report.spec_version or "-"),
        ("components", report.components),
    ):
        console.print(plain(f"  {text(lang, 'ui', key)}: {value}"))
    table = Table(show_header=True, header_style="bold")
    for column in ("element", "level", "present", "status"):
        table.add_column(text(lang, "ui", column), justify="right" if column == "present" else "left")
    for element in result.elements:
        share = f"{element.present}/{element.total}"
        if element.total > 1:
            share += f" ({math.floor(100 * element.ratio)}%)"  # 903/904 is 99%, not 100%
        table.add_row(
            label(element.id, lang), text(lang, "levels", element.level), share, _status(element.passed, lang)
        )
    console.print(table)
    verdict = text(lang, "ui", "verdict_pass" if result.passed else "verdict_fail")
    console.print(f"[bold {'green' if result.passed else 'red'}]{verdict}[/]")
    if report.profile != "ntia":
        ntia = text(lang, "ui", "pass" if report.ntia.passed else "fail")
        console.print(text(lang, "ui", "ntia_verdict", verdict=ntia))
    console.print(f"[bold]{text(lang, 'ui', 'score', score=result.score)}[/]")
    for reason in result.score_reasons:
        console.print(
            "  "
            + text(
                lang,
                "ui",
                "score_reason",
                lost=reason.lost,
                label=label(reason.element, lang),
                present=reason.present,
                total=reason.total,
            )
        )
    if result.problems:
        console.print(f"[bold]{text(lang, 'ui', 'problems')}[/]")
        for element in result.elements:
            lines = _problem_lines(result.problems, element.id, lang)
            if lines:
                console.print(f" {label(element.id, lang)}")
                for line in lines:
                    console.print(line, markup=False, highlight=False)
    if report.notes:
        console.print(f"[bold]{text(lang, 'ui', 'notes')}[/]")
        for note in report.notes:
            console.print(plain(f"  {text(lang, 'notes', note)}", style="yellow"))


def _row(change: Change, category: str) -> list[Text]:
    name = plain(change.key)
    if category in ("added", "removed"):
        return [name, plain(change.version or "-")]
    cells = [name]
    if category != "version_changed":
        cells.append(plain(change.version or "-"))
    if category == "hash_changed":
        cells.append(plain(change.alg or ""))
    return [*cells, plain(change.before or "-"), plain(change.after or "-")]


def _columns(category: str, lang: str) -> list[str]:
    if category in ("added", "removed"):
        keys = ["component", "version"]
    elif category == "version_changed":
        keys = ["component", "before", "after"]
    elif category == "hash_changed":
        keys = ["component", "version", "algorithm", "before", "after"]
    else:
        keys = ["component", "version", "before", "after"]
    return [text(lang, "ui", key) for key in keys]


def render_diff(report: DiffReport, console: Console, lang: str = "en") -> None:
    console.print(plain(text(lang, "ui", "diff_title", a=report.a, b=report.b), style="bold"))
    summary = Table(title=text(lang, "ui", "summary"), show_header=True, header_style="bold")
    summary.add_column(text(lang, "ui", "change"))
    summary.add_column(text(lang, "ui", "count"), justify="right")
    for category in report.CATEGORIES:
        summary.add_row(text(lang, "ui", category), str(len(report.category(category))))
    summary.add_row(text(lang, "ui", "unchanged"), str(report.unchanged))
    console.print(summary)
    if report.empty:
        console.print(text(lang, "ui", "no_differences"))
        return
    for category in report.CATEGORIES:
        changes = report.category(category)
        if not changes:
            continue
        table = Table(
            title=f"{text(lang, 'ui', category)} ({len(changes)})", show_header=True, header_style="bold"
        )
        for column in _columns(category, lang):
            table.add_column(column, overflow="fold")
        for change in changes:
            table.add_row(*_row(change, category))
        console.print(table)

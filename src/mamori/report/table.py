"""The terminal table: a summary (counts by severity and status, components affected, KEV, fixable,
coverage), then the most urgent findings, one line each (gate first, most severe first, score), and a
line saying how many more there are and how to see them all (``--all``, or another format); components
not evaluated last, with the reason in the report's language.

The finding lines are laid out here, not by rich's ``Table``: column widths come from the cells'
terminal width (:func:`rich.cells.cell_len`, so Japanese and other wide characters line up), and the
whole block is printed as one styled text. Rich's table measured and wrapped every cell of every row,
which took most of a 20,000-finding scan's time. On a terminal the columns fit its width (a component
name, fixed versions or match method too long for it are cut with "…", and on a terminal narrower
than about 90 columns the match method is left out); on a pipe or in a file nothing is cut.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.text import Text

from mamori.display import visible
from mamori.report.messages import text
from mamori.report.rows import counts_line, coverage_line, status_line, summary_line
from mamori.scan.result import RATING_ORDER, RATINGS, Finding, NotEvaluated, ScanResult
from mamori.triage.texts import state_label

#: findings the default table lists after the summary (``--top``)
DEFAULT_TOP = 20

_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "none": "dim",
    "unknown": "dim",
}


_STATUS_STYLE = {
    "affected": "bold",
    "under_investigation": "",
    "open": "",
    "not_affected": "dim",
    "fixed": "dim",
}

COLUMNS = ("component", "version", "vulnerability", "rating", "kev", "fixed", "method", "status")
_GAP = "  "
# columns that give up width when a terminal is too narrow, in this order, and the least each keeps
_SHRINK = (("fixed", 8), ("method", 10), ("component", 12), ("version", 10))


def _order(f: Finding) -> tuple[bool, int, float, str, str]:
    """Findings in the gate first (most severe first), then those not affected or fixed."""
    v = f.vulnerability
    return (f.out_of_gate, -RATING_ORDER.get(v.rating, -1), -(v.score or 0.0), f.component.name, v.id)


def ordered(result: ScanResult) -> list[Finding]:
    """The findings in the table's order (:func:`_order`)."""
    return sorted(result.findings, key=_order)


def cells(f: Finding, lang: str) -> tuple[list[str], list[str]]:
    """One finding's cells (plain text, control characters made visible) and their styles."""
    v = f.vulnerability
    score = f" {v.score:.1f}" if v.score is not None else ""
    values = [
        visible(f.component.name),
        visible(f.component.version or ""),
        visible(v.id),
        f"{text(lang, 'ratings', v.rating)}{score}",
        text(lang, "text", "kev_yes") if v.kev is not None else "",
        visible(", ".join(f.fixed_versions[:2])),
        f"{f.match.method} ({text(lang, 'confidence', f.match.confidence)})",
        state_label(f.status, lang),
    ]
    styles = ["", "", "", _STYLE[v.rating], "bold red" if v.kev is not None else "", "", "", ""]
    styles[7] = _STATUS_STYLE.get(f.status, "")
    return values, styles


def widths(header: Sequence[str], rows: Sequence[Sequence[str]], limit: int | None) -> list[int]:
    """Each column's width in terminal cells: the widest cell, then, when ``limit`` (the terminal's
    width) is given and the line is longer, the columns of :data:`_SHRINK` narrowed in turn and, if that
    is not enough, the match method left out (width 0)."""
    out = [cell_len(h) for h in header]
    for row in rows:
        for i, value in enumerate(row):
            n = cell_len(value)  # ASCII strings are measured fast by rich
            if n > out[i]:
                out[i] = n
    if limit is None:
        return out
    excess = sum(out) + len(_GAP) * (len(out) - 1) - limit
    for name, least in _SHRINK:
        if excess <= 0:
            break
        i = COLUMNS.index(name)
        cut = min(excess, max(0, out[i] - max(least, cell_len(header[i]))))
        out[i] -= cut
        excess -= cut
    if excess > 0:  # still too wide (an 80-column terminal): the match method goes (JSON, --all in a file)
        out[COLUMNS.index("method")] = 0
    return out


def _fit(value: str, width: int) -> str:
    """``value`` padded to ``width`` cells, or cut to it with "…"."""
    n = cell_len(value)
    if n <= width:
        return value + " " * (width - n)
    return set_cell_size(value, width - 1) + "…"


def findings_text(findings: Sequence[Finding], lang: str, limit: int | None = None) -> Text:
    """The finding lines (a header, a rule, one line per finding) as one styled text."""
    header = [text(lang, "columns", c) for c in COLUMNS]
    laid = [cells(f, lang) for f in findings]
    size = widths(header, [values for values, _styles in laid], limit)
    keep = [i for i, w in enumerate(size) if w]  # a column of width 0 is left out
    last = keep[-1]
    out = Text(no_wrap=True, overflow="ignore", end="")
    out.append(_GAP.join(_fit(header[i], size[i]) for i in keep).rstrip() + "\n", style="bold")
    out.append(_GAP.join("─" * size[i] for i in keep) + "\n", style="dim")
    for f, (values, styles) in zip(findings, laid, strict=True):
        start = len(out)
        for i in keep:
            shown = _fit(values[i], size[i]) if i < last else values[i]
            out.append(shown, style=styles[i] or None)
            out.append(_GAP if i < last else "\n")
        if f.out_of_gate:
            out.stylize("dim", start, len(out))
    return out


def print_result(
    result: ScanResult, console: Console, lang: str = "en", top: int | None = DEFAULT_TOP
) -> None:
    """The table report on ``console``: the summary, then the ``top`` most urgent findings and a line
    saying how many more there are (every finding when ``top`` is None)."""
    echo = console.print
    echo(
        visible(text(lang, "text", "title", target=result.target)),
        style="bold",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if result.demo:
        echo(text(lang, "text", "demo"), style="yellow")
    notice = (result.triage or {}).get("notice")
    if notice:
        echo(visible(notice), style="yellow", markup=False, highlight=False, soft_wrap=True)
    counts = result.by_rating()
    echo(counts_line(result, lang), highlight=False, markup=False)
    if result.findings:
        echo(
            text(lang, "text", "by_rating")
            + ": "
            + ", ".join(f"{text(lang, 'ratings', r)} {counts[r]}" for r in RATINGS if counts[r]),
            highlight=False,
            markup=False,
        )
        echo(status_line(result, lang), highlight=False, markup=False, soft_wrap=True)
        echo(summary_line(result, lang), highlight=False, markup=False, soft_wrap=True)
    echo(
        visible(coverage_line(result, lang)),
        style="yellow" if result.partial else None,
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    outside = sum(1 for f in result.findings if f.out_of_gate)
    if outside:
        echo(text(lang, "text", "out_of_gate", count=outside), style="dim", highlight=False, soft_wrap=True)
    total = len(result.findings)
    if not total:
        echo(nothing_found(result, lang), style="yellow" if result.partial else None)
    elif top == 0:
        echo(text(lang, "text", "none_listed", count=total), highlight=False, markup=False, soft_wrap=True)
    else:
        findings = ordered(result)
        shown = findings if top is None else findings[:top]
        title = "all_title" if len(shown) == total else "top_title"
        echo()
        echo(text(lang, "text", title, shown=len(shown), total=total), style="bold", highlight=False)
        limit = console.width if console.is_terminal else None
        echo(findings_text(shown, lang, limit), soft_wrap=True, highlight=False)
        if len(shown) < total:
            echo(
                text(lang, "text", "more", count=total - len(shown)),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    if result.not_evaluated:
        echo(text(lang, "text", "not_evaluated", count=result.components_not_evaluated()), style="yellow")
        grouped: dict[str, list[NotEvaluated]] = {}
        others: list[NotEvaluated] = []
        for n in result.not_evaluated:
            if n.code == "coverage":
                grouped.setdefault(str(n.values.get("scope")), []).append(n)
            else:
                others.append(n)
        for notes in grouped.values():  # one line per scope: the reason is the same for all
            line = text(lang, "text", "coverage_group", count=len(notes), reason=notes[0].text(lang))
            echo(f"  {visible(line)}", markup=False, highlight=False)
        for n in others[:50]:
            echo(f"  {visible(n.component.label)}: {visible(n.text(lang))}", markup=False, highlight=False)
        if len(others) > 50:
            echo(f"  … +{len(others) - 50}")


def nothing_found(result: ScanResult, lang: str) -> str:
    """What to say when there is no finding: never "no known vulnerability" for what was not checked."""
    missing = result.components_not_evaluated()
    if result.coverage.empty:
        return text(lang, "text", "empty_store")
    if missing and missing >= result.components:
        return text(lang, "text", "nothing_evaluated")
    if missing:
        return text(lang, "text", "none_evaluated", evaluated=result.components - missing, count=missing)
    return text(lang, "text", "none_found")


def render(result: ScanResult, lang: str = "en", top: int | None = None) -> bytes:
    """Plain text (no colours) for ``-o FILE``: every finding unless ``top`` is given."""
    buffer = io.StringIO()
    print_result(result, Console(file=buffer, width=160, color_system=None, force_terminal=False), lang, top)
    return buffer.getvalue().encode("utf-8")

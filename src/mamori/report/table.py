"""The terminal table (rich): findings sorted by severity, a summary with the coverage line, components
not evaluated (with the reason in the report's language)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mamori.display import plain, visible
from mamori.report.messages import text
from mamori.report.rows import counts_line, coverage_line, status_line
from mamori.scan.result import RATING_ORDER, RATINGS, Finding, NotEvaluated, ScanResult
from mamori.triage.texts import state_label

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


def _order(f: Finding) -> tuple[bool, int, float, str, str]:
    """Findings in the gate first (most severe first), then those not affected or fixed."""
    v = f.vulnerability
    return (f.out_of_gate, -RATING_ORDER.get(v.rating, -1), -(v.score or 0.0), f.component.name, v.id)


def print_result(result: ScanResult, console: Console, lang: str = "en") -> None:
    console.print(
        visible(text(lang, "text", "title", target=result.target)),
        style="bold",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if result.demo:
        console.print(text(lang, "text", "demo"), style="yellow")
    notice = (result.triage or {}).get("notice")
    if notice:
        console.print(visible(notice), style="yellow", markup=False, highlight=False, soft_wrap=True)
    if result.findings:
        table = Table(show_lines=False)
        for column in ("component", "version", "vulnerability", "rating", "kev", "fixed", "method", "status"):
            keep = column in ("vulnerability", "version", "rating", "status")
            table.add_column(text(lang, "columns", column), overflow="fold", no_wrap=keep)
        for f in sorted(result.findings, key=_order):
            v = f.vulnerability
            score = f" {v.score:.1f}" if v.score is not None else ""
            table.add_row(
                plain(f.component.name),
                plain(f.component.version or ""),
                plain(v.id),
                Text.from_markup(f"[{_STYLE[v.rating]}]{text(lang, 'ratings', v.rating)}{score}[/]"),
                text(lang, "text", "kev_yes") if v.kev is not None else "",
                plain(", ".join(f.fixed_versions[:2])),
                Text(f"{f.match.method} ({text(lang, 'confidence', f.match.confidence)})"),
                Text(state_label(f.status, lang), style=_STATUS_STYLE.get(f.status, "")),
                style="dim" if f.out_of_gate else None,
            )
        console.print(table)
    else:
        console.print(nothing_found(result, lang), style="yellow" if result.partial else None)
    counts = result.by_rating()
    console.print(counts_line(result, lang), highlight=False, markup=False)
    console.print(
        text(lang, "text", "by_rating")
        + ": "
        + ", ".join(f"{text(lang, 'ratings', r)} {counts[r]}" for r in RATINGS if counts[r]),
        highlight=False,
        markup=False,
    )
    console.print(
        visible(coverage_line(result, lang)),
        style="yellow" if result.partial else None,
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if result.findings:
        console.print(status_line(result, lang), highlight=False, markup=False, soft_wrap=True)
    outside = sum(1 for f in result.findings if f.out_of_gate)
    if outside:
        console.print(
            text(lang, "text", "out_of_gate", count=outside), style="dim", highlight=False, soft_wrap=True
        )
    if result.not_evaluated:
        console.print(
            text(lang, "text", "not_evaluated", count=result.components_not_evaluated()), style="yellow"
        )
        grouped: dict[str, list[NotEvaluated]] = {}
        others: list[NotEvaluated] = []
        for n in result.not_evaluated:
            if n.code == "coverage":
                grouped.setdefault(str(n.values.get("scope")), []).append(n)
            else:
                others.append(n)
        for notes in grouped.values():  # one line per scope: the reason is the same for all
            line = text(lang, "text", "coverage_group", count=len(notes), reason=notes[0].text(lang))
            console.print(f"  {visible(line)}", markup=False, highlight=False)
        for n in others[:50]:
            console.print(
                f"  {visible(n.component.label)}: {visible(n.text(lang))}", markup=False, highlight=False
            )
        if len(others) > 50:
            console.print(f"  … +{len(others) - 50}")


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


def render(result: ScanResult, lang: str = "en") -> bytes:
    """Plain text (no colours) for ``-o FILE``."""
    buffer = io.StringIO()
    print_result(result, Console(file=buffer, width=160, color_system=None, force_terminal=False), lang)
    return buffer.getvalue().encode("utf-8")

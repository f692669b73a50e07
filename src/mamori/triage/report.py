"""Output of ``mamori triage``: findings grouped by SSVC outcome with the path through the tree (text), or JSON."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mamori.display import visible
from mamori.fileio import write_bytes_atomic
from mamori.scan.result import ScanResult
from mamori.triage import ssvc
from mamori.triage.context import Context
from mamori.triage.engine import Triaged, distribution, group_by_outcome
from mamori.triage.policy import Violation
from mamori.triage.texts import basis_label, state_label, text
from mamori.triage.variants import Variant, question_dict

EXAMPLES = 3  # findings shown per group of findings with the same reasons (--verbose: all)


def counts_by_status(items: Sequence[Triaged]) -> dict[str, int]:
    """Findings per triage status (open, under_investigation, affected, not_affected, fixed)."""
    from mamori.triage.state import STATUSES

    out = dict.fromkeys(STATUSES, 0)
    for t in items:
        out[t.status] = out.get(t.status, 0) + 1
    return out


def questions(items: Sequence[Triaged], lang: ssvc.Lang) -> list[dict[str, Any]]:
    """Every assumed point once, with how many findings it affects and the value assumed."""
    counts: dict[str, int] = {}
    assumed: dict[str, set[str]] = {}
    for t in items:
        for i in t.assessment.assumed:
            counts[i.point] = counts.get(i.point, 0) + 1
            assumed.setdefault(i.point, set()).add(i.value)
    out = []
    for point, count in counts.items():
        q = question_dict(point, lang)
        q["findings"] = count
        q["assumed"] = sorted(assumed[point])
        out.append(q)
    return out


@dataclass(frozen=True)
class TriageReport:
    """Everything ``mamori triage`` prints: the scan, the variant, the decisions and the gate."""

    result: ScanResult
    variant: Variant
    items: Sequence[Triaged]
    lang: ssvc.Lang
    product: str
    context: Context | None = None
    violations: Sequence[Violation] = ()
    warnings: Sequence[str] = ()
    notice: str | None = None  # the ranking assumed the worst case for context: said first
    assumed: Sequence[dict[str, Any]] = ()
    verbose: bool = False  # list every finding, not examples per group

    def render(self, fmt: str) -> bytes:
        if fmt == "json":
            return orjson.dumps(as_data(self), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        return as_text(self).encode("utf-8")


def as_data(r: TriageReport) -> dict[str, Any]:
    items, lang = r.items, r.lang
    return {
        "target": r.result.target,
        "product": r.product,
        "variant": r.variant.as_dict(lang),
        "context": r.context.path if r.context is not None else None,
        "summary": {
            "findings": len(items),
            "by_outcome": {val.id: len(group) for val, group in group_by_outcome(items)},
        },
        "findings": [t.as_dict(lang) for t in items],
        "by_status": counts_by_status(items),
        "worst_case": {"assumed": list(r.assumed), "notice": r.notice},
        "questions": questions(items, lang),
        "policy": [x.as_dict(lang) for x in r.violations],
        "warnings": list(r.warnings),
    }


def _facts_line(t: Triaged, lang: ssvc.Lang) -> str:
    f = t.subject.facts
    parts = [f"CVSS {f.cvss.score:g}" if f.cvss and f.cvss.score is not None else "CVSS —"]
    parts.append(f"EPSS {f.epss.score:.4g}" if f.epss else "EPSS —")
    if f.kev:
        parts.append("KEV")
    score = f"{text('score', lang)} {t.score:g}" if t.score is not None else f"{text('score', lang)} —"
    status = t.status
    shown = f"  [{state_label(status, lang)}]" if status != "open" else ""
    return f"{score} ({', '.join(parts)}){shown}"


def _finding_line(t: Triaged, lang: ssvc.Lang) -> str:
    c = t.subject.component
    return f"{t.subject.facts.vuln_id}  {c.label}  {_facts_line(t, lang)}"


def _path(t: Triaged, v: Variant, lang: ssvc.Lang) -> tuple[str, ...]:
    """The path through the tree (and, with high skill, what --set replaced): findings with the same path
    are shown once, with a count."""
    lines = [f"    {t.assessment.path_text(lang)}"]
    if v.skill == "high":
        for o in t.assessment.overridden:
            lines.append(f"    ! --set replaced {o.point}={o.value} ({o.source}: {o.describe(lang)})")
    return tuple(lines)


def _evidence(t: Triaged, v: Variant, lang: ssvc.Lang) -> tuple[str, ...]:
    if v.skill != "low":
        return ()
    return tuple(f"      · {line}" for line in t.assessment.explanations(lang, evidenced_only=True))


def _group_lines(r: TriageReport) -> list[str]:
    """Per outcome, findings decided along the same path once: the path, the count, the evidence when
    it is the same for all, and examples (every finding, each with its evidence, with ``verbose``)."""
    lines: list[str] = []
    v, lang = r.variant, r.lang
    for outcome, group in group_by_outcome(r.items):
        lines.append(f"{outcome.name.get(lang)} ({outcome.id}) — {len(group)} {text('findings', lang)}")
        lines.append(f"  {outcome.description.get(lang)}")
        by_path: dict[tuple[str, ...], list[Triaged]] = {}
        for t in group:
            by_path.setdefault(_path(t, v, lang), []).append(t)
        for path, members in by_path.items():
            if len(members) == 1:
                lines.append(f"  {_finding_line(members[0], lang)}")
                lines.extend(path)
                lines.extend(_evidence(members[0], v, lang))
                continue
            lines.append(f"  {text('same_reason', lang, count=len(members))}")
            lines.extend(path)
            evidence = {_evidence(t, v, lang) for t in members}
            same = len(evidence) == 1
            if same:
                lines.extend(next(iter(evidence)))
            elif v.skill == "low" and not r.verbose:
                lines.append(f"      · {text('evidence_differs', lang)}")
            shown = members if r.verbose else members[:EXAMPLES]
            for t in shown:
                lines.append(f"      - {_finding_line(t, lang)}")
                if r.verbose and not same:
                    lines.extend(f"    {x}" for x in _evidence(t, v, lang))
            if len(members) > len(shown):
                lines.append(f"      {text('more_findings', lang, count=len(members) - len(shown))}")
        lines.append("")
    return lines


def _question_lines(r: TriageReport) -> list[str]:
    asked = questions(r.items, r.lang)
    lang = r.lang
    if not asked:
        return []
    if r.variant.skill == "high":
        shown = ", ".join(f"{q['point']}={'/'.join(q['assumed'])} ({q['findings']})" for q in asked)
        return [f"{basis_label('assumed', lang)}: {shown} — {text('override_hint', lang, point='POINT')}", ""]
    lines = [text("questions", lang)]
    for q in asked:
        lines.append(f"  {q['point']} — {q['name']}: {q['question']}")
        used = text("question_used_by", lang, count=q["findings"])
        lines.append(f"    {used}; {basis_label('assumed', lang)}: {', '.join(q['assumed'])}")
        lines.extend(f"    - {a['value']} ({a['name']}): {a['description']}" for a in q["answers"])
    return [*lines, ""]


def as_text(r: TriageReport) -> str:
    v, lang = r.variant, r.lang
    lines = [f"mamori triage: {r.result.target} ({r.product})"]
    if r.notice:
        lines.append(f"! {r.notice}")
    lines += [
        f"{text('variant', lang)}: {v.label(lang)} — {text('table', lang)}: {v.table.name.get(lang)} ({v.table.id})",
        f"  {v.summary(lang)}",
        "",
    ]
    if not r.items:
        lines.append(text("no_findings", lang))
    lines.extend(_group_lines(r))
    lines.extend(_question_lines(r))
    counts = distribution(r.items)
    if counts:
        lines.append(", ".join(f"{k}: {n}" for k, n in counts.items()))
        statuses = counts_by_status(r.items)
        lines.append(
            f"{text('by_status', lang)}: "
            + ", ".join(f"{state_label(k, lang)} {n}" for k, n in statuses.items() if n)
        )
    lines.extend(x.message(lang) for x in r.violations)
    lines.extend(f"warning: {w}" for w in r.warnings)
    # text from inputs (names, versions, the target, context and policy texts) shows its control
    # characters as escapes, in the terminal and in the file a person reads
    return "\n".join(visible(line) for line in lines).rstrip() + "\n"


def emit(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_bytes_atomic(output, data)
    sys.stderr.write(f"{visible(output)}\n")

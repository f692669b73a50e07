"""What to say once, at the top, when the ranking had to assume the worst case for context nobody gave.

Context points (who can reach the system, what its failure does to the work and to people, how rich a
target it is) are the user's to answer. When none is given (no stored product context, no context file,
no ``--set``), the SSVC trees take each one's most cautious value and every finding lands in the most
urgent outcomes its data allows. :func:`worst_case` says so in one line, with the values assumed and the
one command that sets the context for the product once. No I/O.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from mamori.triage.context import Context, context_points
from mamori.triage.engine import Triaged
from mamori.triage.texts import text
from mamori.triage.variants import Variant

# The options of `mamori product context set` (other context points: --set POINT=VALUE)
OPTIONS = ("system_exposure", "mission_impact", "safety_impact", "value_density")


def option(point: str) -> str:
    return f"--{point.replace('_', '-')}"


def set_command(product: str | None, points: Sequence[str]) -> str:
    """The command that sets these context points for the product, values to choose shown as {a|b|c}."""
    from mamori.triage import ssvc

    catalog = ssvc.default_catalog()
    parts = ["mamori", "product", "context", "set", shlex.quote(product) if product else "PRODUCT"]
    for point in points:
        values = "|".join(v.id for v in catalog.points[point].values)
        if point in OPTIONS:
            parts.append(f"{option(point)} {{{values}}}")
        else:
            parts.append(f"--set {point}={{{values}}}")
    return " ".join(parts)


def assumed_context(items: Sequence[Triaged]) -> list[dict[str, Any]]:
    """Every context point some finding had to assume: point, values assumed, how many findings."""
    allowed = set(context_points())
    counts: dict[str, int] = {}
    values: dict[str, set[str]] = {}
    # findings share assessments: each one's assumed inputs counted once per finding that has it,
    # the assessments taken in the order of their first finding (the order the points are listed in)
    shared: dict[int, list[Any]] = {}  # id → [assessment, findings]
    for t in items:
        entry = shared.get(id(t.assessment))
        if entry is None:
            shared[id(t.assessment)] = [t.assessment, 1]
        else:
            entry[1] += 1
    for assessment, findings in shared.values():
        for i in assessment.assumed:
            if i.point in allowed:
                counts[i.point] = counts.get(i.point, 0) + findings
                values.setdefault(i.point, set()).add(i.value)
    return [{"point": p, "assumed": sorted(values[p]), "findings": n} for p, n in counts.items()]


def worst_case(
    items: Sequence[Triaged],
    v: Variant,
    context: Context | None,
    product: str | None,
    lang: str = "en",
    assumed: list[dict[str, Any]] | None = None,
) -> tuple[str | None, list[dict[str, Any]]]:
    """(the notice, or None when no context point was assumed; the points assumed). ``assumed``: what
    :func:`assumed_context` gives for ``items``, when the caller has it already."""
    assumed = assumed_context(items) if assumed is None else assumed
    if not assumed:
        return None, []
    shown = ", ".join(f"{a['point']}={'/'.join(a['assumed'])}" for a in assumed)
    command = set_command(product, [a["point"] for a in assumed])
    key = "worst_case_none" if context is None or context.empty else "worst_case_some"
    name = product or text("this_product", lang)
    return text(key, lang, product=name, values=shown, command=command, table=v.table.id), assumed

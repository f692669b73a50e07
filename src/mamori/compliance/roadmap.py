"""Step-up roadmap: widen coverage in the steps the SSDF demonstration proposes (50 % → 80 % → 100 % of tasks,
from ``ssdf.yaml``'s ``extra.step_up``), each newly covered task at least at level 1, then deepen to a target level.

Coverage (breadth) counts the tasks that reach level 1 or more (or are implemented, when no level is given);
tasks answered not applicable leave the base. The seed proposes ordering tasks by difficulty but assigns none,
so the order here is our reading (documented in the output): tasks already begun (partial) first, then tasks
for which the Japanese guidelines give guidance (more ◎/○ cells in the mapping first), then tasks that only a
△ covers, and last the structural gaps no Japanese guideline covers; catalog order breaks ties.
The other catalogs are ordered by their own levels instead of the mapping (the checklist: every mandatory
item 必須 before any advanced one 高度; catalogs without levels count every item as mandatory); within a level,
items already begun come first, then catalog order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import Assessment, is_mandatory
from mamori.compliance.gaps import GUIDING_GRADES

DEFAULT_STEPS = (50, 80, 100)


@dataclass
class Step:
    percent: int
    target_count: int
    add: list[cat.Item] = field(default_factory=list)
    raise_to: dict[str, int] = field(default_factory=dict)  # item id → level to reach (depth)
    reached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "percent": self.percent,
            "target_count": self.target_count,
            "reached": self.reached,
            "add": [
                {"id": i.id, "title": {"ja": i.title.ja, "en": i.title.en}, "mandatory": is_mandatory(i)}
                for i in self.add
            ],
            "raise_to": self.raise_to,
        }


@dataclass
class Roadmap:
    assessment: Assessment
    base: int
    covered: list[str]
    not_applicable: list[str]
    steps: list[Step]
    target_level: int | None

    @property
    def coverage_percent(self) -> float:
        return round(100.0 * len(self.covered) / self.base, 1) if self.base else 100.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "assessment": self.assessment.id,
            "framework": self.assessment.framework,
            "base": self.base,
            "covered": len(self.covered),
            "coverage_percent": self.coverage_percent,
            "not_applicable": self.not_applicable,
            "target_level": self.target_level,
            "steps": [s.to_dict() for s in self.steps],
        }


def step_percents(catalog: cat.Catalog) -> tuple[int, ...]:
    step_up = catalog.extra.get("step_up") if catalog.framework == "ssdf" else None
    return tuple(step_up["coverage_percent"]) if step_up else DEFAULT_STEPS


def _is_covered(status: str | None, level: int | None) -> bool:
    return level >= 1 if level is not None else status == "implemented"


def difficulty(item: cat.Item, status: str | None) -> tuple[int, int]:
    """Sort key, easiest first (see the module docstring)."""
    begun = 0 if status == "partial" else 1
    mapping = item.extra.get("mapping")
    if isinstance(mapping, dict):
        grades = [cell.get("grade") for cell in mapping.values()]
        guiding = sum(grade in GUIDING_GRADES for grade in grades)
        band = 0 if guiding else (1 if "△" in grades else 2)
        return begun * 10 + band, -guiding
    return (0 if is_mandatory(item) else 1) * 10 + begun, 0


def plan(assessment: Assessment, target_level: int | None = None) -> Roadmap:
    catalog = assessment.catalog
    items = assessment.items()
    na = [i.id for i in items if assessment.answer(i.id).status == "not_applicable"]
    open_items = [i for i in items if i.id not in na]
    covered = [
        i.id for i in open_items if _is_covered(assessment.answer(i.id).status, assessment.answer(i.id).level)
    ]
    order = {item.id: n for n, item in enumerate(catalog.items)}
    todo = sorted(
        (i for i in open_items if i.id not in covered),
        key=lambda i: (*difficulty(i, assessment.answer(i.id).status), order[i.id]),
    )
    base = len(open_items)
    steps: list[Step] = []
    have = len(covered)
    for percent in step_percents(catalog):
        step = Step(percent, math.ceil(base * percent / 100))
        need = max(0, step.target_count - have)
        step.add, todo = todo[:need], todo[need:]
        step.reached = need == 0
        have += len(step.add)
        steps.append(step)
    if target_level is not None and assessment.framework == "ssdf" and steps:
        last = steps[-1]
        for item in open_items:
            level = assessment.answer(item.id).level
            if (level or 0) < target_level:
                last.raise_to[item.id] = target_level
    return Roadmap(assessment, base, covered, na, steps, target_level)

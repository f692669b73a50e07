"""Gap analysis: the applicable items not yet met, mandatory ones first, grouped by duty / category /
requirement (SSDF: group / practice; checklist: table / category; ☆1: product or vendor item), with totals per
group and, for SSDF, the level distribution in the shape of the demonstration's results table (001).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import LEVELS, MET, STATUSES, Assessment, is_mandatory
from mamori.compliance.messages import both

#: SSDF ↔ Japanese guideline grades that give a task usable guidance (includes / equivalent).
GUIDING_GRADES = ("◎", "○")


@dataclass
class Tally:
    """Applicable items of a group by status."""

    key: str
    title: cat.Text
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*STATUSES, "unanswered"), 0))

    @property
    def applicable(self) -> int:
        return sum(self.counts.values())

    @property
    def met_percent(self) -> float:
        """Implemented share of the items that apply (not-applicable ones left out)."""
        base = self.applicable - self.counts["not_applicable"]
        return round(100.0 * self.counts["implemented"] / base, 1) if base else 100.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": {"ja": self.title.ja, "en": self.title.en},
            "applicable": self.applicable,
            "counts": dict(self.counts),
            "met_percent": self.met_percent,
        }


@dataclass
class Gap:
    item: cat.Item
    path: list[cat.Item]
    status: str | None
    level: int | None
    mandatory: bool
    owner: str | None
    due: str | None
    overdue: bool
    guidance: list[str]  # SSDF: Japanese guidelines that cover the task (◎/○)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "title": {"ja": self.item.title.ja, "en": self.item.title.en},
            "path": [{"id": p.id, "title": {"ja": p.title.ja, "en": p.title.en}} for p in self.path],
            "status": self.status or "unanswered",
            "level": self.level,
            "mandatory": self.mandatory,
            "owner": self.owner,
            "due": self.due,
            "overdue": self.overdue,
            "guidance": self.guidance,
        }


@dataclass
class GapReport:
    assessment: Assessment
    gaps: list[Gap]
    groups: list[Tally]
    total: Tally
    levels: dict[str, list[int]] | None = None  # SSDF: group → counts of level 0..3, plus "total"
    unrated: int = 0

    def to_dict(self) -> dict[str, Any]:
        a = self.assessment
        out: dict[str, Any] = {
            "assessment": a.id,
            "framework": a.framework,
            "catalog_version": a.catalog_version,
            "organization": a.organization,
            "scope": a.scope,
            "roles": list(a.roles),
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "gaps": [g.to_dict() for g in self.gaps],
        }
        if self.levels is not None:
            out["levels"] = {"columns": list(LEVELS), "rows": self.levels, "unrated": self.unrated}
        return out


def group_key(catalog: cat.Catalog, item: cat.Item) -> tuple[str, cat.Text]:
    """The outermost grouping of an item: its top ancestor, or for ☆1 whether it is a product or vendor item."""
    chain = catalog.ancestors(item)
    if chain:
        return chain[0].id, chain[0].title
    subject = (item.extra.get("subject") or {}).get("value")
    if subject in ("product", "vendor"):
        return subject, cat.Text(**both(f"group.{subject}"))
    return catalog.framework, catalog.title


def guidance(item: cat.Item) -> list[str]:
    mapping = item.extra.get("mapping")
    if not isinstance(mapping, dict):
        return []
    return [key for key, cell in mapping.items() if cell.get("grade") in GUIDING_GRADES]


def level_table(catalog: cat.Catalog, levels: dict[str, int | None]) -> tuple[dict[str, list[int]], int]:
    """SSDF tasks counted per group and level 0-3 (``total`` last); tasks without a level are counted apart."""
    rows: dict[str, list[int]] = {group.id: [0] * len(LEVELS) for group in catalog.of_kind("group")}
    unrated = 0
    for task in catalog.of_kind("task"):
        level = levels.get(task.id)
        if level is None:
            unrated += 1
            continue
        rows[catalog.ancestors(task)[0].id][level] += 1
    rows["total"] = [sum(row[i] for row in rows.values()) for i in range(len(LEVELS))]
    return rows, unrated


def analyse(assessment: Assessment, today: dt.date | None = None) -> GapReport:
    catalog = assessment.catalog
    today = today or dt.date.today()
    groups: dict[str, Tally] = {}
    total = Tally("total", cat.Text(**both("group.total")))
    gaps: list[Gap] = []
    for item in assessment.items():
        answer = assessment.answer(item.id)
        status = answer.status or "unanswered"
        key, title = group_key(catalog, item)
        groups.setdefault(key, Tally(key, title)).counts[status] += 1
        total.counts[status] += 1
        if answer.status in MET:
            continue
        overdue = bool(answer.due and dt.date.fromisoformat(answer.due) < today)
        gaps.append(
            Gap(
                item=item,
                path=catalog.ancestors(item),
                status=answer.status,
                level=answer.level,
                mandatory=is_mandatory(item),
                owner=answer.owner,
                due=answer.due,
                overdue=overdue,
                guidance=guidance(item),
            )
        )
    order = {item.id: n for n, item in enumerate(catalog.items)}
    # under their headings: a source may print a heading twice (checklist Table 12 prints 対外対応 at L2762 and
    # L2915, so T12-31 under T12.B.2 comes after the T12.C items); ordering by the path keeps each item under
    # its own heading
    gaps.sort(key=lambda g: (not g.mandatory, [order[p.id] for p in g.path], order[g.item.id]))
    report = GapReport(assessment, gaps, list(groups.values()), total)
    if assessment.framework == "ssdf":
        levels = {item.id: assessment.answer(item.id).level for item in assessment.items()}
        report.levels, report.unrated = level_table(catalog, levels)
    return report


def demonstration(catalog: cat.Catalog) -> dict[str, Any]:
    """The SSDF demonstration's published results as the catalog records them (group distribution, total)."""
    demo = catalog.extra["demonstration"]
    rows = {group: list(counts) for group, counts in demo["distribution"].items()}
    rows["total"] = list(demo["total"])
    rated = {t.id: t.extra["demo_level"] for t in catalog.of_kind("task") if "demo_level" in t.extra}
    return {"rows": rows, "tasks": rated, "source_line": demo["source_line"]}

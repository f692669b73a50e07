"""Planners over METI's SBOM guide v2.0 models (catalogs sbom-response-model and sbom-transaction-model).

- Response model: pick options (a1 ... f3, c'1 ... c''3) and get the cost profile (small / medium / large as
  printed), the axes decided and not yet decided, the options the text pairs with a choice, and the
  transaction-model clauses that pin the choices down in a contract.
- Transaction model: the contract-clause checklist for a procurement, basic (the 10 items expected in every
  sector) or advanced (all 22), as XLSX with drop-downs or as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori import cells
from mamori.compliance import catalog as cat
from mamori.compliance.messages import t
from mamori.errors import InputError
from mamori.fileio import atomic_writer, write_bytes_atomic
from mamori.i18n import gettext

RESPONSE = "sbom-response-model"
TRANSACTION = "sbom-transaction-model"
COSTS = ("small", "medium", "large")
COST_SCORE = {"small": 1, "medium": 2, "large": 3}
CONTRACT_LEVELS = ("basic", "advanced")


@dataclass
class ResponsePlan:
    chosen: list[cat.Item]
    by_axis: dict[str, list[cat.Item]]
    missing_axes: list[cat.Item]
    costs: dict[str, int]
    related: list[tuple[cat.Item, list[str]]] = field(default_factory=list)
    clauses: list[cat.Item] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(COST_SCORE[cost(item)] for item in self.chosen)

    @property
    def contributions(self) -> dict[str, int]:
        """Points each cost level adds to the score: the number of options chosen at that level × its weight."""
        return {level: self.costs[level] * COST_SCORE[level] for level in COSTS}

    @property
    def peak(self) -> str | None:
        found = [cost(item) for item in self.chosen]
        return max(found, key=COST_SCORE.__getitem__) if found else None

    def to_dict(self) -> dict[str, Any]:
        catalog = cat.load(RESPONSE)
        return {
            "options": [item.id for item in self.chosen],
            "axes": [
                {
                    "id": axis.id,
                    "title": {"ja": axis.title.ja, "en": axis.title.en},
                    "chosen": [
                        {"id": o.id, "title": {"ja": o.title.ja, "en": o.title.en}, "cost": cost(o)}
                        for o in self.by_axis.get(axis.id, [])
                    ],
                }
                for axis in catalog.of_kind("axis")
            ],
            "missing_axes": [axis.id for axis in self.missing_axes],
            "cost_profile": {**self.costs, "score": self.score, "peak": self.peak},
            "score": score_explanation(self),
            "related": [{"option": item.id, "with": ids} for item, ids in self.related],
            "clauses": [{"id": c.id, "title": {"ja": c.title.ja, "en": c.title.en}} for c in self.clauses],
        }


def cost(item: cat.Item) -> str:
    return item.extra["cost"]["value"]


def max_score() -> int:
    """The highest score with one option on every axis: the costliest option of each axis added up."""
    catalog = cat.load(RESPONSE)
    return sum(
        max((COST_SCORE[cost(o)] for o in catalog.children(axis) if o.kind == "option"), default=0)
        for axis in catalog.of_kind("axis")
    )


def score_explanation(plan: ResponsePlan) -> dict[str, Any]:
    """What the score counts, each cost level's share, and the maximum, in both languages."""
    parts = {
        level: {
            "options": plan.costs[level],
            "weight": COST_SCORE[level],
            "points": plan.contributions[level],
        }
        for level in COSTS
    }
    values = {
        "score": plan.score,
        "max": max_score(),
        **{f"{level}_n": plan.costs[level] for level in COSTS},
        **{f"{level}_points": plan.contributions[level] for level in COSTS},
    }
    crowded = [axis for axis, items in plan.by_axis.items() if len(items) > 1]
    out: dict[str, Any] = {
        "value": plan.score,
        "max": values["max"],
        "weights": dict(COST_SCORE),
        "components": parts,
        "explanation": {lang: t("plan.score_explained", lang, **values) for lang in ("ja", "en")},
        "basis": {lang: t("plan.score_basis", lang) for lang in ("ja", "en")},
    }
    if crowded:
        out["several_on_one_axis"] = crowded
    return out


def parse_options(text: str) -> list[str]:
    return [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]


def plan_response(option_ids: list[str]) -> ResponsePlan:
    catalog = cat.load(RESPONSE)
    options = catalog.of_kind("option")
    chosen: list[cat.Item] = []
    for option_id in option_ids:
        item = catalog.get(option_id)
        if item is None or item.kind != "option":
            raise InputError(
                None,
                gettext("unknown option {option_id!r}; options are {names}").format(
                    option_id=option_id, names=", ".join(o.id for o in options)
                ),
            )
        if item not in chosen:
            chosen.append(item)
    if not chosen:
        raise InputError(None, gettext("--options needs at least one option, e.g. a1,b1,c2,d1,e1,f2"))
    order = {item.id: n for n, item in enumerate(catalog.items)}
    chosen.sort(key=lambda i: order[i.id])
    by_axis: dict[str, list[cat.Item]] = {}
    for item in chosen:
        by_axis.setdefault(item.parent or "", []).append(item)
    missing = [axis for axis in catalog.of_kind("axis") if axis.id not in by_axis]
    costs = dict.fromkeys(COSTS, 0)
    for item in chosen:
        costs[cost(item)] += 1
    chosen_ids = {item.id for item in chosen}
    related = []
    for item in chosen:
        pair = (item.extra.get("related_options") or {}).get("value") or []
        absent = [other for other in pair if other not in chosen_ids]
        if absent:
            related.append((item, absent))
    clauses = [
        clause
        for clause in cat.load(TRANSACTION).of_kind("item")
        if any(
            cat.id_key(ref) in {cat.id_key(i) for i in chosen_ids} for ref in clause.refs.get(RESPONSE, ())
        )
    ]
    return ResponsePlan(chosen, by_axis, missing, costs, related, clauses)


def response_lines(plan: ResponsePlan, lang: cat.Lang) -> list[str]:
    catalog = cat.load(RESPONSE)
    lines = [f"{catalog.title.get(lang)}"]
    for axis in catalog.of_kind("axis"):
        picked = plan.by_axis.get(axis.id, [])
        lines.append(f"({axis.id}) {axis.title.get(lang)}")
        for item in picked:
            lines.append(
                f"    {item.id:<5} {item.title.get(lang)}  [{t('plan.cost', lang)}: {t('plan.cost_' + cost(item), lang)}]"
            )
        if not picked:
            lines.append("    -")
    costs = plan.costs
    lines.append(
        t(
            "plan.profile",
            lang,
            small=costs["small"],
            medium=costs["medium"],
            large=costs["large"],
            peak=t("plan.cost_" + plan.peak, lang) if plan.peak else "-",
        )
    )
    explained = score_explanation(plan)
    lines.append("    " + explained["explanation"][lang])
    lines.append("    " + explained["basis"][lang])
    if "several_on_one_axis" in explained:
        lines.append(
            "    "
            + t(
                "plan.score_several", lang, axes=", ".join(f"({a})" for a in explained["several_on_one_axis"])
            )
        )
    total = len(catalog.of_kind("axis"))
    lines.append(t("plan.axes", lang, done=total - len(plan.missing_axes), total=total))
    if plan.missing_axes:
        lines.append(
            f"{t('plan.missing_axes', lang)}: "
            + ", ".join(f"({a.id}) {a.title.get(lang)}" for a in plan.missing_axes)
        )
    for item, absent in plan.related:
        lines.append(t("plan.related", lang, option=item.id, related=", ".join(absent)))
    if plan.clauses:
        lines.append(f"{t('plan.clauses', lang)}:")
        lines += [f"    {c.id} {c.title.get(lang)}" for c in plan.clauses]
    return lines


# --------------------------------------------------------------------------------------------- contract


def contract_items(level: str) -> list[cat.Item]:
    if level not in CONTRACT_LEVELS:
        raise InputError(
            None, gettext("--level must be basic or advanced, not {level!r}").format(level=level)
        )
    items = cat.load(TRANSACTION).of_kind("item")
    return [i for i in items if level == "advanced" or i.applicability.level.value == "basic"]  # type: ignore[union-attr]


def _contract_rows(items: list[cat.Item], lang: cat.Lang) -> list[dict[str, str]]:
    catalog = cat.load(TRANSACTION)
    footnote = ((catalog.extra.get("footnotes") or {}).get("footnote2") or {}).get(lang, "")
    rows = []
    for item in items:
        parent = catalog.get(item.parent or "")
        level = item.applicability.level.value if item.applicability.level else ""
        rows.append(
            {
                "id": item.id,
                "category": parent.title.get(lang) if parent else "",
                "title": item.title.get(lang),
                "summary": item.summary.get(lang),
                "level": t(f"plan.level_{level}", lang) if level else "",
                "order_spec": "○" if item.extra.get("order_spec") else "",
                "common_contract": footnote if item.extra.get("footnote2") else "",
                "options": ", ".join(item.refs.get(RESPONSE, ())),
            }
        )
    return rows


def contract_markdown(level: str, lang: cat.Lang) -> str:
    items = contract_items(level)
    lines = [f"# {t('plan.contract_title', lang, level=t('plan.level_' + level, lang))}", ""]
    current = None
    for row in _contract_rows(items, lang):
        if row["category"] != current:
            current = row["category"]
            lines += ["", f"## {current}", ""]
        extras = [row["level"]]
        if row["order_spec"]:
            extras.append(t("plan.order_spec", lang))
        if row["common_contract"]:
            extras.append(row["common_contract"])
        if row["options"]:
            extras.append(f"{t('plan.options_ref', lang)}: {row['options']}")
        lines.append(f"- [ ] **{row['id']} {row['title']}** ({'; '.join(extras)})")
        lines.append(f"      {row['summary']}")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def write_contract(level: str, path: Path, lang: cat.Lang) -> int:
    """The checklist as .xlsx or .md (by suffix); returns the number of clauses."""
    suffix = path.suffix.lower()
    if suffix == ".md":
        write_bytes_atomic(path, contract_markdown(level, lang).encode("utf-8"))
    elif suffix == ".xlsx":
        _write_contract_xlsx(level, path, lang)
    else:
        raise InputError(path, gettext("the checklist is written as .xlsx or .md"))
    return len(contract_items(level))


def _write_contract_xlsx(level: str, path: Path, lang: cat.Lang) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    rows = _contract_rows(contract_items(level), lang)
    keys = [
        ("id", "ID", 8),
        ("category", t("plan.category", lang), 18),
        ("title", t("label.item", lang), 28),
        ("summary", t("label.summary", lang), 60),
        ("level", t("plan.level_basic", lang) + "/" + t("plan.level_advanced", lang), 10),
        ("order_spec", t("plan.order_spec", lang), 14),
        ("options", t("plan.options_ref", lang), 14),
        ("common_contract", t("plan.common_contract", lang), 30),
        ("agreed", t("plan.agreed", lang), 10),
        ("clause", t("plan.clause_ref", lang), 18),
        ("note", t("plan.note", lang), 30),
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = "SBOM contract"[:31]
    ws.append(cells.xlsx_row(ws, [t("plan.contract_title", lang, level=t("plan.level_" + level, lang))]))
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(cells.xlsx_row(ws, [name for _, name, _ in keys]))
    for n, (_, _, width) in enumerate(keys, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
        ws.cell(row=2, column=n).font = Font(bold=True)
    for row in rows:
        ws.append(cells.xlsx_row(ws, [row.get(key, None) for key, _, _ in keys]))
    for line in ws.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    agreed = get_column_letter([k for k, _, _ in keys].index("agreed") + 1)
    dv = DataValidation(type="list", formula1=f'"{t("plan.agreed_values", lang)}"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add(f"{agreed}3:{agreed}{len(rows) + 2}")
    ws.freeze_panes = "C3"
    with atomic_writer(path) as fh:
        wb.save(fh)

"""A supplier's delivery checked against the agreed terms: ``check(terms, delivery) -> list[Gap]``.

Every clause gets one result per agreed term value — ``met``, ``gap`` (what was agreed and what was found)
or ``confirm`` (a person has to confirm it: the clause cannot be checked by a machine, no value was agreed,
or the delivery lacks what would tell, such as the dates) — and clauses that were not agreed one
``not_agreed`` line. Nothing is passed silently. Results carry the catalog's item ids and seed references.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori import cells
from mamori.contract.messages import pair, text
from mamori.contract.terms import ItemTerm, Terms, items, params_of
from mamori.display import visible
from mamori.errors import InputError
from mamori.fileio import atomic_writer, write_bytes_atomic
from mamori.i18n import LANGS, _
from mamori.model import Component, Document
from mamori.model.vex import VexDocument

STATUSES = ("met", "gap", "confirm", "not_agreed")
Bi = dict[str, str]


@dataclass(frozen=True)
class Advisory:
    """A security advisory the supplier sent: when the vulnerability became known and when they told us."""

    id: str
    known: dt.date | None = None
    notified: dt.date | None = None


@dataclass
class Delivery:
    """What a supplier delivered: SBOMs (parsed, with the file they came from), VEX documents, advisories,
    a self-conformity declaration (the JSON of :mod:`mamori.compliance.declaration`) and dates."""

    sboms: list[tuple[str, Document]] = field(default_factory=list)
    vex: list[VexDocument] = field(default_factory=list)
    advisories: list[Advisory] = field(default_factory=list)
    declaration: dict[str, Any] | None = None
    delivered: dt.date | None = None
    release_date: dt.date | None = None
    critical_published: dt.date | None = None  # the publication date of a new critical CVE
    channel: str = "file"  # file | online

    def components(self) -> list[Component]:
        from mamori.sbom.check import checked_components

        return [c for _name, doc in self.sboms for c in checked_components(doc)]


@dataclass(frozen=True)
class Gap:
    """The result of one term: ``status`` met | gap | confirm | not_agreed."""

    item: str
    title: Bi
    term: str  # a parameter of data/contract/terms.yaml, or "item" for the clause as a whole
    status: str
    agreed: Bi
    found: Bi
    reason: Bi | None
    source: str  # seed file and line of the clause

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "title": self.title,
            "term": self.term,
            "term_name": pair("param", self.term),
            "status": self.status,
            "status_name": pair("status", self.status),
            "agreed": self.agreed,
            "found": self.found,
            "reason": self.reason,
            "source": self.source,
        }


def _same(value: str) -> Bi:
    return dict.fromkeys(LANGS, value)


def _percent(share: float) -> str:
    """Rounded down to one decimal: 1115 of 1116 is 99.9 %, never 100 %."""
    return f"{math.floor(share * 1000) / 10:g}"


def _agreed_text(name: str, value: Any) -> Bi:
    if value is True or value is False:
        return pair("value", "yes" if value else "no")
    if name == "formats":
        parts = [f"{spec} {' '.join(v)}".strip() for spec, v in value.items()]
        words = [p if " " in p else None for p in parts]
        return {
            lang: ", ".join(
                w or f"{p} ({text('value', 'any_version', lang)})" for w, p in zip(words, parts, strict=True)
            )
            for lang in LANGS
        }
    if isinstance(value, list):
        return _same(", ".join(value))
    if name in ("licenses", "hashes"):
        return {lang: text("value", "share", lang, percent=_percent(value)) for lang in LANGS}
    if name.endswith("_days"):
        return {lang: text("value", "days", lang, days=value) for lang in LANGS}
    if name in ("depth", "delivery", "minimum_elements"):
        return pair("value", str(value))
    return _same(str(value))


class _Checker:
    def __init__(self, delivery: Delivery) -> None:
        self.d = delivery
        self.components = delivery.components() if delivery.sboms else []

    def none(self) -> Bi:
        return pair("value", "none")

    # each returns (status, found, reason)
    def formats(self, agreed: dict[str, list[str]]) -> tuple[str, Bi, Bi | None]:
        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        found, bad = [], False
        for name, doc in self.d.sboms:
            spec = "spdx" if doc.spec.startswith("spdx") else doc.spec
            version = (doc.spec_version or "").removeprefix("SPDX-")
            found.append(f"{spec} {version}".strip() + f" ({Path(name).name})")
            versions = agreed.get(spec)
            if versions is None or (versions and version not in versions):
                bad = True
        return ("gap" if bad else "met"), _same(", ".join(found)), None

    def _share(self, has: Iterable[bool], wanted: float) -> tuple[str, Bi, Bi | None]:
        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        flags = list(has)
        count, total = sum(flags), len(flags)
        share = count / total if total else 0.0
        found = {
            lang: text("value", "share_found", lang, count=count, total=total, percent=_percent(share))
            for lang in LANGS
        }
        return ("met" if total and share + 1e-9 >= wanted else "gap"), found, None

    def identifiers(self, agreed: list[str]) -> tuple[str, Bi, Bi | None]:
        def has(c: Component) -> bool:
            return any(
                (kind == "purl" and c.purl) or (kind == "cpe" and c.cpes) or (kind == "swid" and c.swid)
                for kind in agreed
            )

        return self._share((bool(has(c)) for c in self.components), 1.0)

    def licenses(self, agreed: float) -> tuple[str, Bi, Bi | None]:
        from mamori.sbom.check import given

        return self._share(
            (given(c.license_declared) or given(c.license_concluded) for c in self.components), agreed
        )

    def hashes(self, agreed: float) -> tuple[str, Bi, Bi | None]:
        return self._share((bool(c.hashes) for c in self.components), agreed)

    def minimum_elements(self, agreed: str) -> tuple[str, Bi, Bi | None]:
        from mamori.sbom.check import check_document

        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        failed: list[str] = []
        for name, doc in self.d.sboms:
            report = check_document(doc, file=name)
            failed += [
                f"{e.id} ({e.present}/{e.total}, {Path(name).name})"
                for e in report.ntia.elements
                if e.level == "required" and not e.passed
            ]
        if not failed:
            return "met", pair("value", "all_present"), None
        return (
            "gap",
            {lang: text("value", "missing", lang, names=", ".join(failed)) for lang in LANGS},
            None,
        )

    def components_(self, agreed: list[str]) -> tuple[str, Bi, Bi | None]:
        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        names = {c.name.lower() for c in self.components} | {
            f"{c.group}/{c.name}".lower() for c in self.components if c.group
        }
        purls = [c.purl.lower() for c in self.components if c.purl]
        missing = [
            w for w in agreed if w.lower() not in names and not any(p.startswith(w.lower()) for p in purls)
        ]
        return self._missing(missing)

    def _missing(self, missing: list[str]) -> tuple[str, Bi, Bi | None]:
        if missing:
            return (
                "gap",
                {lang: text("value", "missing", lang, names=", ".join(missing)) for lang in LANGS},
                None,
            )
        return "met", pair("value", "all_present"), None

    def component_types(self, agreed: list[str]) -> tuple[str, Bi, Bi | None]:
        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        types = {c.type.lower() for c in self.components}
        return self._missing([w for w in agreed if w.lower() not in types])

    def depth(self, agreed: str) -> tuple[str, Bi, Bi | None]:
        from mamori.sbom.check import DependencyGraph, checked_components

        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        deepest, direct, indirect = 0, 0, 0
        for _name, doc in self.d.sboms:
            graph = DependencyGraph(doc, checked_components(doc))
            level = {r: 0 for r in graph.roots}
            frontier = list(graph.roots)
            while frontier:
                nxt = []
                for key in frontier:
                    for target in graph.edges.get(key, ()):
                        if target not in level:
                            level[target] = level[key] + 1
                            nxt.append(target)
                frontier = nxt
            depths = [v for v in level.values() if v > 0]
            deepest = max([deepest, *depths])
            direct += sum(1 for v in depths if v == 1)
            indirect += sum(1 for v in depths if v > 1)
        found = {
            lang: text("value", "depth_found", lang, depth=deepest, direct=direct, indirect=indirect)
            for lang in LANGS
        }
        needed = 2 if agreed == "transitive" else 1
        return ("met" if deepest >= needed else "gap"), found, None

    def delivery(self, agreed: str) -> tuple[str, Bi, Bi | None]:
        found = pair("value", self.d.channel)
        if agreed == self.d.channel:
            return "met", found, None
        if agreed == "online":
            return "confirm", found, pair("reason", "not_file")
        return "gap", found, None

    def vex(self, agreed: bool) -> tuple[str, Bi, Bi | None]:
        statements = sum(len(v.statements) for v in self.d.vex)
        found = (
            {
                lang: text("value", "vex_docs", lang, count=len(self.d.vex), statements=statements)
                for lang in LANGS
            }
            if self.d.vex
            else self.none()
        )
        if not agreed:
            return "met", found, None
        return ("met" if self.d.vex else "gap"), found, None if self.d.vex else pair("reason", "no_vex")

    def _days(
        self, start: dt.date | None, end: dt.date | None, limit: int, why: str
    ) -> tuple[str, Bi, Bi | None]:
        if start is None or end is None:
            return "confirm", self.none(), pair("reason", why)
        days = (end - start).days
        found = {lang: text("value", "days_found", lang, days=days) for lang in LANGS}
        return ("met" if days <= limit else "gap"), found, None

    def vex_within_days(self, agreed: int) -> tuple[str, Bi, Bi | None]:
        if not self.d.vex:
            return "gap", self.none(), pair("reason", "no_vex")
        stamps = [v.timestamp or v.last_updated for v in self.d.vex]
        dates = [s.date() for s in stamps if s is not None]
        return self._days(self.d.critical_published, min(dates) if dates else None, agreed, "no_vex_dates")

    def with_each_release(self, agreed: bool) -> tuple[str, Bi, Bi | None]:
        if not agreed:
            return "met", self.none(), None
        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        if self.d.release_date is None:
            return "confirm", self.none(), pair("reason", "no_dates")
        found = {
            lang: text("value", "dates", lang, release=self.d.release_date, delivered=self.d.delivered or "-")
            for lang in LANGS
        }
        return "met", found, None

    def sbom_within_days(self, agreed: int) -> tuple[str, Bi, Bi | None]:
        if not self.d.sboms:
            return "gap", self.none(), pair("reason", "no_sbom")
        return self._days(self.d.release_date, self.d.delivered, agreed, "no_dates")

    def advisory_within_days(self, agreed: int) -> tuple[str, Bi, Bi | None]:
        dated = [a for a in self.d.advisories if a.known and a.notified]
        if not dated:
            return "confirm", self.none(), pair("reason", "no_advisories")
        late = [a.id for a in dated if (a.notified - a.known).days > agreed]  # type: ignore[operator]
        if late:
            return (
                "gap",
                {lang: text("value", "advisories_late", lang, ids=", ".join(late)) for lang in LANGS},
                None,
            )
        return (
            "met",
            {lang: text("value", "advisories_found", lang, count=len(dated)) for lang in LANGS},
            None,
        )

    def triage(self, agreed: bool) -> tuple[str, Bi, Bi | None]:
        if not agreed:
            return "met", self.none(), None
        if not self.d.vex:
            return "gap", self.none(), pair("reason", "no_vex")
        statements = [s for v in self.d.vex for s in v.statements]
        told = [
            s
            for s in statements
            if s.justification or s.action_statement or s.impact_statement or s.responses
        ]
        found = {
            lang: text("value", "statements_found", lang, count=len(told), total=len(statements))
            for lang in LANGS
        }
        return ("met" if told else "gap"), found, None if told else pair("reason", "no_triage")

    def declaration(self, agreed: bool) -> tuple[str, Bi, Bi | None]:
        decl = self.d.declaration
        if decl is None:
            return (
                ("gap" if agreed else "met"),
                self.none(),
                pair("reason", "no_declaration") if agreed else None,
            )
        found = {
            lang: text(
                "value",
                "declaration_found",
                lang,
                organization=visible(decl.get("organization", "?")),
                date=visible(decl.get("date", "?")),
            )
            for lang in LANGS
        }
        return "met", found, None


def check(terms: Terms, delivery: Delivery) -> list[Gap]:
    """Every clause's result against ``delivery``, in catalog order."""
    checker = _Checker(delivery)
    out: list[Gap] = []
    for item in items():
        term = terms.items.get(item.id) or ItemTerm(False)
        title = {"ja": item.title.ja, "en": item.title.en}
        source = f"{item.source.file.split('_')[0]} L{item.source.line}"
        if not term.agreed:
            out.append(
                Gap(item.id, title, "item", "not_agreed", pair("value", "no"), _same("-"), None, source)
            )
            continue
        checkable = params_of(item.id)
        if not checkable:
            out.append(
                Gap(
                    item.id,
                    title,
                    "item",
                    "confirm",
                    pair("value", "yes"),
                    _same("-"),
                    pair("reason", "person"),
                    source,
                )
            )
            continue
        if not term.params:
            out.append(
                Gap(
                    item.id,
                    title,
                    "item",
                    "confirm",
                    pair("value", "yes"),
                    _same("-"),
                    pair("reason", "no_value"),
                    source,
                )
            )
            continue
        for param in checkable:
            if param.name not in term.params:
                continue
            value = term.params[param.name]
            method = getattr(checker, "components_" if param.name == "components" else param.name)
            status, found, reason = method(value)
            out.append(
                Gap(
                    item.id, title, param.name, status, _agreed_text(param.name, value), found, reason, source
                )
            )
    return out


def exit_code(results: list[Gap]) -> int:
    return 1 if any(r.status == "gap" for r in results) else 0


def counts(results: list[Gap]) -> dict[str, int]:
    return {s: sum(1 for r in results if r.status == s) for s in STATUSES}


# --------------------------------------------------------------------------------------------- reports


def _row(r: Gap, lang: str) -> list[str]:
    return [
        r.item,
        r.title[lang],
        text("param", r.term, lang),
        text("status", r.status, lang),
        r.agreed[lang],
        r.found[lang],
        r.reason[lang] if r.reason else "",
        r.source,
    ]


def _header(lang: str) -> list[str]:
    return [
        text("report", k, lang)
        for k in ("item", "title_col", "term", "status", "agreed", "found", "reason", "source")
    ]


def write_report(path: Path, supplier: str, results: list[Gap], files: list[str]) -> None:
    """The report to send back to the supplier, in Japanese and English: .xlsx (a sheet per language, cells
    through :mod:`mamori.cells`) or .md."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(path, supplier, results, files)
    elif suffix == ".md":
        write_bytes_atomic(path, markdown(supplier, results, files).encode("utf-8"))
    else:
        raise InputError(path, _("the report is written as .xlsx or .md"))


def _md_cell(value: str) -> str:
    return visible(value).replace("|", "\\|").replace("\n", " ")


def markdown(supplier: str, results: list[Gap], files: list[str]) -> str:
    lines: list[str] = []
    tally = counts(results)
    for lang in LANGS:
        lines += [f"# {_md_cell(text('report', 'title', lang, supplier=supplier))}", ""]
        lines.append(text("report", "summary", lang, **tally))
        lines.append("")
        lines.append(f"{text('report', 'delivery', lang)}: {_md_cell(', '.join(files) or '-')}")
        lines.append("")
        header = _header(lang)
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for r in results:
            lines.append("| " + " | ".join(_md_cell(c) for c in _row(r, lang)) + " |")
        lines.append("")
    return "\n".join(lines)


def _write_xlsx(path: Path, supplier: str, results: list[Gap], files: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    fills = {"gap": "F8D7DA", "met": "D4EDDA", "confirm": "FFF3CD"}
    wb = Workbook()
    first = True
    for lang in LANGS:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = {"ja": "確認結果", "en": "Results"}.get(lang, lang)
        ws.append(cells.xlsx_row(ws, [text("report", "title", lang, supplier=supplier)]))
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(cells.xlsx_row(ws, [text("report", "summary", lang, **counts(results))]))
        ws.append(cells.xlsx_row(ws, [text("report", "delivery", lang), ", ".join(files)]))
        ws.append(cells.xlsx_row(ws, _header(lang)))
        for n, width in enumerate((8, 26, 28, 14, 28, 40, 36, 12), start=1):
            ws.column_dimensions[get_column_letter(n)].width = width
            ws.cell(row=4, column=n).font = Font(bold=True)
        for r in results:
            ws.append(cells.xlsx_row(ws, _row(r, lang)))
            if r.status in fills:
                ws.cell(row=ws.max_row, column=4).fill = PatternFill("solid", fgColor=fills[r.status])
        for line in ws.iter_rows(min_row=5):
            for cell in line:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "C5"
    with atomic_writer(path) as fh:
        wb.save(fh)

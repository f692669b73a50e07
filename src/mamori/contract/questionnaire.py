"""Questionnaires to suppliers: the assessment questionnaire (:mod:`mamori.compliance.questionnaire`) sent to a
supplier, whose answers come back into an assessment of the store owned by the supplier (its organisation is
the supplier; ``contract_questionnaire`` links supplier and framework to it). Our own assessment of the same
framework can then be compared with the supplier's (:func:`mamori.compliance.compare.compare_answers`).

Import takes every good row and rejects each bad one alone, with its sheet, row, column and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mamori.compliance import questionnaire as q
from mamori.compliance.assessment import Assessment, parse_target
from mamori.compliance.repository import Assessments
from mamori.contract import store as cs
from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store

FRAMEWORKS = ("checklist", "guideline")


@dataclass(frozen=True)
class Imported:
    assessment: Assessment
    applied: int
    changes: int
    problems: list[q.RowProblem]


def _framework(framework: str) -> str:
    if framework not in FRAMEWORKS:
        raise InputError(None, _("--framework is one of {allowed}").format(allowed=", ".join(FRAMEWORKS)))
    return framework


def supplier_assessment(store: Store, supplier: str, framework: str) -> Assessment | None:
    """The assessment holding the supplier's answers for ``framework`` (None when none was sent)."""
    ident = cs.questionnaire(store, cs.supplier_name(supplier), framework)
    return Assessments(store).get(ident) if ident is not None else None


def send(
    store: Store, supplier: str, framework: str, path: Path, actor: str | None = None
) -> tuple[Assessment, int]:
    """Write the questionnaire for ``supplier``; the first time, make the supplier's assessment (roles of a
    provider: developer, supplier). Returns the assessment and the number of questions."""
    supplier, framework = cs.supplier_name(supplier), _framework(framework)
    book = Assessments(store)
    assessment = supplier_assessment(store, supplier, framework)
    if assessment is None:
        assessment = book.create(
            framework,
            supplier,
            parse_target("provider"),
            f"questionnaire to {supplier}",
            via="contract",
            actor=actor,
        )
        cs.link_questionnaire(store, supplier, framework, int(assessment.id))
    count = q.export(assessment, path)
    return assessment, count


def receive(store: Store, supplier: str, path: Path, actor: str | None = None) -> Imported:
    """Read the supplier's filled questionnaire into its assessment: good rows applied in one transaction,
    bad rows left out, each problem returned."""
    supplier = cs.supplier_name(supplier)
    about = q.about(path)
    framework = str(about.get("framework") or "")
    assessment = supplier_assessment(store, supplier, framework) if framework in FRAMEWORKS else None
    if assessment is None:
        raise InputError(
            path,
            _(
                "no {framework} questionnaire was sent to {supplier} (mamori contract questionnaire send)"
            ).format(framework=framework or "?", supplier=supplier),
        )
    rows, problems = q.read_rows(assessment, path)
    book = Assessments(store)
    changes = book.answer_many(assessment, rows, via="xlsx", actor=actor) if rows else []
    cs.mark_imported(store, supplier, framework)
    return Imported(book.get(assessment.id), len(rows), len(changes), problems)

"""The VEX rules every statement must meet (CISA minimum requirements; seed 003 §3.11).

* ``not_affected`` needs a justification or an impact statement (CycloneDX analysis.justification or
  detail, OpenVEX justification or impact_statement, CSAF flag or impact threat).
* ``affected`` needs an action statement (CycloneDX analysis.response or detail, OpenVEX
  action_statement, CSAF remediation).

:func:`check` lists the breaches; :func:`enforce` raises one InputError naming the file, the
vulnerability and the product(s) for the first breach (or keeps them as warnings when lenient).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mamori.errors import InputError
from mamori.i18n import N_, _
from mamori.model.vex import VexDocument, VexStatement


@dataclass(frozen=True)
class RuleBreach:
    vulnerability: str
    products: str
    status: str
    problem: str

    def __str__(self) -> str:
        return _("{vulnerability} for {products}: {problem}").format(
            vulnerability=self.vulnerability, products=self.products, problem=self.problem
        )


NOT_AFFECTED_RULE = N_(
    "status not_affected needs a justification or an impact statement "
    "(CycloneDX analysis.justification, OpenVEX justification/impact_statement, CSAF flag or impact threat)"
)
AFFECTED_RULE = N_(
    "status affected needs an action statement "
    "(CycloneDX analysis.response or detail, OpenVEX action_statement, CSAF remediation)"
)


def products_label(statement: VexStatement) -> str:
    labels = list(dict.fromkeys(p.label for p in statement.products))
    if not labels:
        return _("all products")
    shown = ", ".join(labels[:3])
    return shown + (_(" and {count} more").format(count=len(labels) - 3) if len(labels) > 3 else "")


def check(doc: VexDocument) -> list[RuleBreach]:
    breaches = []
    for st in doc.statements:
        if st.status == "not_affected" and not st.has_justification:
            breaches.append(
                RuleBreach(st.vulnerability.id, products_label(st), st.status, _(NOT_AFFECTED_RULE))
            )
        elif st.status == "affected" and not st.has_action:
            breaches.append(RuleBreach(st.vulnerability.id, products_label(st), st.status, _(AFFECTED_RULE)))
    return breaches


def enforce(doc: VexDocument, path: str | Path | None, strict: bool = True) -> list[RuleBreach]:
    """Raise InputError for the first breach when strict; otherwise record every breach as a warning."""
    breaches = check(doc)
    if breaches and strict:
        more = _(" (and {count} more)").format(count=len(breaches) - 1) if len(breaches) > 1 else ""
        raise InputError(path, f"{breaches[0]}{more}")
    for breach in breaches:
        doc.warnings.append(_("rule not met: {breach}").format(breach=breach))
    return breaches

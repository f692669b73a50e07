"""JC-STAR ☆1: the label information page from its 22 fields (jcstar1-label.yaml) and the validity of the
self-declaration (at most two years from the date the label is obtained, then declared again).

Field values come from a YAML file (``LP-02: "Network camera X"``) and are kept with the assessment; fields
mamori knows are filled in when not given: the level (☆1), the applicant (the organisation), the evaluator
category (vendor self-assessment, the ☆1 route), the issue and expiry dates, and the checklist result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import MET, Assessment, parse_date
from mamori.compliance.evidence import is_url
from mamori.compliance.messages import t
from mamori.errors import InputError
from mamori.fileio import check_yaml_depth, read_bytes
from mamori.i18n import current_lang, gettext
from mamori.model.references import web_url

LABEL_CATALOG = "jcstar1-label"
REMIND_DAYS = 90
EVALUATOR_SELF = "vendor_self_assessment"


def label_catalog() -> cat.Catalog:
    return cat.load(LABEL_CATALOG)


def validity_years() -> int:
    return int(label_catalog().extra["self_declaration_validity"]["max_years"])


def valid_until(issued: dt.date) -> dt.date:
    """The last day of validity: the same date ``validity_years()`` later (28 Feb for 29 Feb)."""
    years = validity_years()
    try:
        return issued.replace(year=issued.year + years)
    except ValueError:
        return issued.replace(year=issued.year + years, day=28)


def reminder(
    assessment: Assessment, today: dt.date | None = None, window: int = REMIND_DAYS
) -> tuple[str, int] | None:
    """``("expired", days ago)`` or ``("soon", days left)`` when the validity ends within ``window`` days."""
    if not assessment.valid_until:
        return None
    today = today or dt.date.today()
    left = (dt.date.fromisoformat(assessment.valid_until) - today).days
    if left < 0:
        return "expired", -left
    if left <= window:
        return "soon", left
    return None


def read_fields(path: Path) -> dict[str, Any]:
    """Field values from YAML, keyed by field id (LP-01 ... LP-22, any NFKC spelling)."""
    raw = read_bytes(path)
    check_yaml_depth(raw, path)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(
            path,
            gettext("not a YAML mapping of label fields: {reason}").format(
                reason=" ".join(str(exc).split())[:200]
            ),
        ) from None
    if not isinstance(data, dict):
        raise InputError(path, gettext("label fields must be a YAML mapping like 'LP-02: Product name'"))
    catalog = label_catalog()
    out: dict[str, Any] = {}
    for key, value in data.items():
        item = catalog.get(str(key))
        if item is None or item.kind != "field":
            raise InputError(path, gettext("{key!r} is not a label field (LP-01 ... LP-22)").format(key=key))
        try:
            out[item.id] = check_value(item, value)
        except InputError as exc:
            raise InputError(path, exc.problem) from None
    return out


def check_value(item: cat.Item, value: Any) -> Any:
    kind = item.extra.get("value_type")
    if value is None:
        return None
    if kind == "list":
        values = value if isinstance(value, list) else [v for v in str(value).splitlines() if v.strip()]
        return [str(v).strip() for v in values]
    if isinstance(value, dt.date):
        value = value.isoformat()
    text = str(value).strip()
    if kind == "url" and not is_url(text):
        raise InputError(
            None,
            gettext("{id} ({title}) must be an http(s) URL, not {text!r}").format(
                id=item.id, title=item.title.get(current_lang()), text=text
            ),
        )
    if kind == "date":
        return parse_date(text, f"{item.id} ({item.title.get(current_lang())})")
    if kind == "enum":
        allowed = item.extra.get("values")
        allowed = allowed["value"] if isinstance(allowed, dict) else allowed
        if text not in allowed:
            raise InputError(
                None,
                gettext("{id} ({title}) must be one of {allowed}, not {text!r}").format(
                    id=item.id, title=item.title.get(current_lang()), allowed=", ".join(allowed), text=text
                ),
            )
    return text


def conformity(assessment: Assessment) -> tuple[int, int, list[str]]:
    """(items met, items assessed, ids not met) of a ☆1 assessment."""
    items = assessment.items()
    open_items = [i.id for i in items if assessment.answer(i.id).status not in MET]
    return len(items) - len(open_items), len(items), open_items


def field_values(assessment: Assessment, lang: cat.Lang, today: dt.date | None = None) -> dict[str, Any]:
    """Stored values with mamori's own filled in where none is given."""
    met, total, _ = conformity(assessment)
    until = assessment.valid_until
    expired = bool(until and dt.date.fromisoformat(until) < (today or dt.date.today()))
    known: dict[str, Any] = {
        "LP-11": "☆1",
        "LP-14": t("label_page.conformity", lang, met=met, total=total),
        "LP-15": t("label_page.status_expired" if expired else "label_page.status_valid", lang)
        if until
        else None,
        "LP-16": assessment.valid_from,
        "LP-17": assessment.valid_until,
        "LP-18": assessment.organization,
        "LP-19": EVALUATOR_SELF,
    }
    values = {k: v for k, v in known.items() if v is not None}
    values.update({k: v for k, v in assessment.label_fields.items() if v not in (None, "", [])})
    return values


def missing_required(values: dict[str, Any]) -> list[cat.Item]:
    return [
        item
        for item in label_catalog().of_kind("field")
        if item.extra.get("required") and values.get(item.id) in (None, "", [])
    ]


def render(assessment: Assessment, lang: cat.Lang, draft: bool = False, today: dt.date | None = None) -> str:
    """The label information page as one self-contained HTML file."""
    from mamori.compliance.declaration import templates

    values = field_values(assessment, lang, today)
    catalog = label_catalog()
    sections = []
    for section in catalog.of_kind("section"):
        fields = []
        for item in catalog.children(section):
            value = values.get(item.id)
            if item.id == "LP-19" and value == EVALUATOR_SELF:
                value = t("label_page.self", lang)
            link = web_url(value) if isinstance(value, str) else None  # http(s) only
            fields.append({"item": item, "value": value, "link": link})
        sections.append({"item": section, "fields": fields})
    template = templates().get_template("label.html.j2")
    return template.render(
        a=assessment,
        sections=sections,
        lang=lang,
        draft=draft,
        t=lambda key, **kw: t(key, lang, **kw),
    )

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

from mamori.compliance import catalog as cat
from mamori.compliance.assessment import MET, Assessment, parse_date
from mamori.compliance.evidence import is_url
from mamori.compliance.messages import t
from mamori.errors import InputError
from mamori.fileio import read_yaml
from mamori.i18n import _, current_lang, gettext
from mamori.model.references import web_url

LABEL_CATALOG = "jcstar1-label"
REMIND_DAYS = 90
EVALUATOR_SELF = "vendor_self_assessment"
#: Keys kept with the label fields that are not fields of the page: the page's own address (for the QR code)
#: and the product release whose findings fill LP-20 ("product@version").
PAGE_URL = "page_url"
RELEASE = "release"
SETTINGS = (PAGE_URL, RELEASE)
#: The fields mamori fills from its own data: the checklist (LP-14) and the vulnerability information (LP-20).
CHECKLIST_FIELD = "LP-14"
VULN_FIELD = "LP-20"
CONTACT_FIELD = "LP-21"


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
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, gettext("label fields must be a YAML mapping like 'LP-02: Product name'"))
    catalog = label_catalog()
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == PAGE_URL:
            out[PAGE_URL] = check_page_url(value, path)
            continue
        if key == RELEASE:
            out[RELEASE] = check_release(value, path)
            continue
        item = catalog.get(str(key))
        if item is None or item.kind != "field":
            raise InputError(
                path,
                gettext("{key!r} is not a label field (LP-01 ... LP-22, page_url, release)").format(key=key),
            )
        try:
            out[item.id] = check_value(item, value)
        except InputError as exc:
            raise InputError(path, exc.problem) from None
    return out


def check_page_url(value: Any, path: Path | None = None) -> str:
    """The address the label page is published at (what its QR code encodes): an http(s) URL."""
    text = str(value or "").strip()
    if not is_url(text) or len(text) > 2000:
        raise InputError(
            path, _("the label page URL must be an http(s) URL, not {text}").format(text=repr(text[:200]))
        )
    return text


def check_release(value: Any, path: Path | None = None) -> str:
    """``product@version``: the stored release whose findings the page reports (LP-20)."""
    text = str(value or "").strip()
    product, sep, version = text.rpartition("@")
    if not sep or not product.strip() or not version.strip():
        raise InputError(
            path, _("the release must be PRODUCT@VERSION, not {text}").format(text=repr(text[:200]))
        )
    return f"{product.strip()}@{version.strip()}"


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


def checklist(assessment: Assessment, lang: cat.Lang) -> list[dict[str, Any]]:
    """The ☆1 checklist as the page shows it (LP-14): each evaluation item with its answer."""
    out = []
    for item in assessment.items():
        status = assessment.answer(item.id).status or "unanswered"
        out.append(
            {
                "id": item.id,
                "printed_id": str(item.extra.get("printed_id") or item.id),
                "title": item.title.get(lang),
                "status": status,
                "status_label": t(f"status.{status}", lang),
                "conforms": status in MET,
            }
        )
    return out


def release_of(assessment: Assessment, engine: Any) -> tuple[str, str] | None:
    """The stored product release the page reports on: the one set with ``release``, else the single release
    whose product name and version both appear in the assessment's scope."""
    chosen = assessment.label_fields.get(RELEASE)
    if chosen:
        product, _, version = str(chosen).rpartition("@")
        return product, version
    from sqlalchemy import inspect, select

    from mamori.portfolio import tables

    if not inspect(engine).has_table(tables.ReleaseRow.__tablename__):
        return None
    p, r = tables.ProductRow.__table__, tables.ReleaseRow.__table__
    scope = assessment.scope.casefold()
    with engine.connect() as conn:
        rows = conn.execute(select(p.c.name, r.c.version).join(p, p.c.id == r.c.product_id)).all()
    found = [
        (str(name), str(version))
        for name, version in rows
        if str(name).casefold() in scope and str(version).casefold() in scope
    ]
    return found[0] if len(found) == 1 else None


def _rating(rating: str | None, score: float | None, lang: cat.Lang) -> str:
    from mamori.report.messages import text

    if not rating:
        return "-"
    label = text(lang, "ratings", rating)
    return f"{label} {score:.1f}" if isinstance(score, int | float) else label


def vulnerability_info(store: Any, assessment: Assessment, lang: cat.Lang) -> dict[str, Any] | None:
    """LP-20 from the store: the findings of the product release the page reports on (IDs, component, severity
    and the triage status), open ones first; None when no stored release is named or found."""
    found = release_of(assessment, store.engine)
    if found is None:
        return None
    from mamori.portfolio import views

    product, version = found
    view = views.release(store, product, version, lang=lang)
    findings = []
    for f in view["findings"]:
        v = f["vulnerability"]
        findings.append(
            {
                "id": v["id"],
                "aliases": list(v.get("aliases") or []),
                "component": " ".join(x for x in (f["component"]["name"], f["component"]["version"]) if x),
                "rating": v.get("rating"),
                "rating_label": _rating(v.get("rating"), v.get("score"), lang),
                "kev": bool(v.get("kev")),
                "status": f["status"],
                "status_label": f["state"]["label"],
                "open": bool(f["in_gate"]),
                "fixed_versions": list(f.get("fixed_versions") or []),
            }
        )
    sbom = view.get("sbom") or {}
    return {
        "product": product,
        "release": version,
        "open": sum(1 for f in findings if f["open"]),
        "findings": findings,
        "sbom_imported_at": sbom.get("imported_at"),
    }


def field_values(
    assessment: Assessment,
    lang: cat.Lang,
    today: dt.date | None = None,
    vulns: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stored values with mamori's own filled in where none is given."""
    met, total, _ = conformity(assessment)
    until = assessment.valid_until
    expired = bool(until and dt.date.fromisoformat(until) < (today or dt.date.today()))
    known: dict[str, Any] = {
        "LP-11": "☆1",
        CHECKLIST_FIELD: t("label_page.conformity", lang, met=met, total=total),
        "LP-15": t("label_page.status_expired" if expired else "label_page.status_valid", lang)
        if until
        else None,
        "LP-16": assessment.valid_from,
        "LP-17": assessment.valid_until,
        "LP-18": assessment.organization,
        "LP-19": EVALUATOR_SELF,
    }
    if vulns is not None:
        known[VULN_FIELD] = t(
            "label_page.vulns_summary", lang, open=vulns["open"], total=len(vulns["findings"])
        )
    values = {k: v for k, v in known.items() if v is not None}
    values.update(
        {k: v for k, v in assessment.label_fields.items() if k not in SETTINGS and v not in (None, "", [])}
    )
    return values


def missing_required(values: dict[str, Any]) -> list[cat.Item]:
    return [
        item
        for item in label_catalog().of_kind("field")
        if item.extra.get("required") and values.get(item.id) in (None, "", [])
    ]


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline SVG element (segno; error correction M, 4-module quiet zone)."""
    import segno

    code = segno.make_qr(url, error="m")
    return code.svg_inline(scale=4, border=4, title=url)


def page_url(assessment: Assessment) -> str | None:
    value = assessment.label_fields.get(PAGE_URL)
    return str(value) if value else None


def render(
    assessment: Assessment,
    lang: cat.Lang,
    draft: bool = False,
    today: dt.date | None = None,
    vulns: dict[str, Any] | None = None,
) -> str:
    """The label information page as one self-contained HTML file: the QR code of the page's own address, the
    22 fields (optional ones left empty are not shown), the ☆1 checklist under LP-14 and the product's
    findings from the store under LP-20."""
    from mamori.compliance.documents import templates

    values = field_values(assessment, lang, today, vulns)
    user_vuln_value = assessment.label_fields.get(VULN_FIELD)
    catalog = label_catalog()
    sections = []
    for section in catalog.of_kind("section"):
        fields = []
        for item in catalog.children(section):
            value = values.get(item.id)
            if value in (None, "", []) and not item.extra.get("required"):
                continue  # an optional field with nothing to say is left out, not printed as empty
            if item.id == "LP-19" and value == EVALUATOR_SELF:
                value = t("label_page.self", lang)
            if item.id == VULN_FIELD and vulns is not None:
                value = user_vuln_value or None  # the user's own text or link, shown beside the findings
            link = web_url(value) if isinstance(value, str) else None  # http(s) only
            fields.append({"item": item, "value": value, "link": link})
        if fields:
            sections.append({"item": section, "fields": fields})
    url = page_url(assessment)
    contact = values.get(CONTACT_FIELD)
    template = templates().get_template("label.html.j2")
    return template.render(
        a=assessment,
        sections=sections,
        lang=lang,
        draft=draft,
        t=lambda key, **kw: t(key, lang, **kw),
        checklist=checklist(assessment, lang),
        conformity=values.get(CHECKLIST_FIELD),
        vulns=vulns,
        contact=web_url(contact) if isinstance(contact, str) else None,
        page_url=url,
        qr=qr_svg(url) if url else None,
    )

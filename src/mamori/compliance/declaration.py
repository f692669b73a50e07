"""Self-conformity declaration (自己適合宣言): scope, catalog and its version, the approver from management, the
date, and each applicable item's status with its evidence references — as JSON (both languages in one file,
the exchange format a customer imports), and as HTML and PDF in Japanese and in English.

The JSON shape is checked by ``data/compliance/declaration.schema.json`` when a customer reads it back
(:func:`load`).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from mamori import __version__
from mamori.compliance import catalog as cat
from mamori.compliance.assessment import STATUSES, Assessment, applies, is_mandatory, leaf_items
from mamori.compliance.documents import (
    DEFAULT_REVIEW_INTERVAL,
    add_interval,
    interval_words,
    parse_interval,
    role_names,
    templates,
)
from mamori.compliance.gaps import analyse, group_key
from mamori.compliance.messages import both, t
from mamori.errors import InputError
from mamori.fileio import read_bytes, write_bytes_atomic
from mamori.i18n import LANGS, gettext

FORMAT_VERSION = "1"
SCHEMA_PATH = "data/compliance/declaration.schema.json"
#: How long a declaration stands before the organisation reviews it again, unless ``--review-interval`` says.


def parse_approver(text: str) -> dict[str, str]:
    """``"Taro Yamada, CEO"`` → name and title; both are required (the approver is from management)."""
    name, sep, title = text.partition(",")
    if not sep or not name.strip() or not title.strip():
        raise InputError(
            None,
            gettext('--approver must be "name, title" (e.g. "山田太郎, 代表取締役"), not {text!r}').format(
                text=text
            ),
        )
    return {"name": name.strip(), "title": title.strip()}


def _evidence_ref(ev: dict[str, Any]) -> dict[str, Any]:
    """What a declaration shows of a piece of evidence: local paths become file names (the hash identifies
    the file); URLs and store references are kept."""
    out = {k: v for k, v in ev.items() if k in ("kind", "artifact_kind", "sha256", "recorded_at")}
    ref = ev["ref"]
    if ev["kind"] == "file":
        ref = Path(ref).name
    elif ev["kind"] == "artifact" and not ref.startswith("store:"):
        kind, _, path = ref.partition(":")
        ref = f"{kind}:{Path(path).name}"
    out["ref"] = ref
    return out


def _validity_years(framework: str) -> int | None:
    """How long a declaration under this framework stays valid at most, where a catalog says (JC-STAR ☆1)."""
    if framework != "jcstar1":
        return None
    from mamori.compliance.jcstar import validity_years

    return validity_years()


def review(framework: str, date: str, interval: str = DEFAULT_REVIEW_INTERVAL) -> dict[str, Any]:
    """The date of the next review: the declaration's date plus the interval, and never later than the end of
    the declaration's validity where the scheme limits it (a JC-STAR self-declaration: two years)."""
    count, unit = parse_interval(interval)
    day = dt.date.fromisoformat(date)
    next_review = add_interval(day, count, unit)
    out: dict[str, Any] = {"interval": f"{count}{unit}", "next": next_review.isoformat()}
    years = _validity_years(framework)
    if years is not None:
        until = add_interval(day, years, "y")
        out["valid_until"] = until.isoformat()
        out["validity_years"] = years
        if until < next_review:
            out["next"] = until.isoformat()
    return out


def sources(catalog: cat.Catalog) -> list[dict[str, Any]]:
    """The edition of each source text the declaration rests on: the catalog's own title and version, and the
    document it was built from (title, publication date, edition note) as the catalog records them."""
    extra = catalog.extra
    note = extra.get("edition") or extra.get("published_note")
    entry: dict[str, Any] = {
        "framework": catalog.framework,
        "catalog_version": catalog.version,
        "title": {"ja": catalog.title.ja, "en": catalog.title.en},
        "document": catalog.source.get("title_ja"),
        "file": catalog.source.get("file"),
        "published": catalog.source.get("published"),
    }
    if isinstance(note, dict) and {"ja", "en"} <= note.keys():
        entry["edition_note"] = {"ja": str(note["ja"]), "en": str(note["en"])}
    if extra.get("ssdf_version"):
        entry["based_on"] = str(extra["ssdf_version"])
    return [entry]


def _inferred_roles(item: cat.Item) -> bool:
    roles = item.applicability.roles
    return roles is not None and roles.basis == "inferred"


def excluded(assessment: Assessment) -> list[dict[str, Any]]:
    """Items the role selection leaves out: each with the roles it applies to (none of which the organisation
    chose) and whether that role assignment is the catalog's reading rather than the source's words."""
    out = []
    for item in leaf_items(assessment.catalog):
        if applies(item, assessment.roles):
            continue
        out.append(
            {
                "id": item.id,
                "title": {"ja": item.title.ja, "en": item.title.en},
                "roles": list(item.applicability.role_list()),
                "roles_inferred": _inferred_roles(item),
            }
        )
    return out


def role_note(
    catalog: cat.Catalog, items: list[dict[str, Any]], left_out: list[dict[str, Any]]
) -> dict[str, Any]:
    """How many role assignments the declaration relies on are inferred, with the catalog's own explanation."""
    inferred = sum(1 for i in items if i.get("roles_inferred")) + sum(
        1 for i in left_out if i["roles_inferred"]
    )
    note = catalog.extra.get("roles_note")
    out: dict[str, Any] = {"inferred": inferred}
    if inferred:
        out["note"] = both("declaration.roles_inferred")
        if isinstance(note, dict) and {"ja", "en"} <= note.keys():
            out["catalog_note"] = {"ja": str(note["ja"]), "en": str(note["en"])}
    return out


def build(
    assessment: Assessment,
    approver: dict[str, str],
    date: str,
    review_interval: str = DEFAULT_REVIEW_INTERVAL,
) -> dict[str, Any]:
    catalog = assessment.catalog
    report = analyse(assessment)
    items = []
    for item in assessment.items():
        answer = assessment.answer(item.id)
        key, title = group_key(catalog, item)
        entry: dict[str, Any] = {
            "id": item.id,
            "title": {"ja": item.title.ja, "en": item.title.en},
            "group": {"id": key, "title": {"ja": title.ja, "en": title.en}},
            "mandatory": is_mandatory(item),
            "status": answer.status or "unanswered",
            "evidence": [_evidence_ref(ev.to_dict()) for ev in answer.evidence],
        }
        if _inferred_roles(item):
            entry["roles_inferred"] = True
        for name in ("level", "owner", "due", "reason"):
            value = getattr(answer, name)
            if value is not None:
                entry[name] = value
        items.append(entry)
    out: dict[str, Any] = {
        "mamori_declaration": FORMAT_VERSION,
        "title": both("declaration.title"),
        "framework": assessment.framework,
        "catalog": {
            "framework": catalog.framework,
            "version": assessment.catalog_version,
            "title": {"ja": catalog.title.ja, "en": catalog.title.en},
            "source": catalog.source.get("file"),
        },
        "organization": assessment.organization,
        "scope": assessment.scope,
        "roles": list(assessment.roles),
        "approver": approver,
        "date": date,
        "assessment": {"id": assessment.id, "updated_at": assessment.updated_at},
        "generated_by": f"mamori {__version__}",
        "summary": report.total.to_dict(),
        "sources": sources(catalog),
        "review": review(assessment.framework, date, review_interval),
        "items": items,
    }
    left_out = excluded(assessment)
    out["excluded"] = left_out
    out["role_applicability"] = role_note(catalog, items, left_out)
    if report.levels is not None:
        out["levels"] = {"rows": report.levels, "unrated": report.unrated}
    return out


# --------------------------------------------------------------------------------------------- rendering


def render_html(declaration: dict[str, Any], lang: cat.Lang) -> str:
    template = templates().get_template("declaration.html.j2")
    return template.render(
        d=declaration,
        lang=lang,
        t=lambda key, **kw: t(key, lang, **kw),
        statuses=STATUSES,
        interval=lambda text: interval_words(text, lang),
        role_names=lambda roles: role_names(roles, lang),
    )


def write_all(declaration: dict[str, Any], out_dir: Path, langs: tuple[cat.Lang, ...] = LANGS) -> list[Path]:
    """declaration.json plus declaration.<lang>.html and .pdf for each language; returns the paths."""
    from mamori.compliance.pdf import declaration_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "declaration.json"]
    write_bytes_atomic(written[0], orjson.dumps(declaration, option=orjson.OPT_INDENT_2) + b"\n")
    for lang in langs:
        html = out_dir / f"declaration.{lang}.html"
        write_bytes_atomic(html, render_html(declaration, lang).encode("utf-8"))
        pdf = out_dir / f"declaration.{lang}.pdf"
        write_bytes_atomic(pdf, declaration_pdf(declaration, lang))
        written += [html, pdf]
    return written


# --------------------------------------------------------------------------------------------- reading back


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files("mamori").joinpath(SCHEMA_PATH).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def load(path: str | Path) -> dict[str, Any]:
    """A declaration JSON written by mamori (by this organisation or a supplier), checked against its schema."""
    from jsonschema.exceptions import best_match

    try:
        data = orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise InputError(path, gettext("not JSON: {exc}").format(exc=exc)) from None
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or gettext("top level")
        raise InputError(
            path,
            gettext("not a mamori self-conformity declaration: {where}: {reason}").format(
                where=where, reason=error.message[:200]
            ),
        )
    try:
        dt.date.fromisoformat(data["date"])
    except ValueError:
        raise InputError(path, gettext("date {date!r} is not a date").format(date=data["date"])) from None
    return data

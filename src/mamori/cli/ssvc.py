"""``mamori ssvc ...``: SSVC decision tables as data."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, N_, _, default_lang

if TYPE_CHECKING:
    from mamori.triage import ssvc

app = typer.Typer(help="SSVC decision points and tables: list them, decide an outcome.", no_args_is_help=True)

FORMAT_HELP = "Output format: text or json."
LANG_HELP = f"Language of names and texts: en or ja ({DEFAULT_NOTE})."


def _options(fmt: str, lang: str | None) -> tuple[str, ssvc.Lang]:
    if fmt not in ("text", "json"):
        raise InputError(None, _("--format: expected text or json, got {fmt!r}").format(fmt=fmt))
    if lang is None:
        return fmt, default_lang()
    if lang not in ("en", "ja"):
        raise InputError(None, _("--lang: expected en or ja, got {lang!r}").format(lang=lang))
    return fmt, lang  # type: ignore[return-value]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _point_dict(point: ssvc.DecisionPoint, lang: ssvc.Lang) -> dict[str, Any]:
    return {
        "id": point.id,
        "ref": point.ref,
        "name": point.name.get(lang),
        "question": point.question.get(lang) if point.question else None,
        "values": [
            {"id": v.id, "key": v.key, "name": v.name.get(lang), "description": v.description.get(lang)}
            for v in point.values
        ],
    }


def table_dict(catalog: ssvc.Catalog, table: ssvc.DecisionTable, lang: ssvc.Lang) -> dict[str, Any]:
    """A table as JSON-ready data: inputs with values and conservative value, outcome values, provenance."""
    inputs = []
    for p in table.inputs:
        entry = _point_dict(p, lang)
        entry["conservative"] = table.conservative[p.id]
        sub = catalog.producer.get(p.id)
        entry["derived_by"] = sub.id if sub is not None else None
        inputs.append(entry)
    return {
        "id": table.id,
        "name": table.name.get(lang),
        "summary": table.summary.get(lang),
        "role": table.role,
        "source": dict(table.source),
        "form": table.form,
        "rules": table.rule_count,
        "rows": len(table.grid),
        "inputs": inputs,
        "outcome": _point_dict(table.outcome, lang),
    }


@app.command("tables")
def tables_cmd(
    fmt: str = typer.Option("text", "--format", help=FORMAT_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """List the decision tables with their decision points and outcomes."""
    from mamori.triage import ssvc

    fmt, lg = _options(fmt, lang)
    catalog = ssvc.default_catalog()
    if fmt == "json":
        _echo_json([table_dict(catalog, t, lg) for t in catalog.tables.values()])
        return
    for t in catalog.tables.values():
        src = t.source
        typer.echo(f"{t.id}: {t.name.get(lg)} [{t.role}; {src['namespace']}:{src['key']} {src['version']}]")
        for p in t.inputs:
            sub = catalog.producer.get(p.id)
            extra = "  " + _("(or via table {table})").format(table=sub.id) if sub is not None else ""
            typer.echo(f"  {p.id}: {' | '.join(v.id for v in p.values)}{extra}")
        typer.echo(f"  -> {t.outcome.id}: {' | '.join(v.id for v in t.outcome.values)}")


def _print_path(decision: ssvc.Decision, lang: ssvc.Lang, indent: str) -> None:
    for step in decision.path:
        how = (
            _("via {table}").format(table=step.via.table.id)
            if step.via is not None
            else _(_SOURCES.get(step.source, step.source))
        )
        typer.echo(
            f"{indent}{step.point.id} = {step.value.id}  "
            f"({step.point.name.get(lang)}: {step.value.name.get(lang)}) [{how}]"
        )
        if step.via is not None:
            _print_path(step.via, lang, indent + "  ")


#: How a decision point got its value (the path of ``ssvc decide``).
_SOURCES = {"given": N_("given"), "default": N_("default"), "derived": N_("derived")}


@app.command("decide")
def decide_cmd(
    table: str = typer.Argument(
        ..., help="Table id or alias, e.g. supplier, deployer, cisa (see `mamori ssvc tables`)."
    ),
    assignments: list[str] = typer.Argument(
        None, help="POINT=VALUE pairs, e.g. exploitation=active automatable=yes"
    ),
    fmt: str = typer.Option("text", "--format", help=FORMAT_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    conservative: bool = typer.Option(
        False,
        "--conservative",
        help="Fill points you do not give with the table's conservative (worst-case) values.",
    ),
) -> None:
    """Decide the outcome of TABLE for the given decision-point values and show the path."""
    from mamori.triage import ssvc

    fmt, lg = _options(fmt, lang)
    catalog = ssvc.default_catalog()
    t = catalog.table(table)
    defaults = catalog.conservative(t) if conservative else None
    decision = catalog.decide(t, ssvc.parse_assignments(assignments or []), defaults)
    if fmt == "json":
        _echo_json(decision.as_dict(lg))
        return
    out = decision.outcome
    typer.echo(f"{t.name.get(lg)} ({t.id}): {out.name.get(lg)} ({out.id})")
    typer.echo(f"  {out.description.get(lg)}")
    _print_path(decision, lg, "  ")

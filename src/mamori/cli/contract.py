"""``mamori contract ...``: SBOM transaction-model terms agreed per supplier, deliveries checked against them,
and questionnaires to suppliers (thin wiring over mamori.contract)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from mamori.cli.catalog import FORMAT, LANG, check_format, echo_json
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _, choose_lang

DB = typer.Option(
    None, "--db", help="Store: a SQLite path or a database URL (default: MAMORI_DB or the user data dir)."
)
BY = typer.Option(None, "--by", help="Who makes the change (default: MAMORI_USER or the login name).")

app = typer.Typer(
    help="Supplier contracts: agreed SBOM terms, delivery checks and questionnaires.", no_args_is_help=True
)
terms_app = typer.Typer(help="The SBOM transaction-model terms agreed with a supplier.", no_args_is_help=True)
questionnaire_app = typer.Typer(help="Questionnaires sent to suppliers.", no_args_is_help=True)
app.add_typer(terms_app, name="terms")
app.add_typer(questionnaire_app, name="questionnaire")


def _store(db: str | None) -> Any:
    from mamori.store import open_store

    return open_store(db)


def _date(value: str | None, what: str) -> dt.date | None:
    from mamori.compliance.assessment import parse_date

    return dt.date.fromisoformat(parse_date(value, what)) if value is not None else None


def _actor(by: str | None) -> str | None:
    from mamori.compliance.repository import default_actor

    return by or default_actor()


# --------------------------------------------------------------------------------------------- terms


@terms_app.command("set")
def terms_set(
    supplier: str = typer.Argument(..., metavar="SUPPLIER"),
    source: Path = typer.Option(
        ...,
        "--from",
        help="The filled checklist of 'mamori plan contract' (.xlsx/.md) or a terms file (.yaml/.json).",
    ),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Store the terms agreed with SUPPLIER (replacing earlier ones)."""
    choose_lang(lang)
    from mamori.contract import store as cs
    from mamori.contract.terms import load

    name = cs.supplier_name(supplier)
    terms = load(source, name)
    with _store(db) as store:
        cs.set_terms(store, terms, _actor(by))
    agreed = sum(1 for t in terms.items.values() if t.agreed)
    values = sum(len(t.params) for t in terms.items.values() if t.agreed)
    typer.echo(
        visible(
            _("{supplier}: {agreed} clauses agreed, {values} machine-checkable values").format(
                supplier=name, agreed=agreed, values=values
            )
        )
    )


@terms_app.command("show")
def terms_show(
    supplier: str = typer.Argument(..., metavar="SUPPLIER"),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Also write the terms file (.yaml or .json) that 'terms set' reads back."
    ),
    db: str | None = DB,
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Show the terms agreed with SUPPLIER; exit 3 when there are none."""
    from mamori.contract import store as cs
    from mamori.contract.check import _agreed_text
    from mamori.contract.messages import text
    from mamori.contract.terms import items

    language, fmt = choose_lang(lang), check_format(fmt)
    name = cs.supplier_name(supplier)
    with _store(db) as store:
        terms = cs.get_terms(store, name)
    if terms is None:
        _no_terms(name)
    if output is not None:
        _write_terms(output, terms.to_file_data())
    if fmt == "json":
        echo_json(terms.to_dict())
        return
    typer.echo(visible(f"{name} ({terms.source or '-'})"))
    for item in items():
        term = terms.items.get(item.id)
        state = (
            text("status", "not_agreed", language)
            if not term or not term.agreed
            else text("value", "yes", language)
        )
        typer.echo(visible(f"{item.id} {item.title.get(language)}: {state}"))
        if term and term.agreed:
            for key, value in term.params.items():
                typer.echo(
                    visible(
                        f"    {text('param', key, language)} ({key}): {_agreed_text(key, value)[language]}"
                    )
                )
            if term.clause:
                typer.echo(visible(f"    {term.clause}"))


def _no_terms(name: str) -> NoReturn:
    """Cannot judge without terms: one line on stderr, exit 3."""
    problem = _("no terms stored for supplier {name!r}").format(name=name)
    sys.stderr.write(visible("mamori: " + problem) + "\n")
    raise typer.Exit(3)


def _write_terms(path: Path, data: dict[str, Any]) -> None:
    import json

    import yaml

    from mamori.fileio import write_bytes_atomic

    suffix = path.suffix.lower()
    if suffix == ".json":
        body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    elif suffix in (".yaml", ".yml"):
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    else:
        raise InputError(path, _("terms are written as .yaml or .json"))
    write_bytes_atomic(path, body.encode("utf-8"))


# --------------------------------------------------------------------------------------------- check


@app.command()
def check(
    supplier: str = typer.Argument(..., metavar="SUPPLIER"),
    sbom: list[Path] = typer.Option([], "--sbom", help="A delivered SBOM (repeatable)."),
    vex: list[Path] = typer.Option([], "--vex", help="A delivered VEX document (repeatable)."),
    declaration: Path | None = typer.Option(None, "--declaration", help="A delivered declaration.json."),
    delivered: str | None = typer.Option(None, "--delivered", help="Date of delivery (YYYY-MM-DD)."),
    release_date: str | None = typer.Option(None, "--release-date", help="Date of the release (YYYY-MM-DD)."),
    critical: str | None = typer.Option(
        None, "--critical-published", help="Publication date of a new critical CVE the VEX answers."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="The report to send back to the supplier (.xlsx or .md)."
    ),
    db: str | None = DB,
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Check a delivery against the terms agreed with SUPPLIER: exit 0 all met, 1 gaps, 3 no terms."""
    from mamori import vex as vexio
    from mamori.contract import check as ck
    from mamori.contract import store as cs
    from mamori.contract.messages import text
    from mamori.sbom.formats import read

    language, fmt = choose_lang(lang), check_format(fmt)
    name = cs.supplier_name(supplier)
    dates = (
        _date(delivered, "--delivered"),
        _date(release_date, "--release-date"),
        _date(critical, "--critical-published"),
    )
    delivery = ck.Delivery(
        sboms=[(str(p), read(p)) for p in sbom],
        vex=[vexio.read(p) for p in vex],
        declaration=_declaration(declaration),
        delivered=dates[0],
        release_date=dates[1],
        critical_published=dates[2],
    )
    with _store(db) as store:
        terms = cs.get_terms(store, name)
    if terms is None:
        _no_terms(name)
    results = ck.check(terms, delivery)
    files = [p.name for p in [*sbom, *vex, *([declaration] if declaration else [])]]
    if output is not None:
        ck.write_report(output, name, results, files)
    if fmt == "json":
        echo_json({"supplier": name, "counts": ck.counts(results), "results": [r.to_dict() for r in results]})
    else:
        typer.echo(visible(text("report", "title", language, supplier=name)))
        for r in results:
            line = f"{r.item} {r.title[language]} — {text('param', r.term, language)}: {text('status', r.status, language)}"
            if r.status != "not_agreed":
                line += f" [{text('report', 'agreed', language)}: {r.agreed[language]}; {text('report', 'found', language)}: {r.found[language]}]"
            if r.reason:
                line += f" ({r.reason[language]})"
            typer.echo(visible(line))
        typer.echo(text("report", "summary", language, **ck.counts(results)))
    raise typer.Exit(ck.exit_code(results))


def _declaration(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    from mamori.compliance.declaration import load

    return load(path)


# --------------------------------------------------------------------------------------------- questionnaires


@questionnaire_app.command("send")
def questionnaire_send(
    supplier: str = typer.Argument(..., metavar="SUPPLIER"),
    framework: str = typer.Option("checklist", "--framework", help="checklist or guideline."),
    output: Path = typer.Option(..., "-o", "--output", help="The questionnaire to write (.xlsx)."),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Write the questionnaire for SUPPLIER (the supplier's answers are kept as its own assessment)."""
    choose_lang(lang)
    from mamori.contract.questionnaire import send

    if output.suffix.lower() != ".xlsx":
        raise InputError(output, _("the questionnaire is written as .xlsx"))
    with _store(db) as store:
        assessment, count = send(store, supplier, framework, output, _actor(by))
    typer.echo(
        visible(
            _("{count} questions for {supplier} written to {path} (assessment {id})").format(
                path=output, count=count, supplier=assessment.organization, id=assessment.id
            )
        )
    )


@questionnaire_app.command("import")
def questionnaire_import(
    supplier: str = typer.Argument(..., metavar="SUPPLIER"),
    workbook: Path = typer.Argument(..., metavar="FILE.xlsx"),
    by: str | None = BY,
    db: str | None = DB,
    lang: str | None = LANG,
) -> None:
    """Read the supplier's answers; each bad row is rejected alone with its reason (exit 1 when any is)."""
    choose_lang(lang)
    from mamori.contract.questionnaire import receive

    with _store(db) as store:
        result = receive(store, supplier, workbook, _actor(by))
    for problem in result.problems:
        sys.stderr.write(visible(f"{workbook}: {problem}") + "\n")
    typer.echo(
        _(
            "{applied} rows applied, {rejected} rejected; {changes} changes recorded (assessment {id})."
        ).format(
            applied=result.applied,
            rejected=len(result.problems),
            changes=result.changes,
            id=result.assessment.id,
        )
    )
    if result.problems:
        raise typer.Exit(1)

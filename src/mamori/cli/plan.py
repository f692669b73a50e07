"""``mamori plan ...``: METI SBOM guide v2.0 planners — response model options and transaction-model clauses."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mamori.cli.catalog import FORMAT, LANG, check_format
from mamori.i18n import choose_lang

app = typer.Typer(
    help="SBOM response-model planner and transaction-model contract checklist.", no_args_is_help=True
)


@app.command()
def response(
    options: str = typer.Option(
        ..., "--options", help="Chosen options, comma-separated: a1,b2,c1,c'1,d1,e1,f2 ..."
    ),
    lang: str | None = LANG,
    fmt: str = FORMAT,
) -> None:
    """Cost profile and coverage of a choice of SBOM response-model options."""
    from mamori.compliance import planner

    language, fmt = choose_lang(lang), check_format(fmt)
    result = planner.plan_response(planner.parse_options(options))
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    for line in planner.response_lines(result, language):
        typer.echo(line)


@app.command()
def contract(
    level: str = typer.Option("basic", "--level", help="basic (10 clauses) or advanced (all 22)."),
    output: Path = typer.Option(..., "-o", "--output", help="FILE.xlsx or FILE.md."),
    lang: str | None = LANG,
) -> None:
    """Write the SBOM transaction-model contract-clause checklist for a procurement."""
    from mamori.compliance import planner
    from mamori.compliance.messages import t

    language = choose_lang(lang)
    count = planner.write_contract(level, output, language)
    typer.echo(f"{t('declaration.written', language, path=output)} ({count})")

"""``mamori product …``, ``mamori release …`` and ``mamori portfolio …``: the products a supplier ships,
an SBOM archived per release with provenance, and the portfolio kept matched against the knowledge base.

Heavy modules (SQLAlchemy, the matcher, rich) are imported inside the commands so that
``mamori --version`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mamori.errors import InputError

product_app = typer.Typer(help="Products: add, list.", no_args_is_help=True)
release_app = typer.Typer(
    help="Releases: store an SBOM per release (with provenance), show one.", no_args_is_help=True
)
portfolio_app = typer.Typer(
    help="Portfolio: re-match every release (or what changed), list findings.", no_args_is_help=True
)

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
LANG_OPTION = typer.Option("en", "--lang", help="Language of the text output: en or ja.")
FORMAT_OPTION = typer.Option("table", "--format", help="table or json.")
RESOLVED_OPTION = typer.Option(False, "--resolved", help="Also list findings already resolved.")
TABLE_FORMATS = ("table", "json")
_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _check(output_format: str, lang: str, formats: tuple[str, ...] = TABLE_FORMATS) -> None:
    if output_format not in formats:
        raise InputError(None, f"--format: expected one of {', '.join(formats)}, got {output_format!r}")
    if lang not in ("en", "ja"):
        raise InputError(None, f"--lang: expected en or ja, got {lang!r}")


def _json(data: Any) -> None:
    import orjson

    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _view(db: str | None, output_format: str, lang: str, build: Any) -> dict[str, Any] | None:
    """``build(store)``'s view: printed as JSON (None returned) or handed back for a table."""
    from mamori.store import open_store

    _check(output_format, lang)
    with open_store(db) as store:
        view = build(store)
    if output_format == "json":
        _json(view)
        return None
    return view


def _rating(lang: str, rating: str, score: float | None) -> str:
    from mamori.report.messages import text as report_text

    label = report_text(lang, "ratings", rating)
    shown = f"{label} {score:.1f}" if score is not None else label
    return f"[{_STYLE[rating]}]{shown}[/]" if rating in _STYLE else shown


def _findings_table(lang: str, findings: list[dict[str, Any]], with_release: bool) -> Any:
    from rich.markup import escape
    from rich.table import Table

    from mamori.portfolio.messages import text
    from mamori.report.messages import text as report_text

    table = Table()
    columns = [text(lang, "columns", "product"), text(lang, "columns", "release")] if with_release else []
    columns += [
        report_text(lang, "columns", c)
        for c in ("component", "version", "vulnerability", "rating", "kev", "fixed")
    ]
    columns += [text(lang, "columns", "first_seen"), text(lang, "columns", "status")]
    keep = {report_text(lang, "columns", c) for c in ("vulnerability", "version", "rating")}
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in keep)
    for f in findings:
        v = f["vulnerability"]
        cells = [escape(f["product"]), escape(f["release"])] if with_release else []
        cells += [
            escape(f["component"]["name"]),
            escape(f["component"]["version"] or ""),
            escape(v["id"]),
            _rating(lang, v["rating"], v["score"]),
            "KEV" if v["kev"] else "",
            escape(", ".join(f["fixed_versions"][:2])),
            (f["first_seen"] or "")[:10],
            text(lang, "status", f["status"]),
        ]
        table.add_row(*cells)
    return table


def _print_findings(console: Any, lang: str, view: dict[str, Any], with_release: bool, summary: str) -> None:
    from mamori.portfolio.messages import text

    if view["findings"]:
        console.print(_findings_table(lang, view["findings"], with_release=with_release))
    else:
        console.print(text(lang, "text", "no_findings"))
    s = view["summary"]
    counts = {
        "components": s.get("components", 0),
        "affected": s["components_affected"],
        "open": s["open_findings"],
        "kev": s["kev"],
        "resolved": s["resolved_findings"],
        "not_evaluated": s["not_evaluated"],
    }
    console.print(text(lang, "text", summary, **counts))


# -- products ------------------------------------------------------------------------------------
@product_app.command("add")
def product_add(
    name: str = typer.Argument(..., help="The product's name (unique)."),
    supplier: str | None = typer.Option(None, "--supplier", help="Who supplies it (your organisation)."),
    db: str | None = DB_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Add a product."""
    from mamori.portfolio import add_product
    from mamori.portfolio.messages import text
    from mamori.store import open_store

    _check("table", lang)
    with open_store(db) as store:
        add_product(store, name, supplier)
    typer.echo(text(lang, "text", "product_added", name=name.strip()))


@product_app.command("list")
def product_list(
    output_format: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """List products with their releases and open findings."""
    from rich.console import Console
    from rich.table import Table

    from mamori.portfolio.messages import text
    from mamori.portfolio.views import products

    view = _view(db, output_format, lang, lambda store: {"products": products(store)})
    if view is None:
        return
    found = view["products"]
    if not found:
        typer.echo(text(lang, "text", "no_products"))
        return
    from rich.markup import escape

    table = Table()
    for key in ("product", "supplier", "releases", "latest", "open"):
        table.add_column(text(lang, "columns", key), overflow="fold")
    for p in found:
        latest = p["releases"][0] if p["releases"] else None
        table.add_row(
            escape(p["name"]),
            escape(p["supplier"] or ""),
            str(len(p["releases"])),
            escape(latest["version"]) if latest else "",
            str(sum(r["open_findings"] for r in p["releases"])),
        )
    Console().print(table)


# -- releases ------------------------------------------------------------------------------------
@release_app.command("add")
def release_add(
    product: str = typer.Argument(..., help="A product added with `mamori product add`."),
    version: str = typer.Argument(..., help="The release's version."),
    sbom: Path = typer.Option(..., "--sbom", help="The release's SBOM, in any format mamori reads."),
    no_match: bool = typer.Option(
        False, "--no-match", help="Store only; match later with `portfolio rematch`."
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who stores it (default $MAMORI_USER or the login name)."
    ),
    db: str | None = DB_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Store the SBOM of a release with its provenance (a second SBOM is a new revision), then match it."""
    from mamori.cli.options import print_read_warnings
    from mamori.portfolio import match_release, store_sbom
    from mamori.portfolio.messages import text
    from mamori.store import open_store

    _check("table", lang)
    with open_store(db) as store:
        stored = store_sbom(store, product, version, sbom, who=by)
        print_read_warnings(list(stored.warnings), lang)
        values = {"product": stored.product, "version": stored.version, "revision": stored.revision}
        if stored.unchanged:
            typer.echo(text(lang, "text", "unchanged", sha256=stored.sha256, **values))
            return
        typer.echo(
            text(
                lang,
                "text",
                "stored",
                components=stored.components,
                format=stored.format,
                sha256=stored.sha256,
                **values,
            )
        )
        if no_match:
            typer.echo(text(lang, "text", "not_matched"))
            return
        summary = match_release(store, stored.sbom_id, stored.previous_sbom_id)
    _print_run(lang, summary.as_dict())


@release_app.command("show")
def release_show(
    product: str = typer.Argument(...),
    version: str = typer.Argument(...),
    output_format: str = FORMAT_OPTION,
    resolved: bool = RESOLVED_OPTION,
    db: str | None = DB_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """A release: its SBOM revisions with provenance, components, findings."""
    from rich.console import Console

    from mamori.portfolio.messages import text
    from mamori.portfolio.views import release

    view = _view(db, output_format, lang, lambda store: release(store, product, version, resolved))
    if view is None:
        return
    console = Console()
    console.print(f"{view['product']['name']} {view['release']}", style="bold", markup=False)
    sbom = view["sbom"]
    if sbom is not None:
        console.print(
            text(
                lang,
                "text",
                "sbom",
                revision=sbom["revision"],
                count=len(view["revisions"]),
                file=sbom["file_name"],
                format=sbom["format"],
                spec=sbom["spec_version"] or "",
                sha256=sbom["sha256"],
            ),
            highlight=False,
            markup=False,
        )
        console.print(
            text(
                lang,
                "text",
                "provenance",
                at=sbom["imported_at"],
                by=sbom["imported_by"],
                importer=sbom["importer"],
                tools=sbom["tools"] or text(lang, "text", "none"),
            ),
            highlight=False,
            markup=False,
        )
    _print_findings(console, lang, view, with_release=False, summary="release_summary")
    if view["not_evaluated"]:
        console.print(text(lang, "text", "not_evaluated"), style="yellow")
        for note in view["not_evaluated"][:20]:
            line = f"  {note['component']['ref']} {note['vulnerability']}: {note['reason']}"
            console.print(line, highlight=False, markup=False)


# -- portfolio -----------------------------------------------------------------------------------
def _print_run(lang: str, summary: dict[str, Any]) -> None:
    from mamori.portfolio.messages import text

    typer.echo(
        text(
            lang,
            "text",
            "run",
            mode=text(lang, "modes", summary["mode"]),
            components=summary["components"],
            placements=summary["placements"],
            releases=summary["releases"],
            seconds=summary["seconds"],
        )
    )
    if summary.get("vulnerabilities_changed") is not None:
        typer.echo(text(lang, "text", "changed", count=summary["vulnerabilities_changed"]))
    typer.echo(
        text(
            lang,
            "text",
            "counts",
            opened=summary["opened"],
            reopened=summary["reopened"],
            resolved=summary["resolved"],
            open=summary["open_findings"],
            not_evaluated=summary["not_evaluated"],
        )
    )
    if summary.get("note"):
        typer.echo(text(lang, "text", "no_earlier_run"))


@portfolio_app.command("rematch")
def portfolio_rematch(
    changed_only: bool = typer.Option(
        False, "--changed-only", help="Only components touched by what changed since the last run."
    ),
    output_format: str = typer.Option("text", "--format", help="text or json (the run's summary)."),
    db: str | None = DB_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Re-match every release's components against the knowledge base, with a summary of counts and time."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mamori.portfolio import rematch
    from mamori.portfolio.messages import text
    from mamori.store import open_store

    _check(output_format, lang, ("text", "json"))
    console = Console(stderr=True)
    columns = (
        TextColumn(text(lang, "text", "matching")),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with open_store(db) as store, Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("match", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = rematch(store, changed_only=changed_only, progress=report)
    if output_format == "json":
        _json(summary.as_dict())
    else:
        _print_run(lang, summary.as_dict())


@portfolio_app.command("findings")
def portfolio_findings(
    product: str | None = typer.Option(None, "--product", help="Only this product's releases."),
    output_format: str = FORMAT_OPTION,
    resolved: bool = RESOLVED_OPTION,
    db: str | None = DB_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Findings across the portfolio, KEV and most severe first."""
    from rich.console import Console

    from mamori.portfolio.views import findings

    view = _view(db, output_format, lang, lambda store: findings(store, product, resolved))
    if view is None:
        return
    _print_findings(Console(), lang, view, with_release=True, summary="findings_summary")

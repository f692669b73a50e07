"""``mamori product …``, ``mamori release …`` and ``mamori portfolio …``: the products a supplier ships,
an SBOM archived per release with provenance, and the portfolio kept matched against the knowledge base.

Heavy modules (SQLAlchemy, the matcher, rich) are imported inside the commands so that
``mamori --version`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mamori.display import plain, visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, current_lang, set_lang

product_app = typer.Typer(
    help="Products: add, list, show; their triage context (set once, used by scan, triage, portfolio).",
    no_args_is_help=True,
)
context_app = typer.Typer(
    help=(
        "The product's triage context: who can reach it, what its failure does to the work and to people. "
        "Set once; `mamori scan --product`, `mamori triage` and `mamori portfolio findings` use it "
        "(a --context file still wins for a run)."
    ),
    no_args_is_help=True,
)
product_app.add_typer(context_app, name="context")
release_app = typer.Typer(
    help="Releases: store an SBOM per release (with provenance), show one.", no_args_is_help=True
)
portfolio_app = typer.Typer(
    help="Portfolio: re-match every release (or what changed), list findings.", no_args_is_help=True
)

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
LANG_OPTION = typer.Option(None, "--lang", help=f"Language of the text output: en or ja ({DEFAULT_NOTE}).")
FORMAT_OPTION = typer.Option("table", "--format", help="table or json.")
RESOLVED_OPTION = typer.Option(False, "--resolved", help="Also list findings already resolved.")
ROLE_OPTION = typer.Option(
    "user", "--role", help="SSVC tree for the outcome column: user (deployer) or developer (supplier)."
)
TABLE_FORMATS = ("table", "json")
_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _language(lang: str | None) -> str:
    """``--lang`` when given (en or ja, else a one-line InputError), else MAMORI_LANG or the locale."""
    if lang is None:
        return current_lang()
    if lang not in ("en", "ja"):
        raise InputError(None, _("--lang: expected en or ja, got {lang!r}").format(lang=lang))
    set_lang(lang)  # type: ignore[arg-type]
    return lang


def _check(output_format: str, lang: str, formats: tuple[str, ...] = TABLE_FORMATS) -> None:
    if output_format not in formats:
        raise InputError(
            None,
            _("--format: expected one of {formats}, got {output_format!r}").format(
                formats=", ".join(formats), output_format=output_format
            ),
        )
    if lang not in ("en", "ja"):
        raise InputError(None, _("--lang: expected en or ja, got {lang!r}").format(lang=lang))


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


def _status(lang: str, finding: dict[str, Any]) -> str:
    """The finding's status as scan shows it (resolved: no longer matched)."""
    from mamori.portfolio.messages import text
    from mamori.triage.texts import state_label

    status = finding["status"]
    return text(lang, "status", status) if status == "resolved" else state_label(status, lang)


def _findings_table(lang: str, findings: list[dict[str, Any]], with_release: bool) -> Any:
    from rich.table import Table

    from mamori.portfolio.messages import text
    from mamori.report.messages import text as report_text

    table = Table()
    columns = [text(lang, "columns", "product"), text(lang, "columns", "release")] if with_release else []
    columns += [
        report_text(lang, "columns", c)
        for c in ("component", "version", "vulnerability", "rating", "kev", "fixed")
    ]
    columns += [text(lang, "columns", "first_seen"), text(lang, "columns", "status"), "SSVC"]
    keep = {report_text(lang, "columns", c) for c in ("vulnerability", "version", "rating")}
    keep.add(text(lang, "columns", "status"))
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in keep)
    for f in findings:
        v = f["vulnerability"]
        cells = [plain(f["product"]), plain(f["release"])] if with_release else []
        cells += [
            plain(f["component"]["name"]),
            plain(f["component"]["version"] or ""),
            plain(v["id"]),
            _rating(lang, v["rating"], v["score"]),
            "KEV" if v["kev"] else "",
            plain(", ".join(f["fixed_versions"][:2])),
            plain((f["first_seen"] or "")[:10]),
            plain(_status(lang, f)),
            plain((f.get("ssvc") or {}).get("outcome_name") or "") if f["status"] != "resolved" else "",
        ]
        table.add_row(*cells, style=None if f["in_gate"] or f["status"] == "resolved" else "dim")
    return table


def _print_findings(console: Any, lang: str, view: dict[str, Any], with_release: bool, summary: str) -> None:
    from mamori.portfolio.messages import text

    s = view["summary"]
    notice = (view.get("triage") or {}).get("notice")
    if notice:
        console.print(visible(notice), style="yellow", markup=False, highlight=False, soft_wrap=True)
    if view["findings"]:
        console.print(_findings_table(lang, view["findings"], with_release=with_release))
    elif s["not_evaluated"]:  # never "no findings" for what was not checked
        console.print(text(lang, "text", "no_findings_partial", count=s["not_evaluated"]), style="yellow")
    else:
        console.print(text(lang, "text", "no_findings"))
    counts = {
        "components": s.get("components", 0),
        "affected": s["components_affected"],
        "open": s["open_findings"],
        "outside": s["not_affected_or_fixed"],
        "kev": s["kev"],
        "resolved": s["resolved_findings"],
        "not_evaluated": s["not_evaluated"],
    }
    console.print(text(lang, "text", summary, **counts), soft_wrap=True, highlight=False)
    console.print(
        _coverage_line(lang, view.get("coverage") or []), highlight=False, markup=False, soft_wrap=True
    )
    if s.get("not_evaluated_by_reason"):
        console.print(_reasons_line(lang, s["not_evaluated_by_reason"]), highlight=False, markup=False)


def _coverage_line(lang: str, scopes: list[dict[str, Any]]) -> str:
    """The knowledge base's coverage per scope, as ``mamori scan`` shows it."""
    from mamori.report.messages import text as report_text
    from mamori.scan.result import age_text, scope_label

    parts = []
    for c in scopes:
        label = visible(scope_label(c["scope"], lang))
        if c["complete"]:
            age = age_text(c["age_days"], lang) if c.get("age_days") is not None else "?"
            parts.append(report_text(lang, "coverage", "complete", scope=label, source=c["source"], age=age))
        else:
            parts.append(report_text(lang, "coverage", "partial", scope=label, records=c["records"]))
    shown = " · ".join(parts) if parts else report_text(lang, "coverage", "empty")
    return visible(f"{report_text(lang, 'coverage', 'title')}: {shown}")


def _reasons_line(lang: str, reasons: dict[str, int]) -> str:
    from mamori.portfolio.messages import text

    return text(lang, "text", "reasons", reasons=", ".join(f"{code} {n}" for code, n in reasons.items()))


# -- products ------------------------------------------------------------------------------------
@product_app.command("add")
def product_add(
    name: str = typer.Argument(..., help="The product's name (unique)."),
    supplier: str | None = typer.Option(None, "--supplier", help="Who supplies it (your organisation)."),
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Add a product."""
    lang = _language(lang)
    from mamori.portfolio import add_product
    from mamori.portfolio.messages import text
    from mamori.store import open_store

    _check("table", lang)
    with open_store(db) as store:
        add_product(store, name, supplier)
    typer.echo(visible(text(lang, "text", "product_added", name=name.strip())))


@product_app.command("list")
def product_list(
    output_format: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """List products with their releases and open findings."""
    lang = _language(lang)
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
    table = Table()
    for key in ("product", "supplier", "releases", "latest", "open"):
        table.add_column(text(lang, "columns", key), overflow="fold")
    for p in found:
        latest = p["releases"][0] if p["releases"] else None
        table.add_row(
            plain(p["name"]),
            plain(p["supplier"] or ""),
            str(len(p["releases"])),
            plain(latest["version"]) if latest else "",
            str(sum(r["open_findings"] for r in p["releases"])),
        )
    Console().print(table)


@product_app.command("show")
def product_show(
    name: str = typer.Argument(..., help="The product."),
    output_format: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """A product: supplier, releases with open findings, and its triage context."""
    lang = _language(lang)
    from rich.console import Console

    from mamori.portfolio.context import get_context
    from mamori.portfolio.messages import text
    from mamori.portfolio.views import products

    def build(store: Any) -> dict[str, Any]:
        found = next((p for p in products(store) if p["name"] == name.strip()), None)
        if found is None:
            raise InputError(
                None,
                _("no product {name!r}: add it with `mamori product add {name}` first").format(name=name),
            )
        values = get_context(store, found["name"]) or {}
        return {**found, "context": {k: v.as_dict() for k, v in values.items()}}

    view = _view(db, output_format, lang, build)
    if view is None:
        return
    console = Console()
    console.print(visible(view["name"]), style="bold", markup=False, highlight=False)
    if view["supplier"]:
        console.print(
            visible(text(lang, "text", "supplier", supplier=view["supplier"])), markup=False, highlight=False
        )
    for r in view["releases"]:
        line = text(
            lang, "text", "release_line", version=r["version"], open=r["open_findings"],
            outside=r.get("not_affected_or_fixed", 0),
        )  # fmt: skip
        console.print(visible(f"  {line}"), markup=False, highlight=False)
    _print_context(console, lang, view["name"], view["context"])


def _print_context(console: Any, lang: str, product: str, values: dict[str, dict[str, Any]]) -> None:
    from mamori.portfolio.messages import text
    from mamori.triage import ssvc
    from mamori.triage.notice import set_command

    catalog = ssvc.default_catalog()
    if not values:
        command = set_command(product, ["system_exposure", "mission_impact", "safety_impact"])
        console.print(
            visible(text(lang, "context", "none", command=command)),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(text(lang, "context", "heading"), markup=False, highlight=False)
    for point, v in values.items():
        dp = catalog.points[point]
        value = dp.value(v["value"])
        line = f"  {dp.name.get(lang)} ({point}) = {value.name.get(lang)} ({value.id})"
        if v["reason"]:
            line += f" — {v['reason']}"
        line += " " + text(lang, "context", "set_by", who=v["set_by"], at=v["set_at"])
        console.print(visible(line), markup=False, highlight=False, soft_wrap=True)


VALUES_HELP = "Any name the SSVC data accepts: id, key, English or Japanese name."


@context_app.command("set")
def context_set(
    product: str = typer.Argument(..., help="The product (added when it does not exist yet)."),
    system_exposure: str | None = typer.Option(
        None,
        "--system-exposure",
        "--exposure",
        help=f"Who can reach it: small | controlled | open. {VALUES_HELP}",
    ),
    mission_impact: str | None = typer.Option(
        None,
        "--mission-impact",
        help="What its failure does to your essential work: degraded | mef_support_crippled | mef_failure | "
        "mission_failure.",
    ),
    safety_impact: str | None = typer.Option(
        None,
        "--safety-impact",
        help="Harm to people if exploited: negligible | marginal | critical | catastrophic.",
    ),
    value_density: str | None = typer.Option(
        None, "--value-density", help="Supplier tree: is a target rich in resources? diffuse | concentrated."
    ),
    set_values: list[str] = typer.Option(
        [], "--set", help="POINT=VALUE for another context point (docs/triage-context.md), repeatable."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept with the values)."),
    by: str | None = typer.Option(None, "--by", help="Who sets it (default $MAMORI_USER or the login name)."),
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Set the product's triage context once (other points keep their values)."""
    lang = _language(lang)
    from rich.console import Console

    from mamori.portfolio.context import set_context
    from mamori.portfolio.messages import text
    from mamori.store import open_store
    from mamori.triage.ssvc import parse_assignments

    _check("table", lang)
    values = {
        k: v
        for k, v in (
            ("system_exposure", system_exposure),
            ("mission_impact", mission_impact),
            ("safety_impact", safety_impact),
            ("value_density", value_density),
        )
        if v is not None
    }
    for point, value in parse_assignments(set_values).items():
        values[point] = value
    if not values:
        raise InputError(
            None, _("give at least one point: --system-exposure, --mission-impact, --safety-impact …")
        )
    with open_store(db) as store:
        stored, added = set_context(store, product, values, reason, by)
    console = Console()
    if added:
        console.print(
            visible(text(lang, "text", "product_added", name=product.strip())), markup=False, highlight=False
        )
    shown = text(lang, "context", "set", count=len(values), product=product.strip())
    console.print(visible(shown), markup=False, highlight=False)
    _print_context(console, lang, product.strip(), {k: v.as_dict() for k, v in stored.items()})


@context_app.command("show")
def context_show(
    product: str = typer.Argument(..., help="The product."),
    output_format: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Show the product's triage context."""
    lang = _language(lang)
    from rich.console import Console

    from mamori.portfolio.context import get_context

    def build(store: Any) -> dict[str, Any]:
        values = get_context(store, product)
        if values is None:
            raise InputError(
                None,
                _("no product {product!r}: add it with `mamori product add {product}` first").format(
                    product=product
                ),
            )
        return {"product": product.strip(), "context": {k: v.as_dict() for k, v in values.items()}}

    view = _view(db, output_format, lang, build)
    if view is not None:
        _print_context(Console(), lang, view["product"], view["context"])


@context_app.command("clear")
def context_clear(
    product: str = typer.Argument(..., help="The product."),
    points: list[str] = typer.Option([], "--point", help="Only this point, repeatable (default: all)."),
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Remove the product's triage context (or some points of it): rankings assume the worst case again."""
    lang = _language(lang)
    from mamori.portfolio.context import clear_context
    from mamori.portfolio.messages import text
    from mamori.store import open_store

    _check("table", lang)
    with open_store(db) as store:
        removed = clear_context(store, product, points)
    typer.echo(visible(text(lang, "context", "cleared", count=removed, product=product.strip())))


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
    lang: str | None = LANG_OPTION,
) -> None:
    """Store the SBOM of a release with its provenance (a second SBOM is a new revision), then match it."""
    lang = _language(lang)
    from mamori.cli.options import print_read_warnings
    from mamori.portfolio import match_release, store_sbom
    from mamori.portfolio.messages import text
    from mamori.store import open_store

    _check("table", lang)
    with open_store(db) as store:
        stored = store_sbom(store, product, version, sbom, who=by)
        print_read_warnings(list(stored.warnings), current_lang())  # stderr: the person's language
        values = {"product": stored.product, "version": stored.version, "revision": stored.revision}
        if stored.unchanged:
            typer.echo(visible(text(lang, "text", "unchanged", sha256=stored.sha256, **values)))
            return
        typer.echo(
            visible(
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
    role: str = ROLE_OPTION,
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """A release: its SBOM revisions with provenance, components, findings (status and SSVC outcome)."""
    lang = _language(lang)
    from rich.console import Console

    from mamori.portfolio.messages import text
    from mamori.portfolio.views import release

    def build(store: Any) -> dict[str, Any]:
        from mamori.portfolio.ssvc_view import add_ssvc

        view = release(store, product, version, resolved, lang)
        for f in view["findings"]:
            f["product"] = view["product"]["name"]
        view["triage"] = add_ssvc(store, view["findings"], role, lang)
        for f in view["findings"]:
            f.pop("product", None)
        return view

    view = _view(db, output_format, lang, build)
    if view is None:
        return
    console = Console()
    console.print(visible(f"{view['product']['name']} {view['release']}"), style="bold", markup=False)
    sbom = view["sbom"]
    if sbom is not None:
        console.print(
            visible(
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
                )
            ),
            highlight=False,
            markup=False,
        )
        console.print(
            visible(
                text(
                    lang,
                    "text",
                    "provenance",
                    at=sbom["imported_at"],
                    by=sbom["imported_by"],
                    importer=sbom["importer"],
                    tools=sbom["tools"] or text(lang, "text", "none"),
                )
            ),
            highlight=False,
            markup=False,
        )
    _print_findings(console, lang, view, with_release=False, summary="release_summary")
    if view["not_evaluated"]:
        console.print(text(lang, "text", "not_evaluated"), style="yellow")
        for note in view["not_evaluated"][:20]:
            line = f"  {note['component']['ref']} {note['vulnerability']}: {note['reason']}"
            console.print(visible(line), highlight=False, markup=False)


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
            outside=summary.get("not_affected_or_fixed", 0),
            not_evaluated=summary["not_evaluated"],
        )
    )
    if summary.get("not_evaluated_by_reason"):
        typer.echo(_reasons_line(lang, summary["not_evaluated_by_reason"]))
    if summary.get("note"):
        typer.echo(text(lang, "text", "no_earlier_run"))


@portfolio_app.command("rematch")
def portfolio_rematch(
    changed_only: bool = typer.Option(
        False, "--changed-only", help="Only components touched by what changed since the last run."
    ),
    output_format: str = typer.Option("text", "--format", help="text or json (the run's summary)."),
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Re-match every release's components against the knowledge base, with a summary of counts and time;
    where a team server has shown this store's dashboard, the SSVC outcomes and the dashboard's counts are
    stored at its end, as the server's re-match stores them."""
    lang = _language(lang)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mamori.portfolio import rematch
    from mamori.portfolio.dashboard import dashboard_kept, remember_after_change
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
        if dashboard_kept(store):  # a team server uses this store: its dashboard reads what this run left
            remember_after_change(store)
    if output_format == "json":
        _json(summary.as_dict())
    else:
        _print_run(lang, summary.as_dict())


@portfolio_app.command("findings")
def portfolio_findings(
    product: str | None = typer.Option(None, "--product", help="Only this product's releases."),
    output_format: str = FORMAT_OPTION,
    resolved: bool = RESOLVED_OPTION,
    role: str = ROLE_OPTION,
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Findings across the portfolio, KEV and most severe first, each with the status `mamori scan` shows
    for its release (triage records and imported VEX; not affected / fixed ones listed last, not counted
    as open)."""
    lang = _language(lang)
    from rich.console import Console

    from mamori.portfolio.views import findings

    def build(store: Any) -> dict[str, Any]:
        from mamori.portfolio.ssvc_view import add_ssvc

        view = findings(store, product, resolved, lang)
        view["triage"] = add_ssvc(store, view["findings"], role, lang)
        return view

    view = _view(db, output_format, lang, build)
    if view is None:
        return
    _print_findings(Console(), lang, view, with_release=True, summary="findings_summary")

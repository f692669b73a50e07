"""Entry point: one Typer app with a sub-app per noun; errors become one line and exit 2."""

from __future__ import annotations

import sys

import click
import typer

from mamori import __version__
from mamori.cli import assess as assess_cli
from mamori.cli import catalog as catalog_cli
from mamori.cli import db as db_cli
from mamori.cli import demo as demo_cli
from mamori.cli import plan as plan_cli
from mamori.cli import product as product_cli
from mamori.cli import sbom as sbom_cli
from mamori.cli import scan as scan_cli
from mamori.cli import ssvc as ssvc_cli
from mamori.cli import triage as triage_cli
from mamori.cli import vex as vex_cli
from mamori.errors import MamoriError

app = typer.Typer(
    name="mamori",
    help="mamori (守り): SBOM, vulnerabilities, VEX and self-assessment for Japan's supply-chain guidelines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(sbom_cli.app, name="sbom")
app.add_typer(db_cli.app, name="db")
app.add_typer(ssvc_cli.app, name="ssvc")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(assess_cli.app, name="assess")
app.add_typer(plan_cli.app, name="plan")
app.command("scan", epilog=scan_cli.EPILOG)(scan_cli.scan)
app.command("demo")(demo_cli.demo)
app.add_typer(vex_cli.app, name="vex")
app.add_typer(product_cli.product_app, name="product")
app.add_typer(product_cli.release_app, name="release")
app.add_typer(product_cli.portfolio_app, name="portfolio")
app.add_typer(triage_cli.app, name="triage")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mamori {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """mamori command line."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; MamoriError → one line on stderr and 2."""
    try:
        result = app(args=argv, prog_name="mamori", standalone_mode=False)
    except MamoriError as exc:
        sys.stderr.write(f"mamori: error: {exc}\n")
        return 2
    except click.exceptions.Abort:
        sys.stderr.write("mamori: aborted\n")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())

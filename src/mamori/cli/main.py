"""Entry point: one Typer app with a sub-app per noun; errors become one line and exit 2.

Typer up to 0.25 runs on click; from 0.26 it carries its own copy of click (``typer._click``) whose
exceptions are other classes. Both kinds are caught here, so a usage error (unknown option or command,
missing argument, bad value) is one line on stderr and exit 2 whichever Typer the declared range
installs; tests/test_cli_usage.py runs the installed ``mamori`` for each kind.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

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
from mamori.display import visible
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


EXIT_USAGE = 2
EXIT_ABORTED = 130


def _click_modules() -> list[ModuleType]:
    """The exception modules of every click Typer may run on (its own copy, and click itself)."""
    found = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return found


_MODULES = _click_modules()
_CLICK_ERRORS: tuple[type[BaseException], ...] = tuple(m.ClickException for m in _MODULES)
_ABORTS: tuple[type[BaseException], ...] = (
    typer.Abort,
    *(m.Abort for m in _MODULES if hasattr(m, "Abort")),
)
_NO_ARGS_HELP: tuple[type[BaseException], ...] = tuple(
    m.NoArgsIsHelpError for m in _MODULES if hasattr(m, "NoArgsIsHelpError")
)


def usage_line(exc: BaseException) -> str:
    """One line for a usage error: the command, the problem, where to read more."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "mamori"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"{command}: error: {visible(message).rstrip('.')} (see '{command} --help')"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code.

    0 clean, 1 gate fired, 2 bad input or usage (one line on stderr), 3 cannot judge, 130 interrupted.
    A group run without a command prints its help and returns 0.
    """
    try:
        result = app(args=argv, prog_name="mamori", standalone_mode=False)
    except MamoriError as exc:
        sys.stderr.write(f"mamori: error: {visible(str(exc))}\n")
        return EXIT_USAGE
    except (KeyboardInterrupt, *_ABORTS):
        sys.stderr.write("mamori: aborted\n")
        return EXIT_ABORTED
    except _NO_ARGS_HELP as exc:
        sys.stdout.write(exc.format_message().rstrip("\n") + "\n")  # type: ignore[attr-defined]
        return 0
    except _CLICK_ERRORS as exc:
        sys.stderr.write(usage_line(exc) + "\n")
        return EXIT_USAGE
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())

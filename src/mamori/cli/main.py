"""Entry point: one Typer app with a sub-app per noun; errors become one line and exit 2.

Typer up to 0.25 runs on click; from 0.26 it carries its own copy of click (``typer._click``) whose
exceptions are other classes. Both kinds are caught here, so a usage error (unknown option or command,
missing argument, bad value) is one line on stderr and exit 2 whichever Typer the declared range
installs; tests/test_cli_usage.py runs the installed ``mamori`` for each kind.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType, ModuleType

import typer
import typer.main

from mamori import __version__
from mamori.cli import assess as assess_cli
from mamori.cli import catalog as catalog_cli
from mamori.cli import completion as completion_cli
from mamori.cli import db as db_cli
from mamori.cli import demo as demo_cli
from mamori.cli import plan as plan_cli
from mamori.cli import product as product_cli
from mamori.cli import sbom as sbom_cli
from mamori.cli import scan as scan_cli
from mamori.cli import ssvc as ssvc_cli
from mamori.cli import triage as triage_cli
from mamori.cli import vex as vex_cli
from mamori.cli.help_text import USAGE_LINE, translate_help, usage_message
from mamori.display import visible
from mamori.errors import InputError, MamoriError
from mamori.fileio import message
from mamori.i18n import LANGS, N_, Lang, Text, _, default_lang, set_lang, translate

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
app.add_typer(completion_cli.app, name="completion")


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
# what a write to a full disk, /dev/full or a closed pipe fails with
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
EXIT_ABORTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
INTERRUPTED = Text(ja="中断しました", en="interrupted")


class Stopped(BaseException):
    """A signal that stops the command, raised in the main thread: what runs unwinds (transactions roll back,
    the write in progress finishes or rolls back whole, temporary files are removed), then mamori exits
    128 + the signal's number with one line. Not a KeyboardInterrupt, which click and Typer turn into
    their own exits (silently, or after an empty line)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def _stop(signum: int, frame: FrameType | None) -> None:
    signal.signal(signum, signal.SIG_DFL)  # the same signal again ends the process at once
    raise Stopped(signum)


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """While the command runs, SIGTERM and SIGINT (Ctrl-C; unless ignored, as in a background job) raise
    :class:`Stopped`; left alone outside the main thread, where no handler can be installed. Worker
    processes of an import ignore both: the main process ends them (:mod:`mamori.vulndb.parallel`)."""
    try:
        previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _stop)}
    except ValueError:  # not the main thread
        yield
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, _stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _lang(argv: list[str] | None) -> Lang:
    """The ``--lang`` of the command line when it names ja or en, else the default (for error lines
    raised before, or outside, the command's own language handling)."""
    args = sys.argv[1:] if argv is None else argv
    for index, arg in enumerate(args):
        if arg == "--":
            break
        value = args[index + 1] if arg == "--lang" and index + 1 < len(args) else arg.removeprefix("--lang=")
        if (arg == "--lang" or arg.startswith("--lang=")) and value in LANGS:
            return value  # type: ignore[return-value]
    return default_lang()


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
    """One line for a usage error: the command, the problem, where to read more (click's English
    message in the running command's language, :func:`mamori.cli.help_text.usage_message`)."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "mamori"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    shown = visible(usage_message(message)).rstrip(".。")
    return _(USAGE_LINE).format(command=command, message=shown)


ERROR_LINE = N_("mamori: error: {message}")


def _error_line(text: str, argv: list[str] | None) -> str:
    """The one line of an error, in the command line's language (the message is already in it)."""
    return translate(ERROR_LINE, _lang(argv)).format(message=visible(text)) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code.

    0 clean, 1 gate fired, 2 bad input or usage (one line on stderr), 3 cannot judge (the store went away
    mid-way too), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). A group run without a command
    prints its help and returns 0.
    """
    set_lang(_lang(argv))
    try:
        with _signals_unwind():
            extra = _configured(sys.argv[1:] if argv is None else argv)
            command = typer.main.get_command(app)
            translate_help(command, sys.argv[1:] if argv is None else argv)
            result = command.main(args=argv, prog_name="mamori", standalone_mode=False, **extra)
            _flush_stdout()
    except MamoriError as exc:
        sys.stderr.write(_error_line(exc.message(_lang(argv)), argv))
        return exc.exit_code
    except Stopped as exc:
        sys.stderr.write(f"mamori: {INTERRUPTED.get(_lang(argv))}\n")
        return exc.exit_code
    except OSError as exc:  # an output or input mamori did not wrap: still one line, never a traceback
        line = f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc.strerror or exc)
        try:
            _flush_stdout()
            if exc.filename is None and exc.errno in _OUTPUT_ERRNOS:  # a write to standard output
                line = message("write", "stdout", reason=exc.strerror or exc)
        except InputError as failed:
            line = str(failed)
        sys.stderr.write(_error_line(line, argv))
        return EXIT_USAGE
    except (KeyboardInterrupt, *_ABORTS):
        sys.stderr.write(f"mamori: {INTERRUPTED.get(_lang(argv))}\n")
        return EXIT_ABORTED
    except _NO_ARGS_HELP as exc:
        sys.stdout.write(exc.format_message().rstrip("\n") + "\n")  # type: ignore[attr-defined]
        return 0
    except _CLICK_ERRORS as exc:
        sys.stderr.write(usage_line(exc) + "\n")
        return EXIT_USAGE
    finally:
        set_lang(None)
        _flush_stdout(quiet=True)
    return result if isinstance(result, int) else 0


def _configured(args: list[str]) -> dict[str, object]:
    """The ``default_map`` of the configuration files (mamori.toml; docs/config.md), when one exists;
    their top-level ``lang`` also chooses the language of error lines. Shell completion requests
    (``_MAMORI_COMPLETE``) get Typer's completion classes first."""
    if os.environ.get("_MAMORI_COMPLETE"):
        from typer.completion import completion_init

        completion_init()
        return {}
    from mamori.cli import config as config_cli

    if not config_cli.may_apply(args):
        return {}
    command = typer.main.get_command(app)
    if not config_cli.config_files(args, command):
        return {}
    mapping, files = config_cli.default_map(args, command)
    lang = config_cli.global_lang(files)
    if (
        lang is not None
        and _lang(args) == default_lang()
        and not any(a == "--lang" or a.startswith("--lang=") for a in args)
    ):
        set_lang(lang)  # type: ignore[arg-type]
    return {"default_map": mapping} if mapping else {}


def _flush_stdout(quiet: bool = False) -> None:
    """Flush standard output now, so that a full disk or /dev/full is one line and exit 2 here, not a
    traceback when Python exits; after a failure the unwritten rest is dropped."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the rest goes nowhere
            sys.stdout.flush()
        if quiet:
            return
        raise InputError(None, message("write", "stdout", reason=exc.strerror or exc)) from None


def run() -> None:
    sys.exit(main())

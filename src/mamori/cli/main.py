"""Entry point: one Typer app with a sub-app per noun; errors become one line and exit 2.

Typer up to 0.25 runs on click; from 0.26 it carries its own copy of click (``typer._click``) whose
exceptions are other classes. Both kinds are caught here, so a usage error (unknown option or command,
missing argument, bad value) is one line on stderr and exit 2 whichever Typer the declared range
installs; tests/test_cli_usage.py runs the installed ``mamori`` for each kind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import importlib
import math
import os
import re
import signal
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from mamori import __version__
from mamori.cli.help_text import USAGE_LINE, translate_help, usage_message
from mamori.dataclass_code import compiled_dataclasses
from mamori.display import visible
from mamori.errors import InputError, MamoriError
from mamori.fileio import message
from mamori.i18n import LANGS, N_, Lang, Text, _, default_lang, set_lang, translate

# The sub-commands, in the order Typer lists them (its commands first, then its sub-apps): name → (module
# under mamori.cli, attribute, a command function or a sub-app). Each module is imported when its command
# is asked for, so ``mamori scan`` imports the scan command's module and no other (every module together
# took about a third of a 3-component scan's start-up); help and the walks over the whole tree (the
# configuration's defaults, Japanese help) still see every command, built exactly as Typer builds it.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "scan": ("scan", "scan", "command"),
    "demo": ("demo", "demo", "command"),
    "sbom": ("sbom", "app", "group"),
    "db": ("db", "app", "group"),
    "ssvc": ("ssvc", "app", "group"),
    "catalog": ("catalog", "app", "group"),
    "assess": ("assess", "app", "group"),
    "plan": ("plan", "app", "group"),
    "vex": ("vex", "app", "group"),
    "advisory": ("advisory", "app", "group"),
    "csaf": ("advisory", "csaf_app", "group"),
    "product": ("product", "product_app", "group"),
    "release": ("product", "release_app", "group"),
    "portfolio": ("product", "portfolio_app", "group"),
    "triage": ("triage", "app", "group"),
    "completion": ("completion", "app", "group"),
    "serve": ("serve", "serve", "command"),
    "team": ("admin", "team_app", "group"),
    "user": ("admin", "user_app", "group"),
    "apikey": ("admin", "apikey_app", "group"),
    "notify": ("notify", "app", "group"),
    "worker": ("jobs", "worker", "command"),
    "scheduler": ("jobs", "scheduler", "command"),
    "jobs": ("jobs", "jobs_app", "group"),
    "psirt": ("psirt", "app", "group"),
    "bundle": ("bundle", "app", "group"),
    "inventory": ("inventory", "app", "group"),
    "contract": ("contract", "app", "group"),
}
ROOT: dict[str, Any] = {
    "name": "mamori",
    "help": "mamori (守り): SBOM, vulnerabilities, VEX and self-assessment for Japan's supply-chain guidelines.",
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "add_completion": False,
}


def _register(target: typer.Typer, name: str) -> None:
    """Add the sub-command ``name`` to ``target`` as the root always added it."""
    module_name, attribute, kind = SUBCOMMANDS[name]
    module = importlib.import_module(f"mamori.cli.{module_name}")
    if kind == "group":
        target.add_typer(getattr(module, attribute), name=name)
    else:
        target.command(name, **({"epilog": module.EPILOG} if name == "scan" else {}))(
            getattr(module, attribute)
        )


def _build(name: str) -> Any:
    """The click command of ``name`` as Typer builds it under the root (a root of the same settings with
    only this sub-command: a sub-command's build depends on the root's settings, not on its siblings)."""
    root = typer.Typer(**ROOT)
    root.callback()(_root)
    _register(root, name)
    command = typer.main.get_command(root).commands[name]  # type: ignore[attr-defined]
    plain_values(command)
    return command


# Typer 0.26+ turns every parameter's value into its annotated type through a pydantic TypeAdapter built on
# first use: importing pydantic and building one adapter per parameter took about a fifth of a 3-component
# scan. The values of mamori's plain parameters (str, int, float, Path, bool and lists of them) are turned the
# way those adapters turn them; whatever does not take that way (a malformed number, a value out of its
# range, bytes …) goes to Typer's own coercion, so its messages and errors stay Typer's.
_UNSURE = object()
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


def _plain_value(annotation: Any, info: Any, value: Any, param: Any, ctx: Any, param_types: Any) -> Any:
    """``value`` as the adapter of ``annotation`` would return it, or ``_UNSURE``."""
    if annotation is str:
        return value if type(value) is str else _UNSURE
    if annotation is bool:
        return value if type(value) is bool else _UNSURE
    if annotation is int:
        digits = value[1:] if type(value) is str and value[:1] == "-" else value
        if type(value) is str and digits.isascii() and digits.isdigit() and len(digits) <= 18:
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            return _UNSURE
        if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            return _UNSURE
        return number
    if annotation is float:  # a default (a float or an int), or plain decimal digits with one point at most
        if type(value) is float and math.isfinite(value):
            number_f = value
        elif (type(value) is int and abs(value) < 1 << 53) or (
            type(value) is str and _DECIMAL.fullmatch(value)
        ):
            number_f = float(value)
        else:
            return _UNSURE
        if (info.min is not None and number_f < info.min) or (info.max is not None and number_f > info.max):
            return _UNSURE
        return number_f
    if annotation is Path:
        if isinstance(value, Path):
            found = value
        elif type(value) is str and value:
            found = Path(value)
        else:
            return _UNSURE
        # the checks Typer makes of a path (exists, file_okay, readable …), with its own messages
        return param_types.coerce_cli_path(found, info, path_type=Path, param=param, ctx=ctx)
    return _UNSURE


def _plain_annotation(descriptor: Any) -> bool:
    """Whether Typer's coercion of the parameter is one :func:`_plain_value` does (no parser, click type,
    clamp, choices, file or non-Path path type)."""
    info = descriptor.parameter_info
    if (
        descriptor.file_annotation is not None
        or getattr(info, "parser", None) is not None
        or getattr(info, "click_type", None) is not None
        or getattr(info, "clamp", False)
        or getattr(info, "path_type", None) not in (None, Path)
        or descriptor.choices is not None
    ):
        return False
    annotation = descriptor.annotation
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        return len(args) == 1 and args[0] in (str, int, Path)
    return annotation in (str, int, float, bool, Path)


@functools.cache
def _plain_runtime_class() -> Any:
    """The runtime coercion object of a plain parameter (a Typer ``RuntimeParam``, see
    :func:`_plain_value`); None on a Typer without runtime coercion objects (before 0.26: no pydantic
    to avoid). Made on first use: ``mamori --version`` parses no plain value."""
    try:
        from typer import _coercion as typer_coercion
        from typer import _param_types as typer_param_types

        base = typer_coercion.RuntimeParam
    except (ImportError, AttributeError):
        return None

    @dataclasses.dataclass(frozen=True)
    class PlainRuntimeParam(base):  # type: ignore[misc,valid-type]
        """Typer's coercion of a plain parameter, without pydantic."""

        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            info = self.parameter_info
            if typing.get_origin(self.annotation) is list:
                item = typing.get_args(self.annotation)[0]
                items = value if isinstance(value, (list, tuple)) else [value]
                found: Any = [_plain_value(item, info, v, param, ctx, typer_param_types) for v in items]
                unsure = any(v is _UNSURE for v in found)
            else:
                found = _plain_value(self.annotation, info, value, param, ctx, typer_param_types)
                unsure = found is _UNSURE
            if not unsure:
                return found
            typer_own = typer_coercion.build_runtime_param(self.descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)

    return PlainRuntimeParam


def _plain_param(param: Any) -> None:
    """Give ``param`` the plain coercion, made when Typer first asks for its runtime coercion."""
    descriptor = getattr(param, "type_descriptor", None)
    if (
        descriptor is None
        or getattr(param, "_runtime_param", False) is not None
        or not callable(getattr(param, "get_runtime_param", None))
        or not _plain_annotation(descriptor)
    ):
        return
    typer_own = param.get_runtime_param

    def get_runtime_param() -> Any:
        if param._runtime_param is None:
            plain = _plain_runtime_class()
            if plain is None:
                return typer_own()
            param._runtime_param = plain(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
            )
        return param._runtime_param

    param.get_runtime_param = get_runtime_param


def plain_values(command: Any) -> None:
    """Give ``command``'s plain parameters (and its sub-commands', when it is a group) the coercion of
    :func:`_plain_value`; a Typer without runtime coercion objects is left as it is."""
    for param in getattr(command, "params", ()):
        _plain_param(param)
    original = getattr(command, "get_help_option", None)
    if original is not None:  # --help, which Typer makes per context

        def get_help_option(ctx: Any) -> Any:
            option = original(ctx)
            if option is not None:
                _plain_param(option)
            return option

        command.get_help_option = get_help_option
    commands = getattr(command, "commands", None)
    if isinstance(commands, dict) and not isinstance(commands, LazyCommands):
        for sub in commands.values():
            plain_values(sub)


class LazyCommands(dict[str, Any]):
    """The root's sub-commands: every name is known from the start, each command is built on first access
    (``get``, ``[]``); ``values``/``items`` build them all. ``on_load`` callbacks see each one built."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._pending = list(names)
        self.on_load: list[Callable[[Any], None]] = []

    def _load(self, name: str) -> None:
        if name in self._pending:
            command = _build(name)
            for callback in self.on_load:
                callback(command)
            self._pending.remove(name)
            super().__setitem__(name, command)

    def _names(self) -> list[str]:
        built = list(dict.keys(self))
        return [n for n in SUBCOMMANDS if n in self._pending or n in built] + [
            n for n in built if n not in SUBCOMMANDS
        ]

    def __getitem__(self, name: str) -> Any:
        self._load(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self._load(name)
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._pending or dict.__contains__(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def keys(self) -> Any:  # type: ignore[override]
        return self._names()

    def values(self) -> Any:  # type: ignore[override]
        return [self[n] for n in self._names()]

    def items(self) -> Any:  # type: ignore[override]
        return [(n, self[n]) for n in self._names()]


class LazyGroup(TyperGroup):
    """The root group, whose sub-commands are :class:`LazyCommands`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        lazy = LazyCommands(list(SUBCOMMANDS))
        for name, command in self.commands.items():
            dict.__setitem__(lazy, name, command)
        self.commands = lazy


app = typer.Typer(cls=LazyGroup, **ROOT)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mamori {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """mamori command line."""


app.callback()(_root)


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
    """The exception modules of the click Typer runs on: its own copy (Typer 0.26 on), else click itself.

    click itself is left unimported beside Typer's own copy (about 10 ms of every command's start-up):
    only commands run by click raise its exceptions, and Typer's copy runs them all; when something has
    imported click already, its exceptions are caught too."""
    found = []
    with contextlib.suppress(ImportError):
        found.append(importlib.import_module("typer._click.exceptions"))
    if not found or "click" in sys.modules:
        with contextlib.suppress(ImportError):
            found.append(importlib.import_module("click.exceptions"))
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
    _KEPT.clear()  # what the previous command in this process kept
    try:
        with _signals_unwind(), compiled_dataclasses():
            extra = _configured(sys.argv[1:] if argv is None else argv)
            command = typer.main.get_command(app)
            plain_values(command)
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


# What a command built that lives until the process ends (:func:`keep_until_exit`); released when the next
# command starts in the same process (mamori.cli.hooks runs several).
_KEPT: list[object] = []


def keep_until_exit(*objects: object) -> None:
    """Keep ``objects`` (a scan's result, its findings, the matcher's caches …) alive after the command
    returns: the process that runs :func:`run` then ends without walking them to free them one by one
    (about a twentieth of a 5,000-component scan). Memory goes back to the system when the process ends."""
    _KEPT.extend(objects)


def _exit_now(code: int) -> None:
    """End the process with ``code`` without tearing the interpreter down, when that skips nothing but
    freeing memory: standard output and error flushed, no thread but this one, no exit handler registered
    but the logging module's and multiprocessing's (both run here; multiprocessing's ends and waits for
    child processes still running: an import's workers have ended already). Otherwise return, and the
    process exits the usual way."""
    import atexit
    import threading

    registered = getattr(atexit, "_ncallbacks", None)
    if registered is None or threading.active_count() != 1:
        return
    logging = sys.modules.get("logging")
    processes = sys.modules.get("multiprocessing.util")
    if registered() > (logging is not None) + (processes is not None):  # each registers one on import
        return
    try:
        if processes is not None:
            processes._exit_function()  # type: ignore[attr-defined]  # what its exit handler does
        sys.stdout.flush()
        sys.stderr.flush()
        if logging is not None:
            logging.shutdown()  # what its exit handler does
    except (OSError, ValueError):
        return
    os._exit(code)


def run() -> None:
    code = main()
    if _KEPT:
        _exit_now(code)
    sys.exit(code)

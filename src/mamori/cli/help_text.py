"""The command line in the chosen language: ``--help`` and click's usage errors.

Help texts stay English in the code (Typer reads them when the modules are imported, before the language
is known); their Japanese is in the gettext catalog (tools/i18n.py extracts them from the command tree).
:func:`translate_help` walks the click command tree once, before it runs, and swaps every command's help,
short help and epilog and every parameter's help for the catalog's text, then sets Typer's panel titles
("Options", "Commands", ...) and the "Usage:" prefix. English needs none of it, and ``--version`` (eager:
it prints and stops before any help) skips it, so neither pays for the walk.

Click's own usage errors ("No such option: --x") are English in every click Typer may run on (Typer
0.26+ carries a copy of click without gettext; click 8 uses the stdlib's domain, not ours), so
:func:`usage_message` matches the English text against the templates below, each a msgid of our catalog,
and rebuilds it from the Japanese msgstr with the same values. A message no template matches stays as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from types import MethodType
from typing import Any

from mamori.i18n import N_, current_lang, gettext

#: Typer's rich help words (typer.rich_utils module constants, read when help is printed).
RICH_WORDS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
    "ABORTED_TEXT": N_("Aborted."),
}
USAGE_PREFIX = N_("Usage: ")
#: The help of the ``--help`` option click adds to every command.
HELP_OPTION = N_("Show this message and exit.")

#: Click's usage errors as they read in English (click 8.1-8.3 and the copy in Typer 0.26+); ``{name}``
#: matches any text. Longer templates are tried first, so a suggestion suffix is matched with its message.
CLICK_MESSAGES: tuple[str, ...] = (
    N_("No such option: {name}"),
    N_("No such option: {name} Did you mean {possibility}?"),
    N_("No such option: {name} (Possible options: {possibilities})"),
    N_("No such command {name}."),
    N_("No such command {name}. Did you mean {suggestions}?"),
    N_("Missing command."),
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing parameter {name}."),
    N_("Missing argument {name}. {message}"),
    N_("Missing option {name}. {message}"),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Invalid value for {name}: {message}"),
    N_("Invalid value: {message}"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {count} arguments."),
    N_("Option {name} does not take a value."),
    N_("Argument {name} takes {count} values."),
    N_("{value} is not one of {choices}."),
    N_("{value} is not {choice}."),
    N_("{value} is not a valid integer."),
    N_("{value} is not a valid float."),
    N_("{value} is not a valid boolean."),
    N_("{value} is not a valid UUID."),
    N_("Value {value} is not a valid {kind}."),
    N_("{value} is not in the range {range}."),
    N_("Value must be an iterable."),
    N_("File {name} does not exist."),
    N_("Directory {name} does not exist."),
    N_("Path {name} does not exist."),
    N_("File {name} is a directory."),
    N_("Directory {name} is a file."),
    N_("Path {name} is not readable."),
    N_("File {name} is not readable."),
    N_("Path {name} is not writable."),
    N_("File {name} is not writable."),
    N_("Could not open file {name}: {message}"),
)
#: The one line of a usage error (mamori.cli.main.usage_line).
USAGE_LINE = N_("{command}: error: {message} (see '{command} --help')")

_FIELD = re.compile(r"\{(\w+)\}")
_ENGLISH_RICH: dict[str, str] = {}


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(regex of the English text, msgid) for every template, longest first."""
    found = []
    for template in sorted(CLICK_MESSAGES, key=len, reverse=True):
        parts = _FIELD.split(template)  # text, field, text, field, ..., text
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts)
        )
        found.append((re.compile(f"^{regex}$", re.DOTALL), template))
    return tuple(found)


def usage_message(message: str) -> str:
    """Click's English usage error ``message`` in the running command's language (as is when no template
    matches it, or when the language is English)."""
    if current_lang() == "en":
        return message
    for pattern, template in _patterns():
        match = pattern.match(message)
        if match is None:
            continue
        values = match.groupdict()
        if "message" in values:  # the reason inside "Invalid value for X: reason" is click's too, often
            values["message"] = usage_message(values["message"])
        translated = gettext(template)
        try:
            return translated.format(**values)
        except (KeyError, IndexError, ValueError):  # a msgstr that does not fit: English beats a crash
            return message
    return message


def _translated(text: str | None) -> str | None:
    return gettext(text) if text else text


def _translate_command(command: Any) -> None:
    for attribute in ("help", "short_help", "epilog"):
        text = getattr(command, attribute, None)
        if isinstance(text, str) and text:
            setattr(command, attribute, gettext(text))
    for param in getattr(command, "params", None) or ():
        text = getattr(param, "help", None)
        if isinstance(text, str) and text:
            param.help = gettext(text)
    _wrap(command, "get_help_option", _help_option)
    _wrap(command, "format_usage", _format_usage)
    subs = getattr(command, "commands", None) or {}
    on_load = getattr(subs, "on_load", None)
    if on_load is not None:  # built on first use (mamori.cli.main.LazyCommands): translated when built
        on_load.append(_translate_command)
        subs = dict(dict.items(subs))  # the ones built already
    for sub in subs.values():
        _translate_command(sub)


def _wrap(command: Any, name: str, replacement: Callable[..., Any]) -> None:
    original = getattr(command, name, None)
    if original is not None:
        setattr(
            command, name, MethodType(lambda self, *a, **k: replacement(original, self, *a, **k), command)
        )


def _help_option(original: Callable[..., Any], command: Any, ctx: Any) -> Any:
    option = original(ctx)
    if option is not None and option.help == HELP_OPTION:
        option.help = gettext(HELP_OPTION)
    return option


def _format_usage(original: Callable[..., Any], command: Any, ctx: Any, formatter: Any) -> None:
    pieces = command.collect_usage_pieces(ctx)
    formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=gettext(USAGE_PREFIX))


def _rich_words(japanese: bool) -> None:
    """Typer's panel titles and help words in Japanese, or back in English (an earlier command of the
    same process, as in tests, may have set them)."""
    try:
        from typer import rich_utils  # imports rich: only when help may be printed
    except ImportError:  # Typer without rich: click's plain help, whose section titles stay English
        return
    for name, english in RICH_WORDS.items():
        if hasattr(rich_utils, name):
            _ENGLISH_RICH.setdefault(name, getattr(rich_utils, name))
            setattr(rich_utils, name, gettext(english) if japanese else _ENGLISH_RICH[name])


def wants_help_text(argv: list[str]) -> bool:
    """False for the root's ``--version`` (eager: it prints and stops before any help); a command's own
    ``--version`` option (``sbom generate --version 1.0``) comes after the command's name."""
    for arg in argv:
        if arg == "--version":
            return False
        if arg == "--" or not arg.startswith("-"):
            break
    return True


def translate_help(command: Any, argv: list[str]) -> None:
    """Put ``command`` (the click tree) and Typer's help words in the running command's language."""
    japanese = current_lang() != "en" and wants_help_text(argv)
    if japanese or _ENGLISH_RICH:
        _rich_words(japanese)
    if japanese:
        _translate_command(command)

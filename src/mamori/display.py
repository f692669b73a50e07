"""Text from inputs shown to people: control characters made visible, never interpreted by a terminal.

Every text that came from an input (an SBOM, a VEX or advisory file, a zip member name, an HTTP header, an
assessment field) goes through :func:`visible` before it reaches a terminal: escape sequences (clear
screen, window title, OSC 8 hyperlinks), C1 controls, BEL, carriage returns and the bidirectional and
invisible format characters that reorder or hide text are shown as ``\\x1b``, ``\\u202e`` … . Where the
text goes into rich output it goes in as :func:`plain` (a ``rich.text.Text``, never markup), or joined
with mamori's own styled words by ``Text.assemble``, or printed with ``markup=False``: never substituted
into markup (escaping cannot be right whatever follows a trailing backslash).
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

_CONTROL = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u2028-\u202e"  # line and paragraph separators; bidirectional embeddings and overrides
    "\u061c\u200e\u200f\u2066-\u2069"  # bidirectional marks and isolates
    "\u200b-\u200d\u2060-\u2064\ufeff"  # zero-width space and joiners, word joiner, invisible operators, BOM
    "\ufff9-\ufffb"  # interlinear annotation
    "]"
)


def visible(value: object) -> str:
    """``value`` as text with control characters shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def plain(value: object, style: str = "") -> Text:
    """``value`` made :func:`visible`, as rich text that is never read as markup (table cells, lines)."""
    from rich.text import Text

    return Text(visible(value), style=style)


def styled(stream: IO[str]) -> bool:
    """Whether rich would style what is written to ``stream``, by rich's own rules: ``TTY_COMPATIBLE`` (0 or
    1), else ``FORCE_COLOR`` (set and not empty), else whether ``stream`` is a terminal."""
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class ErrLines:
    """Lines for people on standard error (notices, warnings, the gate's verdict), each whole on one line
    (never folded at the terminal's width: a path must stay copyable), never read as markup or emoji codes.
    Styled (colour) through rich where rich would style them (:func:`styled`); elsewhere, a pipe or a file,
    written as they are, without loading rich. ``quiet``: nothing is written."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def print(self, line: str, style: str | None = None) -> None:
        if self.quiet:
            return
        stream = sys.stderr
        if styled(stream):
            from rich.console import Console

            Console(file=stream).print(
                line, style=style, markup=False, highlight=False, emoji=False, soft_wrap=True
            )
        else:
            stream.write(line + "\n")
            stream.flush()

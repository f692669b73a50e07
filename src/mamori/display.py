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

import re
from typing import TYPE_CHECKING

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

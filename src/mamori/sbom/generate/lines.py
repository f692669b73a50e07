"""Line numbers of lockfile entries, found cheaply: one pass over the text the parser already holds.

The parsers read JSON, TOML and YAML with libraries that give no positions (orjson, tomllib,
libyaml's BaseLoader), so the line of each entry is found in the text itself, in the same order
the parser meets the entries: a regular expression over the whole text, or a cursor that only moves
forward. Nothing here parses the file a second time, and nothing guesses: when the text does not
show an entry where it is expected, its line is None (the component is still listed, with its file).
"""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.model import Component, Occurrence


class LineCounter:
    """1-based line numbers of character offsets of one text; cheap when offsets come in order."""

    __slots__ = ("line", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def declared_at(comp: Component, line: int | None, location: str = "") -> Component:
    """Record where ``comp`` is declared: ``line`` of the file being parsed (``location`` empty: the
    framework fills in that file, relative to the scanned folder), or of another file (an absolute path)."""
    comp.occurrences.append(Occurrence(location, line))
    return comp


@lru_cache(maxsize=32)
def _array_table(name: str) -> re.Pattern[str]:
    return re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(name)}[ \t]*\]\][ \t]*(?:#[^\n]*)?$", re.M)


def array_table_lines(text: str, name: str, expected: int) -> list[int | None]:
    """Lines of the TOML ``[[name]]`` headers in order (poetry.lock, uv.lock, pdm.lock, Cargo.lock
    ``[[package]]``); all None when their number is not ``expected`` (a header inside a string …)."""
    counter = LineCounter(text)
    lines: list[int | None] = [counter.at(m.start()) for m in _array_table(name).finditer(text)]
    return lines if len(lines) == expected else [None] * expected


_OPENING = {opening: re.compile(rf"\s*:\s*{re.escape(opening)}") for opening in '{["'}
_OPENING[""] = re.compile(r"\s*:")


class Cursor:
    """Finds JSON members in text order: each search starts where the previous match ended.

    Plain ``str.find`` for the quoted key (C speed: one pass over the text for all entries of a
    map) and a fixed pattern for what follows it; no pattern is compiled per key.
    """

    __slots__ = ("counter", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.counter = LineCounter(text)

    def key(self, key: str, opening: str = "{") -> int | None:
        """Line of the next JSON member ``"key": <opening>`` (opening ``{``, ``[``, ``"`` or none)."""
        text, needle, tail = self.text, _json_string(key), _OPENING[opening]
        pos = self.pos
        while True:
            index = text.find(needle, pos)
            if index < 0:
                return None
            end = index + len(needle)
            after = tail.match(text, end)
            if after is not None:
                self.pos = after.end()
                return self.counter.at(index)
            pos = end

    def value(self, key: str, value: object) -> int | None:
        """Line of the next JSON member ``"key": "value"`` (None when ``value`` is no string)."""
        if not isinstance(value, str):
            return None
        text, needle, name = self.text, _json_string(value), _json_string(key)
        pos = self.pos
        while True:
            index = text.find(needle, pos)
            if index < 0:
                return None
            before = text[max(0, index - len(name) - 64) : index].rstrip()
            if before.endswith(":") and before[:-1].rstrip().endswith(name):
                self.pos = index + len(needle)
                return self.counter.at(index)
            pos = index + len(needle)

    def string(self, value: str) -> int | None:
        """Line of the next JSON string ``"value"`` (an array element)."""
        needle = _json_string(value)
        index = self.text.find(needle, self.pos)
        if index < 0:
            return None
        self.pos = index + len(needle)
        return self.counter.at(index)


@lru_cache(maxsize=8192)
def _json_string(key: str) -> str:
    """``key`` as JSON writes it, quotes included (what to look for in the text)."""
    import orjson

    return orjson.dumps(key).decode()


_YAML_KEY = re.compile(
    r"""^( *)("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s#'"][^\n]*?)[ \t]*:(?:[ \t]|$)""", re.M
)


def yaml_key_lines(text: str, indent: int, section: str | None = None) -> dict[str, int]:
    """Block-mapping keys at ``indent`` spaces → their line (the first one wins), inside the top-level
    ``section:`` when given (pnpm-lock.yaml ``packages``, pubspec.lock ``packages``, yarn berry's keys)."""
    out: dict[str, int] = {}
    counter = LineCounter(text)
    inside = section is None
    for found in _YAML_KEY.finditer(text):
        depth = len(found.group(1))
        raw = found.group(2)
        if depth == 0 and section is not None:
            inside = _unquote(raw) == section
            continue
        if inside and depth == indent:
            out.setdefault(_unquote(raw), counter.at(found.start()))
    return out


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        import json

        try:
            return str(json.loads(raw))
        except ValueError:
            return raw[1:-1]
    return raw


def manifest_line(text: str, name: str) -> int | None:
    """The first line that declares dependency ``name`` in a manifest: a JSON member (package.json,
    composer.json), a TOML or YAML key at the start of a line (Cargo.toml, Pipfile, Poetry, pubspec.yaml),
    a ``[dependencies.name]`` table, or a quoted requirement string (PEP 621, Gemfile ``gem "name"``)."""
    found = _manifest_pattern(name).search(text)
    return text.count("\n", 0, found.start()) + 1 if found is not None else None


@lru_cache(maxsize=4096)
def _manifest_pattern(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(
        rf"""(?m)"{n}"\s*:|^[ \t]*["']?{n}["']?[ \t]*[=:]|^[ \t]*\[[\w.-]*dependencies\.["']?{n}["']?\]"""
        rf"""|["']{n}(?=[\s\[<>=!~;,@'"])""",
        re.I,
    )


def locate_declared(found_components: list[Component], text: str, key: object = None) -> None:
    """Give each component of a manifest that has no occurrence yet the line declaring it;
    ``key(comp)`` is the name the manifest uses (default: the component's name)."""
    for comp in found_components:
        if not comp.occurrences:
            name = key(comp) if callable(key) else comp.name
            declared_at(comp, manifest_line(text, name) if name else None)

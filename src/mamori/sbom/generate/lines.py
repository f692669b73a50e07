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


class Cursor:
    """Finds ``needle``s in text order: each search starts where the previous match ended."""

    __slots__ = ("counter", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.counter = LineCounter(text)

    def find(self, pattern: re.Pattern[str]) -> int | None:
        """Line of the next match of ``pattern`` (from where the last one ended), or None."""
        found = pattern.search(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return self.counter.at(found.start())

    def key(self, key: str, opening: str = "{") -> int | None:
        """Line of the next JSON member ``"key": <opening>``."""
        return self.find(json_member(key, opening))


@lru_cache(maxsize=4096)
def json_member(key: str, opening: str) -> re.Pattern[str]:
    quoted = re.escape(_json_string(key))
    return re.compile(rf"{quoted}\s*:\s*{re.escape(opening)}" if opening else rf"{quoted}\s*:")


_NOTHING = re.compile(r"(?!)")


@lru_cache(maxsize=4096)
def _json_value(key: str, value: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(_json_string(key))}\s*:\s*{re.escape(_json_string(value))}")


def json_value(key: str, value: object) -> re.Pattern[str]:
    """The JSON member ``"key": "value"`` (a pattern that never matches when ``value`` is no string)."""
    return _json_value(key, value) if isinstance(value, str) else _NOTHING


@lru_cache(maxsize=4096)
def json_string(value: str) -> re.Pattern[str]:
    """The JSON string ``"value"`` (an array element)."""
    return re.compile(re.escape(_json_string(value)))


def _json_string(key: str) -> str:
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

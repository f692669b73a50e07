"""A fast reader for the plain block-style YAML that YAML dumpers write (OSV advisories such as
PyPA's): indented mappings and sequences of one-line or folded plain scalars, one-line quoted
scalars and ``[]``/``{}``.

It gives exactly what :func:`mamori.vulndb.osv.load_yaml` gives (strings, booleans, null; numbers
and dates stay text) and declines — returns :data:`DECLINED` — as soon as a document uses anything
else (anchors, tags, flow collections, block scalars, multi-line quoted scalars, comments, tabs,
unusual characters, ...), so the caller then reads it with libyaml. Every OSV file of the shared
data and generated documents are checked against libyaml in the tests.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import sub
from typing import Any

DECLINED: Any = object()  # this document is not in the subset: read it with libyaml

_PLAIN = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_PLAIN.update(dict.fromkeys(("null", "Null", "NULL", "~", ""), None))

# Characters that make the document fall back: tabs, CR, non-printable ones, YAML 1.1's extra line
# breaks (NEL, LS, PS), surrogates, BOM and non-characters.
_UNSAFE = re.compile("[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-/]*):(?: +|$)")
_INDICATORS = frozenset("-?:,[]{}#&*!|>%@`\\")  # a plain scalar starting with one is declined
_SPECIAL = _INDICATORS | {"'", '"'}
_QUOTED_PART = re.compile(r"((?:[^']|'')*)(?:(')(.*))?$")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"$')
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_ESCAPES = {
    "\\": "\\",
    '"': '"',
    "/": "/",
    " ": " ",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "f": "\f",
    "v": "\v",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}


class _Decline(Exception):
    pass


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code in _ESCAPES:
        return _ESCAPES[code]
    if len(code) > 1:
        point = int(code[1:], 16)
        if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
            raise _Decline
        return chr(point)
    raise _Decline


def _plain_text(text: str) -> bool:
    return ": " not in text and " #" not in text and not text.endswith(":")


def _simple(rest: str) -> bool:
    """A one-word-or-more plain scalar that needs no further look (no quotes, indicators, keys)."""
    return rest[0] not in _SPECIAL and ": " not in rest and " #" not in rest and rest[-1] != ":"


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        spaces = repeat(" ")
        self.text = list(map(str.strip, lines, spaces))  # each line without its indentation
        self.indent = list(map(sub, map(len, lines), map(len, map(str.lstrip, lines, spaces))))
        self.count = len(lines)

    def next_filled(self, i: int) -> int:
        """The first line from ``i`` on that is not blank (``count`` at the end)."""
        text, count = self.text, self.count
        while i < count and not text[i]:
            i += 1
        return i

    def node(self, content: str, indent: int, i: int, floor: int) -> tuple[Any, int]:
        """The node whose first line is ``i`` (its text from ``content`` on, at column ``indent``);
        returns it and the line after it."""
        if content[:2] == "- " or content == "-":
            return self.sequence(content, indent, i)
        if _KEY.match(content):
            return self.mapping(content, indent, i)
        return self.scalar(content, i, floor)

    def after(self, i: int, indent: int) -> tuple[int, int, str]:
        """The next filled line after a value in a collection at ``indent``; deeper ones are declined."""
        j = self.next_filled(i)
        if j == self.count:
            return j, -1, ""
        at = self.indent[j]
        if at > indent:
            raise _Decline
        return j, at, self.text[j]

    def sequence(self, content: str, indent: int, i: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        text, depth, count = self.text, self.indent, self.count
        while True:
            rest = content[1:].lstrip(" ")
            following = i + 1
            while (  # the usual item, kept tight: one plain word on its line, the next item after it
                rest
                and following < count
                and rest[0] not in _SPECIAL
                and ": " not in rest
                and " #" not in rest
                and rest[-1] != ":"
                and text[following]
                and depth[following] <= indent
            ):
                items.append(_PLAIN.get(rest, rest))
                i, content = following, text[following]
                if depth[i] != indent or not (content[:2] == "- " or content == "-"):
                    return items, i
                rest = content[1:].lstrip(" ")
                following = i + 1
            if rest:
                value, i = self.node(rest, indent + len(content) - len(rest), i, indent)
            else:
                value, i = self.nested(following, indent, indentless=False)
            items.append(value)
            i, at, content = self.after(i, indent)
            if at != indent or not (content[:2] == "- " or content == "-"):
                return items, i

    def nested(self, i: int, indent: int, *, indentless: bool) -> tuple[Any, int]:
        """The value below a ``key:`` or ``-`` with nothing after it on its line (null if none)."""
        j = self.next_filled(i)
        if j < self.count:
            at, content = self.indent[j], self.text[j]
            if at > indent:
                return self.node(content, at, j, indent)
            if indentless and at == indent and (content[:2] == "- " or content == "-"):
                return self.sequence(content, at, j)
        return None, i

    def mapping(self, content: str, indent: int, i: int) -> tuple[dict[Any, Any], int]:
        out: dict[Any, Any] = {}
        text, depth, count = self.text, self.indent, self.count
        while True:
            match = _KEY.match(content)
            if match is None:
                raise _Decline
            key = match.group(1)
            rest = content[match.end() :]
            following = i + 1
            if (
                rest
                and _simple(rest)
                and following < count
                and text[following]
                and depth[following] <= indent
            ):  # the usual entry: a one-line plain value, the next line filled and not deeper
                out[_PLAIN.get(key, key)] = _PLAIN.get(rest, rest)
                i, content = following, text[following]
                if depth[i] != indent:
                    return out, i
                continue
            if rest:
                if rest[:2] == "- " or _KEY.match(rest):
                    raise _Decline  # a collection on the line of its key: not what dumpers write
                value, i = self.scalar(rest, i, indent)
            else:
                value, i = self.nested(i + 1, indent, indentless=True)
            out[_PLAIN.get(key, key)] = value
            i, at, content = self.after(i, indent)
            if at != indent:
                return out, i

    def scalar(self, text: str, i: int, floor: int) -> tuple[Any, int]:
        first = text[0]
        if first == '"':
            match = _DOUBLE.match(text)
            if match is None:
                raise _Decline  # unterminated here: a multi-line quoted scalar
            body = match.group(1)
            return (_ESCAPE.sub(_unescape, body) if "\\" in body else body), i + 1
        if first == "'":
            return self.single_quoted(text, i, floor)
        if text == "[]":
            return [], i + 1
        if text == "{}":
            return {}, i + 1
        if first in _INDICATORS or not _plain_text(text):
            raise _Decline
        return self.folded(text, i, floor)

    def single_quoted(self, text: str, i: int, floor: int) -> tuple[str, int]:
        """A single-quoted scalar, folded like a plain one where it spans lines."""
        count = self.count
        part, parts = text[1:], []
        while True:
            match = _QUOTED_PART.match(part)
            if match is None:
                raise _Decline
            if match.group(2) is not None:  # the closing quote
                if match.group(3):
                    raise _Decline  # something after it on the line
                parts.append(match.group(1))
                return "".join(parts).replace("''", "'"), i + 1
            parts.append(part)
            j = self.next_filled(i + 1)
            if j == count:
                raise _Decline
            at, part = self.indent[j], self.text[j]
            if at <= floor:
                raise _Decline
            parts.append("\n" * (j - i - 1) if j > i + 1 else " ")
            i = j

    def folded(self, text: str, i: int, floor: int) -> tuple[Any, int]:
        """A plain scalar and its continuation lines (indented deeper than ``floor``), folded."""
        count = self.count
        parts = [text]
        i += 1
        while i < count:
            j = self.next_filled(i)
            if j == count:
                break
            at, content = self.indent[j], self.text[j]
            if at <= floor:
                break
            if content[0] == "#" or not _plain_text(content):
                raise _Decline  # a comment, or a key: not a continuation
            parts.append("\n" * (j - i) if j > i else " ")
            parts.append(content)
            i = j + 1
        value = "".join(parts) if len(parts) > 1 else text
        return _PLAIN.get(value, value), i


def load(data: bytes) -> Any:
    """The document as :func:`mamori.vulndb.osv.load_yaml` reads it, or :data:`DECLINED`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return DECLINED
    if _UNSAFE.search(text):
        return DECLINED
    reader = _Reader(text.split("\n"))
    start = reader.next_filled(0)
    if start == reader.count:
        return DECLINED
    at, content = reader.indent[start], reader.text[start]
    if at != 0 or not _KEY.match(content):
        return DECLINED  # only documents that are one mapping
    try:
        value, end = reader.mapping(content, 0, start)
    except (_Decline, RecursionError):
        return DECLINED
    if reader.next_filled(end) != reader.count:
        return DECLINED
    return value

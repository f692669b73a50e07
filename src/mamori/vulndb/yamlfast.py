"""OSV YAML read by yaml-rs (a YAML 1.2 reader written in Rust), accepted only when its answer is
the one :func:`mamori.vulndb.osv.load_yaml_libyaml` gives.

That loader keeps every scalar as text except ``true``/``false``/``null`` (``1.10`` is a version,
not the number 1.1). yaml-rs reads numbers as numbers, so a document whose answer holds a number, a
key that is not a string, or anything but strings, booleans, null, lists and mappings is
:data:`DECLINED`, and so is a document using what the two readers treat differently (tags, merge
keys, several documents, YAML 1.1's extra line breaks and unusual characters, non-UTF-8 bytes) or
one yaml-rs cannot read (duplicate keys among them): the caller then reads it with libyaml, which
also names any problem. On the 2,661 shared PyPI advisories yaml-rs answers for all but one (a "!"
that could be a tag), checks included in 0.21 s where the previous hand-written reader took 0.39 s
and libyaml 1.3 s (tests/test_vulndb_yamlfast.py proves the answers equal).

yaml-rs is loaded when the first YAML document is read (:func:`preload`; import workers are forked with it
when their input holds YAML files): a JSON input (CVE 5, an osv.dev zip) never loads it.
"""

from __future__ import annotations

import re
from typing import Any

DECLINED: Any = object()  # read this document with libyaml

# Characters that make the document fall back: tabs, CR, non-printable ones, YAML 1.1's extra line
# breaks (NEL, LS, PS), surrogates, BOM and non-characters.
_UNSAFE = re.compile("[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# ... of which an ASCII document can hold only the controls: every byte but these (a line feed and the
# printable characters) is one. bytes.translate drops them in one pass, several times faster than the
# pattern's search (nearly all OSV advisories are ASCII).
_ASCII_SAFE = bytes([0x0A, *range(0x20, 0x7F)])
# A tag (libyaml's loader ignores tags, yaml-rs applies them); looked for only when there is a "!".
_TAG = re.compile(r"(?:^|[\s\[{,])!", re.MULTILINE)
_MARKERS = ("---", "...")  # several documents, or a directive before one
_LEAF = frozenset((str, bool, type(None)))  # exact types: yaml-rs makes no subclasses


_loads: Any = None  # yaml_rs.loads, once loaded


def preload() -> None:
    """Load yaml-rs now (before import workers are forked, so they do not each load it)."""
    global _loads
    if _loads is None:
        import yaml_rs

        _loads = yaml_rs.loads


def _plain(value: Any) -> bool:
    """Only strings, booleans, null, lists and string-keyed mappings, however deep."""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = item.__class__
        if kind in _LEAF:  # the most frequent: one look-up
            continue
        if kind is dict:
            for key in item:
                if key.__class__ is not str:
                    return False
            push(item.values())
        elif kind is list:
            push(item)
        else:
            return False
    return True


def _has_marker(text: str) -> bool:
    return text.startswith(_MARKERS) or "\n---" in text or "\n..." in text


def _unsafe(data: bytes, text: str) -> bool:
    """Whether the document holds a character of :data:`_UNSAFE`."""
    if data.isascii():
        return bool(data.translate(None, _ASCII_SAFE))
    return _UNSAFE.search(text) is not None


def load(data: bytes) -> Any:
    """The document as the libyaml loader reads it, or :data:`DECLINED`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return DECLINED
    if _unsafe(data, text) or "<<" in text or _has_marker(text) or ("!" in text and _TAG.search(text)):
        return DECLINED
    if _loads is None:
        preload()
    try:
        value = _loads(text, parse_datetime=False)
    except Exception:  # any problem is libyaml's to name
        return DECLINED
    return value if _plain(value) else DECLINED

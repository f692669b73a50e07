"""Paragraphs of ``Key: value`` lines (dpkg status, DEP-5 copyright) and of ``K:value`` (apk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mamori.i18n import _
from mamori.sbom.generate.base import bad_line


def deb822(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line, fields) per paragraph; continuation lines (leading space) are joined with newlines."""
    fields: dict[str, str] = {}
    start = 0
    key: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if fields:
                yield start, fields
            fields, key = {}, None
            continue
        if line[0] in " \t":
            if key is None:
                raise bad_line(path, number, _("a continuation line before any field"))
            fields[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise bad_line(path, number, _("expected 'Field: value', got {line!r}").format(line=line[:60]))
        if not fields:
            start = number
        key = name.strip()
        fields[key] = value.strip()
    if fields:
        yield start, fields


def apk_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """(first line, letter → values) per package of an apk database (keys repeat: F/R/Z file lines)."""
    record: dict[str, list[str]] = {}
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if record:
                yield start, record
            record = {}
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            raise bad_line(path, number, _("expected 'K:value', got {line!r}").format(line=line[:60]))
        if not record:
            start = number
        record.setdefault(key, []).append(value)
    if record:
        yield start, record

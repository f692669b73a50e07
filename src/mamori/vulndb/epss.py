"""FIRST EPSS scores: the daily CSV (``epss_scores-YYYY-MM-DD.csv.gz``) and the API's JSON answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.timestamps import iso_date
from mamori.model.vulnerability import Epss
from mamori.vulndb import shapes
from mamori.vulndb.rejected import Rejected, guarded

SOURCE = "epss"
_SCORE_DATE = re.compile(r"score_date:(\d{4}-\d{2}-\d{2})")
_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _number(value: str, name: str, what: str) -> float:
    """A probability; the caller's :func:`guarded` names the line or row."""
    try:
        number = float(value)
    except ValueError:
        raise InputError(name, _("{what} {value!r} is not a number").format(what=what, value=value)) from None
    if not 0.0 <= number <= 1.0:
        raise InputError(name, _("{what} {value} is outside 0..1").format(what=what, value=value))
    return number


def parse_csv(name: str, data: bytes) -> Iterator[Epss | Rejected]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(name, _("EPSS CSV is not UTF-8")) from None
    lines = text.splitlines()
    day = None
    header_seen = False
    file_date = _NAME_DATE.search(name.rsplit("/", 1)[-1])
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            found = _SCORE_DATE.search(line)
            day = found.group(1) if found else day
            continue
        fields = line.split(",")
        if not header_seen:
            if [f.strip().lower() for f in fields[:2]] != ["cve", "epss"]:
                raise InputError(
                    name, _("line {number}: expected the header 'cve,epss,percentile'").format(number=number)
                )
            header_seen = True
            continue
        if len(fields) < 3 or not fields[0].startswith("CVE-"):
            yield Rejected(name, f"line {number}", "expected CVE,epss,percentile")
            continue
        when = day or (file_date.group(1) if file_date else None)
        yield guarded(name, f"line {number}", lambda f=fields, d=when: _row(f, name, d))
    if not header_seen:
        raise InputError(name, _("EPSS CSV has no 'cve,epss,percentile' header"))


def _row(fields: list[str], name: str, day: str | None) -> Epss:
    return Epss(
        cve_id=fields[0].strip(),
        score=_number(fields[1], name, "epss"),
        percentile=_number(fields[2], name, "percentile"),
        date=day,
    )


def _api_row(row: Any, name: str) -> Epss:
    if not isinstance(row, dict):
        raise InputError(name, _("no cve"))
    shapes.EPSS.check(row, name)
    cve = row.get("cve")
    if not isinstance(cve, str) or not cve.startswith("CVE-"):
        raise InputError(name, _("no cve"))
    return Epss(
        cve_id=cve,
        score=_number(str(row.get("epss")), name, "epss"),
        percentile=_number(str(row.get("percentile")), name, "percentile"),
        date=iso_date(row.get("date")),
    )


def parse_document(doc: Any, name: str) -> Iterator[Epss | Rejected]:
    """The EPSS API answer: ``{"data": [{"cve", "epss", "percentile", "date"}]}``."""
    if not looks_like(doc):
        raise InputError(name, _("not an EPSS API answer (no 'data' with epss)"))
    for i, row in enumerate(doc["data"]):
        yield guarded(name, f"data[{i}]", lambda row=row: _api_row(row, name))


def looks_like(doc: Any) -> bool:
    rows = doc.get("data") if isinstance(doc, dict) else None
    return isinstance(rows, list) and (not rows or (isinstance(rows[0], dict) and "epss" in rows[0]))


def looks_like_csv(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith(b"#model_version") or head.startswith(b"cve,epss")

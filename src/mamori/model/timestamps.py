"""Dates from every source as ISO 8601 UTC strings (``2024-02-15T14:15:46Z``), so they sort and compare.

Placeholder dates are no dates: Go's zero time ``0001-01-01T00:00:00Z`` (OSV records carry it as
``modified``), any year before 1970 and the Unix epoch ``1970-01-01`` itself (what a zero timestamp
prints as) read as absent, so they are neither shown nor chosen over a real date when records merge.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_YEAR = re.compile(r"(\d{4})-\d\d-\d\d")
_EPOCH = "1970-01-01"
# already in the normal form but for a fraction of a second (most OSV, NVD and CVE 5 times)
_UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")


def placeholder(text: str) -> bool:
    """A zero or epoch date standing for "no date" (``0001-01-01…``, ``0000-…``, ``1970-01-01…``)."""
    found = _YEAR.match(text.strip())
    return found is not None and (int(found.group(1)) < 1970 or text.strip().startswith(_EPOCH))


def real_date(value: object) -> bool:
    """A date or timestamp (normal form) that is no placeholder: what may be shown and compared."""
    return isinstance(value, str) and _YEAR.match(value) is not None and not placeholder(value)


def iso_utc(value: object) -> str | None:
    """Normalise a timestamp or date; naive times are taken as UTC; unparsable text is kept as is;
    placeholder dates (:func:`placeholder`) give None."""
    text = _iso_utc(value)
    return None if text is None or placeholder(text) else text


def _iso_utc(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        return value.isoformat()
    else:
        text = str(value).strip()
        if _UTC_Z.fullmatch(text):  # the result is its first 19 characters and Z, if it is a real time
            try:
                datetime.fromisoformat(text)
            except ValueError:
                return text
            return text[:19] + "Z"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return text
        if len(text) == 10:  # a bare date stays a date
            return text
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.replace(microsecond=0).isoformat() + "Z"


def iso_date(value: object) -> str | None:
    """A date (YYYY-MM-DD) from a date or timestamp."""
    text = iso_utc(value)
    return text[:10] if text else None

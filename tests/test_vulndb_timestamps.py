"""ISO 8601 UTC normalisation: the quick path for times already ending in Z gives what the general
parse gives, including for impossible dates and times (kept as written)."""

from __future__ import annotations

import pytest

from mamori.model.timestamps import iso_utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-01T10:20:30Z", "2021-03-01T10:20:30Z"),
        ("2021-03-01T10:20:30.123456Z", "2021-03-01T10:20:30Z"),
        ("2021-03-01T10:20:30.9Z", "2021-03-01T10:20:30Z"),
        (" 2021-03-01T10:20:30Z ", "2021-03-01T10:20:30Z"),
        ("2021-02-30T00:00:00Z", "2021-02-30T00:00:00Z"),  # no such day: kept as written
        ("2021-03-01T24:00:00Z", "2021-03-01T24:00:00Z"),
        ("2021-13-01T00:00:00.5Z", "2021-13-01T00:00:00.5Z"),
        ("2021-03-01T10:20:30+09:00", "2021-03-01T01:20:30Z"),  # the general path
        ("2021-03-01T10:20:30.5", "2021-03-01T10:20:30Z"),
        ("2021-03-01", "2021-03-01"),
        ("not a time", "not a time"),
        ("", None),
    ],
)
def test_iso_utc(text: str, expected: str | None) -> None:
    assert iso_utc(text) == expected

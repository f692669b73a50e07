"""The stored priority sort key of a finding (``portfolio_finding.priority``).

The findings lists put the most urgent first: resolved last, out of the gate last, KEV first, then by
rating, score (highest first), product, release, component reference and vulnerability id (see
:func:`mamori.portfolio.views.findings`). The triage state and KEV membership change without the
finding changing and are decided when a list is read; the rest depends on the match (rating, score,
id), the component and the release only, and is stored with each affected finding as one byte string
whose byte order is that order, so that the first page of a list is a range of an index.

The key: the rating's rank (one byte), the negated score as an order-preserving 8-byte float, then
product name, release version, component reference and vulnerability id, each UTF-8 with NUL escaped
(``00`` → ``00 01``) and ended by ``00 00`` (code-point order, as Python compares strings, with a
shorter string before the strings it begins). Keys are cut to :data:`KEY_BYTES` so that an index entry
stays far below PostgreSQL's limit; two keys cut alike are ordered by the full columns, which follow
the key in every ``ORDER BY``. Written by the re-match (new findings, and the findings of a match whose
content changed) and, for the findings that existed before, by the migration that added the column.
"""

from __future__ import annotations

import struct

RATING_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 4, "unknown": 5}
KEY_BYTES = 512
_SIGN = 1 << 63
_ALL = (1 << 64) - 1


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\x01") + b"\x00\x00"


def _descending(score: float | None) -> bytes:
    """``-(score or 0)`` as 8 bytes whose order is that of the numbers (IEEE 754, sign bit flipped for
    positive numbers, every bit for negative ones)."""
    value = float(-(score or 0)) + 0.0  # no negative zero
    bits = struct.unpack(">Q", struct.pack(">d", value))[0]
    return struct.pack(">Q", bits ^ _ALL if bits & _SIGN else bits | _SIGN)


def priority_key(
    rating: str | None, score: float | None, product: str, release: str, ref: str, vuln_id: str
) -> bytes:
    """The stored sort key of one affected finding."""
    key = b"".join(
        (
            bytes((RATING_ORDER.get(rating or "", 9),)),
            _descending(score),
            _text(product),
            _text(release),
            _text(ref),
            _text(vuln_id),
        )
    )
    return key[:KEY_BYTES]

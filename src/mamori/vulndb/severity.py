"""CVSS severities: base scores computed by the ``cvss`` package, the source's own score kept beside."""

from __future__ import annotations

from functools import lru_cache

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from mamori.model.vulnerability import Severity


def cvss_version(vector: str) -> str:
    """``CVSS:3.1/...`` → 3.1, ``CVSS:4.0/...`` → 4.0, a bare v2 vector → 2.0."""
    if vector.startswith("CVSS:"):
        return vector[5:8]
    return "2.0"


def method_for(version: str) -> str:
    return {"2": "CVSS_V2", "3": "CVSS_V3", "4": "CVSS_V4"}.get(version[:1], "CVSS_V3")


@lru_cache(maxsize=65536)
def compute(vector: str) -> tuple[float | None, str | None, str | None]:
    """(base score, rating, problem) for a CVSS 2, 3.x or 4.0 vector."""
    try:
        version = cvss_version(vector)
        if version.startswith("4"):
            c4 = CVSS4(vector)
            return float(c4.base_score), c4.severity, None
        if version.startswith("3"):
            c3 = CVSS3(vector)
            return float(c3.scores()[0]), c3.severities()[0], None
        c2 = CVSS2(vector)
        return float(c2.scores()[0]), c2.severities()[0], None
    except CVSSError as exc:
        return None, None, f"invalid CVSS vector: {exc}"
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return None, None, f"invalid CVSS vector: {exc!r}"


def _float(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def make_severity(
    vector: str,
    *,
    source: str,
    version: str | None = None,
    source_score: object = None,
    source_rating: str | None = None,
    provider: str | None = None,
    kind: str | None = None,
) -> Severity:
    vector = vector.strip()
    version = version or cvss_version(vector)
    score, rating, problem = compute(vector)
    return Severity(
        method=method_for(version),
        version=version,
        vector=vector,
        score=score,
        rating=rating,
        source_score=_float(source_score),
        source_rating=source_rating.capitalize() if isinstance(source_rating, str) else None,
        source=source,
        provider=provider,
        kind=kind,
        problem=problem,
    )

"""``--severity`` and ``--ignore-unfixed`` (the conventions of Trivy and Grype): which findings a scan
reports, and so which ones the gate sees. What is hidden is counted (:attr:`ScanResult.filters`), so no
report passes over it in silence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.scan.result import RATINGS, ScanResult

#: the values ``--severity`` accepts (any case), as Trivy names them plus ``none`` (CVSS 0.0)
SEVERITIES = ("critical", "high", "medium", "low", "none", "unknown")


def parse_severities(value: str | Iterable[str] | None, option: str = "--severity") -> tuple[str, ...] | None:
    """``critical,HIGH`` → ("critical", "high"); None or empty: no filter. An unknown word is an
    InputError naming ``option``."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    words = [w.strip().lower() for w in items if w.strip()]
    for word in words:
        if word not in SEVERITIES:
            raise InputError(
                None,
                _("{option}: expected one or more of {values}, got {word!r}").format(
                    option=option, values=", ".join(SEVERITIES), word=word
                ),
            )
    return tuple(r for r in RATINGS if r in words) or None


def apply_filters(
    result: ScanResult, severities: tuple[str, ...] | None = None, ignore_unfixed: bool = False
) -> dict[str, Any] | None:
    """Keep the findings of ``severities`` (all when None) that, with ``ignore_unfixed``, have a fixed
    version; record in ``result.filters`` what was hidden. Returns that record (None: no filter)."""
    if severities is None and not ignore_unfixed:
        return None
    kept = result.findings
    hidden_severity = 0
    if severities is not None:
        wanted = set(severities)
        before = len(kept)
        kept = [f for f in kept if f.vulnerability.rating in wanted]
        hidden_severity = before - len(kept)
    hidden_unfixed = 0
    if ignore_unfixed:
        before = len(kept)
        kept = [f for f in kept if f.fixed_versions]
        hidden_unfixed = before - len(kept)
    result.findings = kept
    result.filters = {
        "severity": list(severities) if severities is not None else None,
        "ignore_unfixed": ignore_unfixed,
        "hidden_by_severity": hidden_severity,
        "hidden_unfixed": hidden_unfixed,
        "hidden": hidden_severity + hidden_unfixed,
    }
    return result.filters

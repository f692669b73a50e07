"""What evaluating one affected entry against one installed version says."""

from __future__ import annotations

from dataclasses import dataclass

# How a finding was matched (finding.py documents the confidence each one carries).
PURL_RANGE = "purl-range"
PURL_VERSION_LIST = "purl-version-list"
CPE_CONFIG = "cpe-config"
PURL2CPE = "purl2cpe"
PURL2CPE_WEAK = "purl2cpe-weak"  # through a weak purl2cpe link, only on request


@dataclass(frozen=True, slots=True)
class Verdict:
    """``affected`` is True, False, or None when it cannot be told (``reason`` says why).

    ``fixed`` is the first fixed version above the installed one on the branch that matched;
    ``detail`` says in a few words which bounds matched.
    """

    affected: bool | None
    method: str = ""
    detail: str = ""
    fixed: str | None = None
    reason: str | None = None


NOT_AFFECTED = Verdict(False)


def unknown(reason: str) -> Verdict:
    return Verdict(None, reason=reason)

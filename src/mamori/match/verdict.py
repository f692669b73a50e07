"""What evaluating one affected entry against one installed version says."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.dataclass_code import slot_setters

# How a finding was matched (finding.py documents the confidence each one carries).
PURL_RANGE = "purl-range"
PURL_VERSION_LIST = "purl-version-list"
CPE_CONFIG = "cpe-config"
PURL2CPE = "purl2cpe"
PURL2CPE_WEAK = "purl2cpe-weak"  # through a weak purl2cpe link, only on request


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        affected: bool | None,
        method: str = "",
        detail: str = "",
        fixed: str | None = None,
        reason: str | None = None,
    ) -> None:  # the generated one, its fields set through their slots (one per finding: ~20,000)
        set_affected, set_method, set_detail, set_fixed, set_reason = _VERDICT_SLOTS
        set_affected(self, affected)
        set_method(self, method)
        set_detail(self, detail)
        set_fixed(self, fixed)
        set_reason(self, reason)


_VERDICT_SLOTS = slot_setters(Verdict)


NOT_AFFECTED = Verdict(False)


def unknown(reason: str) -> Verdict:
    return Verdict(None, reason=reason)

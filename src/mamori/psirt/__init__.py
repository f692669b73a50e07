"""PSIRT cases: intake (API, web form, e-mail, coordinator), the state machine with its history, affected
releases from the portfolio, timers with overdue notifications, FIRST PSIRT metrics and security.txt.

The advisories drafted from a case (CSAF 2.0, CVE JSON 5) are in :mod:`mamori.advisory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.lazy import lazy_exports

if TYPE_CHECKING:
    from mamori.psirt.cases import (
        Case,
        add_revision,
        compute_affected,
        get_case,
        list_cases,
        new_case,
        set_product,
        transition,
        update_case,
    )
    from mamori.psirt.eml import read_eml
    from mamori.psirt.metrics import metrics, metrics_csv
    from mamori.psirt.securitytxt import security_txt
    from mamori.psirt.timers import notify_overdue, overdue, set_timer, timers_for

_HOME = {
    "Case": "cases",
    "add_revision": "cases",
    "compute_affected": "cases",
    "get_case": "cases",
    "list_cases": "cases",
    "new_case": "cases",
    "set_product": "cases",
    "transition": "cases",
    "update_case": "cases",
    "read_eml": "eml",
    "metrics": "metrics",
    "metrics_csv": "metrics",
    "security_txt": "securitytxt",
    "notify_overdue": "timers",
    "overdue": "timers",
    "set_timer": "timers",
    "timers_for": "timers",
}

__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "Case",
    "add_revision",
    "compute_affected",
    "get_case",
    "list_cases",
    "metrics",
    "metrics_csv",
    "new_case",
    "notify_overdue",
    "overdue",
    "read_eml",
    "security_txt",
    "set_product",
    "set_timer",
    "timers_for",
    "transition",
    "update_case",
]

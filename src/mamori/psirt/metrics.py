"""FIRST PSIRT metrics from the cases' history: times to acknowledge, triage, fix and disclose; counts by
intake channel, state, SSVC outcome and CWE; adherence to the timers (SLA).

Each metric names the measure of the PSIRT services catalog it serves (``mamori catalog show psirt-services``;
the catalog items carry the seed reference): 2.5-M4 vulnerabilities by information source, 2.5-M5 handling
status, 2.5-M6 on-time response rate, 2.5-M7 time from intake to completed triage, 2.5-M1 found versus
verified, 4.4-M3 confirmed vulnerabilities by CWE, 4.4-M4 impact assessments within SLA, 4.4-M6 fixes
within SLA, 4.4-M7 the overall report-to-fix objective. The CSV is formula-neutralised
(:func:`mamori.cells.csv_bytes`).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from mamori.psirt.cases import Case, CaseEvent, all_events, list_cases, parse_time
from mamori.psirt.timers import timers_for
from mamori.store import Store

DURATIONS = {  # name → (to state, catalog measure)
    "days_to_acknowledge": ("acknowledged", None),
    "days_to_triage": ("triaged", "2.5-M7"),
    "days_to_fix": ("fix_released", "4.4-M7"),
    "days_to_disclose": ("disclosed", None),
}
COUNTS = {
    "by_channel": "2.5-M4",
    "by_state": "2.5-M5",
    "by_ssvc_outcome": None,
    "by_cwe": "4.4-M3",
}
SLA = {"acknowledge": "2.5-M6", "triage": "4.4-M4", "fix": "4.4-M6"}


def _first(events: list[CaseEvent], state: str) -> datetime | None:
    for e in events:
        if e.to_state == state:
            return parse_time(e.at)
    return None


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 86400, 2)


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "mean": None, "max": None}
    return {
        "count": len(values),
        "median": round(statistics.median(values), 2),
        "mean": round(statistics.fmean(values), 2),
        "max": max(values),
    }


def _sla(case: Case, events: list[CaseEvent], timers: dict[str, int], now: datetime) -> dict[str, str]:
    """Per timer: met, missed, running (open, not yet due) or overdue (open, past due)."""
    out: dict[str, str] = {}
    received = _first(events, "received") or parse_time(case.received_at)
    plan = [
        ("acknowledge", received, _first(events, "acknowledged"), timers["acknowledge"]),
        ("triage", _first(events, "acknowledged"), _first(events, "triaged"), timers["triage"]),
    ]
    fix_timer = timers.get(f"fix_{case.ssvc_outcome}") if case.ssvc_outcome else None
    if fix_timer is not None:
        plan.append(("fix", _first(events, "triaged"), _first(events, "fix_released"), fix_timer))
    finished = case.state in ("rejected", "duplicate")
    for name, start, end, days in plan:
        if start is None:
            continue
        due = start + timedelta(days=days)
        if end is not None:
            out[name] = "met" if end <= due else "missed"
        elif not finished:
            out[name] = "overdue" if now > due else "running"
    return out


def metrics(
    store: Store,
    *,
    now: datetime | None = None,
    team: str | None = None,
    teams: Collection[str] | None = None,
) -> dict[str, Any]:
    """The metrics of every case (of ``team``; of one of ``teams`` when given) as a JSON-able dict."""
    now = now or datetime.now(UTC)
    cases = list_cases(store, team=team)
    if teams is not None:
        cases = [c for c in cases if c.team is not None and c.team in teams]
    history = all_events(store)
    durations: dict[str, list[float]] = {name: [] for name in DURATIONS}
    counts: dict[str, Counter[str]] = {name: Counter() for name in COUNTS}
    sla: dict[str, Counter[str]] = {name: Counter() for name in SLA}
    per_case = []
    timers: dict[str | None, dict[str, int]] = {}
    for case in cases:
        events = history.get(case.id, [])
        received = _first(events, "received") or parse_time(case.received_at)
        row: dict[str, Any] = {
            "case": case.key,
            "title": case.title,
            "channel": case.channel,
            "state": case.state,
            "ssvc_outcome": case.ssvc_outcome,
        }
        for name, (state, _ref) in DURATIONS.items():
            value = _days(received, _first(events, state))
            row[name] = value
            if value is not None:
                durations[name].append(value)
        counts["by_channel"][case.channel] += 1
        counts["by_state"][case.state] += 1
        counts["by_ssvc_outcome"][case.ssvc_outcome or "none"] += 1
        if case.cwe and case.state not in ("rejected", "duplicate"):
            counts["by_cwe"][case.cwe] += 1
        case_sla = _sla(case, events, timers.setdefault(case.team, timers_for(store, case.team)), now)
        for name, verdict in case_sla.items():
            sla[name][verdict] += 1
        row["sla"] = case_sla
        per_case.append(row)
    confirmed = sum(1 for c in cases if c.state not in ("received", "acknowledged", "rejected", "duplicate"))
    out_sla = {}
    for name, counter in sla.items():
        decided = counter["met"] + counter["missed"] + counter["overdue"]
        out_sla[name] = {
            "catalog": SLA[name],
            "met": counter["met"],
            "missed": counter["missed"],
            "overdue": counter["overdue"],
            "running": counter["running"],
            "rate": round(counter["met"] / decided, 4) if decided else None,
        }
    return {
        "generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "team": team,
        "cases": len(cases),
        "reported_vs_confirmed": {
            "catalog": "2.5-M1",
            "reported": len(cases),
            "confirmed": confirmed,
            "rejected": counts["by_state"]["rejected"],
            "duplicate": counts["by_state"]["duplicate"],
        },
        "durations": {
            name: {"catalog": ref, "to": state, **_summary(durations[name])}
            for name, (state, ref) in DURATIONS.items()
        },
        "counts": {name: {"catalog": COUNTS[name], **dict(sorted(c.items()))} for name, c in counts.items()},
        "sla": out_sla,
        "per_case": per_case,
    }


def metrics_rows(m: dict[str, Any]) -> list[list[Any]]:
    """The metrics as CSV rows: metric, catalog measure, key, value."""
    rows: list[list[Any]] = [["metric", "catalog", "key", "value"]]
    rows.append(["cases", None, None, m["cases"]])
    r = m["reported_vs_confirmed"]
    for key in ("reported", "confirmed", "rejected", "duplicate"):
        rows.append(["reported_vs_confirmed", r["catalog"], key, r[key]])
    for name, d in m["durations"].items():
        for key in ("count", "median", "mean", "max"):
            rows.append([name, d["catalog"], key, d[key]])
    for name, c in m["counts"].items():
        for key, value in c.items():
            if key != "catalog":
                rows.append([name, c["catalog"], key, value])
    for name, s in m["sla"].items():
        for key in ("met", "missed", "overdue", "running", "rate"):
            rows.append([f"sla_{name}", s["catalog"], key, s[key]])
    for case in m["per_case"]:
        rows.append(["case_title", None, case["case"], case["title"]])
        for name in DURATIONS:
            rows.append([f"case_{name}", DURATIONS[name][1], case["case"], case[name]])
    return rows


def metrics_csv(m: dict[str, Any]) -> bytes:
    from mamori.cells import csv_bytes

    return csv_bytes(metrics_rows(m))

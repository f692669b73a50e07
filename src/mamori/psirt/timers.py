"""Timers of PSIRT cases: how many days a case may stay received (``acknowledge``), acknowledged
(``triage``) and triaged or in fix (``fix_<SSVC outcome>``: immediate, out_of_cycle, scheduled, defer).

Defaults come from ``mamori/data/psirt/workflow.yaml``; the team ``""`` overrides them for every team and
a team's own rows override both. :func:`overdue` lists the open cases past a timer; :func:`notify_overdue`
records a ``case_overdue`` notification event for each (once per case, timer and due date) through
:func:`mamori.notify.record_events`, delivered to the subscriptions of the teams owning an affected product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from mamori.errors import InputError
from mamori.i18n import _
from mamori.psirt import tables as t
from mamori.psirt.cases import Case, CaseEvent, _write, all_events, list_cases, parse_time
from mamori.psirt.workflow import workflow
from mamori.store import Store

MAX_DAYS = 3650


def timers_for(store: Store, team: str | None = None) -> dict[str, int]:
    """The timers in force for ``team`` (days)."""
    out = dict(workflow().timers)
    tt = t.TimerRow.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(select(tt).where(tt.c.team.in_(["", team or ""]))).all()
    for row in sorted(rows, key=lambda r: r.team != ""):  # every team's first, then the team's own
        out[row.timer] = row.days
    return out


def set_timer(store: Store, team: str | None, timer: str, days: int | None) -> dict[str, int]:
    """Set (``days``) or reset (``None``) one timer of ``team`` (``None``: every team)."""
    if timer not in workflow().timers:
        raise InputError(
            None,
            _("unknown timer {timer}: expected one of {timers}").format(
                timer=repr(timer), timers=", ".join(workflow().timers)
            ),
        )
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InputError(None, _("a timer is 1 to {max} days").format(max=MAX_DAYS))
    tt = t.TimerRow.__table__
    key = (team or "")[:200]
    with _write(store) as conn:
        conn.execute(delete(tt).where((tt.c.team == key) & (tt.c.timer == timer)))
        if days is not None:
            conn.execute(tt.insert().values(team=key, timer=timer, days=days))
    return timers_for(store, team)


@dataclass(frozen=True)
class Overdue:
    case: Case
    timer: str
    days: int
    started: datetime
    due: datetime
    days_over: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.key,
            "title": self.case.title,
            "state": self.case.state,
            "team": self.case.team,
            "timer": self.timer,
            "days": self.days,
            "started": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "due": self.due.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_over": self.days_over,
        }


def _entered(events: list[CaseEvent], state: str) -> datetime | None:
    """When the case first entered ``state``."""
    for e in events:
        if e.to_state == state:
            return parse_time(e.at)
    return None


def running_timer(
    case: Case, events: list[CaseEvent], timers: dict[str, int]
) -> tuple[str, int, datetime] | None:
    """The timer running for the case in its state: (name, days, start), or None."""
    if case.state == "received":
        return (
            "acknowledge",
            timers["acknowledge"],
            _entered(events, "received") or parse_time(case.received_at),
        )
    if case.state == "acknowledged":
        return "triage", timers["triage"], _entered(events, "acknowledged") or parse_time(case.state_since)
    if case.state in ("triaged", "fix_in_progress") and case.ssvc_outcome:
        name = f"fix_{case.ssvc_outcome}"
        if name in timers:
            return name, timers[name], _entered(events, "triaged") or parse_time(case.state_since)
    return None


def overdue(store: Store, *, now: datetime | None = None, team: str | None = None) -> list[Overdue]:
    """Every open case past the timer of its state, most overdue first."""
    now = now or datetime.now(UTC)
    history = all_events(store)
    per_team: dict[str | None, dict[str, int]] = {}
    out: list[Overdue] = []
    for case in list_cases(store, team=team):
        if case.state in workflow().final:
            continue
        timers = per_team.setdefault(case.team, timers_for(store, case.team))
        running = running_timer(case, history.get(case.id, []), timers)
        if running is None:
            continue
        name, days, started = running
        due = started + timedelta(days=days)
        if now > due:
            out.append(Overdue(case, name, days, started, due, (now - due).days))
    return sorted(out, key=lambda o: o.due)


def notify_overdue(store: Store, *, now: datetime | None = None) -> Any:
    """A ``case_overdue`` event per overdue case and affected product (once per case, timer and due
    date); returns :class:`mamori.notify.Computed`."""
    from mamori.notify import record_events
    from mamori.psirt.cases import get_case

    now = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for item in overdue(store, now=now):
        products = get_case(store, item.case.key).products
        places = {(p.product, p.release) for p in products if p.status == "known_affected"} or {(None, None)}
        for product, release in sorted(places, key=lambda x: (x[0] or "", x[1] or "")):
            rows.append(
                {
                    "key": f"{item.case.key}:{item.timer}:{item.as_dict()['due']}:{product or ''}:{release or ''}",
                    "kind": "case_overdue",
                    "product": product,
                    "release": release,
                    "vuln_id": None,
                    "severity": None,
                    "ssvc_outcome": None,
                    "kev": False,
                    "payload": item.as_dict(),
                }
            )
    return record_events(store, rows, now=now)

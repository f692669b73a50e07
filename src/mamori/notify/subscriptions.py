"""Subscriptions of teams to notifications: add, list, remove.

A subscription belongs to a team and covers the products that team owns (``mamori team product``),
narrowed to ``products`` when given. Its filters: minimum severity, SSVC outcomes, KEV only, event kinds.
``immediate`` sends each event on the next delivery; ``digest`` sends one message a day with every
event of the day. The webhook's secret is kept in the store (it is needed to sign) and never printed,
listed or logged; listings show only whether there is one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from mamori.errors import InputError
from mamori.i18n import _
from mamori.notify import tables as t
from mamori.notify.urls import check_url
from mamori.store import Store

CHANNELS = ("webhook", "slack", "teams", "email")
MODES = ("immediate", "digest")
SEVERITIES = ("critical", "high", "medium", "low", "none", "unknown")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES[:5]))}  # none 0 … critical 4
OUTCOMES = ("defer", "scheduled", "out_of_cycle", "immediate", "track", "track_star", "attend", "act")
EVENT_KINDS = (
    "new_finding",
    "kev_added",
    "epss_rise",
    "ssvc_change",
    "sbom_quality_drop",
    "policy_violation",
    "supplier_document",
    "review_due",
    "case_overdue",
    "deployed_kev",
    "end_of_support",
)
# what a subscription without an event filter gets: every kind but ``policy_violation``, which restates a
# finding already sent as ``new_finding``/``kev_added``/``ssvc_change`` (asked for by name: ``--event``)
DEFAULT_KINDS = tuple(k for k in EVENT_KINDS if k != "policy_violation")
_EMAIL = re.compile(r"^[^@\s<>\"'(),;:\\\[\]]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
SECRET_MIN = 16


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    team_id: int
    team: str
    channel: str
    target: str
    secret: str | None
    products: tuple[str, ...] | None
    min_severity: str | None
    ssvc_outcomes: tuple[str, ...] | None
    kev_only: bool
    events: tuple[str, ...] | None
    mode: str
    lang: str
    created_at: str
    created_by: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, without the secret (only whether there is one)."""
        return {
            "id": self.id,
            "team": self.team,
            "channel": self.channel,
            "target": self.shown_target(),
            "signed": self.secret is not None,
            "products": list(self.products) if self.products is not None else None,
            "min_severity": self.min_severity,
            "ssvc_outcomes": list(self.ssvc_outcomes) if self.ssvc_outcomes is not None else None,
            "kev_only": self.kev_only,
            "events": list(self.events) if self.events is not None else None,
            "mode": self.mode,
            "lang": self.lang,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }

    def shown_target(self) -> str:
        """The target as listings show it: an incoming webhook's URL carries its secret in the path
        (Slack, Teams) and a webhook's may carry one in the query, so only scheme and host are shown."""
        if self.channel == "email":
            return self.target
        from urllib.parse import urlsplit

        parts = urlsplit(self.target)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def _split(value: str | None, sep: str = ",") -> tuple[str, ...] | None:
    return tuple(v for v in value.split(sep) if v) if value else None


def _subscription(row: Any, team: str) -> Subscription:
    return Subscription(
        id=row.id,
        team_id=row.team_id,
        team=team,
        channel=row.channel,
        target=row.target,
        secret=row.secret,
        products=_split(row.products, "\n"),
        min_severity=row.min_severity,
        ssvc_outcomes=_split(row.ssvc_outcomes),
        kev_only=bool(row.kev_only),
        events=_split(row.events),
        mode=row.mode,
        lang=row.lang,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _choice(value: str | None, allowed: Sequence[str], what: str) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if value not in allowed:
        raise InputError(
            None,
            _("{what} must be one of {allowed}, not {value!r}").format(
                what=what, allowed=", ".join(allowed), value=value
            ),
        )
    return value


def _choices(values: Sequence[str] | None, allowed: Sequence[str], what: str) -> str | None:
    if not values:
        return None
    out = []
    for value in values:
        for part in value.split(","):
            if part.strip():
                out.append(_choice(part, allowed, what))
    return ",".join(dict.fromkeys(v for v in out if v)) or None


def check_target(channel: str, target: str) -> str:
    """The target of a channel, checked: an e-mail address for ``email``, else an http(s) URL (https for
    Slack and Teams); an InputError otherwise."""
    target = target.strip()
    if channel == "email":
        if not _EMAIL.match(target):
            raise InputError(None, _("not an e-mail address: {value!r}").format(value=target))
        return target
    return check_url(target, https_only=channel in ("slack", "teams"))


def check_destination(channel: str, target: str) -> None:
    """An InputError when the checked ``target`` (or, for ``email``, the configured SMTP server) is or
    resolves to an address notifications may not go to (:mod:`mamori.notify.netguard`)."""
    from mamori.notify import netguard

    allowed = netguard.allowed_networks()
    if channel != "email":
        netguard.check_url_host(target, allowed)
        return
    from mamori.notify.channels import smtp_settings

    try:
        smtp = smtp_settings()
    except InputError:
        return  # no SMTP server configured yet: checked when one is, at delivery
    default = 465 if smtp.security == "ssl" else 587
    netguard.check_host(smtp.host, smtp.port or default, allowed)


def _team_id(conn: Connection, team: str) -> int:
    from mamori.accounts.tables import TeamRow

    found = conn.scalar(select(TeamRow.__table__.c.id).where(TeamRow.__table__.c.name == team.strip()))
    if found is None:
        raise InputError(None, _("no team {name!r}").format(name=team.strip()))
    return int(found)


def add_subscription(
    store: Store,
    team: str,
    channel: str,
    target: str,
    *,
    secret: str | None = None,
    products: Sequence[str] | None = None,
    min_severity: str | None = None,
    ssvc_outcomes: Sequence[str] | None = None,
    kev_only: bool = False,
    events: Sequence[str] | None = None,
    mode: str = "immediate",
    lang: str = "en",
    who: str | None = None,
    actor: Any = None,
    remote_addr: str | None = None,
) -> Subscription:
    """A new subscription of ``team``; every value is checked (an InputError names the first bad one).
    ``actor`` (an :class:`mamori.accounts.Actor`, default the person at the command line) and
    ``remote_addr`` go to the audit line."""
    from mamori.accounts.core import _write, cli_actor, now_iso, record_audit
    from mamori.portfolio.tables import ProductRow

    channel = _choice(channel, CHANNELS, _("channel")) or ""
    target = check_target(channel, target)
    check_destination(channel, target)
    if secret is not None and channel != "webhook":
        raise InputError(None, _("--secret is for webhook subscriptions only"))
    if secret is not None and len(secret) < SECRET_MIN:
        raise InputError(None, _("the secret must be at least {n} characters").format(n=SECRET_MIN))
    mode = _choice(mode, MODES, _("mode")) or "immediate"
    lang = _choice(lang, ("ja", "en"), _("language")) or "en"
    severity = _choice(min_severity, SEVERITIES[:5], _("minimum severity"))
    outcomes = _choices(ssvc_outcomes, OUTCOMES, _("SSVC outcome"))
    kinds = _choices(events, EVENT_KINDS, _("event"))
    actor = actor or cli_actor()
    with _write(store) as conn:
        team_id = _team_id(conn, team)
        names: list[str] = []
        p = ProductRow.__table__
        for name in products or ():
            name = name.strip()
            if conn.scalar(select(p.c.id).where(p.c.name == name)) is None:
                raise InputError(None, _("no product {name!r}").format(name=name))
            names.append(name)
        row = {
            "team_id": team_id,
            "channel": channel,
            "target": target,
            "secret": secret,
            "products": "\n".join(dict.fromkeys(names)) or None,
            "min_severity": severity,
            "ssvc_outcomes": outcomes,
            "kev_only": kev_only,
            "events": kinds,
            "mode": mode,
            "lang": lang,
            "created_at": now_iso(),
            "created_by": (who or actor.name)[:200],
        }
        new_id = int(conn.execute(t.SubscriptionRow.__table__.insert().values(**row)).inserted_primary_key[0])
    found = get_subscription(store, new_id)
    assert found is not None
    record_audit(
        store,
        actor,
        "notify.add",
        f"subscription:{new_id}",
        {"channel": channel, "mode": mode, "signed": secret is not None},
        remote_addr,
        team_id,
    )
    return found


def list_subscriptions(store: Store, team: str | None = None) -> list[Subscription]:
    """Every subscription (or one team's), by id."""
    from mamori.accounts.tables import TeamRow

    s, tt = t.SubscriptionRow.__table__, TeamRow.__table__
    stmt = select(s, tt.c.name.label("team_name")).join(tt, tt.c.id == s.c.team_id).order_by(s.c.id)
    with store.engine.connect() as conn:
        if team is not None:
            stmt = stmt.where(s.c.team_id == _team_id(conn, team))
        return [_subscription(row, row.team_name) for row in conn.execute(stmt)]


def get_subscription(store: Store, subscription_id: int) -> Subscription | None:
    from mamori.accounts.tables import TeamRow

    s, tt = t.SubscriptionRow.__table__, TeamRow.__table__
    stmt = (
        select(s, tt.c.name.label("team_name"))
        .join(tt, tt.c.id == s.c.team_id)
        .where(s.c.id == subscription_id)
    )
    with store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    return _subscription(row, row.team_name) if row is not None else None


def remove_subscription(
    store: Store, subscription_id: int, *, actor: Any = None, remote_addr: str | None = None
) -> Subscription:
    """Remove a subscription with its deliveries (its delivery log stays)."""
    from mamori.accounts.core import _write, cli_actor, record_audit

    found = get_subscription(store, subscription_id)
    if found is None:
        raise InputError(None, _("no subscription {id}").format(id=subscription_id))
    with _write(store) as conn:
        conn.execute(delete(t.DeliveryRow.__table__).where(t.DeliveryRow.subscription_id == subscription_id))
        conn.execute(delete(t.SubscriptionRow.__table__).where(t.SubscriptionRow.id == subscription_id))
    record_audit(
        store,
        actor or cli_actor(),
        "notify.remove",
        f"subscription:{subscription_id}",
        {"channel": found.channel},
        remote_addr,
        found.team_id,
    )
    return found

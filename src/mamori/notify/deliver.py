"""Delivering what is due, and the delivery log.

:func:`deliver_pending` takes every pending delivery whose time has come: an ``immediate`` subscription's
events are sent one message each, a ``digest`` subscription's due events in one message. A delivery is
claimed before it is sent (its next time moved past a lease, only when it is still pending and due), so
two workers running delivery at once send it once. A delivery sent is never sent again (unique per
subscription and event, and marked ``sent``); one that fails is tried again with a growing wait,
and given up (``failed``) after :data:`MAX_ATTEMPTS` runs. Each try is one line of the delivery log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update

from mamori.i18n import Lang
from mamori.notify import channels, render
from mamori.notify import tables as t
from mamori.notify.events import Event, event_of
from mamori.notify.subscriptions import Subscription, get_subscription, list_subscriptions
from mamori.store import Store

MAX_ATTEMPTS = 6  # runs of delivery before a delivery is given up
RETRY_BASE = timedelta(minutes=1)  # wait after the first failed run; doubled after each
LEASE = timedelta(minutes=5)  # a claimed delivery is not taken by another worker for this long
TRIES = 3  # tries within one run (webhook), waiting BACKOFF, 2 × BACKOFF … between them
BACKOFF = 1.0
BATCH = 200  # events in one digest message at most
CLAIM = 50  # immediate deliveries claimed in one transaction


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0  # deliveries (events) sent
    messages: int = 0  # messages sent (a digest is one)
    failed: int = 0  # deliveries given up
    retrying: int = 0  # deliveries to try again later
    attempts: list[dict[str, Any]] = field(default_factory=list)


def _iso(at: datetime) -> str:
    from mamori.accounts.core import now_iso

    return now_iso(at)


def _claim(store: Store, ids: Sequence[int], now: datetime) -> list[int]:
    """The deliveries of ``ids`` this caller now holds (still pending and due; their time moved past the lease)."""
    from mamori.accounts.core import _write

    d = t.DeliveryRow.__table__
    held: list[int] = []
    with _write(store) as conn:
        for i in ids:
            done = conn.execute(
                update(d)
                .where(and_(d.c.id == i, d.c.state == "pending", d.c.next_at <= _iso(now)))
                .values(next_at=_iso(now + LEASE))
            )
            if done.rowcount == 1:
                held.append(i)
    return held


def webhook_body(
    sub: Subscription, events: Sequence[Event], message: render.Message, digest: bool, delivery: str
) -> bytes:
    """The JSON body of a webhook message (UTF-8)."""
    body = {
        "type": "mamori.notification",
        "delivery": delivery,
        "subscription": sub.id,
        "team": sub.team,
        "digest": digest,
        "lang": sub.lang,
        "subject": message.subject,
        "text": message.body,
        "events": [e.as_dict() for e in events],
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _send(
    store: Store,
    sub: Subscription,
    events: Sequence[Event],
    digest: bool,
    delivery: str,
    *,
    test: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    smtp: channels.SmtpSettings | None = None,
    http: Any = None,
) -> tuple[channels.Outcome, list[dict[str, Any]]]:
    """Send one message (one event, a digest, or the test message); returns the outcome and a delivery
    log row for every try."""
    lang: Lang = "ja" if sub.lang == "ja" else "en"
    if test:
        message = render.test_message(sub.team, lang)
    elif digest:
        message = render.digest(events, sub.team, lang)
    else:
        message = render.one(events[0], lang)
    log: list[dict[str, Any]] = []

    def record(outcome: channels.Outcome, final: bool) -> None:
        status = "sent" if outcome.ok else ("failed" if final and not outcome.retryable else "retry")
        log.append(
            {
                "subscription_id": sub.id,
                "at": _iso(datetime.now(UTC)),
                "channel": sub.channel,
                "status": status,
                "code": outcome.code,
                "error_class": outcome.error_class,
                "events": len(events),
                "digest": digest,
                "test": test,
            }
        )

    if sub.channel == "webhook":
        body = webhook_body(sub, events, message, digest, delivery)

        def attempt() -> channels.Outcome:
            return channels.post(sub.target, body, channels.webhook_headers(sub.secret, body, delivery), http)

        outcome = channels.with_retries(attempt, record, TRIES, BACKOFF, sleep)
    else:
        if sub.channel == "email":
            try:
                url = (smtp or channels.smtp_settings()).apprise_url(sub.target)
            except Exception as exc:  # no SMTP settings: a failure of this try, named by class
                outcome = channels.Outcome(False, None, type(exc).__name__, retryable=True)
                record(outcome, True)
                return outcome, log
            subject, text = message.subject, message.body
        else:
            url = sub.target
            subject, text = message.subject, message.body
            if sub.channel == "slack":
                subject, text = render.slack_escape(subject), render.slack_escape(text)
        outcome = channels.send_apprise(url, subject, text)
        record(outcome, True)
    return outcome, log


def _log(store: Store, rows: list[dict[str, Any]]) -> None:
    from mamori.accounts.core import _write

    if rows:
        with _write(store) as conn:
            conn.execute(t.AttemptRow.__table__.insert(), rows)


def _finish(
    store: Store,
    ids: Sequence[int],
    outcome: channels.Outcome,
    now: datetime,
    report: DeliveryReport,
    log: list[dict[str, Any]],
) -> None:
    """Record the tries and the deliveries' new state in one transaction."""
    from mamori.accounts.core import _write

    d = t.DeliveryRow.__table__
    with _write(store) as conn:
        if log:
            conn.execute(t.AttemptRow.__table__.insert(), log)
        for i in ids:
            row = conn.execute(select(d.c.attempts).where(d.c.id == i)).first()
            attempts = (row.attempts if row else 0) + 1
            if outcome.ok:
                values = {"state": "sent", "attempts": attempts, "sent_at": _iso(now)}
                report.sent += 1
            elif not outcome.retryable or attempts >= MAX_ATTEMPTS:
                values = {"state": "failed", "attempts": attempts}
                report.failed += 1
            else:
                values = {"attempts": attempts, "next_at": _iso(now + RETRY_BASE * (2 ** (attempts - 1)))}
                report.retrying += 1
            conn.execute(update(d).where(d.c.id == i).values(**values))


def deliver_pending(
    store: Store,
    *,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    smtp: channels.SmtpSettings | None = None,
) -> DeliveryReport:
    """Send every pending delivery that is due at ``now`` (see the module's text)."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    d, e = t.DeliveryRow.__table__, t.EventRow.__table__
    subs = {s.id: s for s in list_subscriptions(store)}
    with store.engine.connect() as conn:
        due = conn.execute(
            select(d.c.id, d.c.subscription_id, e)
            .join(e, e.c.id == d.c.event_id)
            .where(d.c.state == "pending", d.c.next_at <= _iso(now))
            .order_by(d.c.subscription_id, e.c.id)
        ).all()
    by_sub: dict[int, list[tuple[int, Event]]] = {}
    for row in due:
        by_sub.setdefault(row.subscription_id, []).append((row[0], event_of(row)))
    http: Any = None
    try:
        for sub_id, items in by_sub.items():
            sub = subs.get(sub_id)
            if sub is None:
                continue
            if sub.channel == "webhook" and http is None:
                http = channels.client()
            size = BATCH if sub.mode == "digest" else CLAIM
            for start in range(0, len(items), size):
                held = set(_claim(store, [i for i, _ in items[start : start + size]], now))
                chunk = [(i, ev) for i, ev in items[start : start + size] if i in held]
                groups = [chunk] if sub.mode == "digest" else [[item] for item in chunk]
                failing = False
                for group in groups:
                    if not group:
                        continue
                    ids = [i for i, _ in group]
                    delivery = f"{sub.id}-{ids[0]}" + (f"-{ids[-1]}" if len(ids) > 1 else "")
                    outcome, log = _send(
                        store,
                        sub,
                        [ev for _, ev in group],
                        sub.mode == "digest",
                        delivery,
                        sleep=sleep,
                        smtp=smtp,
                        http=http,
                    )
                    report.attempts.extend(log)
                    if outcome.ok:
                        report.messages += 1
                    _finish(store, ids, outcome, now, report, log)
                    if not outcome.ok:
                        failing = True
                        break
                if failing:
                    # the channel is failing: the subscription's other deliveries wait for the next run
                    # (those claimed are released: due again at once)
                    _release(store, [i for i, _ in chunk if i not in set(ids)], now)
                    break
    finally:
        if http is not None:
            http.close()
    return report


def _release(store: Store, ids: Sequence[int], now: datetime) -> None:
    from mamori.accounts.core import _write

    d = t.DeliveryRow.__table__
    if ids:
        with _write(store) as conn:
            conn.execute(
                update(d).where(and_(d.c.id.in_(list(ids)), d.c.state == "pending")).values(next_at=_iso(now))
            )


def send_test(
    store: Store,
    subscription_id: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    smtp: channels.SmtpSettings | None = None,
) -> channels.Outcome:
    """Send the test message to a subscription now (logged as a test); the outcome of the last try."""
    from mamori.errors import InputError
    from mamori.i18n import _

    sub = get_subscription(store, subscription_id)
    if sub is None:
        raise InputError(None, _("no subscription {id}").format(id=subscription_id))
    outcome, log = _send(store, sub, [], False, f"{sub.id}-test", test=True, sleep=sleep, smtp=smtp)
    _log(store, log)
    return outcome


def delivery_log(
    store: Store,
    subscription_id: int | None = None,
    limit: int = 100,
    *,
    subscriptions: Sequence[int] | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The newest ``limit`` tries (of one subscription, of the ``subscriptions`` given, or all) from
    ``offset`` on, newest first: when, subscription, channel, status, code, error class, events, digest,
    test."""
    a = t.AttemptRow.__table__
    stmt = select(a).order_by(a.c.id.desc()).limit(max(1, min(limit, 10_000))).offset(max(0, offset))
    if subscription_id is not None:
        stmt = stmt.where(a.c.subscription_id == subscription_id)
    if subscriptions is not None:
        stmt = stmt.where(a.c.subscription_id.in_(sorted(set(subscriptions)) or [-1]))
    with store.engine.connect() as conn:
        return [
            {
                "id": r.id,
                "at": r.at,
                "subscription": r.subscription_id,
                "channel": r.channel,
                "status": r.status,
                "code": r.code,
                "error_class": r.error_class,
                "events": r.events,
                "digest": bool(r.digest),
                "test": bool(r.test),
            }
            for r in conn.execute(stmt)
        ]

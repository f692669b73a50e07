"""Notifications: teams subscribe (webhook, Slack, Microsoft Teams, e-mail) to events computed from the
store (new findings, KEV additions, EPSS rises, SSVC outcome changes, SBOM quality drops), delivered
immediately or as a daily digest, in Japanese or English, each event once per subscription.

Plain functions, usable in-process and from a background task:

>>> compute_events(store)          # what changed since the last computation → events + pending deliveries
>>> deliver_pending(store)         # send what is due; every attempt goes to the delivery log
>>> delivery_log(store)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.lazy import lazy_exports

if TYPE_CHECKING:
    from mamori.notify.deliver import DeliveryReport, deliver_pending, delivery_log, send_test
    from mamori.notify.events import Computed, Event, compute_events, record_events
    from mamori.notify.subscriptions import (
        Subscription,
        add_subscription,
        get_subscription,
        list_subscriptions,
        remove_subscription,
    )

_HOME = {
    "DeliveryReport": "deliver",
    "delivery_log": "deliver",
    "deliver_pending": "deliver",
    "send_test": "deliver",
    "Computed": "events",
    "Event": "events",
    "compute_events": "events",
    "record_events": "events",
    "Subscription": "subscriptions",
    "add_subscription": "subscriptions",
    "get_subscription": "subscriptions",
    "list_subscriptions": "subscriptions",
    "remove_subscription": "subscriptions",
}

__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "Computed",
    "DeliveryReport",
    "Event",
    "Subscription",
    "add_subscription",
    "compute_events",
    "deliver_pending",
    "delivery_log",
    "get_subscription",
    "list_subscriptions",
    "record_events",
    "remove_subscription",
    "send_test",
]

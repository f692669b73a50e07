"""The periodic work of ``mamori scheduler``: each feed synced on its own schedule, a sweep that
sends again the uploads whose message never reached the broker, and the notification step every five
minutes (retries and daily digests; uploads and re-match runs start it too).

A schedule is ``FEED=INTERVAL`` (``osv=6h``, ``kev=1d``, ``nvd=2h``; units s, m, h, d), from
``--every`` or ``every = [...]`` in ``[scheduler]`` of ``mamori.toml``; ``FEED=off`` leaves a feed out.
After each sync that brought something new the worker re-matches what changed (in shards).
"""

from __future__ import annotations

import re
from typing import Any

from mamori.errors import InputError
from mamori.i18n import _

DEFAULTS: dict[str, float] = {
    "kev": 6 * 3600.0,  # CISA adds to KEV on working days, a few times a week
    "epss": 24 * 3600.0,  # published daily
    "nvd": 2 * 3600.0,  # the NVD API asks clients to poll no more than every two hours
    "jvn": 6 * 3600.0,
    "osv": 6 * 3600.0,
    "purl2cpe": 7 * 24 * 3600.0,
}
SWEEP_EVERY = 60.0
NOTIFY_EVERY = 300.0  # retries of failed deliveries and the daily digests fall due between other work
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 60.0
_INTERVAL = re.compile(r"^([0-9]{1,7})([smhd])$")


def parse(values: list[str]) -> dict[str, float]:
    """The feeds' intervals in seconds: the defaults changed by ``FEED=INTERVAL`` values (one-line
    InputError for a bad one)."""
    from mamori.vulndb.online import SYNC_SOURCES

    found = dict(DEFAULTS)
    for value in values:
        feed, sep, interval = value.partition("=")
        feed, interval = feed.strip(), interval.strip().lower()
        if not sep or feed not in SYNC_SOURCES:
            raise InputError(
                None,
                _("--every: expected FEED=INTERVAL with a feed of {feeds}, got {value!r}").format(
                    feeds=", ".join(SYNC_SOURCES), value=value
                ),
            )
        if interval == "off":
            found.pop(feed, None)
            continue
        match = _INTERVAL.match(interval)
        seconds = int(match.group(1)) * UNITS[match.group(2)] if match else 0
        if seconds < MIN_INTERVAL:
            raise InputError(
                None,
                _(
                    "--every: {feed}: expected an interval of at least 60s such as 30m, 6h or 1d, got {value!r}"
                ).format(feed=feed, value=interval),
            )
        found[feed] = float(seconds)
    return found


def beat_schedule(intervals: dict[str, float], options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Celery beat's schedule: one entry per feed, and the upload sweep."""
    from mamori.jobs.celeryapp import TASKS

    schedule: dict[str, Any] = {
        f"sync-{feed}": {
            "task": TASKS["sync"],
            "schedule": seconds,
            "kwargs": {"feed": feed, "options": options},
        }
        for feed, seconds in sorted(intervals.items())
    }
    schedule["sweep-uploads"] = {"task": TASKS["sweep"], "schedule": SWEEP_EVERY, "kwargs": {}}
    schedule["notify"] = {"task": TASKS["notify"], "schedule": NOTIFY_EVERY, "kwargs": {}}
    return schedule

"""Where the broker is and what mamori's queues are called.

The broker: ``--broker`` (or ``broker = "…"`` in ``mamori.toml``), else ``MAMORI_BROKER_URL``; none
means the embedded default (work runs in the process that asks for it). RabbitMQ is the broker mamori is
tested with (``amqp://user:password@host:5672/vhost``); the dead-letter queue uses its dead-letter
exchanges, so other brokers are not supported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV = "MAMORI_BROKER_URL"
PREFIX_ENV = "MAMORI_QUEUE_PREFIX"
DEFAULT_PREFIX = "mamori"
MAX_DELIVERIES = 5  # a message delivered this often without finishing (it kills its worker) is dead
MAX_RETRIES = 5  # attempts after the first of a transiently failing task
RETRY_BASE = 2.0  # seconds before the first retry; doubled each time
RETRY_MAX = 600.0


def _number(name: str, default: float) -> float:
    raw = (os.environ.get(name) or "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value >= 0 else default


def retry_base() -> float:
    """Seconds before the first retry (``MAMORI_JOBS_RETRY_BASE``, default 2)."""
    return _number("MAMORI_JOBS_RETRY_BASE", RETRY_BASE)


def max_retries() -> int:
    """Retries of a transiently failing task (``MAMORI_JOBS_MAX_RETRIES``, default 5)."""
    return int(_number("MAMORI_JOBS_MAX_RETRIES", MAX_RETRIES))


def broker_url(explicit: str | None = None) -> str | None:
    """The broker URL: the option or configuration value, else ``MAMORI_BROKER_URL``, else None."""
    value = (explicit or os.environ.get(ENV) or "").strip()
    return value or None


def shown(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class Queues:
    """Queue and exchange names under one prefix (tests give each run its own)."""

    prefix: str = DEFAULT_PREFIX

    @property
    def exchange(self) -> str:
        return self.prefix

    @property
    def default(self) -> str:
        return self.prefix  # uploads, syncs, runs

    @property
    def shards(self) -> str:
        return f"{self.prefix}.shards"  # re-match shards: the bulk work scale-out adds workers for

    @property
    def dead_exchange(self) -> str:
        return f"{self.prefix}.dlx"

    @property
    def dead(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def names(self) -> tuple[str, str]:
        return (self.default, self.shards)

    @classmethod
    def from_env(cls) -> Queues:
        return cls((os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX).strip() or DEFAULT_PREFIX)


def backoff(retries: int, base: float = RETRY_BASE, cap: float = RETRY_MAX) -> float:
    """Seconds before retry number ``retries + 1``: ``base``, then doubled each time, at most ``cap``."""
    return float(min(cap, base * (2 ** max(0, retries))))

"""Sending one message on one channel.

- ``webhook``: mamori's own POST of a JSON body, signed: ``X-Mamori-Timestamp`` (Unix seconds) and
  ``X-Mamori-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's secret of
  ``<timestamp>.`` followed by the exact body bytes. A receiver recomputes it over the bytes it received
  and refuses a timestamp older than a few minutes (a replayed request). ``X-Mamori-Delivery`` names the
  delivery, so a receiver can drop a message it already has (a delivery is resent when a worker stops
  between sending and recording it).
- ``slack`` and ``teams``: the incoming webhooks of Slack and of Microsoft Teams (Power Automate
  workflows) through Apprise, which knows their bodies; Apprise accepts only those services' own hosts.
- ``email``: SMTP through Apprise (``mailto://`` / ``mailtos://``), settings from ``MAMORI_SMTP_*`` or
  the ``[notify.smtp]`` table of the user's ``mamori.toml``.

Every outgoing request is bounded: http(s) only, connect/read timeouts, a deadline for the whole answer,
at most 64 KiB of it read, redirects followed only to the same scheme, host and port (307/308, which
keep the POST). Secrets (the webhook secret, the SMTP password, the tokens in Slack and Teams URLs) are
never logged or stored in the delivery log, which records only the status code and the error's class.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from mamori.errors import InputError
from mamori.i18n import _
from mamori.notify import netguard
from mamori.notify.urls import check_url

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
DEADLINE = 20.0  # seconds for one request with its answer
MAX_ANSWER = 64 * 1024
MAX_REDIRECTS = 3
SIGNATURE_HEADER = "X-Mamori-Signature"
TIMESTAMP_HEADER = "X-Mamori-Timestamp"
DELIVERY_HEADER = "X-Mamori-Delivery"
REPLAY_WINDOW = 300  # seconds a receiver should accept a timestamp for


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one try gave: ``ok``; the HTTP status or SMTP code; the error's class; whether trying again
    may help."""

    ok: bool
    code: int | None = None
    error_class: str | None = None
    retryable: bool = False


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` with ``secret``."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    """What a receiver checks: the signature over these exact bytes, and a timestamp within
    :data:`REPLAY_WINDOW` seconds of ``now``."""
    try:
        at = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - at) > REPLAY_WINDOW:
        return False
    return hmac.compare_digest(sign(secret, at, body), signature)


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


class _Quiet(logging.Filter):
    """Drops httpx's and httpcore's records made while this thread sends a notification: they carry the
    URL, whose path or query may hold a token."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "sending", False)


_QUIET = _Quiet()


def _quiet_http_logs() -> None:
    for name in ("httpx", "httpcore"):
        log = logging.getLogger(name)
        if _QUIET not in log.filters:
            log.addFilter(_QUIET)


def client() -> Any:
    """An HTTP client with mamori's bounds (timeouts, no redirects of its own, no proxy from the
    environment), to reuse for many :func:`post` calls (making one builds a TLS context). Its connections
    go through :class:`mamori.notify.netguard.GuardedBackend`: within :func:`post` (a guarded send) each
    one goes to an address checked when it connects, and its peer is checked before the request is sent."""
    import httpx

    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    return httpx.Client(
        timeout=timeout, follow_redirects=False, trust_env=False, transport=netguard.transport()
    )


def _peer(stream: Any) -> Any:
    """The peer address of an answer's connection (None when unknown: gone already, or not a socket);
    the connection itself was checked when it was made (:class:`mamori.notify.netguard.GuardedBackend`)."""
    try:
        return stream.get_extra_info("server_addr") if stream is not None else None
    except OSError:
        return None


def post(url: str, body: bytes, headers: Mapping[str, str], http: Any = None) -> Outcome:
    """POST ``body`` to ``url`` within the bounds of the module's text (with ``http``, a :func:`client`,
    or a client of its own)."""
    import contextlib

    import httpx

    deadline = time.monotonic() + DEADLINE
    try:
        allowed = netguard.allowed_networks()
    except InputError:
        return Outcome(False, None, "BadConfig")
    _quiet_http_logs()
    _QUIET.local.sending = True
    guard: netguard.Guard | None = None
    try:
        check_url(url)
        with contextlib.ExitStack() as stack:
            guard = stack.enter_context(netguard.guarded(allowed))
            if http is None:
                http = stack.enter_context(client())
            target = url
            for _hop in range(MAX_REDIRECTS + 1):
                with http.stream("POST", target, content=body, headers=dict(headers)) as answer:
                    stream = answer.extensions.get("network_stream")
                    peer = _peer(stream)
                    if netguard.peer_refused(peer, allowed):
                        return Outcome(False, None, "RefusedAddress")
                    read = 0
                    for chunk in answer.iter_raw():
                        read += len(chunk)
                        if read > MAX_ANSWER or time.monotonic() > deadline:
                            break
                    status = answer.status_code
                    location = answer.headers.get("location")
                if status in (307, 308) and location:
                    nxt = urljoin(target, location)
                    if not _same_origin(url, nxt):
                        return Outcome(False, status, "RedirectToOtherHost")
                    target = nxt
                    continue
                if 200 <= status < 300:
                    return Outcome(True, status)
                if 300 <= status < 400:
                    return Outcome(False, status, "Redirect")
                retry = status >= 500 or status in (408, 425, 429)
                return Outcome(False, status, "HTTPStatus", retryable=retry)
            return Outcome(False, None, "TooManyRedirects")
    except netguard.RefusedAddress:  # the connection's own resolution, or its peer, is not allowed
        return Outcome(False, None, "RefusedAddress")
    except httpx.TimeoutException as exc:
        return Outcome(False, None, type(exc).__name__, retryable=True)
    except httpx.TransportError as exc:
        if guard is not None and guard.refused:
            return Outcome(False, None, "RefusedAddress")
        return Outcome(False, None, type(exc).__name__, retryable=True)
    except InputError:
        return Outcome(False, None, "BadURL")
    finally:
        _QUIET.local.sending = False


def with_retries(
    attempt: Callable[[], Outcome],
    log: Callable[[Outcome, bool], None],
    tries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Call ``attempt`` until it succeeds, fails for good, or ``tries`` are used, waiting ``backoff``,
    then twice as long … between tries; ``log(outcome, final)`` is called after each."""
    outcome = Outcome(False, None, "NotTried")
    for n in range(tries):
        outcome = attempt()
        final = outcome.ok or not outcome.retryable or n == tries - 1
        log(outcome, final)
        if final:
            return outcome
        sleep(backoff * (2**n))
    return outcome


def webhook_headers(
    secret: str | None, body: bytes, delivery: str, now: float | None = None
) -> dict[str, str]:
    from mamori import __version__

    ts = int(now if now is not None else time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"mamori/{__version__}",
        TIMESTAMP_HEADER: str(ts),
        DELIVERY_HEADER: delivery,
    }
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, ts, body)
    return headers


# -- Apprise: Slack, Microsoft Teams, e-mail ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int | None = None
    user: str | None = None
    password: str | None = None
    sender: str | None = None
    security: str = "starttls"  # starttls | ssl | none

    def apprise_url(self, to: str) -> str:
        scheme = "mailtos" if self.security == "ssl" else "mailto"
        mode = {"ssl": "ssl", "starttls": "starttls", "none": "insecure"}[self.security]
        auth = ""
        if self.user:
            auth = (
                quote(self.user, safe="")
                + (":" + quote(self.password, safe="") if self.password else "")
                + "@"
            )
        port = f":{self.port}" if self.port else ""
        sender = self.sender or (f"mamori@{self.host}")
        return (
            f"{scheme}://{auth}{self.host}{port}?mode={mode}&from={quote(sender, safe='@')}"
            f"&to={quote(to, safe='@')}&format=text"
        )


SMTP_KEYS = ("host", "port", "user", "password", "from", "security")


def smtp_settings(config: Mapping[str, Any] | None = None) -> SmtpSettings:
    """``MAMORI_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``, ``_SECURITY`` (starttls, ssl
    or none), each over the same key of ``[notify.smtp]`` in the user's ``mamori.toml`` (or ``config``)."""
    if config is None:
        from mamori.config import load, user_config_file

        path = user_config_file()
        table = load(path) if path.is_file() else {}
        config = (table.get("notify") or {}).get("smtp") or {}
    values = {k: os.environ.get(f"MAMORI_SMTP_{k.upper()}") or config.get(k) for k in SMTP_KEYS}
    if not values["host"]:
        raise InputError(None, _("no SMTP server: set MAMORI_SMTP_HOST or [notify.smtp] host in mamori.toml"))
    security = str(values["security"] or "starttls").lower()
    if security not in ("starttls", "ssl", "none"):
        raise InputError(
            None, _("SMTP security must be starttls, ssl or none, not {value!r}").format(value=security)
        )
    try:
        port = int(values["port"]) if values["port"] else None
    except ValueError:
        raise InputError(None, _("the SMTP port must be a number")) from None
    return SmtpSettings(
        str(values["host"]),
        port,
        str(values["user"]) if values["user"] else None,
        str(values["password"]) if values["password"] else None,
        str(values["from"]) if values["from"] else None,
        security,
    )


def _apprise_quiet() -> None:
    # Apprise logs what it sends to; mamori logs nothing of a target (tokens, passwords)
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


def apprise_service(url: str) -> Any:
    """Apprise's plugin for ``url`` with mamori's bounds (timeouts, no redirects), or an InputError when
    Apprise does not take it (not a Slack or Teams incoming webhook, a bad e-mail setting)."""
    import apprise

    _apprise_quiet()
    service = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if service is None:
        raise InputError(None, _("not a URL of that service's incoming webhook"))
    service.redirects = False
    service.socket_connect_timeout = CONNECT_TIMEOUT
    service.socket_read_timeout = READ_TIMEOUT
    return service


def send_apprise(url: str, subject: str, body: str) -> Outcome:
    """One message through Apprise (it reports success only)."""
    import apprise

    try:
        service = apprise_service(url)
    except InputError:
        return Outcome(False, None, "BadURL")
    finally:
        _QUIET.local.sending = False
    try:
        allowed = netguard.allowed_networks()
    except InputError:
        return Outcome(False, None, "BadConfig")
    with netguard.guarded(allowed) as guard:
        try:
            ok = bool(service.notify(body=body, title=subject, notify_type=apprise.NotifyType.INFO))
        except Exception as exc:  # an Apprise plugin's own failure: recorded by class, tried again later
            if guard.refused:
                return Outcome(False, None, "RefusedAddress")
            return Outcome(False, None, type(exc).__name__, retryable=True)
    if not ok and guard.refused:
        return Outcome(False, None, "RefusedAddress")
    return Outcome(True) if ok else Outcome(False, None, "NotDelivered", retryable=True)

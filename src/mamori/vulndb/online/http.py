"""HTTP for the online sources: one httpx client, a rate limit per source, retries with backoff, and
bounds on every download.

- :class:`TokenBucket` keeps a published rate limit ("N requests in any rolling W seconds").
- :class:`Fetcher` retries 403/429/5xx answers and dropped connections with exponential backoff and
  jitter, and waits at least what ``Retry-After`` asks, up to :attr:`RetryPolicy.max_wait` (a longer
  wait is given up at once, with the wait asked).
- Every download is bounded (:data:`SOURCE_BOUNDS`, per source, configurable): its body's size, counted
  while it streams (an error answer's body is read only up to :data:`ERROR_BODY` bytes, for the
  message), connect and read timeouts (the longest silence), and a wall-clock deadline for one attempt
  (connecting, the headers and the whole body: a server that dribbles its headers or body a byte at a
  time is cut off) and for the whole run (a sync).
- Redirects are followed by hand, at most ``max_redirects``: an https → http downgrade, or a redirect to
  another scheme, is refused; on a redirect to another origin (scheme, host or port) every header but
  the harmless ones is dropped, so the NVD ``apiKey``, ``Authorization`` and cookies never reach
  another host.
- The requests run on an async httpx client in an event loop thread (:mod:`anyio`'s blocking portal),
  so a deadline cancels an attempt wherever it waits (name resolution, connecting, TLS, headers, body).
- Time is injectable (:class:`Clock`), so tests run the same logic without real waiting.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import anyio.from_thread
import httpx

from mamori import __version__
from mamori.display import visible
from mamori.errors import InputError
from mamori.fileio import max_input_bytes
from mamori.i18n import _
from mamori.vulndb.messages import text

RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})
USER_AGENT = f"mamori/{__version__} (+vulnerability knowledge base sync)"
MiB = 1 << 20
GiB = 1 << 30
ERROR_BODY = 4096  # bytes of an error answer's body read for the message, the rest never
MAX_REDIRECTS = 5
# headers a redirect to another origin keeps; every other one (apiKey, Authorization, Cookie, …) is dropped
CROSS_ORIGIN_HEADERS = frozenset(
    {"host", "user-agent", "accept", "accept-encoding", "connection", "content-type", "content-length"}
)
# httpx errors worth another attempt: the network, a timeout, a server that broke the protocol
RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class Bounds:
    """How much one download of a source may take."""

    max_bytes: int  # its body, counted while it streams
    deadline: float  # seconds for one attempt: connecting, the headers and the whole body


# Sized from the real feeds with a wide margin (2025 sizes): an NVD API page of 2,000 CVEs is about
# 10-40 MB and NVD can take minutes to answer one; a MyJVN page (50 overviews, 10 details) is under
# 1 MB; the KEV catalog JSON is 1.3 MB; the EPSS daily CSV.gz a few MB; an OSV ecosystem's all.zip up to
# a few hundred MB (Debian, Ubuntu, Linux); the purl2cpe repository archive some tens of MB; ``url``
# (``db import URL``) a CVE List zip of about 500 MB. Never more than the input size limit
# (``MAMORI_MAX_INPUT_BYTES``) unless set per source.
SOURCE_BOUNDS: dict[str, Bounds] = {
    "nvd": Bounds(256 * MiB, 600.0),
    "jvn": Bounds(32 * MiB, 300.0),
    "kev": Bounds(64 * MiB, 300.0),
    "epss": Bounds(128 * MiB, 600.0),
    "epss-api": Bounds(16 * MiB, 120.0),
    "osv": Bounds(1 * GiB, 1800.0),
    "osv-api": Bounds(64 * MiB, 300.0),
    "purl2cpe": Bounds(256 * MiB, 900.0),
    "url": Bounds(1 * GiB, 1800.0),
}
DOWNLOAD_NAMES = tuple(SOURCE_BOUNDS)


@dataclass(slots=True)
class Clock:
    """Monotonic time, sleeping and the wall clock (for an HTTP-date ``Retry-After``); tests pass a
    fake that only advances its counter."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], float] = time.time


class TokenBucket:
    """At most ``limit`` requests in any rolling ``window`` seconds.

    The bucket holds up to ``burst`` tokens and refills at ``(limit - burst) / window`` per second, so
    even a full bucket spent at once plus a whole window of refill stays within the limit.
    """

    def __init__(self, limit: int, window: float, burst: int = 1, clock: Clock | None = None) -> None:
        if not 1 <= burst < limit:
            raise ValueError("burst must be at least 1 and below the limit")
        self.capacity = float(burst)
        self.rate = (limit - burst) / window
        self.clock = clock or Clock()
        self.tokens = self.capacity
        self.stamp = self.clock.now()

    def acquire(self) -> float:
        """Take one token, sleeping until there is one; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock.now()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return waited
            pause = (1.0 - self.tokens) / self.rate
            self.clock.sleep(pause)
            waited += pause


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base: float = 2.0  # seconds before the second attempt (before jitter)
    cap: float = 120.0  # longest backoff; a longer Retry-After is still honoured up to max_wait
    statuses: frozenset[int] = RETRY_STATUSES
    max_wait: float = 300.0  # the longest Retry-After honoured; a longer one is given up at once

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter" (half fixed, half random), at least Retry-After."""
        backoff = min(self.cap, self.base * 2**attempt)
        return max(backoff / 2 + rng.uniform(0, backoff / 2), retry_after or 0.0)


@dataclass(frozen=True, slots=True)
class Answer:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes


def retry_after(value: str | None, wall: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return max(0.0, when.timestamp() - wall())
    except (OverflowError, OSError, ValueError):
        return None


def duration(seconds: float, lang: str) -> str:
    """``999999 s (11.6 days)``: seconds, with hours or days when that is long."""
    if seconds >= 86400:
        return text(lang, "download", "days", seconds=seconds, count=seconds / 86400)
    if seconds >= 3600:
        return text(lang, "download", "hours", seconds=seconds, count=seconds / 3600)
    return text(lang, "download", "seconds", seconds=seconds)


RetryNote = Callable[[str, str, float], None]  # url, reason, seconds before the next attempt


class GaveUp(InputError):
    """The service kept failing through every retry, asked for too long a wait, or was too slow (down,
    unreachable, hostile): not one document's problem."""


class TooLarge(InputError):
    """An answer over the size limit of its source."""


def check_url(url: str, lang: str = "en") -> httpx.URL:
    """``url`` parsed, or an InputError when it is not an http(s) URL with a host and a valid port."""
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise InputError(visible(url), text(lang, "download", "bad_url", reason=visible(exc))) from None
    if parsed.scheme not in ("http", "https") or not parsed.host or not 0 < (port or 80) < 65536:
        raise InputError(visible(url), text(lang, "download", "bad_url", reason=visible(parsed)))
    return parsed


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _describe(exc: BaseException) -> str:
    detail = str(exc)
    return visible(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


@dataclass
class Fetcher:
    """GET/POST with rate limit, retries and bounds; a 4xx other than 403/429 is an error at once.

    ``max_bytes`` and ``deadline`` override :data:`SOURCE_BOUNDS` (``max_bytes`` per source name,
    ``deadline`` for every source); ``total``: seconds the whole run may take (no request starts, and
    none runs, past it); ``timeout``: connect and read timeouts (the longest silence); ``transport``: the
    httpx async transport to send through (default: httpx's own, with the environment's proxy settings).
    """

    limiter: TokenBucket | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default_factory=Clock)
    rng: random.Random = field(default_factory=random.Random)
    timeout: float = 60.0
    on_retry: RetryNote | None = None
    max_bytes: Mapping[str, int] = field(default_factory=dict)
    deadline: float | None = None
    total: float | None = None
    max_redirects: int = MAX_REDIRECTS
    lang: str = "en"
    transport: httpx.AsyncBaseTransport | None = None
    _stack: contextlib.ExitStack = field(init=False, repr=False)
    _portal: Any = field(init=False, repr=False, default=None)
    _client: httpx.AsyncClient | None = field(init=False, repr=False, default=None)
    _stop_at: float | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._stop_at = None if self.total is None else self.clock.now() + self.total

    def bounds(self, source: str) -> Bounds:
        """The size limit and deadline of one download of ``source`` (a :data:`SOURCE_BOUNDS` name)."""
        default = SOURCE_BOUNDS.get(source, SOURCE_BOUNDS["url"])
        size = self.max_bytes.get(source) or min(default.max_bytes, max_input_bytes())
        return Bounds(size, self.deadline if self.deadline is not None else default.deadline)

    def _start(self) -> httpx.AsyncClient:
        if self._client is None:
            self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
            self._client = self._portal.call(self._open_client)
        return self._client

    async def _open_client(self) -> httpx.AsyncClient:
        timeout = httpx.Timeout(self.timeout)
        return httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            transport=self.transport,
        )

    def close(self, failed: bool = False) -> None:
        """Close the client and its event loop thread (``failed``: cancel what still runs, unawaited)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                if failed:  # e.g. Ctrl-C while a download waits: do not wait for it
                    self._portal.call(self._portal.stop, True)
                else:
                    self._portal.call(client.aclose)
        self._stack.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(failed=kind is not None)

    # ------------------------------------------------------------------------- one attempt (async)

    async def _attempt(self, request: httpx.Request, bounds: Bounds, seconds: float) -> Answer:
        assert self._client is not None
        with anyio.fail_after(seconds):
            original = request
            for _ in range(self.max_redirects + 1):
                response = await self._client.send(request, stream=True)
                try:
                    following = response.next_request
                    if following is None:
                        return await self._read(str(original.url), response, bounds)
                finally:
                    await response.aclose()  # a redirect's body is never read
                request = self._redirect(original, request, following)
            raise InputError(
                str(original.url), text(self.lang, "download", "redirects", count=self.max_redirects)
            )

    def _redirect(
        self, original: httpx.Request, request: httpx.Request, following: httpx.Request
    ) -> httpx.Request:
        """The next request of a redirect: refused when it leaves http(s) or goes from https to
        http; without any header but the harmless ones when it goes to another origin."""
        target = visible(str(following.url))
        if following.url.scheme not in ("http", "https"):
            why = text(self.lang, "download", "redirect_scheme", target=target)
            raise InputError(str(original.url), why)
        if request.url.scheme == "https" and following.url.scheme == "http":
            raise InputError(str(original.url), text(self.lang, "download", "downgrade", target=target))
        if _origin(following.url) != _origin(request.url):
            for name in list(following.headers):
                if name.lower() not in CROSS_ORIGIN_HEADERS:
                    del following.headers[name]
        return following

    async def _read(self, url: str, response: httpx.Response, bounds: Bounds) -> Answer:
        """The body: an error answer's first :data:`ERROR_BODY` bytes, a success within the limit."""
        if response.status_code >= 300:
            head = bytearray()
            async for chunk in response.aiter_bytes():
                head += chunk
                if len(head) >= ERROR_BODY:
                    break
            return Answer(url, response.status_code, response.headers, bytes(head[:ERROR_BODY]))
        limit = bounds.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(url, text(self.lang, "download", "too_large", size=int(declared), limit=limit))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise TooLarge(url, text(self.lang, "download", "over_limit", limit=limit))
            chunks.append(chunk)
        return Answer(url, response.status_code, response.headers, b"".join(chunks))

    # ------------------------------------------------------------------------- the caller's side

    def _left(self, shown: str) -> float | None:
        """Seconds left of the whole run (None: no total deadline); gives up once there are none."""
        if self._stop_at is None:
            return None
        left = self._stop_at - self.clock.now()
        if left <= 0:
            raise GaveUp(shown, text(self.lang, "download", "total", seconds=self.total))
        return left

    def _once(self, request: httpx.Request, shown: str, bounds: Bounds) -> Answer:
        left = self._left(shown)
        seconds = bounds.deadline if left is None else min(bounds.deadline, left)
        try:
            return self._portal.call(self._attempt, request, bounds, seconds)
        except TimeoutError:
            if left is not None and left <= bounds.deadline:
                raise GaveUp(shown, text(self.lang, "download", "total", seconds=self.total)) from None
            raise GaveUp(shown, text(self.lang, "download", "deadline", seconds=bounds.deadline)) from None

    def request(
        self,
        method: str,
        url: str,
        *,
        source: str = "url",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        ok: tuple[int, ...] = (200,),
        limiter: TokenBucket | None = None,
    ) -> Answer:
        """One answer whose status is in ``ok``, after as many retries as the policy allows, within
        the bounds of ``source`` (a :data:`SOURCE_BOUNDS` name)."""
        bucket = limiter or self.limiter
        bounds = self.bounds(source)
        check_url(url, self.lang)
        client = self._start()
        try:
            request = client.build_request(method, url, params=params, headers=headers, json=json)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise InputError(url, text(self.lang, "download", "failed", reason=_describe(exc))) from None
        shown = str(request.url)
        problem = ""
        for attempt in range(self.retry.attempts):
            self._left(shown)
            if bucket is not None:
                bucket.acquire()
            wait_at_least: float | None = None
            try:
                answer = self._once(request, shown, bounds)
            except RETRYABLE as exc:  # refused, dropped, timed out
                problem = _describe(exc)
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ExceptionGroup) as exc:  # not worth retrying
                why = text(self.lang, "download", "failed", reason=_describe(exc))
                raise InputError(shown, why) from None
            else:
                if answer.status in ok:
                    return answer
                if answer.status not in self.retry.statuses:
                    raise InputError(
                        shown, _("HTTP {status}{reason}").format(status=answer.status, reason=_reason(answer))
                    )
                problem = f"HTTP {answer.status}{_reason(answer, body=False)}"
                wait_at_least = retry_after(answer.headers.get("Retry-After"), self.clock.wall)
                if wait_at_least is not None and wait_at_least > self.retry.max_wait:
                    asked = duration(wait_at_least, self.lang)
                    cap = duration(self.retry.max_wait, self.lang)
                    why = text(self.lang, "download", "retry_after", asked=asked, cap=cap, problem=problem)
                    raise GaveUp(shown, why)
            if attempt + 1 < self.retry.attempts:
                pause = self.retry.delay(attempt, wait_at_least, self.rng)
                left = self._left(shown)
                if left is not None and pause >= left:
                    raise GaveUp(shown, text(self.lang, "download", "total", seconds=self.total))
                if self.on_retry is not None:
                    self.on_retry(shown, problem, pause)
                self.clock.sleep(pause)
        raise GaveUp(
            shown, text(self.lang, "download", "gave_up", attempts=self.retry.attempts, problem=problem)
        )

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.request("GET", url, **kwargs)

    def post_json(self, url: str, body: Any, **kwargs: Any) -> Answer:
        return self.request("POST", url, json=body, **kwargs)


TEXT_TYPES = ("text/plain", "application/json", "application/problem+json", "text/xml", "application/xml")
EXCERPT = 160  # characters of an error body shown


def _reason(answer: Answer, body: bool = True) -> str:
    """The server's explanation: NVD's ``message`` header, else the start of a plain-text or JSON body."""
    message = answer.headers.get("message") or answer.headers.get("x-error-message")
    if not message and body:
        kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind in TEXT_TYPES and answer.content:
            words = " ".join(answer.content[:ERROR_BODY].decode("utf-8", "replace").split())
            message = words[:EXCERPT] + ("…" if len(words) > EXCERPT else "")
    return f" ({visible(message)})" if message else ""


def conditional_headers(state: Mapping[str, Any]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what the last download answered."""
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = str(state["etag"])
    if state.get("last_modified"):
        headers["If-Modified-Since"] = str(state["last_modified"])
    return headers


def validators(answer: Answer) -> dict[str, str]:
    """What to send next time to learn cheaply that nothing changed."""
    out = {}
    if answer.headers.get("ETag"):
        out["etag"] = answer.headers["ETag"]
    if answer.headers.get("Last-Modified"):
        out["last_modified"] = answer.headers["Last-Modified"]
    return out

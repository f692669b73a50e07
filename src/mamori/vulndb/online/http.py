"""HTTP for the online sources: one httpx client, a rate limit per source, retries with backoff.

- :class:`TokenBucket` keeps a published rate limit ("N requests in any rolling W seconds").
- :class:`Fetcher` retries 403/429/5xx answers and dropped connections with exponential backoff and
  jitter, waits at least what ``Retry-After`` asks, and reads bodies within the input size limit.
- Time is injectable (:class:`Clock`), so tests run the same logic without real waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from mamori import __version__
from mamori.errors import InputError
from mamori.fileio import max_input_bytes

RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})
USER_AGENT = f"mamori/{__version__} (+vulnerability knowledge base sync)"


@dataclass(slots=True)
class Clock:
    """Monotonic time and sleeping; tests pass a fake that only advances its counter."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


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
    cap: float = 120.0  # longest backoff; a longer Retry-After is still honoured
    statuses: frozenset[int] = RETRY_STATUSES

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
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - wall())


RetryNote = Callable[[str, str, float], None]  # url, reason, seconds before the next attempt


class GaveUp(InputError):
    """The service kept failing through every retry (down, unreachable): not one document's problem."""


@dataclass
class Fetcher:
    """GET/POST with rate limit and retries; a 4xx other than 403/429 is an error at once."""

    limiter: TokenBucket | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default_factory=Clock)
    rng: random.Random = field(default_factory=random.Random)
    timeout: float = 60.0
    on_retry: RetryNote | None = None
    client: httpx.Client | None = None

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = httpx.Client(
                timeout=self.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
            )

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _once(self, request: httpx.Request) -> Answer:
        assert self.client is not None
        limit = max_input_bytes()
        response = self.client.send(request, stream=True)
        try:
            if response.status_code >= 300:
                response.read()
                return Answer(str(request.url), response.status_code, response.headers, response.content)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise InputError(
                        str(request.url), f"answer is over the input size limit of {limit} bytes"
                    )
                chunks.append(chunk)
            return Answer(str(request.url), response.status_code, response.headers, b"".join(chunks))
        finally:
            response.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        ok: tuple[int, ...] = (200,),
        limiter: TokenBucket | None = None,
    ) -> Answer:
        """One answer whose status is in ``ok``, after as many retries as the policy allows."""
        assert self.client is not None
        bucket = limiter or self.limiter
        request = self.client.build_request(method, url, params=params, headers=headers, json=json)
        shown = str(request.url)
        problem = ""
        for attempt in range(self.retry.attempts):
            if bucket is not None:
                bucket.acquire()
            wait_at_least: float | None = None
            try:
                answer = self._once(request)
            except httpx.TransportError as exc:  # refused, dropped, timed out
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if answer.status in ok:
                    return answer
                if answer.status not in self.retry.statuses:
                    raise InputError(shown, f"HTTP {answer.status}{_reason(answer)}")
                problem = f"HTTP {answer.status}{_reason(answer)}"
                wait_at_least = retry_after(answer.headers.get("Retry-After"))
            if attempt + 1 < self.retry.attempts:
                pause = self.retry.delay(attempt, wait_at_least, self.rng)
                if self.on_retry is not None:
                    self.on_retry(shown, problem, pause)
                self.clock.sleep(pause)
        raise GaveUp(shown, f"gave up after {self.retry.attempts} attempts ({problem})")

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.request("GET", url, **kwargs)

    def post_json(self, url: str, body: Any, **kwargs: Any) -> Answer:
        return self.request("POST", url, json=body, **kwargs)


def _reason(answer: Answer) -> str:
    message = answer.headers.get("message") or answer.headers.get("x-error-message")  # NVD's explanation
    return f" ({message})" if message else ""


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

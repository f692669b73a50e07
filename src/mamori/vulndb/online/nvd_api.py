"""NVD CVE API 2.0 (``/rest/json/cves/2.0``): paging, incremental sync, API key, rate limit.

- Paging: ``startIndex`` / ``resultsPerPage`` (at most 2,000) until ``totalResults``.
- Incremental: ``lastModStartDate`` / ``lastModEndDate`` in windows of at most 120 days, from the
  stored cursor (or ``--since``) to the time the sync started; the first sync pages through everything.
- ``apiKey`` header from ``--api-key`` or ``MAMORI_NVD_API_KEY``; rate limits as published:
  5 requests in a rolling 30 s without a key, 50 with one.
- Every page is a step: its cursor records the window and next index, so a killed sync resumes at
  the page it was on; the last page's cursor is ``{"lastmod": <sync start>, "whole": …}``.
- Coverage: a run that leaves the store holding all of NVD (the first, full run; an incremental run
  after a whole one; a ``--since`` run that starts no later than the last sync) claims the ``cpe``
  scope on its last page, committed with it, so an interrupted run claims nothing until it is
  resumed and finished. ``whole`` in the cursor says the store holds all of NVD as of ``lastmod``.
  A ``--since`` run on a store that never had a whole run claims nothing and leaves ``lastmod``
  alone, so the next plain sync is the full run; ``force`` starts a full run again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.vulndb.coverage import CPE_SCOPE, CoverageClaim
from mamori.vulndb.online.http import Clock, Fetcher, TokenBucket
from mamori.vulndb.online.plan import Reporter, Step, endpoint, read_cursor
from mamori.vulndb.sources import Blob

SOURCE = "nvd"
PAGE_SIZE = 2000
WINDOW = timedelta(days=120)
KEY_ENV = "MAMORI_NVD_API_KEY"


def rate_limit(api_key: str | None, clock: Clock | None = None) -> TokenBucket:
    """The published limit: 50 requests per rolling 30 s with a key, 5 without."""
    return TokenBucket(50, 30.0, burst=10, clock=clock) if api_key else TokenBucket(5, 30.0, 1, clock)


def api_key(option: str | None) -> str | None:
    return option or os.environ.get(KEY_ENV) or None


def nvd_time(moment: datetime) -> str:
    """NVD's extended ISO 8601 form with milliseconds and offset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def windows(start: datetime, end: datetime, size: timedelta = WINDOW) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` cut into consecutive windows of at most ``size`` (NVD allows 120 days)."""
    out = []
    while start < end:
        out.append((start, min(start + size, end)))
        start = out[-1][1]
    return out or [(start, end)]


def _total(name: str, data: bytes) -> tuple[int, int]:
    """totalResults and the number of records on this page."""
    try:
        doc: Any = orjson.loads(data)
        return int(doc["totalResults"]), len(doc["vulnerabilities"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InputError(name, _("not an NVD CVE API 2.0 page (no totalResults/vulnerabilities)")) from None


class NvdApi:
    def __init__(
        self,
        fetcher: Fetcher,
        *,
        base_url: str | None = None,
        key: str | None = None,
        page_size: int = PAGE_SIZE,
        clock: Clock | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.base = endpoint("MAMORI_NVD_API_URL", base_url)
        self.key = api_key(key)
        self.page_size = page_size
        self.limiter = rate_limit(self.key, clock or fetcher.clock)

    def page(self, params: dict[str, Any]) -> Blob:
        headers = {"apiKey": self.key} if self.key else None
        answer = self.fetcher.get(
            self.base, source=SOURCE, params=params, headers=headers, limiter=self.limiter
        )
        return Blob(answer.url, answer.content)

    def steps(
        self,
        cursor: str | None,
        *,
        since: datetime | None = None,
        now: datetime | None = None,
        reporter: Reporter | None = None,
        force: bool = False,
    ) -> Iterator[Step]:
        """Pages to import, from the cursor (or ``since``) on; see the module notes."""
        reporter = reporter or Reporter()
        state, partial = read_cursor(None if force else cursor, since)
        lastmod = state.get("lastmod")
        if partial:
            until = parse_time(partial["until"])
            start = parse_time(partial["from"]) if partial.get("from") else None
            first_index = int(partial.get("index", 0))
            whole = bool(partial.get("whole"))
            advance = bool(partial.get("advance", True))
        else:
            until = now or datetime.now(UTC)
            stored = parse_time(lastmod) if lastmod else None
            start = since if since is not None else stored
            first_index = 0
            whole = start is None or (bool(state.get("whole")) and stored is not None and start <= stored)
            # a --since run that leaves a gap keeps the old mark, so the next plain sync fills it
            advance = whole or since is None
        spans: list[tuple[datetime | None, datetime | None]] = (
            [(None, None)] if start is None else list(windows(start, until))
        )
        for number, (w_start, w_end) in enumerate(spans):
            index = first_index if number == 0 else 0
            while True:
                params: dict[str, Any] = {"startIndex": index, "resultsPerPage": self.page_size}
                if w_start is not None and w_end is not None:
                    params["lastModStartDate"] = nvd_time(w_start)
                    params["lastModEndDate"] = nvd_time(w_end)
                blob = self.page(params)
                total, got = _total(blob.name, blob.data)
                if index == (first_index if number == 0 else 0):
                    reporter.expect(max(0, total - index))
                index += got
                window_done = got == 0 or index >= total
                last = window_done and number == len(spans) - 1
                kept = {"lastmod": lastmod, "whole": bool(state.get("whole"))}
                if last:
                    next_cursor: dict[str, Any] = (
                        {"lastmod": nvd_time(until), "whole": whole} if advance else kept
                    )
                else:
                    resume_from = w_end if window_done else w_start
                    next_cursor = {
                        **kept,
                        "partial": {
                            "until": nvd_time(until),
                            "from": nvd_time(resume_from) if resume_from else None,
                            "index": 0 if window_done else index,
                            "whole": whole,
                            "advance": advance,
                        },
                    }
                claims = (CoverageClaim(SOURCE, (CPE_SCOPE,)),) if last and whole else ()
                yield Step(self.base, [blob], orjson.dumps(next_cursor).decode(), 1, claims=claims)
                if window_done:
                    break

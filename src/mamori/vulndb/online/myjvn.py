"""JVN iPedia through the MyJVN API: ``getVulnOverviewList`` pages, then ``getVulnDetailInfo``.

- The overview list (JVNRSS 3.2) is paged with ``startItem`` / ``maxCountItem`` (at most 50) and
  filtered by last-update date (``rangeDatePublished=n`` with ``datePublishedStart*``/``End*``; MyJVN
  calls the last-update date "datePublished"); the first sync asks for every entry.
- The JVNDB ids of each page are fetched as VULDEF 3.2 in batches of 10 (``vulnId=ID+ID+…``); those
  detail documents are what is imported (Japanese title and overview, CPE, CVSS, CVE aliases).
- MyJVN reports errors inside ``status:Status`` (``retCd``), also with HTTP 200.
- Answers with and without xmlns declarations are accepted (:mod:`mamori.vulndb.xmlsafe`).
- Coverage as for NVD (:mod:`mamori.vulndb.online.nvd_api`): the run that leaves the store holding
  all of JVN iPedia (the first, full run, or an incremental one after a whole one) claims the
  ``cpe`` scope with its last page; ``whole`` in the cursor records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.vulndb.coverage import CPE_SCOPE, CoverageClaim
from mamori.vulndb.online.http import Clock, Fetcher, TokenBucket
from mamori.vulndb.online.plan import Reporter, Step, endpoint, read_cursor
from mamori.vulndb.sources import Blob
from mamori.vulndb.xmlsafe import child, children, local, parse, text

SOURCE = "jvn"
PAGE_SIZE = 50
DETAIL_BATCH = 10


def politeness(clock: Clock | None = None) -> TokenBucket:
    """MyJVN publishes no limit but asks for moderation: 2 per second, never more than 3 in one second."""
    return TokenBucket(3, 1.0, burst=1, clock=clock)


def _status(root: Any) -> dict[str, str]:
    status = child(root, "Status")
    if status is None:
        return {}
    return {local(k): v for k, v in status.attrib.items()}


def _check(name: str, root: Any) -> dict[str, str]:
    status = _status(root)
    if status.get("retCd", "0") not in ("0", ""):
        raise InputError(
            name,
            _("MyJVN error {code}: {message}")
            .format(code=status.get("errCd", ""), message=status.get("errMsg", ""))
            .strip(),
        )
    return status


def overview_ids(name: str, data: bytes) -> tuple[list[str], int]:
    """The JVNDB ids of one overview page and the total number of entries (``totalRes``)."""
    root = parse(name, data)
    status = _check(name, root)
    ids = [i for item in children(root, "item") if (i := text(item, "identifier"))]
    try:
        total = int(status.get("totalRes", len(ids)))
    except ValueError:
        raise InputError(
            name, _("MyJVN totalRes is not a number: {total!r}").format(total=status.get("totalRes"))
        ) from None
    return ids, total


def _date_params(prefix: str, start: date, end: date) -> dict[str, Any]:
    return {
        f"{prefix}StartY": start.year,
        f"{prefix}StartM": start.month,
        f"{prefix}StartD": start.day,
        f"{prefix}EndY": end.year,
        f"{prefix}EndM": end.month,
        f"{prefix}EndD": end.day,
    }


class MyJvn:
    def __init__(
        self,
        fetcher: Fetcher,
        *,
        base_url: str | None = None,
        lang: str = "ja",
        page_size: int = PAGE_SIZE,
        clock: Clock | None = None,
    ) -> None:
        if lang not in ("ja", "en"):
            raise InputError(None, _("--jvn-lang: expected ja or en, got {lang!r}").format(lang=lang))
        self.fetcher = fetcher
        self.base = endpoint("MAMORI_MYJVN_URL", base_url)
        self.lang = lang
        self.page_size = page_size
        self.limiter = politeness(clock or fetcher.clock)

    def overview(self, start_item: int, since: date | None, until: date) -> tuple[list[str], int]:
        params: dict[str, Any] = {
            "method": "getVulnOverviewList",
            "feed": "hnd",
            "startItem": start_item,
            "maxCountItem": self.page_size,
            "lang": self.lang,
            "rangeDatePublic": "n",
            "rangeDatePublished": "n",
            "rangeDateFirstPublished": "n",
        }
        if since is not None:
            params.update(_date_params("datePublished", since, until))
        answer = self.fetcher.get(self.base, source=SOURCE, params=params, limiter=self.limiter)
        return overview_ids(answer.url, answer.content)

    def details(self, ids: list[str]) -> Iterator[Blob]:
        """VULDEF documents for the ids, ``DETAIL_BATCH`` per request (ids joined by ``+``)."""
        for first in range(0, len(ids), DETAIL_BATCH):
            batch = ids[first : first + DETAIL_BATCH]
            query = f"method=getVulnDetailInfo&feed=hnd&lang={self.lang}&vulnId={'+'.join(batch)}"
            answer = self.fetcher.get(f"{self.base}?{query}", source=SOURCE, limiter=self.limiter)
            _check(answer.url, parse(answer.url, answer.content))
            yield Blob(answer.url, answer.content)

    def steps(
        self,
        cursor: str | None,
        *,
        since: date | None = None,
        today: date | None = None,
        reporter: Reporter | None = None,
        force: bool = False,
    ) -> Iterator[Step]:
        """One step per overview page (its details); the cursor keeps the date range and next item."""
        reporter = reporter or Reporter()
        state, partial = read_cursor(None if force else cursor, since)
        if partial:
            until = date.fromisoformat(partial["until"])
            start = date.fromisoformat(partial["from"]) if partial.get("from") else None
            item = int(partial["item"])
            whole = bool(partial.get("whole"))
            advance = bool(partial.get("advance", True))
        else:
            until = today or datetime.now(UTC).date()
            stored = _day(state.get("updated"))
            start = since if since is not None else stored
            item = 1
            whole = start is None or (bool(state.get("whole")) and stored is not None and start <= stored)
            advance = whole or since is None  # a --since run leaving a gap keeps the old mark
        kept = {"updated": state.get("updated"), "whole": bool(state.get("whole"))}
        first = True
        while True:
            ids, total = self.overview(item, start, until)
            if first:
                reporter.expect(max(0, total - item + 1))
                first = False
            item += len(ids)
            done = not ids or item > total
            if done:
                next_cursor: dict[str, Any] = (
                    {"updated": until.isoformat(), "whole": whole} if advance else kept
                )
            else:
                next_cursor = {
                    **kept,
                    "partial": {
                        "until": until.isoformat(),
                        "from": start.isoformat() if start else None,
                        "item": item,
                        "whole": whole,
                        "advance": advance,
                    },
                }
            claims = (CoverageClaim(SOURCE, (CPE_SCOPE,)),) if done and whole else ()
            cursor_text = orjson.dumps(next_cursor).decode()
            yield Step(self.base, self.details(ids), cursor_text, None, claims=claims)
            if done:
                return


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None

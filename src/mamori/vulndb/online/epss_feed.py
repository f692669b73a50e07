"""FIRST EPSS: the daily CSV (``.csv.gz``) by URL, and the EPSS API for chosen CVEs.

The CSV download is conditional (ETag / Last-Modified), like KEV. The API answers
``{"total", "offset", "limit", "data": [...]}``; CVEs are asked ``BATCH`` at a time
(``cve=CVE-…,CVE-…``) and each answer is paged with ``offset`` until ``total``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.vulndb.online.http import Fetcher
from mamori.vulndb.online.kev_feed import download_steps
from mamori.vulndb.online.plan import Reporter, Step, endpoint
from mamori.vulndb.sources import Blob

SOURCE = "epss"
BATCH = 100


def steps(fetcher: Fetcher, cursor: str | None, **options: Any) -> Iterator[Step]:
    """The daily CSV (skipped when unchanged); ``url``, ``force``, ``reporter`` as for KEV."""
    return download_steps(fetcher, "MAMORI_EPSS_URL", cursor, source=SOURCE, **options)


def api_pages(fetcher: Fetcher, cves: list[str], *, url: str | None = None) -> Iterator[Blob]:
    """EPSS API answers for these CVEs (each a JSON page the importer reads like a file)."""
    base = endpoint("MAMORI_EPSS_API_URL", url)
    wanted = sorted({c.strip().upper() for c in cves if c.strip()})
    for first in range(0, len(wanted), BATCH):
        batch = ",".join(wanted[first : first + BATCH])
        offset = 0
        while True:
            answer = fetcher.get(
                base, source="epss-api", params={"cve": batch, "offset": offset, "limit": BATCH}
            )
            try:
                doc = orjson.loads(answer.content)
                total, rows = int(doc.get("total", 0)), len(doc["data"])
            except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
                raise InputError(answer.url, _("not an EPSS API answer (no total/data)")) from None
            yield Blob(answer.url, answer.content)
            offset += rows
            if rows == 0 or offset >= total:
                break


def api_steps(
    fetcher: Fetcher, cves: list[str], *, url: str | None = None, reporter: Reporter | None = None
) -> Iterator[Step]:
    (reporter or Reporter()).expect(len(cves))
    yield Step(endpoint("MAMORI_EPSS_API_URL", url), api_pages(fetcher, cves, url=url))

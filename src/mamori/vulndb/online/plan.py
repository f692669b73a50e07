"""What an online source hands to the importer: steps of documents, each committed with its cursor.

A step's ``cursor`` is stored (``source_state.cursor``) in the same transaction as the step's last
batch, so an interrupted sync goes on from the last finished step and a finished one is incremental.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.vulndb.coverage import CoverageClaim
from mamori.vulndb.importer import Resume
from mamori.vulndb.online.http import Answer, Fetcher, conditional_headers
from mamori.vulndb.sources import Blob

DEFAULT_URLS = {
    "MAMORI_NVD_API_URL": "https://services.nvd.nist.gov/rest/json/cves/2.0",
    "MAMORI_MYJVN_URL": "https://jvndb.jvn.jp/myjvn",
    "MAMORI_KEV_URL": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    "MAMORI_EPSS_URL": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
    "MAMORI_EPSS_API_URL": "https://api.first.org/data/v1/epss",
    "MAMORI_OSV_URL": "https://osv-vulnerabilities.storage.googleapis.com",
    "MAMORI_OSV_API_URL": "https://api.osv.dev/v1",
    # SCANOSS publishes purl2cpe as a Git repository only: its archive of the main branch
    "MAMORI_PURL2CPE_URL": "https://codeload.github.com/scanoss/purl2cpe/zip/refs/heads/main",
}


def endpoint(variable: str, override: str | None = None) -> str:
    """A base URL: the option, else the environment variable, else the public service."""
    return (override or os.environ.get(variable) or DEFAULT_URLS[variable]).rstrip("/")


def read_cursor(cursor: str | None, since: object = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A source's stored sync state, and the unfinished run it records (ignored when ``since`` is set)."""
    state: dict[str, Any] = orjson.loads(cursor) if cursor and cursor.startswith("{") else {}
    partial = state.get("partial") if since is None else None
    return state, partial


@dataclass(slots=True)
class Step:
    """Documents to import as one input. A step whose ``claims`` are set finishes a whole feed: the
    claims are recorded (coverage complete) in the same commit as its last batch and its cursor.
    ``unchanged``: the server said the feed has not changed since the last sync (nothing to import;
    the cursor, the source's last update and the claims are still committed: the data was checked).
    ``failed``: this part of the source could not be fetched (reported; the source's other parts go on).
    """

    origin: str  # what status shows as "from" (a URL)
    blobs: Iterable[Blob]
    cursor: str | None = None  # sync state once this step is in
    total: int | None = None  # documents, when known
    resume: Resume | None = None
    claims: tuple[CoverageClaim, ...] = ()
    unchanged: bool = False
    failed: str | None = None


@dataclass(slots=True)
class Reporter:
    """How a sync tells the person what happens (the CLI draws a progress bar from it)."""

    expect: Callable[[int], None] = lambda records: None  # more records announced by the source
    note: Callable[[str], None] = lambda text: None  # a retry, a skipped download


def fetch_if_changed(
    fetcher: Fetcher, where: str, cursor: str | None, *, force: bool, reporter: Reporter, source: str = "url"
) -> Answer | None:
    """The document at ``where``; None when the server says it has not changed since the sync whose
    state ``cursor`` holds (304, told to the reporter). ``force`` asks without the validators."""
    headers = {} if force else conditional_headers(read_cursor(cursor)[0])
    answer = fetcher.get(where, source=source, headers=headers, ok=(200, 304))
    if answer.status == 304:
        reporter.note(f"{where}: not modified since the last sync")
        return None
    return answer

"""Online sources: NVD API 2.0, MyJVN, CISA KEV, FIRST EPSS, OSV (exports and API), fetched with httpx
and imported through the same code as local files. Base URLs are configurable (options, environment)."""

from mamori.vulndb.online.http import Clock, Fetcher, RetryPolicy, TokenBucket
from mamori.vulndb.online.sync import SYNC_SOURCES, SourceSync, SyncOptions, sync, sync_source
from mamori.vulndb.online.urls import import_url

__all__ = [
    "SYNC_SOURCES",
    "Clock",
    "Fetcher",
    "RetryPolicy",
    "SourceSync",
    "SyncOptions",
    "TokenBucket",
    "import_url",
    "sync",
    "sync_source",
]

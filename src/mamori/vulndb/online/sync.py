"""``mamori db sync``: fetch each online source from where the last sync stopped, import it.

Every source's steps go through :func:`mamori.vulndb.importer.import_blobs` (the code every local
file goes through), each step committed with the source's new cursor, so a second sync is
incremental and an interrupted one goes on from its last finished step. A source that fails (the
service keeps refusing after every retry) is reported; the other sources are still synced.

Without a choice of sources every one is synced: KEV, EPSS, NVD, JVN, every OSV ecosystem export and
purl2cpe. A step that finishes a whole feed carries its coverage claim (an OSV ecosystem export, a
whole NVD or JVN run), recorded in the commit of its last batch: an interrupted feed claims nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from mamori.errors import InputError
from mamori.i18n import _
from mamori.store import Store
from mamori.vulndb.coverage import CoverageClaim
from mamori.vulndb.importer import BATCH, ImportSummary, Progress, SourceCounts, import_blobs
from mamori.vulndb.online import epss_feed, kev_feed, osv_feed, purl2cpe_feed
from mamori.vulndb.online.http import Fetcher
from mamori.vulndb.online.myjvn import PAGE_SIZE as JVN_PAGE
from mamori.vulndb.online.myjvn import MyJvn
from mamori.vulndb.online.nvd_api import PAGE_SIZE, NvdApi
from mamori.vulndb.online.plan import Reporter, Step
from mamori.vulndb.rejected import DataWarning, Rejected

SYNC_SOURCES = ("kev", "epss", "nvd", "jvn", "osv", "purl2cpe")


@dataclass(slots=True)
class SyncOptions:
    since: date | None = None  # NVD and JVN: changes since this day instead of since the last sync
    api_key: str | None = None  # NVD
    ecosystems: list[str] = field(default_factory=list)  # OSV all.zip exports (none: every one OSV lists)
    purls: list[str] = field(default_factory=list)  # OSV querybatch instead of exports
    cves: list[str] = field(default_factory=list)  # EPSS API instead of the daily CSV
    jvn_lang: str = "ja"
    force: bool = False  # download even when unchanged; NVD and JVN: a full run again
    batch: int = BATCH
    page_size: int | None = None  # NVD and MyJVN pages smaller than the services' maximum
    urls: dict[str, str] = field(default_factory=dict)  # base URL per source (else env or public)


@dataclass(slots=True)
class SourceSync:
    source: str
    steps: int = 0
    files: int = 0
    counts: SourceCounts = field(default_factory=SourceCounts)
    rejected: list[Rejected] = field(default_factory=list)
    failed: list[Rejected] = field(default_factory=list)
    warnings: list[DataWarning] = field(default_factory=list)  # malformed upstream lines (no failure)
    error: str | None = None  # why this source stopped early
    seconds: float = 0.0
    not_modified: int = 0  # downloads the server said had not changed since the last sync
    resumed: int = 0  # documents an interrupted earlier sync had already committed
    claims: list[CoverageClaim] = field(default_factory=list)  # feeds recorded as complete

    def add(self, summary: ImportSummary, step: Step) -> None:
        if step.unchanged:
            self.not_modified += 1
        else:
            self.steps += 1
        self.claims += step.claims
        self.resumed += summary.resumed
        self.files += summary.files
        self.rejected += summary.rejected
        self.failed += summary.failed
        self.warnings += summary.warnings
        for counts in summary.sources.values():
            for name in ("read", "new", "updated", "unchanged", "withdrawn", "rejected", "warnings"):
                setattr(self.counts, name, getattr(self.counts, name) + getattr(counts, name))

    @property
    def complete(self) -> bool:
        return self.error is None and not self.rejected and not self.failed


def plan(
    store: Store, source: str, fetcher: Fetcher, options: SyncOptions, reporter: Reporter
) -> Iterator[Step]:
    state = store.source_state(source) or {}
    cursor = state.get("cursor")
    url = options.urls.get(source)
    if source == "nvd":
        since = datetime.combine(options.since, datetime.min.time(), UTC) if options.since else None
        api = NvdApi(fetcher, base_url=url, key=options.api_key, page_size=options.page_size or PAGE_SIZE)
        return api.steps(cursor, since=since, reporter=reporter, force=options.force)
    if source == "jvn":
        jvn = MyJvn(fetcher, base_url=url, lang=options.jvn_lang, page_size=options.page_size or JVN_PAGE)
        return jvn.steps(cursor, since=options.since, reporter=reporter, force=options.force)
    if source == "kev":
        return kev_feed.steps(fetcher, cursor, url=url, force=options.force, reporter=reporter)
    if source == "epss":
        if options.cves:
            return epss_feed.api_steps(
                fetcher, options.cves, url=options.urls.get("epss-api"), reporter=reporter
            )
        return epss_feed.steps(fetcher, cursor, url=url, force=options.force, reporter=reporter)
    if source == "osv":
        if options.purls:
            return osv_feed.purl_steps(
                fetcher, options.purls, api=options.urls.get("osv-api"), reporter=reporter
            )
        return osv_feed.zip_steps(
            fetcher, options.ecosystems or None, cursor, url=url, force=options.force, reporter=reporter
        )
    if source == "purl2cpe":
        return purl2cpe_feed.steps(fetcher, cursor, url=url, force=options.force, reporter=reporter)
    raise InputError(
        None,
        _("--source: expected one of {sync_sources}, got {source!r}").format(
            sync_sources=", ".join(SYNC_SOURCES), source=source
        ),
    )


def sync_source(
    store: Store,
    source: str,
    fetcher: Fetcher,
    options: SyncOptions,
    reporter: Reporter | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> SourceSync:
    """Every step of one source; a failure after the retries ends this source, not the sync."""
    reporter = reporter or Reporter()
    result = SourceSync(source)
    started = time.perf_counter()
    try:
        for step in plan(store, source, fetcher, options, reporter):
            if step.failed is not None:
                result.failed.append(Rejected(step.origin, "", step.failed))
                continue
            summary = import_blobs(
                store,
                step.blobs,
                origin=step.origin,
                source=source,
                total=step.total,
                progress=progress,
                batch=options.batch,
                resume=step.resume,
                cursors={source: step.cursor} if step.cursor else None,
                complete=step.claims,
            )
            result.add(summary, step)
    except InputError as exc:
        result.error = str(exc)
    finally:
        result.seconds = time.perf_counter() - started
    return result


def sync(
    store: Store,
    sources: list[str],
    fetcher: Fetcher,
    options: SyncOptions,
    reporter: Reporter | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> list[SourceSync]:
    for source in sources:
        if source not in SYNC_SOURCES:
            raise InputError(
                None,
                _("--source: expected one of {sync_sources}, got {source!r}").format(
                    sync_sources=", ".join(SYNC_SOURCES), source=source
                ),
            )
    return [sync_source(store, s, fetcher, options, reporter, progress) for s in sources]


def today() -> date:
    return datetime.now(UTC).date()

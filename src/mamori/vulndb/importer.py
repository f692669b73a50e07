"""Import runs: documents from any input → parsed items → the store, in one transaction.

A run is all or nothing: the first bad document raises :class:`InputError` naming it and nothing
of the run is kept. Running the same import again changes nothing (records are keyed and digested).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.errors import InputError
from mamori.model.vulnerability import Epss, Kev, Vulnerability
from mamori.vulndb.detect import SOURCES, Item, parse_blob
from mamori.vulndb.purl2cpe import PurlCpeLink
from mamori.vulndb.rejected import Rejected
from mamori.vulndb.sources import Blob, open_input

if TYPE_CHECKING:
    from mamori.store import Store
    from mamori.store.writer import Writer

BATCH = 2000


@dataclass(slots=True)
class SourceCounts:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0


@dataclass(slots=True)
class ImportSummary:
    origin: str
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    sources: dict[str, SourceCounts] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(c.read for c in self.sources.values())


@dataclass(slots=True)
class Progress:
    files_done: int
    files_total: int | None
    records: int
    current: str


ProgressCallback = Callable[[Progress], None]


class _Run:
    """Buffers parsed items per kind and flushes them to the writer in batches."""

    def __init__(self, writer: Writer, summary: ImportSummary, batch: int) -> None:
        self.writer = writer
        self.summary = summary
        self.batch = batch
        self.vulns: dict[str, list[Vulnerability]] = {}
        self.kev: list[Kev] = []
        self.epss: list[Epss] = []
        self.links: list[PurlCpeLink] = []

    def counts(self, source: str) -> SourceCounts:
        return self.summary.sources.setdefault(source, SourceCounts())

    def add(self, source: str, item: Item) -> None:
        counts = self.counts(source)
        if isinstance(item, Rejected):
            counts.rejected += 1
            self.summary.rejected.append(item)
            return
        counts.read += 1
        if isinstance(item, Vulnerability):
            counts.withdrawn += item.withdrawn is not None
            pending = self.vulns.setdefault(source, [])
            pending.append(item)
            if len(pending) >= self.batch:
                self._flush_vulns(source)
        elif isinstance(item, Kev):
            self.kev.append(item)
        elif isinstance(item, Epss):
            self.epss.append(item)
            if len(self.epss) >= 50 * self.batch:
                self._flush_epss()
        else:
            self.links.append(item)

    def _flush_vulns(self, source: str) -> None:
        pending = self.vulns.pop(source, [])
        if pending:
            result = self.writer.put_vulnerabilities(pending)
            counts = self.counts(source)
            counts.new += result.new
            counts.updated += result.updated
            counts.unchanged += result.unchanged

    def _flush_epss(self) -> None:
        if self.epss:
            self.counts("epss").new += self.writer.put_epss(self.epss)
            self.epss = []

    def finish(self) -> None:
        for source in list(self.vulns):
            self._flush_vulns(source)
        self._flush_epss()
        if self.kev:
            self.counts("kev").new += self.writer.put_kev(self.kev)
        if self.links:
            self.counts("purl2cpe").new += self.writer.put_purl_cpe(self.links)
        for source in self.summary.sources:
            self.writer.touch(source, self.summary.origin)


def import_blobs(
    store: Store,
    blobs: Iterable[Blob],
    *,
    origin: str,
    source: str | None = None,
    total: int | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    batch: int = BATCH,
) -> ImportSummary:
    """Import documents from any source of blobs (files, zip members, HTTP answers).

    ``strict``: a document that is not vulnerability data is an error (a single named file);
    otherwise it is skipped and listed in the summary (a directory or archive walk).
    """
    if source is not None and source not in SOURCES:
        raise InputError(None, f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    started = time.perf_counter()
    summary = ImportSummary(origin=origin)
    with store.writer() as writer:
        run = _Run(writer, summary, batch)
        for blob in blobs:
            parsed = parse_blob(blob, source)
            summary.files += 1
            if parsed is None:
                if strict:
                    expected = f"{source} data" if source else "vulnerability data mamori reads"
                    raise InputError(blob.name, f"not {expected}")
                summary.skipped.append(blob.name)
            else:
                for item in parsed.items:
                    run.add(parsed.source, item)
            if progress is not None:
                progress(Progress(summary.files, total, summary.records, blob.name))
        run.finish()
    summary.seconds = time.perf_counter() - started
    return summary


def import_path(
    store: Store,
    path: str | Path,
    *,
    source: str | None = None,
    progress: ProgressCallback | None = None,
    batch: int = BATCH,
) -> ImportSummary:
    """Import a file, a directory or a zip (e.g. OSV's per-ecosystem ``all.zip``)."""
    p = Path(path)
    inputs = open_input(p)
    strict = p.is_file() and inputs.total == 1
    return import_blobs(
        store,
        inputs.blobs,
        origin=str(p.resolve()),
        source=source,
        total=inputs.total,
        strict=strict,
        progress=progress,
        batch=batch,
    )


__all__ = ["ImportSummary", "Progress", "SourceCounts", "import_blobs", "import_path"]

"""Parsing vulnerability documents in worker processes: what limits imports of many files (OSV
YAML or JSON, an OSV ``all.zip``, the cvelistV5 tree), spread over the CPUs.

A worker parses a document exactly as the main process would (:func:`parse_blob`) and sends back,
for each record, its stored form (JSON, compressed, digested) with the few fields and index rows
the store needs (:class:`~mamori.store.documents.Outline`): the main process only writes them, in
input order. A document a worker does not fully read (KEV, EPSS or purl2cpe data, a broken file, a
rejected record, a record with a value the store would not take: :mod:`mamori.store.limits`) goes to
the main process unchanged, so it is parsed and reported exactly as before. A record a worker sends
has been checked there: the main process only writes it.

Work is handed out a few chunks (of at most ``CHUNK`` documents and ``CHUNK_BYTES``) ahead of the
main process only, so memory stays bounded however large the input.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from mamori.errors import InputError
from mamori.fileio import max_input_bytes
from mamori.model.vulnerability import SourceRef, Vulnerability
from mamori.store import rows
from mamori.store.documents import Outline, Prepared
from mamori.store.limits import record_problem
from mamori.vulndb.detect import VULNERABILITY_SOURCES, Parsed, parse_blob
from mamori.vulndb.sources import Blob, read_member

MIN_DOCUMENTS = 256  # below this, starting workers costs more than it saves
CHUNK = 64  # documents per task: fewer, larger messages cost the main process less
CHUNK_BYTES = 4 << 20  # ... and input bytes per task (large documents: an NVD page, a KEV catalog)
AHEAD = 8  # chunks per worker handed out ahead: workers go on while the main process writes a batch


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document as the main process receives it: with its records ready, or to be parsed."""

    blob: Blob
    source: str = ""
    records: tuple[Prepared, ...] | None = None

    def parsed(self) -> Parsed | None:
        """The worker's result as the parser would give it; None: parse ``blob`` as usual."""
        return None if self.records is None else Parsed(self.source, iter(self.records))


def decode(blob: Blob, source: str | None = None) -> Decoded:
    """In a worker: a document's vulnerability records, prepared for the store; anything else
    (other data, a problem of any kind) unchanged, for the main process to parse and report."""
    try:
        parsed = parse_blob(blob, source)
        items = list(parsed.items) if parsed is not None and parsed.source in VULNERABILITY_SOURCES else []
        if not items or not all(isinstance(item, Vulnerability) for item in items):
            return Decoded(blob)
        prepared = tuple(rows.prepare_outline(item) for item in items)
        if any(record_problem(record) is not None for record in prepared):
            return Decoded(blob)  # a value the store would not take: the main process rejects its record
        return Decoded(Blob(blob.name, b""), parsed.source, prepared)
    except Exception:  # the main process parses it again and names the problem
        return Decoded(blob)


# Plain tuples pickle several times faster than dataclasses: what crosses the process boundary.
WireRecord = tuple[Any, ...]
_PR_SET_PDEATHSIG = 1  # prctl(2)
Wire = tuple[str, bytes | None, str, tuple[WireRecord, ...] | None]


def _to_wire(record: Prepared) -> WireRecord:
    o = record.vulnerability
    assert isinstance(o, Outline)
    refs = tuple((r.source, r.id, r.feed, r.published, r.modified, r.withdrawn, r.status) for r in o.sources)
    return (
        o.id,
        o.aliases,
        refs,
        o.published,
        o.modified,
        o.withdrawn,
        o.package_rows,
        o.cpe_rows,
        o.counts,
        o.packed,
        record.digest,
    )


def _from_wire(w: WireRecord) -> Prepared:
    rid, aliases, refs, published, modified, withdrawn, packages, cpes, counts, packed, digest = w
    sources = [SourceRef(*ref) for ref in refs]
    outline = Outline(rid, aliases, sources, published, modified, withdrawn, packages, cpes, counts, packed)
    return Prepared(outline, packed, digest)


def _decode_chunk(blobs: list[tuple[str, bytes | None]], source: str | None) -> list[Wire]:
    """In a worker: a chunk of documents; a file sent by name only is read here."""
    out: list[Wire] = []
    limit = max_input_bytes()
    for name, data in blobs:
        if data is None:
            try:
                data = read_member(name, limit)
            except InputError:  # the main process reads it again and reports the problem
                out.append((name, None, "", None))
                continue
        d = decode(Blob(name, data), source)
        records = None if d.records is None else tuple(_to_wire(r) for r in d.records)
        out.append((d.blob.name, d.blob.data, d.source, records))
    return out


def _unwire(wired: list[Wire]) -> Iterator[Decoded]:
    for name, data, source, records in wired:
        blob = Blob.file(name, 0) if data is None else Blob(name, data)
        yield Decoded(blob, source, None if records is None else tuple(map(_from_wire, records)))


def workers() -> int:
    """``MAMORI_IMPORT_WORKERS`` (0 or 1: none), else one per CPU, at most four."""
    raw = os.environ.get("MAMORI_IMPORT_WORKERS", "").strip()
    if raw.isdigit():
        return int(raw)
    return min(4, os.cpu_count() or 1)


def decoded(blobs: Iterable[Blob], total: int | None, source: str | None) -> Iterator[Decoded]:
    """The same documents in the same order; parsed by worker processes when there are enough of
    them, they may hold vulnerability records, and the platform can fork."""
    count = workers()
    if (
        count < 2
        or (total or 0) < MIN_DOCUMENTS
        or (source is not None and source not in VULNERABILITY_SOURCES)
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield from (Decoded(b) for b in blobs)
        return
    yield from _pooled(iter(blobs), count, source)


def _chunks(stream: Iterator[Blob]) -> Iterator[tuple[list[Blob], list[tuple[str, bytes | None]]]]:
    """Tasks for the workers (with the documents they stand for); a file not read yet goes by name,
    for the worker to read; a document that could not be read goes as nothing to parse."""
    blobs: list[Blob] = []
    chunk: list[tuple[str, bytes | None]] = []
    size = 0
    for blob in stream:
        blobs.append(blob)
        chunk.append((blob.name, b"" if blob.error is not None else None if blob.unread else blob.data))
        size += blob.size
        if len(chunk) >= CHUNK or size >= CHUNK_BYTES:
            yield blobs, chunk
            blobs, chunk, size = [], [], 0
    if chunk:
        yield blobs, chunk


def _quiet_worker(parent: int) -> None:
    """In a worker: Ctrl-C and SIGTERM (sent to the whole process group) are the main process's to handle.
    A worker stopped half-way through a message to or from the main process would leave the queues
    broken and the main process waiting for ever; interrupted, the main process cancels the work not
    started and the workers exit once their current chunk is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """A worker whose main process was killed outright (SIGKILL, out of memory) ends too: the kernel sends
    it SIGKILL when its parent dies (Linux); a parent already gone before that was set ends it at once.
    Without this, a worker waits for ever on a queue whose other end no one will write to."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _pooled(stream: Iterator[Blob], count: int, source: str | None) -> Iterator[Decoded]:
    pending: deque[tuple[list[Blob], Future[list[Wire]]]] = deque()

    def done(blobs: list[Blob], result: Future[list[Wire]]) -> Iterator[Decoded]:
        for blob, decoded in zip(blobs, _unwire(result.result()), strict=True):
            yield Decoded(blob) if blob.error is not None else decoded  # the main process reports it

    pool = ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_quiet_worker,
        initargs=(os.getpid(),),
    )
    try:
        for blobs, chunk in _chunks(stream):
            pending.append((blobs, pool.submit(_decode_chunk, chunk, source)))
            while len(pending) > count * AHEAD:
                yield from done(*pending.popleft())
        while pending:
            yield from done(*pending.popleft())
    except BaseException:  # interrupted (Ctrl-C, SIGTERM), an error, or the consumer stopped early
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()

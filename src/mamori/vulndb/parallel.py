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
import gc
import itertools
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError
from mamori.fileio import max_input_bytes
from mamori.model.vulnerability import SourceRef, Vulnerability
from mamori.store import rows
from mamori.store.documents import Outline, Prepared
from mamori.store.limits import load_record_rules, record_problem
from mamori.vulndb import yamlfast
from mamori.vulndb.detect import VULNERABILITY_SOURCES, Parsed, parse_blob
from mamori.vulndb.sources import Blob, InputSet, open_input, read_member

if TYPE_CHECKING:
    from concurrent.futures import Future

# multiprocessing, concurrent.futures and ctypes are imported when workers start (:class:`_Pool`, before
# they are forked): an input too small for workers (one record) does without them (about 8 ms).

MIN_DOCUMENTS = 256  # below this, starting workers costs more than it saves
CHUNK = 64  # documents per task: fewer, larger messages cost the main process less
CHUNK_BYTES = 4 << 20  # ... and input bytes per task (large documents: an NVD page, a KEV catalog)
AHEAD = 8  # chunks per worker handed out ahead: workers go on while the main process writes a batch
# ... and at the start, while the main process sets up the store (:func:`read_ahead`): twice as many,
# up to this many input bytes
HEAD_START_BYTES = 64 << 20
_YAML = (".yaml", ".yml")  # names of documents that may be OSV YAML
_GC_YOUNG = 50_000  # allocations between young-generation collections while importing

_collections_lock = threading.Lock()
_collections_depth = 0  # imports running (the collector's settings are the process's)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often and over less (an import allocates millions of
    short-lived objects while a batch of records is kept alive: collections took about 20 % of an
    OSV import's time). Objects that existed before the import (modules, the database engine) are
    frozen out of it, so a full collection looks only at what the import made (45 ms → a few ms
    each). Collection still runs, so memory stays bounded."""
    global _collections_depth
    with _collections_lock:
        _collections_depth += 1
        first = _collections_depth == 1
        if first:
            before = gc.get_threshold()
            gc.set_threshold(max(before[0], _GC_YOUNG), *before[1:])
        gc.freeze()  # again when nested: what was set up meanwhile (the store's modules) too
    try:
        yield
    finally:
        with _collections_lock:
            _collections_depth -= 1
            if first:
                gc.unfreeze()
                gc.set_threshold(*before)


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


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def pooled(total: int | None, source: str | None) -> int:
    """How many worker processes parse an input of ``total`` documents: 0, none, when there are too few
    documents, they cannot hold vulnerability records, or the platform cannot fork."""
    count = workers()
    if (
        count < 2
        or (total or 0) < MIN_DOCUMENTS
        or (source is not None and source not in VULNERABILITY_SOURCES)
        or "fork" not in _start_methods()
    ):
        return 0
    return count


class Decoding:
    """An input's documents being decoded, in input order; the workers (if any) start at once, on the
    first chunks, so they parse while the main process goes on setting up (importing the store's
    modules, opening the store). Iterate once; :meth:`close` when not read to the end."""

    def __init__(self, blobs: Iterable[Blob], total: int | None, source: str | None) -> None:
        count = pooled(total, source)
        self._stream: Iterator[Decoded] | None = None
        self._pool: _Pool | None = None
        if count:
            load_record_rules()  # read once, before the workers are forked
            self._pool = _Pool(iter(blobs), count, source)
        else:
            self._stream = (Decoded(b) for b in blobs)

    def __iter__(self) -> Iterator[Decoded]:
        if self._pool is not None:
            return self._pool.results()
        assert self._stream is not None
        return self._stream

    def close(self, wait: bool = False) -> None:
        """Stop the workers, dropping the work they have not started (no-op once read to the end);
        ``wait``: until they have ended (before other workers are forked)."""
        if self._pool is not None:
            self._pool.stop(wait)


def decoded(blobs: Iterable[Blob], total: int | None, source: str | None) -> Iterator[Decoded]:
    """The same documents in the same order; parsed by worker processes when there are enough of
    them, they may hold vulnerability records, and the platform can fork."""
    decoding = Decoding(blobs, total, source)
    try:
        yield from decoding
    finally:
        decoding.close()


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
        import ctypes  # already imported by the main process before the fork (:class:`_Pool`)

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


class _Pool:
    """Worker processes and the chunks handed to them: ``AHEAD`` chunks per worker ahead of the main
    process; at the start, as soon as the pool exists, twice as many (up to ``HEAD_START_BYTES``), for
    the workers to go on with while the main process sets up the store."""

    def __init__(self, stream: Iterator[Blob], count: int, source: str | None) -> None:
        self.pending: deque[tuple[list[Blob], Future[list[Wire]]]] = deque()
        self.ahead = count * AHEAD
        self.source = source
        self.chunks = _chunks(stream)
        first = next(self.chunks, None)
        if first is not None:
            if any(blob.name.lower().endswith(_YAML) for blob in first[0]):
                yamlfast.preload()  # once, before the fork, not in each worker
            self.chunks = itertools.chain([first], self.chunks)
        import ctypes  # noqa: F401  (for the workers, which are forked with it: :func:`_die_with_parent`)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(
            count,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_quiet_worker,
            initargs=(os.getpid(),),
        )
        try:
            self._submit(2 * self.ahead, HEAD_START_BYTES)
        except BaseException:
            self.stop()
            raise

    def _submit(self, ahead: int | None = None, budget: int | None = None) -> bool:
        """Hand out chunks until ``ahead`` (default: the pool's) are waiting, or ``budget`` input bytes
        were handed out; False when the input is exhausted."""
        limit = self.ahead if ahead is None else ahead
        while len(self.pending) <= limit:
            chunk = next(self.chunks, None)
            if chunk is None:
                return False
            blobs, wired = chunk
            self.pending.append((blobs, self.pool.submit(_decode_chunk, wired, self.source)))
            if budget is not None:
                budget -= sum(b.size for b in blobs)
                if budget <= 0:
                    break
        return True

    def results(self) -> Iterator[Decoded]:
        try:
            more = True
            while self.pending:
                blobs, result = self.pending.popleft()
                for blob, decoded in zip(blobs, _unwire(result.result()), strict=True):
                    yield Decoded(blob) if blob.error is not None else decoded  # the main process reports it
                if more:
                    more = self._submit()
        except BaseException:  # interrupted (Ctrl-C, SIGTERM), an error, or the consumer stopped early
            self.stop()
            raise
        self.pool.shutdown()

    def stop(self, wait: bool = False) -> None:
        self.pending.clear()
        self.pool.shutdown(wait=wait, cancel_futures=True)


@dataclass(slots=True)
class Ahead:
    """A local input opened, and its decoding started, before the store is: the workers parse the first
    documents while the main process imports the store's modules and opens (or creates) the store.
    Hand it to :func:`mamori.vulndb.import_path` with the same path and source; :meth:`close` it in any
    case (a no-op once the import has read it)."""

    path: Path
    source: str | None
    inputs: InputSet
    decoding: Decoding
    started: float = 0.0  # time.perf_counter() when the input was opened: the import's time counts from then
    _collections: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        self.decoding.close()
        self._collections.close()


def read_ahead(path: str | Path, source: str | None = None) -> Ahead:
    """Open ``path`` (a file, a directory or a zip) and start decoding its documents: see :class:`Ahead`.
    Raises :class:`InputError` as :func:`mamori.vulndb.import_path` would for an input it cannot open."""
    p = Path(path)
    started = time.perf_counter()
    collections = ExitStack()
    collections.enter_context(fewer_collections())  # the workers are forked with the import's settings
    try:
        inputs = open_input(p)
        decoding = Decoding(inputs.blobs, inputs.total, source)
    except BaseException:
        collections.close()
        raise
    return Ahead(p, source, inputs, decoding, started, collections)

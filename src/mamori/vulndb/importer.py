"""Import runs: documents from any input → parsed items → the store, committed in batches.

Nothing is lost:

- items are committed in batches of up to ``batch`` records (the first ones smaller, see :class:`_Run`),
  in input order; each commit also stores a checkpoint (the
  documents, and items of the next document, that are in), so a run killed at any moment leaves the
  data of its committed batches intact, and rerunning the same input resumes after them;
- a bad record is rejected (file, record, reason), counted in the summary, and the others are read;
- a malformed line of upstream purl2cpe data is a warning (counted and listed, the import still
  complete); every purl2cpe link is counted as strong or weak (:mod:`mamori.model.linkrule`), with
  a few weak ones as examples;
- a bad file is reported (file, reason) and the other files are still imported. Only when the input
  is one single file does a file-level problem stop the run with :class:`InputError` (one line, exit 2).

Running the same import again changes nothing (records are keyed and digested).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.purl2cpe import PurlCpeLink, judged
from mamori.model.vulnerability import Epss, Kev, Vulnerability
from mamori.store.documents import Prepared
from mamori.store.limits import (
    RowProblem,
    epss_row,
    kev_row,
    link_row,
    record_problem,
    row_problem,
)
from mamori.store.rows import prepare_outline
from mamori.vulndb.coverage import CoverageClaim, record_scopes
from mamori.vulndb.detect import SOURCES, Item, Parsed, parse_blob
from mamori.vulndb.messages import text as message
from mamori.vulndb.parallel import Ahead, Decoding, decoded, fewer_collections
from mamori.vulndb.rejected import DataWarning, Rejected
from mamori.vulndb.shapes import type_name
from mamori.vulndb.sources import Blob, InputSet, open_input

if TYPE_CHECKING:
    from mamori.store import Store
    from mamori.store.writer import Writer

BATCH = 2000
_FIRST_BATCH = 500  # records in the first batch; the next ones double up to the batch size
_EPSS_BATCH_FACTOR = 25  # EPSS rows are tiny: more of them per commit
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError)


@dataclass(slots=True)
class SourceCounts:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    warnings: int = 0


WEAK_EXAMPLES = 3  # weak links kept as examples, per rule that made them weak


@dataclass(slots=True)
class LinkTally:
    """purl2cpe links read, by strength and by the rule that judged them, with weak examples."""

    strong: int = 0
    weak: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, str]] = field(default_factory=list)  # purl, cpe, rule

    def add(self, link: PurlCpeLink) -> None:
        self.rules[link.rule] = self.rules.get(link.rule, 0) + 1
        if link.strong:
            self.strong += 1
            return
        self.weak += 1
        if self.rules[link.rule] <= WEAK_EXAMPLES:
            cpe = f"{link.cpe_vendor}:{link.cpe_product}"
            self.examples.append({"purl": link.purl, "cpe": cpe, "rule": link.rule})


@dataclass(slots=True)
class ImportSummary:
    origin: str
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # documents that are not vulnerability data
    rejected: list[Rejected] = field(default_factory=list)  # records skipped, with the reason
    failed: list[Rejected] = field(default_factory=list)  # files that could not be read, with the reason
    warnings: list[DataWarning] = field(default_factory=list)  # malformed upstream lines, skipped
    sources: dict[str, SourceCounts] = field(default_factory=dict)
    links: LinkTally = field(default_factory=LinkTally)
    seconds: float = 0.0
    resumed: int = 0  # documents an earlier, interrupted run had already committed
    batches: int = 0

    @property
    def records(self) -> int:
        return sum(c.read for c in self.sources.values())

    @property
    def complete(self) -> bool:
        """Nothing was rejected or failed (the CLI exits 1 otherwise); warnings do not count."""
        return not self.rejected and not self.failed

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so a resumed run reports the whole import."""
        return {
            "files": self.files,
            "skipped": self.skipped,
            "rejected": [[r.name, r.record, r.reason, r.reason_ja] for r in self.rejected],
            "failed": [[r.name, r.record, r.reason, r.reason_ja] for r in self.failed],
            "warnings": [[r.name, r.record, r.reason] for r in self.warnings],
            "sources": {k: asdict(v) for k, v in self.sources.items()},
            "links": asdict(self.links),
        }

    @classmethod
    def from_state(cls, origin: str, state: dict[str, Any]) -> ImportSummary:
        return cls(
            origin=origin,
            files=int(state["files"]),
            skipped=list(state["skipped"]),
            rejected=[Rejected(*r) for r in state["rejected"]],
            failed=[Rejected(*r) for r in state["failed"]],
            warnings=[DataWarning(*r) for r in state.get("warnings", [])],
            sources={k: SourceCounts(**v) for k, v in state["sources"].items()},
            links=LinkTally(**state["links"]) if "links" in state else LinkTally(),
        )


@dataclass(slots=True)
class Progress:
    files_done: int
    files_total: int | None
    records: int
    current: str


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class Resume:
    """How an input can be resumed: its listing's fingerprint and its documents from position n."""

    fingerprint: str
    start: Callable[[int], Iterable[Blob]]


def resume_of(inputs: InputSet) -> Resume | None:
    """How ``inputs`` can be resumed (its listing's fingerprint, worked out now, and its documents from
    position n), or None when it cannot be."""
    if inputs.start is None:
        return None
    fingerprint = inputs.listing()
    return Resume(fingerprint, inputs.start) if fingerprint else None


def checkpoint_key(origin: str, source: str | None) -> str:
    """15 hex digits: with the ``~`` prefix it fits the store's source column (16 characters)."""
    return hashlib.blake2b(f"{origin}\0{source or ''}".encode(), digest_size=8).hexdigest()[:15]


@dataclass(slots=True)
class _Batch:
    """Items waiting for one transaction."""

    vulns: dict[str, list[Vulnerability | Prepared]] = field(default_factory=dict)
    kev: list[Kev] = field(default_factory=list)
    epss: list[Epss] = field(default_factory=list)
    links: list[PurlCpeLink] = field(default_factory=list)
    scopes: dict[str, set[str]] = field(default_factory=dict)  # source → scopes of its records


class _WriteFailed(Exception):
    """A batch could not be written: raised past the per-document handlers, then unwrapped."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(str(failure))
        self.failure = failure


class _Run:
    """Buffers parsed items and commits them, with a checkpoint, in batches of up to ``batch`` records.

    A batch is written by a background thread while the next one is read (one write at a time, so
    batches commit in order and at most two are held). The first batch is small and the next ones
    double up to ``batch``, so writing starts early instead of after the whole first batch is read:
    on a 2-core machine the OSV PyPI import went from 0.51 to 0.47 s (PostgreSQL) and 0.46 to 0.42 s
    (SQLite), medians of 7 runs each. A store whose connections are per thread (SQLite in memory)
    is written in the importing thread.
    """

    def __init__(
        self, store: Store, summary: ImportSummary, batch: int, key: str, fingerprint: str | None
    ) -> None:
        self.store = store
        self.summary = summary
        self.batch = batch
        self.key = key
        self.fingerprint = fingerprint
        self.pending = 0
        self.buffer = _Batch()
        self.limit = min(batch, _FIRST_BATCH)
        self.background = store.writes_from_any_thread
        self.writing: threading.Thread | None = None
        # set when the batch being written has committed or rolled back: waited for instead of
        # Thread.join, which a signal handler raising mid-wait (Ctrl-C, SIGTERM) can leave believing a
        # running thread has ended (CPython's bpo-45274 handling): the process would then exit while
        # the writer is inside its transaction, leaving the WAL behind
        self.written = threading.Event()
        self.failure: BaseException | None = None

    def counts(self, source: str) -> SourceCounts:
        return self.summary.sources.setdefault(source, SourceCounts())

    def add(self, source: str, item: Item | Prepared, name: str) -> None:
        counts = self.counts(source)
        if isinstance(item, DataWarning):
            counts.warnings += 1
            self.summary.warnings.append(item)
            return
        if not isinstance(item, Rejected | Prepared):  # a worker's prepared record was checked there
            try:
                if isinstance(item, Vulnerability):
                    item = prepare_outline(item)  # its rows are checked now and not made again
                item = _storable(item, name)
            except _MALFORMED as exc:  # a value no check foresaw: this record only is left out
                label = getattr(item, "id", None) or getattr(item, "cve_id", None) or ""
                reason = _("malformed record ({kind}: {exc})").format(kind=type(exc).__name__, exc=exc)
                item = Rejected(name, _label(label), reason)
        if isinstance(item, Rejected):
            counts.rejected += 1
            self.summary.rejected.append(item)
            return
        counts.read += 1
        buffer = self.buffer
        if isinstance(item, Vulnerability | Prepared):
            record = item.vulnerability if isinstance(item, Prepared) else item
            counts.withdrawn += record.withdrawn is not None
            buffer.vulns.setdefault(source, []).append(item)
            scopes = buffer.scopes.get(source)
            if scopes is None:
                scopes = buffer.scopes[source] = set()
            scopes.update(record_scopes(source, item))
            self.pending += 1
        elif isinstance(item, Kev):
            buffer.kev.append(item)
            self.pending += 1
        elif isinstance(item, Epss):
            buffer.epss.append(item)
            self.pending += len(buffer.epss) % _EPSS_BATCH_FACTOR == 0
        else:
            link = item  # judged by _storable
            self.summary.links.add(link)
            buffer.links.append(link)
            self.pending += len(buffer.links) % _EPSS_BATCH_FACTOR == 0

    @property
    def full(self) -> bool:
        return self.pending >= self.limit

    def _take(self) -> _Batch:
        taken, self.buffer, self.pending = self.buffer, _Batch(), 0
        return taken

    def _flush(self, writer: Writer, batch: _Batch) -> None:
        for source, pending in batch.vulns.items():
            result = writer.put_vulnerabilities(pending)
            counts = self.counts(source)  # new/updated/unchanged: only the writing thread changes them
            counts.new += result.new
            counts.updated += result.updated
            counts.unchanged += result.unchanged
        if batch.kev:
            self.counts("kev").new += writer.put_kev(batch.kev)
        if batch.epss:
            self.counts("epss").new += writer.put_epss(batch.epss)
        if batch.links:
            self.counts("purl2cpe").new += writer.put_purl_cpe(batch.links)
        for source, scopes in batch.scopes.items():
            writer.put_coverage(source, scopes, complete=False, origin=self.summary.origin)

    def _write_then_signal(self, batch: _Batch, state: dict[str, Any] | None) -> None:
        try:
            self._write(batch, state)
        finally:
            self.written.set()

    def wait_written(self) -> None:
        """Wait for the batch being written, if any (an interrupted wait can simply be waited again)."""
        if self.writing is not None:
            self.written.wait()
            self.writing = None

    def _write(self, batch: _Batch, state: dict[str, Any] | None) -> None:
        """One transaction: the batch and, when resumable, the checkpoint taken when it was handed over
        (what had been read by then) with the write counts of every batch up to this one."""
        try:
            with self.store.writer() as writer:
                self._flush(writer, batch)
                if state is not None:
                    for source, counts in state["summary"]["sources"].items():
                        done = self.summary.sources[source]
                        counts.update(new=done.new, updated=done.updated, unchanged=done.unchanged)
                    writer.save_checkpoint(self.key, self.summary.origin, state)
            self.summary.batches += 1
        except BaseException as exc:  # re-raised in the importing thread
            self.failure = exc

    def _join(self) -> None:
        """Wait for the batch being written; its failure stops the run."""
        self.wait_written()
        if self.failure is not None:
            raise _WriteFailed(self.failure)

    def commit(self, position: int, item: int) -> None:
        """Hand the buffered items over, with how far the run got (document ``position``, ``item``
        items into it), and go on reading while they are written."""
        batch = self._take()
        self.limit = min(self.batch, self.limit * 2)
        state = None
        if self.fingerprint is not None:
            state = {
                "fingerprint": self.fingerprint,
                "position": position,
                "item": item,
                "summary": self.summary.state(),
            }
        self._join()
        if not self.background:
            self._write(batch, state)
            self._join()
            return
        self.written.clear()
        self.writing = threading.Thread(
            target=self._write_then_signal, args=(batch, state), name="mamori-import-writer"
        )
        self.writing.start()

    def finish(self, cursors: dict[str, str], claims: Iterable[CoverageClaim] = ()) -> None:
        self._join()
        with self.store.writer() as writer:
            self._flush(writer, self._take())
            for source in sorted(set(self.summary.sources) | set(cursors)):
                writer.touch(source, self.summary.origin, cursors.get(source))
            for claim in claims:
                scopes = claim.scopes
                if scopes is None:  # every scope this input's records belong to (resumed runs included)
                    scopes = writer.scopes_from(claim.source, self.summary.origin)
                writer.put_coverage(claim.source, scopes, complete=True, origin=self.summary.origin)
            writer.drop_checkpoint(self.key)
        self.summary.batches += 1


_LABEL = 120  # characters of a record's id shown when it is rejected


def _storable(
    item: Prepared | Kev | Epss | PurlCpeLink, name: str
) -> Prepared | Kev | Epss | PurlCpeLink | Rejected:
    """The item, or a :class:`Rejected` note when a value of its rows is one the store would not
    take as it is (:mod:`mamori.store.limits`): checked here so both backends store the same."""
    if isinstance(item, Prepared):
        problem, label = record_problem(item), item.vulnerability.id
    elif isinstance(item, Kev):
        problem, label = row_problem("kev", kev_row(item)), item.cve_id
    elif isinstance(item, Epss):
        problem, label = row_problem("epss", epss_row(item)), item.cve_id
    else:
        item = judged(item)
        problem, label = row_problem("purl_cpe", link_row(item)), item.purl
    if problem is None:
        return item
    label = _label(label)
    texts = {lang: _row_reason(lang, problem) for lang in ("en", "ja")}
    return Rejected(name, label, texts["en"], texts["ja"])


def _label(value: object) -> str:
    """A record's id as it names the record in a report: at most ``_LABEL`` characters."""
    label = value if isinstance(value, str) else repr(value)
    return label if len(label) <= _LABEL else label[:_LABEL] + "…"


def _row_reason(lang: str, problem: RowProblem) -> str:
    if problem.limit is not None:
        return message(lang, "record", "too_long", path=problem.column, limit=problem.limit)
    if problem.nul:
        return message(lang, "record", "not_text", path=problem.column)
    got = message(lang, "record", "types", type_name(problem.value))
    return message(lang, "record", "not_stored", path=problem.column, got=got)


@contextmanager
def _writes_joined(run: _Run) -> Iterator[None]:
    """A failed write is raised as itself; on any other error the write in progress is waited for
    (it commits or rolls back whole) before the error goes on."""
    try:
        yield
    except _WriteFailed as exc:
        raise exc.failure from None
    except BaseException:
        run.wait_written()
        raise


def _parse(blob: Blob, source: str | None) -> Parsed | None:
    try:
        return parse_blob(blob, source)
    except _MALFORMED as exc:
        raise InputError(
            blob.name, _("malformed document ({kind}: {exc})").format(kind=type(exc).__name__, exc=exc)
        ) from None


def _not_data(blob: Blob, source: str | None) -> InputError:
    if source:
        return InputError(blob.name, _("not {source} data").format(source=source))
    return InputError(blob.name, _("not vulnerability data mamori reads"))


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
    resume: Resume | None = None,
    cursors: dict[str, str] | None = None,
    complete: Iterable[CoverageClaim] = (),
    decoding: Decoding | None = None,
) -> ImportSummary:
    """Import documents from any source of blobs (files, zip members, HTTP answers).

    ``strict``: the input is one named file, so a problem with it is an error (nothing to go on with);
    otherwise a bad document is listed in ``failed`` and the others are imported.
    ``resume``: with it, every commit records a checkpoint and a rerun of an interrupted import of the
    same, unchanged input starts after what was committed. ``cursors`` (sync state per source) are
    stored with the last commit. Coverage (:mod:`mamori.vulndb.coverage`): every batch records the
    scopes of its records as partial (from ``origin``); the last commit records each scope a
    ``complete`` claim names as complete, fetched now from ``origin`` (a claim without scopes: every
    scope this origin's records belong to, those of an interrupted earlier run included).
    ``decoding``: the decoding of ``blobs`` already started (:func:`mamori.vulndb.parallel.read_ahead`);
    it is closed when the import ends, and dropped when the import resumes an interrupted one.
    """
    try:
        return _import_blobs(
            store, blobs, origin, source, total, strict, progress, batch, resume, cursors, complete, decoding
        )
    finally:
        if decoding is not None:
            decoding.close()


def _import_blobs(
    store: Store,
    blobs: Iterable[Blob],
    origin: str,
    source: str | None,
    total: int | None,
    strict: bool,
    progress: ProgressCallback | None,
    batch: int,
    resume: Resume | None,
    cursors: dict[str, str] | None,
    complete: Iterable[CoverageClaim],
    decoding: Decoding | None,
) -> ImportSummary:
    if source is not None and source not in SOURCES:
        raise InputError(
            None,
            _("unknown source {source!r}; expected one of {sources}").format(
                source=source, sources=", ".join(SOURCES)
            ),
        )
    if batch < 1:
        raise InputError(None, _("batch size must be at least 1, got {batch}").format(batch=batch))
    started = time.perf_counter()
    key = checkpoint_key(origin, source)
    summary = ImportSummary(origin=origin)
    position = skip_items = 0
    saved = store.checkpoint(key) if resume is not None else None
    if resume is not None and saved is not None and saved.get("fingerprint") == resume.fingerprint:
        summary = ImportSummary.from_state(origin, saved["summary"])
        position, skip_items = int(saved["position"]), int(saved["item"])
        summary.resumed = position
        blobs = resume.start(position)
        if decoding is not None:  # it started from the first document: its workers end first
            decoding.close(wait=True)
            decoding = None
    run = _Run(store, summary, batch, key, resume.fingerprint if resume else None)
    documents = decoding if decoding is not None else decoded(blobs, total, source)
    with fewer_collections(), _writes_joined(run):
        for index, document in enumerate(documents, start=position):
            blob, done = document.blob, 0
            try:
                parsed = document.parsed() or _parse(blob, source)
                if parsed is None:
                    if strict:
                        raise _not_data(blob, source)
                    summary.skipped.append(blob.name)
                else:
                    for item in parsed.items:
                        done += 1
                        if index == position and done <= skip_items:
                            continue  # committed by the interrupted run
                        run.add(parsed.source, item, blob.name)
                        if run.full:
                            run.commit(index, done)
            except _MALFORMED as exc:
                if strict:
                    raise InputError(
                        blob.name,
                        _("malformed document ({kind}: {exc})").format(kind=type(exc).__name__, exc=exc),
                    ) from None
                summary.failed.append(
                    Rejected(blob.name, "", _("malformed document ({kind})").format(kind=type(exc).__name__))
                )
            except InputError as exc:
                if strict:
                    raise
                summary.failed.append(Rejected.of(blob.name, "", exc))
            summary.files += 1
            if progress is not None:
                progress(Progress(summary.files, total, summary.records, blob.name))
        run.finish(cursors or {}, complete)
    summary.seconds = time.perf_counter() - started
    return summary


def import_path(
    store: Store,
    path: str | Path,
    *,
    source: str | None = None,
    progress: ProgressCallback | None = None,
    batch: int = BATCH,
    complete: Iterable[CoverageClaim] = (),
    ahead: Ahead | None = None,
) -> ImportSummary:
    """Import a file, a directory or a zip (e.g. OSV's per-ecosystem ``all.zip``); resumable.
    ``complete``: what the input holds whole (see :func:`import_blobs`). ``ahead``: the same input
    opened and its decoding started before the store was opened (:func:`mamori.vulndb.parallel.read_ahead`);
    it is closed when the import ends."""
    p = Path(path)
    try:
        if ahead is not None and (ahead.path != p or ahead.source != source):
            raise ValueError(f"read ahead for {ahead.path} ({ahead.source}), not {p} ({source})")
        with fewer_collections():  # listing a large tree allocates too
            return _import_path(store, p, source, progress, batch, complete, ahead)
    finally:
        if ahead is not None:
            ahead.close()


def _import_path(
    store: Store,
    p: Path,
    source: str | None,
    progress: ProgressCallback | None,
    batch: int,
    complete: Iterable[CoverageClaim],
    ahead: Ahead | None,
) -> ImportSummary:
    inputs = ahead.inputs if ahead is not None else open_input(p)
    strict = p.is_file() and inputs.total == 1
    resume = resume_of(inputs)
    summary = import_blobs(
        store,
        inputs.blobs,
        origin=str(p.resolve()),
        source=source,
        total=inputs.total,
        strict=strict,
        progress=progress,
        batch=batch,
        resume=resume,
        complete=complete,
        decoding=ahead.decoding if ahead is not None else None,
    )
    if ahead is not None:  # the documents began to be read when the store was not open yet
        summary.seconds = time.perf_counter() - ahead.started
    return summary


__all__ = [
    "CoverageClaim",
    "ImportSummary",
    "LinkTally",
    "Progress",
    "Resume",
    "SourceCounts",
    "checkpoint_key",
    "import_blobs",
    "import_path",
]

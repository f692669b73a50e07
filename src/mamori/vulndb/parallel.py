"""OSV YAML decoding in worker processes: what limits OSV imports, spread over the CPUs.

A worker reads an OSV YAML document with the usual libyaml loader and sends back the same data as
JSON, plus the record's stored form (JSON, compressed, digested: the other costly step). The main
process then parses that JSON with the usual code, in input order, and writes the batches; when the
record it parses is the one the worker prepared, the prepared form is used. A document a worker
cannot convert (not OSV, broken YAML) goes through unchanged, so it is reported exactly as before.

Work is handed out a few chunks ahead of the main process only, so memory stays bounded however
large the input.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import orjson

from mamori.model.vulnerability import Vulnerability
from mamori.store.documents import Prepared, pack
from mamori.store.documents import digest as digest_of
from mamori.store.documents import to_json as record_json
from mamori.vulndb import osv, purl2cpe
from mamori.vulndb.sources import Blob

MIN_DOCUMENTS = 256  # below this, starting workers costs more than it saves
CHUNK = 64  # documents per task: fewer, larger messages cost the main process less
AHEAD = 8  # chunks per worker handed out ahead: workers go on while the main process writes a batch
_YAML = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document as the main process reads it, and the stored form a worker made for its record."""

    blob: Blob
    record_id: str | None = None
    packed: bytes = b""
    digest: str = ""

    def attach(self, item: object) -> object:
        """The parsed item, with the worker's stored form when it is that record."""
        if self.record_id is not None and isinstance(item, Vulnerability) and item.id == self.record_id:
            return Prepared(item, self.packed, self.digest)
        return item


def _is_osv_yaml(blob: Blob) -> bool:
    if not blob.name.lower().endswith(_YAML):
        return False
    head = blob.data.lstrip()[:1]
    return head not in (b"", b"{", b"[", b"<") and not purl2cpe.looks_like_scanoss(blob.name, blob.data)


def decode(blob: Blob) -> Decoded:
    """In a worker: an OSV YAML record as JSON with its stored form; anything else unchanged."""
    if not _is_osv_yaml(blob):
        return Decoded(blob)
    try:
        doc = osv.load_yaml(blob.data)
        if not osv.looks_like(doc):
            return Decoded(blob)
        as_json = Blob(blob.name, orjson.dumps(doc))
        record = osv.parse_record(doc, blob.name)
        stored = record_json(record)
        return Decoded(as_json, record.id, pack(stored), digest_of(stored))
    except Exception:  # the main process parses it again and names the problem
        return Decoded(blob)


Wire = tuple[str, bytes, str | None, bytes, str]  # plain tuples pickle several times faster


def _decode_chunk(blobs: list[tuple[str, bytes]]) -> list[Wire]:
    out: list[Wire] = []
    for name, data in blobs:
        d = decode(Blob(name, data))
        out.append((d.blob.name, d.blob.data, d.record_id, d.packed, d.digest))
    return out


def _unwire(wired: list[Wire]) -> Iterator[Decoded]:
    for name, data, record_id, packed, digest in wired:
        yield Decoded(Blob(name, data), record_id, packed, digest)


def workers() -> int:
    """``MAMORI_IMPORT_WORKERS`` (0 or 1: none), else one per CPU, at most four."""
    raw = os.environ.get("MAMORI_IMPORT_WORKERS", "").strip()
    if raw.isdigit():
        return int(raw)
    return min(4, os.cpu_count() or 1)


def decoded(blobs: Iterable[Blob], total: int | None, source: str | None) -> Iterator[Decoded]:
    """The same documents in the same order; OSV YAML ones decoded by worker processes when there
    are enough of them and the platform can fork."""
    count = workers()
    stream = iter(blobs)
    first = next(stream, None)
    if first is None:
        return
    if (
        count < 2
        or (total or 0) < MIN_DOCUMENTS
        or source not in (None, "osv")
        or not _is_osv_yaml(first)
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield Decoded(first)
        yield from (Decoded(b) for b in stream)
        return
    yield from _pooled(first, stream, count)


def _pooled(first: Blob, stream: Iterator[Blob], count: int) -> Iterator[Decoded]:
    pending: deque = deque()
    chunks = iter(lambda: [(b.name, b.data) for b in islice(stream, CHUNK)], [])
    with multiprocessing.get_context("fork").Pool(count) as pool:
        pending.append(pool.apply_async(_decode_chunk, ([(first.name, first.data)],)))
        for chunk in chunks:
            pending.append(pool.apply_async(_decode_chunk, (chunk,)))
            while len(pending) > count * AHEAD:
                yield from _unwire(pending.popleft().get())
        while pending:
            yield from _unwire(pending.popleft().get())

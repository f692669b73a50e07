"""How records are kept in the store: JSON (orjson) compressed with zlib.

JSON documents of vulnerability records repeat their keys a lot; level-1 zlib keeps them about
five times smaller for little CPU, which also shortens the write-ahead log and the commit. The
compressing is done by ISA-L (``isal``) when it is installed: the same zlib format, which the
standard ``zlib`` reads, written about three times faster (and a little smaller) than zlib's level 1.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.model.vulnerability import SourceRef, Vulnerability, vulnerability_from_dict

# ISA-L's compress (else zlib's), imported on the first record packed: a scan only reads records
_compress: Callable[[bytes, int], bytes] | None = None


def _compressor() -> Callable[[bytes, int], bytes]:
    global _compress
    try:
        from isal.isal_zlib import compress
    except ImportError:  # no ISA-L wheel for this platform
        from zlib import compress
    _compress = compress
    return compress


def to_json(value: Any) -> bytes:
    return orjson.dumps(value)


def pack(json_bytes: bytes) -> bytes:
    return (_compress or _compressor())(json_bytes, 1)


def unpack(blob: bytes) -> Any:
    return orjson.loads(zlib.decompress(blob))


def digest(json_bytes: bytes) -> str:
    """What tells a changed record from the one already stored."""
    import hashlib  # here: loading OpenSSL's hashes is a few ms a scan, which never writes, need not pay

    return hashlib.blake2b(json_bytes, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Outline:
    """What the store needs of one source record to key, merge and index it, made where the record
    was parsed (an import worker process), so the process that writes never parses it again.

    ``package_rows`` and ``cpe_rows`` are the record's index rows without ``vuln_id``; ``counts``
    the lengths of its affected packages, affected products and CPE configurations (where its rows'
    positions start when it is merged); the whole record is ``packed``, read back by :meth:`data`
    when the record is merged with others.
    """

    id: str
    aliases: list[str]
    sources: list[SourceRef]
    published: str | None
    modified: str | None
    withdrawn: str | None
    package_rows: list[dict[str, Any]]
    cpe_rows: list[dict[str, Any]]
    counts: tuple[int, int, int]
    packed: bytes

    def all_ids(self) -> list[str]:
        return [self.id, *self.aliases]

    def data(self) -> dict[str, Any]:
        return unpack(self.packed)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A record with its stored form already made; an import worker sends an :class:`Outline`."""

    vulnerability: Vulnerability | Outline
    packed: bytes
    digest: str
    nul: bool = False  # a text of the record holds NUL: its index rows are checked whole (store.limits)


def prepare(record: Vulnerability) -> Prepared:
    doc = to_json(record)
    return Prepared(record, pack(doc), digest(doc))


def load_vulnerability(blob: bytes) -> Vulnerability:
    return vulnerability_from_dict(unpack(blob))

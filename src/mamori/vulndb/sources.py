"""Where import bytes come from: a file, a directory, a zip (OSV's all.zip) or .gz; online sources
produce the same :class:`Blob` objects, so every parser serves all of them."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import max_input_bytes, read_bytes


@dataclass(frozen=True, slots=True)
class Blob:
    """One input document: ``name`` is what errors show (path, ``archive.zip:member`` or URL)."""

    name: str
    data: bytes


@dataclass(slots=True)
class InputSet:
    """The documents of one import: their count when known up front, and the documents."""

    total: int | None
    blobs: Iterator[Blob]


def gunzip(blob: Blob) -> Blob:
    """Decompress a ``.gz`` blob within the input size limit; the name loses its ``.gz``."""
    limit = max_input_bytes()
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = inflater.decompress(blob.data, limit + 1)
    except zlib.error as exc:
        raise InputError(blob.name, f"not a valid gzip file ({exc})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise InputError(blob.name, f"decompresses to more than the input size limit of {limit} bytes")
    return Blob(blob.name.removesuffix(".gz"), data)


def _zip_members(path: Path, data: bytes) -> tuple[int, Iterator[Blob]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"not a valid zip file ({exc})") from None
    limit = max_input_bytes()

    def members() -> Iterator[Blob]:
        for info in infos:
            name = f"{path}:{info.filename}"
            if info.file_size > limit:
                raise InputError(name, f"member is {info.file_size} bytes, over the input size limit")
            try:
                yield Blob(name, archive.read(info))
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:
                raise InputError(name, f"cannot read zip member ({exc})") from None

    return len(infos), members()


def _file_blobs(path: Path) -> tuple[int, Iterator[Blob]]:
    data = read_bytes(path)
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() == ".zip":
        return _zip_members(path, data)
    return 1, iter([Blob(str(path), data)])


def open_input(path: str | Path) -> InputSet:
    """A file, a zip or a directory (walked in sorted order, hidden entries skipped)."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if p.is_file():
        total, blobs = _file_blobs(p)
        return InputSet(total, blobs)
    files: list[str] = []
    for folder, dirs, names in os.walk(p):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
        files.extend(os.path.join(folder, n) for n in names if not n.startswith("."))
    files.sort()

    def walk() -> Iterator[Blob]:
        for f in files:
            if f.lower().endswith(".zip"):
                yield from _file_blobs(Path(f))[1]
            else:
                yield Blob(f, read_bytes(f))

    archives = [f for f in files if f.lower().endswith(".zip")]
    return InputSet(None if archives else len(files), walk())


def maybe_gunzip(blob: Blob) -> Blob:
    if blob.name.lower().endswith(".gz") or blob.data[:2] == b"\x1f\x8b":
        return gunzip(blob)
    return blob


__all__ = ["Blob", "InputSet", "gunzip", "maybe_gunzip", "open_input"]

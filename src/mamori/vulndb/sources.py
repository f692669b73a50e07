"""Where import bytes come from: a file, a directory, a zip (OSV's all.zip) or .gz; online sources
produce the same :class:`Blob` objects, so every parser serves all of them."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import READ_FLAGS, ZipBudget, check_regular, max_input_bytes, message, read_bytes
from mamori.i18n import _


class Blob:
    """One input document: ``name`` is what errors show (path, ``archive.zip:member`` or URL).

    A file of a directory is read when its ``data`` is first asked for (:meth:`file`), so an import
    worker process can read it instead of the main process, and a file that cannot be read is
    reported as that file's problem when it is reached, while the others are still imported.
    """

    __slots__ = ("_data", "error", "name", "size")

    def __init__(self, name: str, data: bytes, *, size: int | None = None) -> None:
        self.name = name
        self._data: bytes | None = data
        self.size = len(data) if size is None else size  # of an unread file: what stat said
        self.error: InputError | None = None

    @classmethod
    def failed(cls, name: str, error: InputError) -> Blob:
        """A document that could not be read (an encrypted zip member, a FIFO in a folder): asking
        for its data raises ``error``, so the import reports it and goes on with the others."""
        blob = cls(name, b"")
        blob.error = error
        return blob

    @classmethod
    def file(cls, path: str, size: int) -> Blob:
        """A file read on first use (within the input size limit)."""
        blob = cls(path, b"", size=size)
        blob._data = None
        return blob

    @property
    def unread(self) -> bool:
        return self._data is None

    @property
    def data(self) -> bytes:
        if self.error is not None:
            raise self.error
        if self._data is None:
            self._data = read_member(self.name, max_input_bytes())
        return self._data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blob) and (self.name, self.data) == (other.name, other.data)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Blob({self.name!r}, {self.size} bytes)"


@dataclass(slots=True)
class InputSet:
    """The documents of one import: their count when known up front, and the documents.

    ``fingerprint`` identifies the listing (names, sizes, times) and ``start(n)`` gives the documents
    from the n-th on without reading the ones before: together they let an interrupted import resume.
    A directory's or zip's fingerprint is worked out when first asked for (:meth:`listing`), so its
    files' ``stat`` calls (a zip: its listing's digest) need not delay the start of the import workers.
    """

    total: int | None
    blobs: Iterator[Blob]
    fingerprint: str | Callable[[], str] | None = None
    start: Callable[[int], Iterator[Blob]] | None = None

    def listing(self) -> str | None:
        """The fingerprint (worked out now if it was deferred), or None: the input cannot be resumed."""
        if callable(self.fingerprint):
            self.fingerprint = self.fingerprint()
        return self.fingerprint


def is_url(text: str) -> bool:
    """An http(s) URL to download, not a local path."""
    return text.lower().startswith(("http://", "https://"))


def _fingerprint(parts: Iterable[object]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def gunzip(blob: Blob) -> Blob:
    """Decompress a ``.gz`` blob within the input size limit; the name loses its ``.gz``."""
    limit = max_input_bytes()
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = inflater.decompress(blob.data, limit + 1)
    except zlib.error as exc:
        raise InputError(blob.name, _("not a valid gzip file ({exc})").format(exc=exc)) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise InputError(
            blob.name,
            _("decompresses to more than the input size limit of {limit} bytes").format(limit=limit),
        )
    return Blob(blob.name.removesuffix(".gz"), data)


def _zip_members(path: Path | str, data: bytes) -> tuple[int, Iterator[Blob]]:
    inputs = zip_input(path, data)
    return inputs.total or 0, inputs.blobs


def zip_input(path: Path | str, data: bytes, select: Callable[[str], bool] | None = None) -> InputSet:
    """The members of a zip (a file or a download such as OSV's ``all.zip``), resumable by position;
    ``select``: only the members whose name it accepts (e.g. the data files of a repository archive).
    Members are streamed within the bounds of :class:`mamori.fileio.ZipBudget`; one that cannot be
    read (encrypted, an unknown compression method, damaged, a bomb) is reported and skipped."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise InputError(path, message("zip", "not_zip", reason=exc)) from None
    if select is not None:
        infos = [i for i in infos if select(i.filename)]
    budget = ZipBudget(max_input_bytes())

    def members(first: int = 0) -> Iterator[Blob]:
        for info in infos[first:]:
            name = f"{path}:{info.filename}"
            try:
                member = Blob(name, budget.read(archive, info, name))
            except InputError as exc:
                yield Blob.failed(name, exc)
                if budget.used > budget.total:
                    return  # the rest of a zip bomb is not read at all
                continue
            yield member

    def fingerprint() -> str:  # worked out when the import first needs it (InputSet.listing)
        return _fingerprint((i.filename, i.file_size, i.CRC) for i in infos)

    return InputSet(len(infos), members(), fingerprint, members)


def _file_blobs(path: Path) -> tuple[int, Iterator[Blob]]:
    inputs = _file_input(path)
    return inputs.total or 0, inputs.blobs


def _file_input(path: Path) -> InputSet:
    data = read_bytes(path)
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() == ".zip":
        return zip_input(path, data)
    info = path.stat()
    only = [Blob(str(path), data)]
    return InputSet(
        1, iter(only), _fingerprint([(str(path), info.st_size, info.st_mtime_ns)]), lambda n: iter(only[n:])
    )


def read_member(path: str, limit: int) -> bytes:
    """One file of a directory walk: only a regular file (a FIFO or device found in the folder is
    refused without being waited on), within ``limit``: one non-blocking open, fstat and read without
    a Python file object (thousands of small files), else :func:`mamori.fileio.read_bytes`, whose
    InputError names the problem; the import reports that file and goes on with the others."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError:
        return read_bytes(path, limit)
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size <= limit:
            data = os.read(fd, info.st_size + 1)
            if len(data) == info.st_size:  # the whole file at once, as usual
                return data
    except OSError:
        pass
    finally:
        os.close(fd)
    return read_bytes(path, limit)


def _stat(path: str) -> os.stat_result:
    """A walked file's ``stat`` (a dangling link: zeros; reading it then names the problem)."""
    try:
        return os.stat(path)
    except OSError:
        return os.stat_result((0,) * 10)


def _listing(top: str) -> list[str]:
    """The files under ``top`` as ``os.walk(top)`` finds them (a folder that cannot be listed, or whose
    listing fails part-way, gives none; links to folders are not followed), hidden entries and
    ``__MACOSX`` folders left out, in no particular order: one ``scandir`` per folder without the
    walk's generators and path joins (a tree of a few thousand files is listed before the import
    workers can start)."""
    files: list[str] = []
    folders = [top]
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except OSError:
            continue
        found: list[str] = []
        below: list[str] = []
        with entries:
            try:
                for entry in entries:
                    name = entry.name
                    try:
                        folder = entry.is_dir()
                    except OSError:
                        folder = False
                    if not folder:
                        if not name.startswith("."):
                            found.append(entry.path)
                    elif not name.startswith(".") and name != "__MACOSX":
                        try:
                            link = entry.is_symlink()
                        except OSError:
                            link = False
                        if not link:
                            below.append(entry.path)
            except OSError:  # as os.walk: the folder's listing is dropped
                continue
        files.extend(found)
        folders.extend(below)
    return files


def open_input(path: str | Path) -> InputSet:
    """A file, a zip or a directory (walked in sorted order, hidden entries skipped)."""
    p = Path(path)
    if not p.is_dir():
        check_regular(p)  # missing, a FIFO or a device: one line, before anything is read
        return _file_input(p)
    files = _listing(str(p))
    files.sort()
    # each file's stat, taken once when first needed: as the walk reaches it (its size bounds the
    # workers' chunks), or for the fingerprint; not all up front, before the workers can start
    stats: list[os.stat_result | None] = [None] * len(files)

    def stat_of(n: int) -> os.stat_result:
        st = stats[n]
        if st is None:
            st = stats[n] = _stat(files[n])
        return st

    def walk(first: int = 0) -> Iterator[Blob]:
        for n in range(first, len(files)):
            f = files[n]
            if f.lower().endswith(".zip"):
                try:
                    members = _file_blobs(Path(f))[1]
                except InputError as exc:  # not a zip after all, a FIFO so named: reported, skipped
                    yield Blob.failed(f, exc)
                    continue
                yield from members
            else:
                yield Blob.file(f, stat_of(n).st_size)

    archives = [f for f in files if f.lower().endswith(".zip")]
    if archives:  # positions count zip members: no resuming by file position
        return InputSet(None, walk())

    def fingerprint() -> str:
        return _fingerprint((f, stat_of(n).st_size, stat_of(n).st_mtime_ns) for n, f in enumerate(files))

    return InputSet(len(files), walk(), fingerprint, walk)


def maybe_gunzip(blob: Blob) -> Blob:
    if blob.name.lower().endswith(".gz") or blob.data[:2] == b"\x1f\x8b":
        return gunzip(blob)
    return blob


__all__ = ["Blob", "InputSet", "gunzip", "maybe_gunzip", "open_input", "read_member", "zip_input"]

"""File input/output shared by every command: only regular files are read, within a size limit,
without ever blocking on a FIFO or a device; outputs are written atomically (or straight into a
device such as /dev/null); zip members are streamed within bounds; YAML nesting is bounded, and a YAML
file is read whole by one function (:func:`read_yaml`)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from mamori.errors import InputError
from mamori.i18n import Messages, current_lang

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB, configurable with MAMORI_MAX_INPUT_BYTES
DEFAULT_MAX_UNZIPPED_BYTES = 64 << 30  # all members of one zip together (MAMORI_MAX_UNZIPPED_BYTES)
MAX_ZIP_RATIO = 200  # a member may inflate at most this many times its compressed size ...
RATIO_FREE_BYTES = (
    16 << 20
)  # ... once it is over 16 MiB (small members compress well, e.g. a repeated header)
MAX_YAML_DEPTH = 1000  # libyaml and PyYAML compose nested nodes recursively: deeper input is refused
STALE_SECONDS = 60  # a temporary output file older than this, beside its target, is left from a killed run
_CHUNK = 1 << 20

MESSAGES = Messages("data/fileio/messages.yaml")


def message(*path: str, **values: object) -> str:
    """A message of data/fileio/messages.yaml in the running command's language."""
    return MESSAGES.text(current_lang(), *path, **values)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _env_bytes(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw:
        try:
            return int(raw)
        except ValueError:
            return default
    return default


def max_input_bytes() -> int:
    return _env_bytes("MAMORI_MAX_INPUT_BYTES", DEFAULT_MAX_BYTES)


def max_unzipped_bytes() -> int:
    return _env_bytes("MAMORI_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED_BYTES)


def kind_of(mode: int, *, file: bool = False) -> str:
    """What a file that is not a regular file is, in words (the running command's language);
    ``file``: a regular file is named too (where a folder was expected)."""
    if file and stat.S_ISREG(mode):
        return message("kinds", "file")
    for test, key in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISCHR, "character_device"),
        (stat.S_ISBLK, "block_device"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISLNK, "symlink"),
    ):
        if test(mode):
            return message("kinds", key)
    return message("kinds", "other")


def not_regular(path: str | Path, mode: int) -> InputError:
    """The error for reading something that is not a regular file (a folder has its own words)."""
    if stat.S_ISDIR(mode):
        return InputError(path, message("read", "is_directory"))
    return InputError(path, message("read", "not_regular", kind=kind_of(mode)))


def _stat_error(path: str | Path, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(path, message("read", "not_found"))
    return InputError(path, message("read", "cannot_read", reason=exc.strerror or exc))


def check_regular(path: str | Path, *, follow: bool = True) -> os.stat_result:
    """``stat`` of ``path`` when it is a regular file (a link followed unless ``follow`` is False),
    else a one-line InputError; never opens it, so a FIFO or a device cannot block or be read."""
    try:
        info = os.stat(path, follow_symlinks=follow)
    except OSError as exc:
        raise _stat_error(path, exc) from None
    if not stat.S_ISREG(info.st_mode):
        raise not_regular(path, info.st_mode)
    return info


def check_folder(path: str | Path) -> None:
    """A one-line InputError unless ``path`` is a folder (missing, a file, a FIFO, a device)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _stat_error(path, exc) from None
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(path, message("read", "not_folder", kind=kind_of(info.st_mode, file=True)))


# opening an input: read-only, never waiting on a FIFO or device (its type is checked with fstat next)
READ_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


@contextlib.contextmanager
def open_regular(path: str | Path, *, follow: bool = True) -> Iterator[IO[bytes]]:
    """A binary file object for the regular file ``path``: checked with ``stat`` first, opened without
    blocking (a FIFO swapped in meanwhile cannot hang the command) and checked again with ``fstat``;
    ``follow=False``: a symbolic link is refused (for files found in folders mamori walks)."""
    check_regular(path, follow=follow)
    flags = READ_FLAGS
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise not_regular(path, stat.S_IFLNK) from None
        raise _stat_error(path, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_bytes(path: str | Path, limit: int | None = None, *, follow: bool = True) -> bytes:
    """Read a whole regular file, refusing anything else (a folder, a FIFO, a device such as
    /dev/zero) and files over the size limit, each with a clear one-line error."""
    p = Path(path)
    limit = max_input_bytes() if limit is None else limit
    try:
        with open_regular(p, follow=follow) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise InputError(p, message("read", "too_large", size=size, limit=limit))
            # ask for the size found (+1 to see growth), not the limit: BufferedReader.read(n) allocates
            # n bytes up front, which made every read request a buffer of the limit (1 GiB by default)
            data = fh.read(size + 1)
            if len(data) > size:  # it grew meanwhile: read on, never more than the limit
                data += fh.read(limit + 1 - len(data))
    except OSError as exc:
        raise _stat_error(p, exc) from None
    if len(data) > limit:
        raise InputError(p, message("read", "grew", limit=limit))
    return data


def read_text(
    path: str | Path, limit: int | None = None, *, errors: str = "strict", follow: bool = True
) -> str:
    """:func:`read_bytes` decoded as UTF-8 (``errors`` as for :meth:`bytes.decode`)."""
    return read_bytes(path, limit, follow=follow).decode("utf-8", errors)


# --- outputs -------------------------------------------------------------------------------------


def _write_error(path: str | Path, exc: OSError) -> InputError:
    if isinstance(exc, IsADirectoryError):
        return InputError(path, message("write", "is_directory"))
    return InputError(path, message("write", "cannot_write", reason=exc.strerror or exc))


def _clean_stale(folder: Path, name: str) -> None:
    """Remove temporary files of an earlier, killed run beside the target: only regular files named
    like :func:`atomic_writer` names them (``.NAME.XXXXXXXX.tmp``) and older than a minute."""
    prefix = f".{name}."
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        rest = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
        if not rest.endswith(".tmp") or len(rest) != 12 or not rest[:8].replace("_", "a").isalnum():
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_SECONDS:
                os.unlink(entry.path)


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success.

    A target that exists and is a device or FIFO (``/dev/null``, ``/dev/stdout``) is written
    directly, never replaced; a folder, an unwritable folder or a full disk is a one-line
    InputError and leaves no file behind. Stale temporary files of a killed earlier run are removed.
    """
    target = Path(path)
    encoding = None if "b" in mode else "utf-8"
    newline = "" if encoding else None
    try:
        info: os.stat_result | None = os.stat(target)
    except OSError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(target, message("write", "is_directory"))
    if info is not None and not stat.S_ISREG(info.st_mode):
        if not (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
            raise InputError(target, message("write", "not_file", kind=kind_of(info.st_mode)))
        # The output is made in memory first (a zip writer seeks, a device cannot), then written in one go.
        spool: io.BytesIO | io.StringIO = io.BytesIO() if encoding is None else io.StringIO(newline=newline)
        yield spool
        data = spool.getvalue()
        try:  # without blocking: a FIFO nobody reads is an error (ENXIO), not a hang
            fd = os.open(target, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        except OSError as exc:
            raise _write_error(target, exc) from None
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(target.parent, target.name)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _write_error(target, exc) from None
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
        # mkstemp creates 0600; a finished output gets the permissions an ordinary new file would
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _write_error(target, exc) from None
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


# --- zip members ---------------------------------------------------------------------------------

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


class ZipBudget:
    """The bounds of reading one zip's members: each at most the input size limit and, once it is
    over :data:`RATIO_FREE_BYTES`, at most :data:`MAX_ZIP_RATIO` times its compressed size; all
    together at most :func:`max_unzipped_bytes`. Sizes are counted as the bytes come, not taken
    from the (attacker-written) headers."""

    def __init__(
        self,
        limit: int | None = None,
        total: int | None = None,
        *,
        ratio: int = MAX_ZIP_RATIO,
        ratio_free: int = RATIO_FREE_BYTES,
    ) -> None:
        self.limit = max_input_bytes() if limit is None else limit
        self.total = max_unzipped_bytes() if total is None else total
        self.ratio = ratio
        self.ratio_free = ratio_free
        self.used = 0

    def problem(self, info: zipfile.ZipInfo) -> str | None:
        """Why ``info`` cannot be read at all (encrypted, unknown method, declared too large), or None."""
        if info.flag_bits & 0x1:
            return message("zip", "encrypted")
        if info.compress_type not in _METHODS:
            return message("zip", "method", method=info.compress_type)
        if info.file_size > self.limit:
            return message("zip", "too_large", size=info.file_size, limit=self.limit)
        return None

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str | Path) -> bytes:
        """The member's bytes, streamed within the bounds; an InputError naming ``name`` otherwise."""
        problem = self.problem(info)
        if problem is not None:
            raise InputError(name, problem)
        parts: list[bytes] = []
        size = 0
        ceiling = max(self.ratio_free, self.ratio * max(info.compress_size, 1))
        try:
            with archive.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    size += len(chunk)
                    self.used += len(chunk)
                    if size > self.limit:
                        raise InputError(
                            name, message("zip", "too_large", size=f">{self.limit}", limit=self.limit)
                        )
                    if size > ceiling:
                        raise InputError(
                            name, message("zip", "ratio", ratio=self.ratio, compressed=info.compress_size)
                        )
                    if self.used > self.total:
                        raise InputError(name, message("zip", "total", limit=self.total))
                    parts.append(chunk)
        except InputError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
            ValueError,
        ) as exc:
            raise InputError(name, message("zip", "damaged", reason=exc)) from None
        except Exception as exc:  # lzma.LZMAError and the like: a damaged member, never a traceback
            raise InputError(name, message("zip", "damaged", reason=f"{type(exc).__name__}: {exc}")) from None
        return b"".join(parts)


# An XLSX workbook is a zip of XML parts that a parser walks cell by cell: its members are held to a
# tighter ratio (real sheets compress 5-20 times), so a small crafted workbook cannot keep a reader busy.
XLSX_RATIO = 100
XLSX_RATIO_FREE_BYTES = 1 << 20
XLSX_MAX_UNZIPPED_BYTES = 1 << 30


def check_xlsx(data: bytes, path: str | Path) -> None:
    """Refuse an XLSX workbook whose parts would inflate beyond the
    bounds (:data:`XLSX_RATIO`, the input size limit per part, :data:`XLSX_MAX_UNZIPPED_BYTES` in
    all), by streaming every part once before openpyxl parses any of it."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
        return  # not a zip at all: the workbook reader names that as it always did
    budget = ZipBudget(
        min(max_input_bytes(), XLSX_MAX_UNZIPPED_BYTES),
        XLSX_MAX_UNZIPPED_BYTES,
        ratio=XLSX_RATIO,
        ratio_free=XLSX_RATIO_FREE_BYTES,
    )
    with archive:
        for info in infos:
            budget.read(archive, info, f"{path}:{info.filename}")


def csv_table(
    data: bytes,
    path: str | Path,
    *,
    max_cell: int,
    cell: Callable[[str], Any],
    limit: Callable[[int], None],
    max_columns: int | None = None,
) -> list[list[Any]]:
    """The records of a spreadsheet's CSV export: UTF-8 (with or without BOM), else Shift_JIS as Japanese
    Excel saves it; each cell through ``cell``, fields longer than ``max_cell`` characters (×4) refused, and
    ``limit(rows so far)`` called after each record (it raises when there are too many); columns past
    ``max_columns`` are dropped. Text that is not
    either encoding, or not CSV, is one InputError naming ``path``."""
    import csv

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp932")  # a CSV saved by Japanese Excel
        except UnicodeDecodeError as exc:
            raise InputError(path, message("csv", "not_text", start=exc.start)) from None
    csv.field_size_limit(max_cell * 4)
    table: list[list[Any]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            table.append(list(map(cell, record[:max_columns])))
            limit(len(table) - 1)
    except csv.Error as exc:
        raise InputError(path, message("csv", "not_csv", reason=exc)) from None
    return table


def open_xlsx(data: bytes, path: str | Path, *, read_only: bool = True, data_only: bool = True) -> Any:
    """The openpyxl workbook of ``data``, after :func:`check_xlsx`; anything openpyxl raises (zipfile,
    zlib, XML and its own checks) becomes one InputError naming ``path``. ``data_only=False`` keeps formula
    cells as formulas (so a reader can refuse them), never evaluated."""
    import warnings

    from openpyxl import load_workbook

    check_xlsx(data, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=read_only, data_only=data_only)
    except Exception as exc:  # openpyxl raises anything from zipfile, zlib, XML and its own checks
        reason = " ".join(str(exc).split())
        raise InputError(
            path, message("xlsx", "not_workbook", type=type(exc).__name__, reason=reason)
        ) from None


# --- YAML ----------------------------------------------------------------------------------------


def check_yaml_depth(data: bytes | str, path: str | Path, depth: int = MAX_YAML_DEPTH) -> None:
    """Refuse YAML nested deeper than ``depth`` before a loader composes it (recursively: a
    RecursionError in PyYAML, a crash in libyaml). Cheap bound first: nesting is at most the number
    of flow brackets plus the longest line; only when that bound is high are parser events counted."""
    import yaml

    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    bound = raw.count(b"[") + raw.count(b"{") + max(map(len, raw.split(b"\n")))
    if bound <= depth:
        return
    level = 0
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(raw, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                level += 1
                if level > depth:
                    raise InputError(path, message("yaml", "too_deep", depth=depth))
            elif isinstance(event, yaml.CollectionEndEvent):
                level -= 1
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):  # libyaml 0.2.6 (PyYAML 6.0.4) has the same limit
            raise InputError(path, message("yaml", "too_deep", depth=depth)) from None
        return  # not YAML at all: the loader that follows names the problem as it always did
    except (ValueError, TypeError, RecursionError):
        return


def yaml_reason(exc: Exception) -> str:
    """A YAML error in one line: ``line N, column M: problem`` (the problem's context before it), within
    200 characters, control characters made visible."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None)
    text = (f"{context}: {problem}" if context else str(problem)) if problem else str(exc)
    if mark is not None:
        text = f"line {mark.line + 1}, column {mark.column + 1}: {text}"
    text = " ".join(text.split())
    visible = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return visible[:200]


def read_yaml(path: str | Path, limit: int | None = None, *, loader: Any = None) -> Any:
    """The YAML document of a regular file (:func:`read_bytes`: bounded by ``limit``, else the input size
    limit; a folder, FIFO or device refused), its nesting bounded (:func:`check_yaml_depth`), UTF-8,
    parsed by a safe loader (libyaml's when present; ``loader``: a safe loader subclass, e.g. one that
    refuses duplicate keys). Anything wrong is one :class:`InputError` line naming the file."""
    import yaml

    if loader is None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    safe = tuple(
        getattr(yaml, name)
        for name in ("SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader")
        if hasattr(yaml, name)
    )
    if not (isinstance(loader, type) and issubclass(loader, safe)):
        raise TypeError("read_yaml reads with a safe loader only")
    data = read_bytes(path, limit)
    check_yaml_depth(data, path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(path, message("yaml", "not_utf8")) from None
    try:
        return yaml.load(text, Loader=loader)  # a safe loader, checked above
    except yaml.YAMLError as exc:
        raise InputError(path, message("yaml", "invalid", reason=yaml_reason(exc))) from None
    except RecursionError:
        raise InputError(path, message("yaml", "too_deep", depth=MAX_YAML_DEPTH)) from None

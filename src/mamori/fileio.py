"""File input/output shared by every command: size limits and atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mamori.errors import InputError

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB, configurable with MAMORI_MAX_INPUT_BYTES


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def max_input_bytes() -> int:
    raw = os.environ.get("MAMORI_MAX_INPUT_BYTES")
    if raw:
        try:
            return int(raw)
        except ValueError:
            return DEFAULT_MAX_BYTES
    return DEFAULT_MAX_BYTES


def read_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """Read a whole input file, refusing files over the size limit with a clear error."""
    p = Path(path)
    limit = max_input_bytes() if limit is None else limit
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(p, "file not found") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror}") from None
    if p.is_dir():
        raise InputError(p, "is a directory, not a file")
    if size > limit:
        raise InputError(p, f"file is {size} bytes, over the input size limit of {limit} bytes")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror}") from None


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline="" if encoding else None) as fh:
            yield fh
        # mkstemp creates 0600; a finished output gets the permissions an ordinary new file would
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as fh:
        fh.write(data)

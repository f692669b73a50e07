"""The CSAF provider directory on the team server: ``mamori serve --csaf-provider DIR`` serves the folder
``mamori advisory publish`` writes as static files under ``/.well-known/csaf/`` (CSAF 2.0 section 7.1.9:
the provider-metadata.json at ``/.well-known/csaf/provider-metadata.json``), without signing in.

Only the files a provider holds are served, each with its media type: ``.json`` (documents,
provider-metadata.json and the ROLIE feeds) as ``application/json``, ``index.txt`` and the ``.sha256`` and
``.sha512`` files as ``text/plain``, ``changes.csv`` as ``text/csv``, ``.asc`` signatures as
``application/pgp-signature`` (the public keys under ``openpgp/`` as ``application/pgp-keys``). Anything else
answers 404, as do a path with ``..``, ``.`` or a hidden name, a folder, and every file that is not a regular
file reached without a symbolic link (a link pointing out of the folder serves nothing). A file is read with
``O_NOFOLLOW`` after the check and streamed; its size is bounded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

router = APIRouter(include_in_schema=False)

PREFIX = "/.well-known/csaf"
MAX_FILE_BYTES = 256 << 20  # a single CSAF document, feed or changes.csv
CHUNK = 64 << 10
MEDIA = {
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".sha256": "text/plain; charset=utf-8",
    ".sha512": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".asc": "application/pgp-signature",
}
MAX_DEPTH = 8


def media_type(rel: str) -> str | None:
    """The media type ``rel`` is served with, or None when a provider holds no such file."""
    name = rel.rsplit("/", 1)[-1]
    suffix = os.path.splitext(name)[1].lower()
    if suffix == ".asc" and rel.startswith("openpgp/"):
        return "application/pgp-keys"
    return MEDIA.get(suffix)


def open_file(root: Path, rel: str) -> tuple[int, int]:
    """An open descriptor and the size of the regular file ``rel`` under ``root``; 404 for anything
    else: a bad path, a symbolic link on the way, a folder, a device, a file too large."""
    parts = rel.split("/")
    if not rel or len(parts) > MAX_DEPTH or any(not p or p.startswith(".") or "\\" in p for p in parts):
        raise HTTPException(404, "not found")
    if "\x00" in rel or media_type(rel) is None:
        raise HTTPException(404, "not found")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    directory = getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(root, os.O_RDONLY | directory | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        raise HTTPException(404, "not found") from None
    try:
        for part in parts[:-1]:  # each folder opened beneath the last, never through a link
            nxt = os.open(part, flags | directory, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open(parts[-1], flags | getattr(os, "O_NONBLOCK", 0), dir_fd=fd)
    except OSError:
        os.close(fd)
        raise HTTPException(404, "not found") from None
    os.close(fd)
    info = os.fstat(leaf)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        os.close(leaf)
        raise HTTPException(404, "not found")
    return leaf, info.st_size


def _chunks(fd: int, size: int) -> Iterator[bytes]:
    try:
        left = size
        while left > 0:
            data = os.read(fd, min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data
    finally:
        os.close(fd)


@router.api_route(PREFIX + "/{rel:path}", methods=["GET", "HEAD"])
def provider_file(rel: str, request: Request) -> Response:
    folder = request.app.state.settings.csaf_provider
    if not folder:
        raise HTTPException(404, "not found")
    fd, size = open_file(Path(folder), rel)
    media = media_type(rel)
    assert media is not None
    headers = {
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": "public, max-age=300",
    }
    if request.method == "HEAD":
        os.close(fd)
        return Response(status_code=200, media_type=media, headers=headers)
    return StreamingResponse(_chunks(fd, size), media_type=media, headers=headers)

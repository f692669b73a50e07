"""``mamori db import URL``: one download (with retries), then a document or a zip like a local file."""

from __future__ import annotations

from collections.abc import Iterable

from mamori.store import Store
from mamori.vulndb.coverage import CoverageClaim
from mamori.vulndb.importer import BATCH, ImportSummary, ProgressCallback, import_blobs, resume_of
from mamori.vulndb.online.http import Fetcher
from mamori.vulndb.sources import Blob, zip_input


def import_url(
    store: Store,
    url: str,
    fetcher: Fetcher,
    *,
    source: str | None = None,
    progress: ProgressCallback | None = None,
    batch: int = BATCH,
    complete: Iterable[CoverageClaim] = (),
) -> ImportSummary:
    """A single document is strict (a bad one is an error); a zip's members are imported one by one.
    ``complete``: what the input holds whole (see :func:`mamori.vulndb.importer.import_blobs`)."""
    answer = fetcher.get(url, source="url")
    data = answer.content
    if data.startswith(b"PK\x03\x04"):
        inputs = zip_input(url, data)
        resume = resume_of(inputs)
        return import_blobs(
            store,
            inputs.blobs,
            origin=url,
            source=source,
            total=inputs.total,
            progress=progress,
            batch=batch,
            resume=resume,
            complete=complete,
        )
    name = url if data[:2] == b"\x1f\x8b" or not url.lower().endswith(".gz") else url[:-3]
    return import_blobs(
        store,
        [Blob(name, data)],
        origin=url,
        source=source,
        total=1,
        strict=True,
        progress=progress,
        batch=batch,
        complete=complete,
    )

"""CISA KEV catalog (JSON) by URL; a conditional GET (ETag / Last-Modified) skips an unchanged catalog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mamori.vulndb.online.http import Fetcher, validators
from mamori.vulndb.online.plan import Reporter, Step, endpoint, fetch_if_changed
from mamori.vulndb.sources import Blob

SOURCE = "kev"


def download_steps(
    fetcher: Fetcher,
    variable: str,
    cursor: str | None,
    *,
    url: str | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
    source: str = SOURCE,
) -> Iterator[Step]:
    """One step with the document at ``url`` (else ``$variable``, else the public address), or an
    ``unchanged`` step when the server says it has not changed since the last sync (304); ``source``
    names its download bounds."""
    where = endpoint(variable, url)
    reporter = reporter or Reporter()
    answer = fetch_if_changed(fetcher, where, cursor, force=force, reporter=reporter, source=source)
    if answer is None:
        yield Step(where, [], cursor, 0, unchanged=True)
        return
    name = where if answer.content[:2] == b"\x1f\x8b" else where.removesuffix(".gz")
    yield Step(where, [Blob(name, answer.content)], orjson.dumps(validators(answer)).decode(), 1)


def steps(fetcher: Fetcher, cursor: str | None, **options: Any) -> Iterator[Step]:
    """The KEV catalog; ``url``, ``force`` and ``reporter`` as for :func:`download_steps`."""
    return download_steps(fetcher, "MAMORI_KEV_URL", cursor, **options)

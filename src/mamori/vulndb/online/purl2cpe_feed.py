"""SCANOSS purl2cpe, fetched as its repository's zip archive (``MAMORI_PURL2CPE_URL``).

SCANOSS publishes purl2cpe only as a Git repository: ``data/<vendor>/<product>/purls.yml`` lists the
purls known under that CPE vendor and product (``cpes.yml`` beside it repeats NVD's CPE names). The
archive of the main branch (``codeload.github.com/scanoss/purl2cpe/zip/refs/heads/main``, whose top
folder is ``purl2cpe-main/``) is downloaded within the input size limit, conditionally (ETag /
Last-Modified: an unchanged archive is not downloaded again), and only its ``purls.yml`` members are
read, each within the input size limit, by the importer that reads a local checkout
(:mod:`mamori.vulndb.purl2cpe`); resumable by position like any zip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.vulndb.importer import resume_of
from mamori.vulndb.online.http import Fetcher, validators
from mamori.vulndb.online.plan import Reporter, Step, endpoint, fetch_if_changed
from mamori.vulndb.sources import zip_input

SOURCE = "purl2cpe"
VARIABLE = "MAMORI_PURL2CPE_URL"


def is_purls_member(name: str) -> bool:
    """``[<top>/]data/<vendor>/<product>/purls.yml``, with no way out of the archive's folders."""
    parts = PurePosixPath(name).parts
    if not parts or parts[-1] != "purls.yml" or any(p in ("", ".", "..") for p in parts):
        return False
    return name[:1] != "/" and len(parts) in (4, 5) and parts[-4] == "data"


def steps(
    fetcher: Fetcher,
    cursor: str | None,
    *,
    url: str | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
) -> Iterator[Step]:
    """One step with the archive's ``purls.yml`` files, or an ``unchanged`` step (304)."""
    where = endpoint(VARIABLE, url)
    reporter = reporter or Reporter()
    answer = fetch_if_changed(fetcher, where, cursor, force=force, reporter=reporter, source=SOURCE)
    if answer is None:
        yield Step(where, [], cursor, 0, unchanged=True)
        return
    inputs = zip_input(where, answer.content, is_purls_member)
    if not inputs.total:
        raise InputError(where, _("the archive holds no data/<vendor>/<product>/purls.yml: not purl2cpe"))
    reporter.expect(inputs.total or 0)
    resume = resume_of(inputs)
    yield Step(where, inputs.blobs, orjson.dumps(validators(answer)).decode(), inputs.total, resume)

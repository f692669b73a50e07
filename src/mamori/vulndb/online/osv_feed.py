"""OSV online: per-ecosystem ``all.zip`` exports, and the API for per-purl look-ups.

- ``{base}/{ecosystem}/all.zip`` (conditional GET: an unchanged export is not downloaded again);
  its members are imported like a local zip, resumable by position.
- ``POST {api}/querybatch`` with ``{"queries": [{"package": {"purl": …}}]}``: each result lists
  ``vulns`` (id, modified) and may carry ``next_page_token``, asked again with ``page_token`` until
  none is left; then ``GET {api}/vulns/{id}`` gives each full record.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import orjson

from mamori.errors import InputError
from mamori.vulndb.importer import Resume
from mamori.vulndb.online.http import Fetcher, conditional_headers, validators
from mamori.vulndb.online.plan import Reporter, Step, endpoint, read_cursor
from mamori.vulndb.sources import Blob, zip_input

SOURCE = "osv"
QUERY_BATCH = 1000  # the API's limit of queries per querybatch request
DEFAULT_ECOSYSTEMS = ("PyPI", "npm", "Maven", "Go", "crates.io", "NuGet", "RubyGems", "Packagist")


def zip_steps(
    fetcher: Fetcher,
    ecosystems: list[str],
    cursor: str | None,
    *,
    url: str | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
) -> Iterator[Step]:
    """One step per ecosystem whose export changed; the cursor keeps each export's validators."""
    reporter = reporter or Reporter()
    base = endpoint("MAMORI_OSV_URL", url)
    state = read_cursor(cursor)[0]
    for ecosystem in ecosystems:
        where = f"{base}/{quote(ecosystem, safe='')}/all.zip"
        headers = {} if force else conditional_headers(state.get(ecosystem) or {})
        answer = fetcher.get(where, headers=headers, ok=(200, 304))
        if answer.status == 304:
            reporter.note(f"{where}: not modified since the last sync")
            continue
        inputs = zip_input(where, answer.content)
        reporter.expect(inputs.total or 0)
        state = {**state, ecosystem: validators(answer)}
        resume = Resume(inputs.fingerprint, inputs.start) if inputs.fingerprint and inputs.start else None
        yield Step(where, inputs.blobs, orjson.dumps(state).decode(), inputs.total, resume)


def query_ids(fetcher: Fetcher, purls: list[str], *, api: str | None = None) -> dict[str, list[str]]:
    """The OSV ids affecting each purl, following ``next_page_token`` until every result is complete."""
    base = endpoint("MAMORI_OSV_API_URL", api)
    found: dict[str, list[str]] = {p: [] for p in purls}
    pending: list[tuple[str, str | None]] = [(p, None) for p in dict.fromkeys(purls)]
    while pending:
        batch, pending = pending[:QUERY_BATCH], pending[QUERY_BATCH:]
        queries = [{"package": {"purl": p}, **({"page_token": token} if token else {})} for p, token in batch]
        answer = fetcher.post_json(f"{base}/querybatch", {"queries": queries})
        try:
            results = orjson.loads(answer.content)["results"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise InputError(answer.url, "not an OSV querybatch answer (no results)") from None
        if len(results) != len(batch):
            raise InputError(answer.url, f"{len(results)} results for {len(batch)} queries")
        for (purl, _), result in zip(batch, results, strict=True):
            for vuln in (result or {}).get("vulns") or []:
                if (
                    isinstance(vuln, dict)
                    and isinstance(vuln.get("id"), str)
                    and vuln["id"] not in found[purl]
                ):
                    found[purl].append(vuln["id"])
            token = (result or {}).get("next_page_token")
            if token:
                pending.append((purl, token))
    return found


def vuln_records(fetcher: Fetcher, ids: list[str], *, api: str | None = None) -> Iterator[Blob]:
    base = endpoint("MAMORI_OSV_API_URL", api)
    for vuln_id in ids:
        answer = fetcher.get(f"{base}/vulns/{quote(vuln_id, safe='')}")
        yield Blob(answer.url, answer.content)


def purl_steps(
    fetcher: Fetcher, purls: list[str], *, api: str | None = None, reporter: Reporter | None = None
) -> Iterator[Step]:
    """The full records of every vulnerability OSV knows for these purls."""
    ids = list(dict.fromkeys(i for found in query_ids(fetcher, purls, api=api).values() for i in found))
    (reporter or Reporter()).expect(len(ids))
    yield Step(endpoint("MAMORI_OSV_API_URL", api), vuln_records(fetcher, ids, api=api), None, len(ids))

"""OSV online: per-ecosystem ``all.zip`` exports, and the API for per-purl look-ups.

- ``{base}/ecosystems.txt`` lists every ecosystem OSV exports (one base name a line: ``PyPI``,
  ``Debian``, ``Red Hat``; releases such as ``Debian:12`` are inside their base's export).
- ``{base}/{ecosystem}/all.zip`` (conditional GET: an unchanged export is not downloaded again);
  its members are imported like a local zip, resumable by position. A whole export, imported to the
  end, makes its ecosystem's coverage complete (also an empty one, and an unchanged one: it was
  checked); one export that is missing or broken is reported and the others still sync.
- ``POST {api}/querybatch`` with ``{"queries": [{"package": {"purl": …}}]}``: each result lists
  ``vulns`` (id, modified) and may carry ``next_page_token``, asked again with ``page_token`` until
  none is left; then ``GET {api}/vulns/{id}`` gives each full record.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.names import split_ecosystem
from mamori.vulndb.coverage import CoverageClaim
from mamori.vulndb.importer import resume_of
from mamori.vulndb.online.http import Fetcher, GaveUp, conditional_headers, validators
from mamori.vulndb.online.plan import Reporter, Step, endpoint, read_cursor
from mamori.vulndb.sources import Blob, zip_input

SOURCE = "osv"
API = "osv-api"  # the download bounds of querybatch and vulns/{id}
QUERY_BATCH = 1000  # the API's limit of queries per querybatch request
ECOSYSTEMS_FILE = "ecosystems.txt"
MAX_ECOSYSTEMS = 1000  # OSV lists about 40; a list far longer is not OSV's
MAX_NAME = 64  # the store's coverage scope column


def base_ecosystems(names: list[str]) -> list[str]:
    """Each export once, under its base name (``Debian:12`` is inside ``Debian``'s export)."""
    return list(dict.fromkeys(b for b in (split_ecosystem(n)[0] for n in names) if b))


def parse_ecosystems(name: str, data: bytes) -> list[str]:
    """The ecosystem names of an ``ecosystems.txt`` (one a line, blank lines ignored)."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(name, _("not UTF-8 text (expected one ecosystem name a line)")) from None
    names = []
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry:
            continue
        if len(entry) > MAX_NAME or not entry.isprintable() or "/" in entry:
            raise InputError(
                name,
                _("line {number}: not an ecosystem name: {entry!r}").format(number=number, entry=entry[:80]),
            )
        names.append(entry)
    if not names:
        raise InputError(name, _("lists no ecosystem"))
    if len(names) > MAX_ECOSYSTEMS:
        raise InputError(
            name,
            _("lists {names} ecosystems, more than {max_ecosystems}").format(
                names=len(names), max_ecosystems=MAX_ECOSYSTEMS
            ),
        )
    return base_ecosystems(names)


def list_ecosystems(fetcher: Fetcher, *, url: str | None = None) -> list[str]:
    """Every ecosystem the OSV bucket exports, from its ``ecosystems.txt``."""
    answer = fetcher.get(f"{endpoint('MAMORI_OSV_URL', url)}/{ECOSYSTEMS_FILE}", source=SOURCE)
    return parse_ecosystems(answer.url, answer.content)


def zip_steps(
    fetcher: Fetcher,
    ecosystems: list[str] | None,
    cursor: str | None,
    *,
    url: str | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
) -> Iterator[Step]:
    """One step per ecosystem (``None``: every one ``ecosystems.txt`` lists), each claiming its
    ecosystem; an unchanged export is an ``unchanged`` step. The cursor keeps each export's validators."""
    reporter = reporter or Reporter()
    base = endpoint("MAMORI_OSV_URL", url)
    state = read_cursor(cursor)[0]
    chosen = base_ecosystems(ecosystems) if ecosystems else list_ecosystems(fetcher, url=url)
    for ecosystem in chosen:
        where = f"{base}/{quote(ecosystem, safe='')}/all.zip"
        claims = (CoverageClaim(SOURCE, (ecosystem,)),)
        headers = {} if force else conditional_headers(state.get(ecosystem) or {})
        try:
            answer = fetcher.get(where, source=SOURCE, headers=headers, ok=(200, 304))
            if answer.status == 304:
                reporter.note(f"{where}: not modified since the last sync")
                yield Step(where, [], orjson.dumps(state).decode(), 0, claims=claims, unchanged=True)
                continue
            inputs = zip_input(where, answer.content)
        except GaveUp:
            raise  # the service is down: the other exports would fail the same way
        except InputError as exc:  # this export is missing or broken
            yield Step(where, [], failed=exc.problem)
            continue
        reporter.expect(inputs.total or 0)
        state = {**state, ecosystem: validators(answer)}
        resume = resume_of(inputs)
        yield Step(where, inputs.blobs, orjson.dumps(state).decode(), inputs.total, resume, claims)


def query_ids(fetcher: Fetcher, purls: list[str], *, api: str | None = None) -> dict[str, list[str]]:
    """The OSV ids affecting each purl, following ``next_page_token`` until every result is complete."""
    base = endpoint("MAMORI_OSV_API_URL", api)
    found: dict[str, list[str]] = {p: [] for p in purls}
    pending: list[tuple[str, str | None]] = [(p, None) for p in dict.fromkeys(purls)]
    while pending:
        batch, pending = pending[:QUERY_BATCH], pending[QUERY_BATCH:]
        queries = [{"package": {"purl": p}, **({"page_token": token} if token else {})} for p, token in batch]
        answer = fetcher.post_json(f"{base}/querybatch", {"queries": queries}, source=API)
        try:
            results = orjson.loads(answer.content)["results"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise InputError(answer.url, _("not an OSV querybatch answer (no results)")) from None
        if len(results) != len(batch):
            raise InputError(
                answer.url,
                _("{results} results for {batch} queries").format(results=len(results), batch=len(batch)),
            )
        for (purl, _query), result in zip(batch, results, strict=True):
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
        answer = fetcher.get(f"{base}/vulns/{quote(vuln_id, safe='')}", source=API)
        yield Blob(answer.url, answer.content)


def purl_steps(
    fetcher: Fetcher, purls: list[str], *, api: str | None = None, reporter: Reporter | None = None
) -> Iterator[Step]:
    """The full records of every vulnerability OSV knows for these purls."""
    ids = list(dict.fromkeys(i for found in query_ids(fetcher, purls, api=api).values() for i in found))
    (reporter or Reporter()).expect(len(ids))
    yield Step(endpoint("MAMORI_OSV_API_URL", api), vuln_records(fetcher, ids, api=api), None, len(ids))

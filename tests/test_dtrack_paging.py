"""Paging and sorting of the Dependency-Track-compatible project list (mamori.server.dtrack), as
Dependency-Track's Alpine reads them: hand-built requests with every parameter name Alpine accepts, and the
generated client from PyPI (owasp-dependency-track-client) paging through the list with its own
parameters. The findings of a project are not paged, as in Dependency-Track."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtrack_support import CI, KEYS, build_app, serve
from mamori.portfolio import add_product, store_sbom
from portfolio_support import kb, knowledge_template, sbom_file

__all__ = ["kb", "knowledge_template"]

# 7 products of 2 releases each: 14 projects, listed by product name then release (as created)
PRODUCTS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
ALL = [(p, v) for p in PRODUCTS for v in ("1.0", "2.0")]


@pytest.fixture
def portfolio(kb: Any, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    from mamori.portfolio.uploads import shutdown_workers

    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0"])
    for product in PRODUCTS:
        add_product(kb, product)
        for version in ("1.0", "2.0"):
            store_sbom(kb, product, version, sbom)
    with serve(build_app(kb)) as url:
        yield url, kb
    shutdown_workers(wait=True)


def _list(url: str, **params: Any) -> tuple[list[tuple[str, str]], str]:
    got = httpx.get(f"{url}/api/v1/project", params=params, headers=CI, timeout=30)
    assert got.status_code == 200, got.text
    return [(p["name"], p["version"]) for p in got.json()], got.headers["X-Total-Count"]


def test_pages_by_page_number_and_size(portfolio: tuple[str, Any]) -> None:
    url, _store = portfolio
    assert _list(url) == (ALL, "14")  # fewer than 100: all of them
    assert _list(url, pageNumber=1, pageSize=5) == (ALL[:5], "14")
    assert _list(url, pageNumber=2, pageSize=5) == (ALL[5:10], "14")
    assert _list(url, pageNumber=3, pageSize=5) == (ALL[10:], "14")
    assert _list(url, pageNumber=4, pageSize=5) == ([], "14")
    assert _list(url, page=2, size=4) == (ALL[4:8], "14")  # Alpine's other names
    assert _list(url, pageNumber=2, limit=3) == (ALL[3:6], "14")
    # a page number without a size is not a page: the first 100
    assert _list(url, pageNumber=2) == (ALL, "14")
    # a name narrows the list before paging; the total counts the narrowed list
    assert _list(url, name="bravo", pageNumber=2, pageSize=1) == ([("bravo", "2.0")], "2")


def test_pages_by_offset_and_limit(portfolio: tuple[str, Any]) -> None:
    url, _store = portfolio
    assert _list(url, offset=3, limit=4) == (ALL[3:7], "14")
    assert _list(url, offset=12) == (ALL[12:], "14")  # limit 100 by default
    assert _list(url, offset=3, pageSize=2) == (ALL[3:5], "14")
    assert _list(url, offset=2, limit=2, pageNumber=5) == (ALL[2:4], "14")  # offset wins over pages
    assert _list(url, offset=20, limit=5) == ([], "14")


def test_numbers_that_do_not_parse_take_alpines_defaults(portfolio: tuple[str, Any]) -> None:
    url, _store = portfolio
    assert _list(url, pageNumber="two", pageSize=3) == (ALL[:3], "14")  # page 1
    assert _list(url, pageNumber=2, pageSize="many") == ([], "14")  # size 100: page 2 is past the end
    assert _list(url, offset="x", limit=2) == (ALL[:2], "14")
    assert _list(url, offset=1, limit=0) == (ALL, "14")  # a limit of 0: not paged
    assert _list(url, offset=-5, limit=2) == (ALL[:2], "14")
    assert _list(url, offset=99999999999, limit=2) == (ALL[:2], "14")  # past int32: the default 0
    assert _list(url, pageNumber=" ", pageSize=2) == (ALL, "14")  # blank: absent


def test_sorts_by_a_project_field(portfolio: tuple[str, Any]) -> None:
    url, _store = portfolio
    by_name_desc = sorted(ALL, key=lambda pv: pv[0], reverse=True)
    got, total = _list(url, sortName="name", sortOrder="desc")
    assert [n for n, _v in got] == [n for n, _v in by_name_desc] and total == "14"
    got, _total = _list(url, sortName="version", sortOrder="asc", pageSize=7, pageNumber=1)
    assert {v for _n, v in got} == {"1.0"} and len(got) == 7
    got, _total = _list(url, orderBy="version", sort="DESC", offset=0, limit=7)
    assert {v for _n, v in got} == {"2.0"}
    # no direction, an unknown field or a field name that is not an identifier: the list's own order
    assert _list(url, sortName="name")[0] == ALL
    assert _list(url, sortName="noSuchField", sortOrder="desc")[0] == ALL
    assert _list(url, sortName="name;drop", sortOrder="desc")[0] == ALL


def test_the_generated_client_pages_through_the_projects(portfolio: tuple[str, Any]) -> None:
    from owasp_dt import AuthenticatedClient
    from owasp_dt.api.project import get_projects

    url, _store = portfolio
    client = AuthenticatedClient(
        base_url=f"{url}/api", token=KEYS["odt_ci"], auth_header_name="X-Api-Key", prefix="", timeout=60
    )
    seen: list[tuple[str, str]] = []
    number = 1
    while True:
        got = get_projects.sync_detailed(client=client, page_number=str(number), page_size="4")
        assert got.status_code == 200 and got.headers["X-Total-Count"] == "14"
        assert got.parsed is not None
        if not got.parsed:
            break
        assert len(got.parsed) <= 4
        seen += [(p.name, p.version) for p in got.parsed]
        number += 1
    assert seen == ALL and number == 5
    # its defaults (pageNumber 1, pageSize 100), and its sort parameters
    assert [(p.name, p.version) for p in get_projects.sync(client=client) or []] == ALL
    # its sortOrder enum holds only "asc, desc" (as Dependency-Track's OpenAPI document spells it), not a
    # direction: the sort is then not applied, as Alpine does; its own HTTP client sends a real one
    unsorted = get_projects.sync(client=client, sort_name="name", offset="12", limit="5")
    assert [(p.name, p.version) for p in unsorted or []] == ALL[12:]
    raw = client.get_httpx_client().get(
        "/v1/project", params={"sortName": "name", "sortOrder": "desc", "offset": "0", "limit": "2"}
    )
    assert [p["name"] for p in raw.json()] == ["golf", "golf"] and raw.headers["X-Total-Count"] == "14"


def test_findings_of_a_project_are_not_paged(kb: Any, tmp_path: Path) -> None:
    from mamori.portfolio.uploads import process_upload, shutdown_workers, submit_upload

    sbom = sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0", "pkg:pypi/jinja2@2.10"])
    add_product(kb, "web")
    process_upload(kb, submit_upload(kb, sbom.read_bytes(), "s.json", "web", "1", True, "setup"))
    with serve(build_app(kb)) as url:
        uuid = httpx.get(
            f"{url}/api/v1/project/lookup", params={"name": "web", "version": "1"}, headers=CI
        ).json()["uuid"]
        every = httpx.get(f"{url}/api/v1/finding/project/{uuid}", headers=CI)
        assert every.status_code == 200 and len(every.json()) > 2
        assert every.headers["X-Total-Count"] == str(len(every.json()))
        paged = httpx.get(
            f"{url}/api/v1/finding/project/{uuid}", params={"pageNumber": 1, "pageSize": 1}, headers=CI
        )
        assert paged.json() == every.json() and paged.headers["X-Total-Count"] == str(len(every.json()))
    shutdown_workers(wait=True)

"""The findings lists filtered, sorted and paged in SQL (:func:`mamori.server.api_findings.find`) give the
answers the Python path over the whole views gives (:func:`mamori.server.api_findings.find_in_python`):
same total, same items in the same order, for every filter, both sorts, several pages, with triage
records (not_affected, under_investigation) and a resolved finding in the portfolio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mamori.server import api_common as common
from mamori.server import api_findings as af
from server_api_support import World, kb, knowledge_template, upload, world

__all__ = ["kb", "knowledge_template", "world"]

V1 = "/api/mamori/v1"


def _triage(world: World) -> None:
    with world.client("admin") as client:
        found = client.get(f"{V1}/releases/{world.web_release}/findings", params={"limit": 500}).json()
        items = found["items"]
        assert len(items) >= 3, items
        url = f"{V1}/releases/{world.web_release}/triage"
        decisions = [
            {"status": "not_affected", "justification": "code_not_reachable"},
            {"status": "under_investigation"},
            {"status": "affected", "responses": ["update"]},
        ]
        for f, decision in zip(items[:3], decisions, strict=True):
            body = {
                "component": f["component"]["purl"],
                "vulnerability": f["vulnerability"]["id"],
                **decision,
            }
            sent = client.post(url, json=body)
            assert sent.status_code == 200, sent.text


PAGES = ((500, 0), (3, 0), (3, 2), (2, 5), (50, 1000))


def _both(
    world: World, release: common.ReleaseRef | None, products: set[str] | None, paged: bool = False, **kw: Any
) -> None:
    """The SQL answer of every page in :data:`PAGES` is the Python path's. The Python path reads the whole
    views for each call and cuts the page last (a slice of the sorted list, each item enriched on its
    own), so its page is its whole list sliced: that list is read once, and ``paged`` also asks the Python
    path for each page itself and checks it is that slice."""
    filters = af.Filters(**kw.pop("filters", {}))
    args = (world.store, products, release, filters, kw.get("sort", "priority"))
    cursorless = {"next", "next_cursor"}
    whole = af.find_in_python(*args, 500, 0, "user").model_dump(exclude=cursorless)
    assert whole["total"] < 500, "the whole list must fit in one page of 500"
    for limit, offset in PAGES:
        expected = {
            **whole,
            "limit": limit,
            "offset": offset,
            "items": whole["items"][offset : offset + limit],
        }
        if paged:
            assert (
                af.find_in_python(*args, limit, offset, "user").model_dump(exclude=cursorless) == expected
            ), (
                kw,
                limit,
                offset,
            )
        sql = af.find(*args, limit, offset, "user")
        assert sql.model_dump(exclude=cursorless) == expected, (kw, filters, limit, offset)
    if args[4] != "priority":
        return
    # cursor paging: every page after the first from the cursor of the one before, uncounted; the pages
    # together are the whole list, in order
    every = whole["items"]
    for limit in (1, 2, 3):
        walked: list[Any] = []
        page = af.find(*args, limit, 0, "user")
        assert page.total == len(every)
        while True:
            walked += page.model_dump()["items"]
            assert len(page.items) <= limit and len(walked) <= len(every)
            if page.next_cursor is None:
                break
            page = af.find(*args, limit, 0, "user", cursor=page.next_cursor, count=False)
            assert page.total is None
        assert walked == every, (kw, filters, limit)


def test_sql_paging_gives_the_python_answers(world: World, tmp_path: Path) -> None:
    _triage(world)
    # a later release of web without requests: its findings of requests are resolved there
    upload(world.store, tmp_path, "web", "1.1", ["pkg:pypi/django@1.11.0", "pkg:pypi/jinja2@2.10"])
    upload(world.store, tmp_path, "web", "1.0", ["pkg:pypi/django@1.11.0", "pkg:pypi/jinja2@2.10"])
    everything = af.find_in_python(
        world.store, None, None, af.Filters(include_resolved=True), "priority", 500, 0, "user"
    )
    statuses = {f.status for f in everything.items}
    assert {"open", "not_affected", "under_investigation", "affected", "resolved"} <= statuses, statuses
    some = everything.items[0]
    alias = next((f.vulnerability.aliases[0] for f in everything.items if f.vulnerability.aliases), "CVE-0")
    web_release = common.release_ref(world.store, world.web_release)
    grid: list[dict[str, Any]] = [
        {},
        {"include_resolved": True},
        {"severity": {"critical"}},
        {"severity": {"high", "unknown"}},
        {"status": {"open"}},
        {"status": {"not_affected", "affected"}},
        {"status": {"under_investigation"}},
        {"status": {"resolved"}, "include_resolved": True},
        {"status": {"open", "resolved"}, "include_resolved": True},
        {"kev": True},
        {"kev": False},
        {"vulnerability": some.vulnerability.id.lower()},
        {"vulnerability": alias},
        {"vulnerability": "CVE-1999 0001"},
        {"component": "JINJA"},
        {"component": "pkg:pypi/req"},
        {"component": "%"},
    ]
    for index, filters in enumerate(grid):
        paged = index < 2  # the Python path's own pages too, for the first filters (none, resolved)
        for sort in ("priority", "severity"):
            for products in (None, {"web"}, {"web", "secret-product"}, set()):
                _both(world, None, products, paged, filters=filters, sort=sort)
            _both(world, web_release, None, paged, filters=filters, sort=sort)


def test_cursor_pages_over_http(world: World) -> None:
    """The API's ``next`` link walks the list; a bad cursor, or one with another sort, is a 422."""
    with world.client("admin") as client:
        everything = client.get(f"{V1}/findings", params={"limit": 500}).json()
        assert everything["next"] is None and everything["total"] == len(everything["items"]) >= 3
        page = client.get(
            f"{V1}/findings", params={"limit": 2, "severity": "critical,high,medium,low,unknown,none"}
        )
        first = page.json()
        assert first["total"] == len(everything["items"]) and first["next"].startswith(f"{V1}/findings?")
        walked = list(first["items"])
        body = first
        while body["next"]:
            answer = client.get(body["next"])
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["total"] is None and "offset=" not in (body["next"] or "")
            walked += body["items"]
        assert [(f["release_id"], f["component"], f["vulnerability"]["id"]) for f in walked] == [
            (f["release_id"], f["component"], f["vulnerability"]["id"]) for f in everything["items"]
        ]
        counted = client.get(
            f"{V1}/findings", params={"limit": 2, "cursor": first["next_cursor"], "count": "true"}
        )
        assert counted.json()["total"] == len(everything["items"])
        for bad in ({"cursor": "not-a-cursor"}, {"cursor": first["next_cursor"], "sort": "severity"}):
            refused = client.get(f"{V1}/findings", params=bad)
            assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "cursor"]

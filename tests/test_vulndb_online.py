"""Online sync, tested offline: a local server (tests/vulndb_server.py) answers like NVD, MyJVN, KEV,
EPSS and OSV from real records, including 429/503 with Retry-After and dropped connections; the
client must retry, respect the rate limits and finish with the right counts; a second sync is
incremental. Time is a fake clock, so backoff and rate limits cost no real waiting."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import orjson
import pytest

from conftest import SHARED_DATA
from mamori.store import Store, open_store
from mamori.vulndb.online import Fetcher, RetryPolicy, SyncOptions, TokenBucket, sync_source
from mamori.vulndb.online.http import retry_after
from mamori.vulndb.online.myjvn import MyJvn
from mamori.vulndb.online.nvd_api import windows
from mamori.vulndb.online.osv_feed import query_ids
from mamori.vulndb.osv import load as load_osv
from vulndb_server import FakeClock, Server, Services

OSV_FOLDER = SHARED_DATA / "osv" / "pypi" / "pillow"


@pytest.fixture
def server(shared_data: Path) -> Iterator[Server]:
    with Server(Services(shared_data, OSV_FOLDER)) as running:
        yield running


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def retries() -> list[tuple[str, float]]:
    return []


@pytest.fixture
def fetcher(fake: FakeClock, retries: list[tuple[str, float]]) -> Iterator[Fetcher]:
    def note(url: str, reason: str, seconds: float) -> None:
        retries.append((reason, seconds))

    with Fetcher(clock=fake.clock(), rng=random.Random(4), timeout=10, on_retry=note) as f:
        yield f


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "kb.db") as s:
        yield s


def _options(server: Server, **kw: object) -> SyncOptions:
    urls = {
        "nvd": server.url("/nvd"),
        "jvn": server.url("/myjvn"),
        "kev": server.url("/kev.json"),
        "epss": server.url("/epss_scores-current.csv.gz"),
        "epss-api": server.url("/epss-api"),
        "osv": server.url("/osv"),
        "osv-api": server.url("/osv-api"),
    }
    return SyncOptions(urls=urls, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- HTTP pieces


@pytest.mark.parametrize(("limit", "burst"), [(5, 1), (50, 10)])
def test_token_bucket_keeps_the_published_rolling_limit(fake: FakeClock, limit: int, burst: int) -> None:
    bucket = TokenBucket(limit, 30.0, burst, fake.clock())
    stamps = []
    for _ in range(4 * limit):
        bucket.acquire()
        stamps.append(fake.t)
    for i, start in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s < start + 30.0) <= limit
    # and it does not crawl: after the burst, limit - burst requests every 30 s
    assert stamps[-1] - stamps[0] <= (len(stamps) - burst) * 30.0 / (limit - burst) + 1e-6


def test_retry_after_and_backoff() -> None:
    assert retry_after("7") == 7.0 and retry_after(None) is None and retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert 80 < (retry_after(format_datetime(later, usegmt=True)) or 0) <= 90
    policy, rng = RetryPolicy(base=2.0, cap=60.0), random.Random(1)
    for attempt in range(8):
        backoff = min(60.0, 2.0 * 2**attempt)
        assert backoff / 2 <= policy.delay(attempt, None, rng) <= backoff
    assert policy.delay(0, 300.0, rng) == 300.0  # a server's Retry-After wins over a shorter backoff


def test_nvd_windows_are_at_most_120_days() -> None:
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 3, 5, tzinfo=UTC)
    spans = windows(start, end)
    assert spans[0][0] == start and spans[-1][1] == end and len(spans) == 4
    assert all(b - a <= timedelta(days=120) and a < b for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


# ----------------------------------------------------------------------------------------- NVD


def test_nvd_pages_through_faults_then_syncs_incrementally(
    server: Server, fetcher: Fetcher, fake: FakeClock, store: Store, retries: list[tuple[str, float]]
) -> None:
    ids = {r["cve"]["id"] for r in server.services.nvd}
    server.services.faults["/nvd"] = ["503", "429", "drop", "ok", "cut"]
    first = sync_source(store, "nvd", fetcher, _options(server, page_size=2))
    assert first.error is None and first.complete
    assert (first.counts.read, first.counts.new, first.steps) == (len(ids), len(ids), 3)
    assert store.status()["sources"]["nvd"]["records"] == len(ids) == 6
    for cve in ids:
        assert store.lookup(cve) is not None
    requests = server.services.requests_to("/nvd")
    assert len(requests) == 3 + 4  # three pages, four answers that had to be retried
    # page 0 after 503, 429 and a dropped connection; page 2 again after its body was cut short
    assert [q["startIndex"][0] for q in requests] == ["0", "0", "0", "0", "2", "2", "4"]
    reasons = [r.split(":")[0].split(" (")[0] for r, _ in retries]
    assert reasons == ["HTTP 503", "HTTP 429", "RemoteProtocolError", "RemoteProtocolError"]
    assert retries[0][1] >= 1.0 and retries[1][1] >= 2.0  # each Retry-After honoured
    assert retries[2][1] > retries[0][1] / 2  # and the backoff grows between attempts
    # without a key: 5 requests per rolling 30 s, however fast the server answers
    headers = [h for _, p, _, h in server.services.requests if p == "/nvd"]
    assert all("apiKey" not in h for h in headers)
    assert fake.t - 1000.0 >= (len(requests) - 5) * 30.0 / 4

    cursor = orjson.loads(store.source_state("nvd")["cursor"])
    second = sync_source(store, "nvd", fetcher, _options(server, page_size=2, api_key="k-123"))
    last = server.services.requests_to("/nvd")[-1]
    assert last["lastModStartDate"] == [cursor["lastmod"]]
    assert second.counts.read == 0 and second.complete  # nothing modified since
    assert [h for _, p, _, h in server.services.requests if p == "/nvd"][-1]["apiKey"] == "k-123"

    third = sync_source(store, "nvd", fetcher, _options(server, page_size=50, since=date(2021, 1, 1)))
    since_2021 = {r["cve"]["id"] for r in server.services.nvd if r["cve"]["lastModified"] >= "2021-01-01"}
    assert third.counts.read == len(since_2021) == third.counts.unchanged == 5
    assert third.steps >= 16  # one page per window of at most 120 days since 2021 (the server refuses more)


def test_nvd_sync_killed_between_pages_goes_on_from_the_next_page(
    server: Server, fetcher: Fetcher, store: Store
) -> None:
    server.services.faults["/nvd"] = ["ok", "ok"] + ["503"] * 6
    broken = sync_source(store, "nvd", fetcher, _options(server, page_size=2))
    assert broken.error is not None and "gave up after 6 attempts (HTTP 503)" in broken.error
    assert (broken.steps, broken.counts.new) == (2, 4) and not broken.complete
    assert orjson.loads(store.source_state("nvd")["cursor"])["partial"]["index"] == 4
    resumed = sync_source(store, "nvd", fetcher, _options(server, page_size=2))
    assert resumed.complete and (resumed.steps, resumed.counts.new) == (1, 2)
    assert server.services.requests_to("/nvd")[-1]["startIndex"] == ["4"]
    assert "partial" not in orjson.loads(store.source_state("nvd")["cursor"])
    assert store.status()["sources"]["nvd"]["records"] == 6


# --------------------------------------------------------------------------------------- MyJVN


def test_myjvn_overview_pages_then_details_with_and_without_xmlns(
    server: Server, fetcher: Fetcher, store: Store
) -> None:
    server.services.faults["/myjvn"] = ["cut", "ok", "drop"]
    result = sync_source(store, "jvn", fetcher, _options(server, page_size=1))
    assert result.complete and result.steps == 2
    assert result.counts.new == 1  # the one id the published VULDEF fixture holds
    calls = server.services.requests_to("/myjvn")
    overview = [q for q in calls if q["method"] == ["getVulnOverviewList"]]
    assert [q["startItem"] for q in overview[-2:]] == [["1"], ["2"]]
    assert all(q["rangeDatePublished"] == ["n"] and "datePublishedStartY" not in q for q in overview)
    found = store.lookup("JVNDB-2020-006469")
    assert found is not None and found.vulnerability.titles["ja"].startswith("三菱電機製")
    assert found.vulnerability.id == "CVE-2020-5595" and "JVNDB-2020-006469" in found.vulnerability.aliases
    again = sync_source(store, "jvn", fetcher, _options(server))
    today = date.today()
    last = [q for q in server.services.requests_to("/myjvn") if q["method"] == ["getVulnOverviewList"]][-1]
    assert (last["datePublishedStartY"], last["datePublishedStartM"]) == (
        [str(today.year)],
        [str(today.month)],
    )
    assert again.complete and again.counts.unchanged == 1


def test_myjvn_asks_details_ten_ids_at_a_time_joined_by_plus(server: Server, fetcher: Fetcher) -> None:
    jvn = MyJvn(fetcher, base_url=server.url("/myjvn"))
    ids = [f"JVNDB-2020-{n:06d}" for n in range(1, 13)] + ["JVNDB-2020-006469"]
    blobs = list(jvn.details(ids))
    assert len(blobs) == 2 and "vulnId=JVNDB-2020-000001+JVNDB-2020-000002+" in blobs[0].name
    assert (
        b'xmlns:sec="http://jvn.jp/rss/mod_sec/3.0/"' in blobs[1].data
        and b"JVNDB-2020-006469" in blobs[1].data
    )


# ------------------------------------------------------------------------------ KEV, EPSS, OSV


def test_kev_and_epss_downloads_are_conditional(
    server: Server, fetcher: Fetcher, store: Store, retries: list[tuple[str, float]]
) -> None:
    catalog = orjson.loads(server.services.kev)
    server.services.faults["/kev.json"] = ["403", "429"]
    kev = sync_source(store, "kev", fetcher, _options(server))
    assert kev.complete and kev.counts.read == len(catalog["vulnerabilities"]) == 1404
    assert [r for r, _ in retries] == ["HTTP 403", "HTTP 429"] and retries[1][1] >= 2.0
    epss = sync_source(store, "epss", fetcher, _options(server))
    assert epss.complete and epss.counts.read == 3
    found = store.lookup("CVE-2024-23113")
    assert found is not None and [(e.score, e.date) for e in found.vulnerability.epss] == [
        (0.91, "2025-08-25")
    ]
    notes: list[str] = []
    from mamori.vulndb.online.plan import Reporter

    again = sync_source(store, "kev", fetcher, _options(server), Reporter(note=notes.append))
    assert again.steps == 0 and again.complete and "not modified" in notes[0]
    assert server.services.requests[-1][3]["If-None-Match"] == '"kev-1"'
    forced = sync_source(store, "kev", fetcher, _options(server, force=True))
    assert forced.steps == 1 and forced.counts.read == 1404


def test_epss_api_pages_by_offset(server: Server, fetcher: Fetcher, store: Store) -> None:
    cves = ["CVE-2017-5638", "CVE-2021-0002", "CVE-2024-23113", "CVE-1999-0001"]
    result = sync_source(store, "epss", fetcher, _options(server, cves=cves))
    assert result.complete and result.counts.read == 3
    offsets = [q["offset"] for q in server.services.requests_to("/epss-api")]
    assert offsets == [["0"], ["2"]]  # the server answers two rows a page


def _pillow_records() -> dict[str, dict]:
    return {d["id"]: d for d in (load_osv(str(p), p.read_bytes()) for p in sorted(OSV_FOLDER.glob("*.yaml")))}


def test_osv_all_zip_then_unchanged(server: Server, fetcher: Fetcher, store: Store) -> None:
    records = _pillow_records()
    server.services.faults["/osv/PyPI/all.zip"] = ["503"]
    first = sync_source(store, "osv", fetcher, _options(server, ecosystems=["PyPI"]))
    assert first.complete and first.files == len(records) and first.counts.new == len(records)
    assert store.status()["sources"]["osv"]["records"] == len(records)
    second = sync_source(store, "osv", fetcher, _options(server))  # every ecosystem listed: PyPI only
    assert second.steps == 0 and second.complete and second.not_modified == 1
    assert [(c.source, c.scopes) for c in second.claims] == [("osv", ("PyPI",))]  # checked: still whole


def test_osv_querybatch_follows_page_tokens(server: Server, fetcher: Fetcher, store: Store) -> None:
    records = _pillow_records()
    counts: dict[str, int] = {}
    for doc in records.values():
        for version in {v for a in doc.get("affected") or [] for v in a.get("versions") or []}:
            counts[version] = counts.get(version, 0) + 1
    version = max(sorted(counts), key=lambda v: counts[v])
    expected = sorted(
        rid
        for rid, doc in records.items()
        if any(version in (a.get("versions") or []) for a in doc.get("affected") or [])
    )
    assert len(expected) >= 3
    purls = [f"pkg:pypi/pillow@{version}", "pkg:pypi/no-such-package@1.0"]
    server.services.faults["/osv-api/querybatch"] = ["503"]
    found = query_ids(fetcher, purls, api=server.url("/osv-api"))
    assert sorted(found[purls[0]]) == expected and found[purls[1]] == []
    tokens = [p for _, p, _, _ in server.services.requests if p == "/osv-api/querybatch"]
    assert len(tokens) == 1 + len(expected)  # one retry, then one round per page of one vuln
    result = sync_source(store, "osv", fetcher, _options(server, purls=purls))
    assert result.complete and result.counts.new == len(expected)
    for rid in expected:
        assert store.lookup(rid) is not None


# ------------------------------------------------------------------------------------------ CLI


def test_cli_sync_and_import_url(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mamori.cli.main import main

    monkeypatch.setenv("MAMORI_NVD_API_URL", server.url("/nvd"))
    monkeypatch.setenv("MAMORI_KEV_URL", server.url("/kev.json"))
    monkeypatch.setenv("MAMORI_NVD_API_KEY", "k-env")
    db = str(tmp_path / "kb.db")
    code = main(["db", "sync", "--source", "kev", "--source", "nvd", "--db", db, "--format", "json"])
    out = orjson.loads(capsys.readouterr().out)
    assert code == 0 and out["sources"]["kev"]["counts"]["read"] == 1404
    assert out["sources"]["nvd"]["counts"]["new"] == 6 and out["sources"]["nvd"]["error"] is None
    assert server.services.requests[-1][3]["apiKey"] == "k-env"
    code = main(["db", "sync", "--source", "kev", "--source", "nvd", "--db", db, "--lang", "ja"])
    captured = capsys.readouterr()
    assert code == 0 and "kev: 0 ステップ" in captured.out and "nvd: 1 ステップ、読込 0 件" in captured.out
    assert "not modified since the last sync" in captured.err

    code = main(["db", "import", server.url("/osv/PyPI/all.zip"), "--db", db, "--format", "json"])
    summary = orjson.loads(capsys.readouterr().out)
    assert code == 0 and summary["sources"]["osv"]["new"] == len(_pillow_records())
    code = main(["db", "import", server.url("/nowhere.json"), "--db", db])
    err = capsys.readouterr().err
    assert code == 2 and err == f"mamori: error: {server.url('/nowhere.json')}: HTTP 404\n"
    code = main(["db", "sync", "--source", "jvn", "--url", f"jvn={server.url('/myjvn')}", "--db", db])
    assert code == 0 and "jvn: 1 steps, 1 read, 1 new" in capsys.readouterr().out
    code = main(["db", "sync", "--url", "jvn:nowhere", "--db", db])
    assert code == 2 and "--url: expected NAME=http(s)://" in capsys.readouterr().err
    code = main(["db", "sync", "--source", "ghsa", "--db", db])
    assert code == 2 and "--source: expected one of kev, epss, nvd, jvn, osv" in capsys.readouterr().err

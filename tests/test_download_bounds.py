"""Downloads are bounded in size and time (issue 13, point 4), tested against a hostile HTTP server on
loopback that misbehaves precisely (a raw socket server in a thread): endless bodies (also on error
answers and redirects), bodies and headers dribbled one byte a second, ``Retry-After: 999999`` and an
HTTP date months ahead, redirect loops and redirects to other schemes, and a redirect to another host
that must not receive the NVD API key, ``Authorization`` or cookies.

Each case runs through the Fetcher (fake clock: no real sleeping for retries) and through the installed
``mamori`` (``db import URL``, ``db sync`` with the source URLs pointed at the server) as a subprocess:
bounded bytes sent by the server and memory held, a command that returns (a hang fails by the
subprocess timeout; nothing asserts speed), one line on stderr, the exit code.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import orjson
import pytest

from mamori.errors import InputError
from mamori.vulndb.online import http as online_http
from mamori.vulndb.online.http import Clock, Fetcher, GaveUp, RetryPolicy
from vulndb_server import FakeClock

MAMORI = str(Path(sys.executable).with_name("mamori"))
SERVE_CAP = (
    64 << 20
)  # an "endless" body ends here, so an unbounded client fails the test instead of the machine
SLACK = 16 << 20  # what the kernel's socket buffers may take in before the client hangs up
DRIP_FOR = 90.0  # seconds a dribbling answer goes on (longer than any subprocess timeout below)
RUN_TIMEOUT = 60  # a command that has not returned by then hangs: the test fails
NVD_EMPTY = orjson.dumps(
    {
        "resultsPerPage": 0,
        "startIndex": 0,
        "totalResults": 0,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-22T00:00:00.000",
        "vulnerabilities": [],
    }
)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    sent: int = 0  # body bytes the kernel accepted for this client


@dataclass
class Hostile:
    """A raw HTTP/1.1 server: ``routes[path](seen, send)`` writes whatever it likes."""

    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None  # https with this server context
    routes: dict[str, Callable[[Seen, Callable[[bytes], None]], None]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        hostile = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                if hostile.tls is not None:
                    try:
                        sock = hostile.tls.wrap_socket(sock, server_side=True)
                    except OSError:
                        return
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
                seen = Seen(path, headers)
                hostile.seen.append(seen)
                route = hostile.routes.get(path.split("?")[0])

                def send(data: bytes) -> None:
                    sock.sendall(data)

                try:
                    if route is None:
                        send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    else:
                        route(seen, send)
                except OSError:  # the client hung up: what a bounded client does
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((self.host, 0), Handler)
        scheme = "https" if self.tls is not None else "http"
        self.base = f"{scheme}://{self.host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.split("?")[0] == path]

    # ---------------------------------------------------------------------------- misbehaviours

    def endless(self, status: str, extra: str = "") -> Callable[[Seen, Callable[[bytes], None]], None]:
        """``status`` and a body that goes on (up to SERVE_CAP) until the client hangs up."""

        def route(seen: Seen, send: Callable[[bytes], None]) -> None:
            send(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n{extra}Connection: close\r\n\r\n".encode()
            )
            block = b"x" * 65536
            while seen.sent < SERVE_CAP and not self.stop.is_set():
                send(block)
                seen.sent += len(block)

        return route

    def drip(self, what: str) -> Callable[[Seen, Callable[[bytes], None]], None]:
        """Headers (``what='headers'``) or a body dribbled one byte a second, for DRIP_FOR seconds."""

        def route(seen: Seen, send: Callable[[bytes], None]) -> None:
            if what == "body":
                send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[")
            end = time.monotonic() + DRIP_FOR
            head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000
            i = 0
            while time.monotonic() < end and not self.stop.wait(1.0):
                send(head[i % len(head) : i % len(head) + 1] if what == "headers" else b" ")
                seen.sent += 1
                i += 1

        return route

    def answer(self, status: str, headers: dict[str, str], body: bytes = b"") -> Callable[..., None]:
        def route(seen: Seen, send: Callable[[bytes], None]) -> None:
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            send(
                f"HTTP/1.1 {status}\r\n{lines}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            )
            send(body)

        return route


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    yield server
    server.close()


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


def _fetcher(fake: FakeClock, **kw: object) -> Fetcher:
    return Fetcher(clock=Clock(fake.now, fake.sleep), rng=random.Random(4), timeout=10, **kw)  # type: ignore[arg-type]


def run(*args: str, env: dict[str, str] | None = None, tmp: Path) -> subprocess.CompletedProcess[str]:
    """The installed mamori; a hang past RUN_TIMEOUT fails the test (subprocess.TimeoutExpired)."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("MAMORI_NVD_API_KEY", "LC_ALL")}
    environ = {
        **inherited,
        "XDG_DATA_HOME": str(tmp / "data"),
        "MAMORI_DB": str(tmp / "kb.db"),
        "LANG": "C.UTF-8",
        "MAMORI_LANG": "en",
        **(env or {}),
    }
    return subprocess.run(
        [MAMORI, *args], capture_output=True, text=True, env=environ, timeout=RUN_TIMEOUT, check=False
    )


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------ 1. endless bodies, also on errors


@pytest.mark.parametrize("status", ["404 Not Found", "500 Internal Server Error", "403 Forbidden"])
def test_an_endless_error_body_is_read_only_a_few_kilobytes(
    hostile: Hostile, fake: FakeClock, status: str
) -> None:
    hostile.routes["/e"] = hostile.endless(status)
    tracemalloc.start()
    try:
        with _fetcher(fake) as fetcher, pytest.raises(InputError) as caught:
            fetcher.get(hostile.url("/e"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    code = status.split()[0]
    assert f"HTTP {code}" in str(caught.value) and "\n" not in str(caught.value)
    attempts = hostile.to("/e")
    assert len(attempts) == (1 if code == "404" else 6)  # 5xx and 403 are retried, 404 is not
    assert all(seen.sent < SLACK for seen in attempts)  # not SERVE_CAP: the client hung up
    assert peak < SLACK


def test_an_error_body_gives_its_first_words_to_the_message(hostile: Hostile, fake: FakeClock) -> None:
    hostile.routes["/e"] = hostile.endless("400 Bad Request")
    with _fetcher(fake) as fetcher, pytest.raises(InputError) as caught:
        fetcher.get(hostile.url("/e"))
    assert str(caught.value).endswith(" (" + "x" * 160 + "…)")


def test_an_endless_body_of_a_redirect_is_never_read(hostile: Hostile, fake: FakeClock) -> None:
    hostile.routes["/r"] = hostile.endless("302 Found", "Location: /kev.json\r\n")
    hostile.routes["/kev.json"] = hostile.answer("200 OK", {"Content-Type": "application/json"}, b"{}")
    with _fetcher(fake) as fetcher:
        assert fetcher.get(hostile.url("/r")).content == b"{}"
    assert hostile.to("/r")[0].sent < SLACK


@pytest.mark.parametrize("source", ["kev", "nvd", "url"])
def test_an_endless_success_body_stops_at_the_source_limit(
    hostile: Hostile, fake: FakeClock, source: str
) -> None:
    hostile.routes["/e"] = hostile.endless("200 OK")
    with _fetcher(fake, max_bytes={source: 1 << 20}) as fetcher, pytest.raises(InputError) as caught:
        fetcher.get(hostile.url("/e"), source=source)
    assert "over the download limit of 1048576 bytes" in str(caught.value)
    assert len(hostile.to("/e")) == 1 and hostile.to("/e")[0].sent < SLACK


def test_an_endless_success_body_stops_at_the_input_limit(
    hostile: Hostile, fake: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_MAX_INPUT_BYTES", str(1 << 20))  # every source's limit is within it
    hostile.routes["/e"] = hostile.endless("200 OK")
    with _fetcher(fake) as fetcher, pytest.raises(InputError, match=r"over the .* limit of 1048576 bytes"):
        fetcher.get(hostile.url("/e"))
    assert len(hostile.to("/e")) == 1 and hostile.to("/e")[0].sent < SLACK


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    hostile: Hostile, fake: FakeClock
) -> None:
    hostile.routes["/big"] = hostile.endless("200 OK", "Content-Length: 5000000000\r\n")
    with (
        _fetcher(fake) as fetcher,
        pytest.raises(InputError, match="is 5000000000 bytes, over the download limit"),
    ):
        fetcher.get(hostile.url("/big"))


def test_default_limits_are_per_source_and_within_the_input_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    with Fetcher() as fetcher:
        kev, nvd, osv = (fetcher.bounds(s) for s in ("kev", "nvd", "osv"))
        assert kev.max_bytes == 64 << 20 and nvd.max_bytes == 256 << 20 and osv.max_bytes == 1 << 30
        assert kev.deadline == online_http.SOURCE_BOUNDS["kev"].deadline and osv.deadline > kev.deadline
        monkeypatch.setenv("MAMORI_MAX_INPUT_BYTES", str(10 << 20))
        assert fetcher.bounds("osv").max_bytes == 10 << 20
    with Fetcher(max_bytes={"osv": 3 << 30}, deadline=7.0) as fetcher:
        assert fetcher.bounds("osv").max_bytes == 3 << 30 and fetcher.bounds("kev").deadline == 7.0


def test_cli_import_of_an_endless_404_is_one_line_exit_2(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/advisories.json"] = hostile.endless("404 Not Found")
    url = hostile.url("/advisories.json")
    done = run("db", "import", url, tmp=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith(f"mamori: error: {url}: HTTP 404")
    assert hostile.to("/advisories.json")[0].sent < SLACK


def test_cli_sync_with_an_endless_kev_catalog_stops_at_max_download(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/kev.json"] = hostile.endless("200 OK")
    url = hostile.url("/kev.json")
    done = run(
        "db", "sync", "--source", "kev", "--url", f"kev={url}", "--max-download", "kev=2000000", tmp=tmp_path
    )
    assert done.returncode == 1  # a source that stopped: the other sources' rule (docs)
    assert one_line(done.stderr) == (
        f"kev: stopped: {url}: the answer is over the download limit of 2000000 bytes (--max-download): stopped reading"
    )
    assert hostile.to("/kev.json")[0].sent < SLACK
    bad = run("db", "sync", "--source", "kev", "--max-download", "kev=lots", tmp=tmp_path)
    assert bad.returncode == 2 and "--max-download: expected NAME=BYTES" in one_line(bad.stderr)


# -------------------------------------------------------------------- 2. slow drip: body and headers


@pytest.mark.parametrize("what", ["body", "headers"])
def test_a_dribbled_answer_is_cut_at_the_deadline(hostile: Hostile, fake: FakeClock, what: str) -> None:
    hostile.routes["/slow"] = hostile.drip(what)
    with _fetcher(fake, deadline=2.0) as fetcher, pytest.raises(GaveUp) as caught:
        fetcher.get(hostile.url("/slow"))
    assert "no complete answer within 2 s" in str(caught.value)
    assert len(hostile.to("/slow")) == 1  # a deadline is not retried: the server is hostile or hopeless


@pytest.mark.parametrize("what", ["body", "headers"])
def test_cli_import_of_a_dribbled_answer_ends_at_the_deadline(
    hostile: Hostile, tmp_path: Path, what: str
) -> None:
    hostile.routes["/feed.json"] = hostile.drip(what)
    url = hostile.url("/feed.json")
    done = run("db", "import", url, "--deadline", "2", tmp=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"mamori: error: {url}: no complete answer within 2 s (the deadline of one download, --deadline): gave up"
    )


def test_the_run_deadline_bounds_a_sync_and_the_sources_after_it(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/kev.json"] = hostile.drip("body")
    hostile.routes["/epss.csv.gz"] = hostile.drip("headers")
    urls = ["--url", f"kev={hostile.url('/kev.json')}", "--url", f"epss={hostile.url('/epss.csv.gz')}"]
    done = run(
        "db", "sync", "--source", "kev", "--source", "epss", *urls, "--total-deadline", "2", tmp=tmp_path
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"kev: stopped: {hostile.url('/kev.json')}: the run's deadline of 2 s has passed (--total-deadline): gave up",
        f"epss: stopped: {hostile.url('/epss.csv.gz')}: the run's deadline of 2 s has passed (--total-deadline): gave up",
    ]


def test_the_run_deadline_also_bounds_the_waits_between_retries(hostile: Hostile, fake: FakeClock) -> None:
    hostile.routes["/busy"] = hostile.answer("503 Service Unavailable", {"Retry-After": "60"})
    with _fetcher(fake, total=100.0) as fetcher, pytest.raises(GaveUp, match="run's deadline of 100 s"):
        fetcher.get(hostile.url("/busy"))
    assert fake.sleeps == [60.0] and len(hostile.to("/busy")) == 2


def test_connect_and_read_timeouts_are_set() -> None:
    with Fetcher(timeout=12.0) as fetcher:
        client = fetcher._start()
        assert client.timeout == httpx.Timeout(12.0)


# ----------------------------------------------------------------------------- 3. Retry-After caps


def _months_ahead() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(days=90), usegmt=True)


@pytest.mark.parametrize("kind", ["seconds", "date"])
def test_a_retry_after_over_the_cap_gives_up_at_once(hostile: Hostile, fake: FakeClock, kind: str) -> None:
    value = "999999" if kind == "seconds" else _months_ahead()
    hostile.routes["/busy"] = hostile.answer("429 Too Many Requests", {"Retry-After": value})
    with _fetcher(fake) as fetcher, pytest.raises(GaveUp) as caught:
        fetcher.get(hostile.url("/busy"))
    assert fake.sleeps == [] and len(hostile.to("/busy")) == 1
    asked = r"999999 s \(11\.6 days\)" if kind == "seconds" else r"(?:77759\d\d|7776000) s \(90\.0 days\)"
    wanted = rf"HTTP 429: the server asks to wait {asked} before a retry, longer than the 300 s allowed"
    assert re.search(wanted, str(caught.value))


def test_a_retry_after_within_the_cap_is_honoured(hostile: Hostile, fake: FakeClock) -> None:
    hostile.routes["/busy"] = hostile.answer("503 Service Unavailable", {"Retry-After": "240"})
    with (
        _fetcher(fake, retry=RetryPolicy(attempts=2)) as fetcher,
        pytest.raises(GaveUp, match="after 2 attempts"),
    ):
        fetcher.get(hostile.url("/busy"))
    assert fake.sleeps == [240.0]
    with (
        _fetcher(fake, retry=RetryPolicy(max_wait=100.0)) as fetcher,
        pytest.raises(GaveUp, match="100 s allowed"),
    ):
        fetcher.get(hostile.url("/busy"))


def test_cli_retry_after_999999_is_one_line_naming_the_wait(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/kev.json"] = hostile.answer("503 Service Unavailable", {"Retry-After": "999999"})
    url = hostile.url("/kev.json")
    done = run("db", "import", url, tmp=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"mamori: error: {url}: HTTP 503: the server asks to wait 999999 s (11.6 days) before a retry,"
        " longer than the 300 s allowed (--max-retry-wait): gave up"
    )
    synced = run("db", "sync", "--source", "kev", "--url", f"kev={url}", "--lang", "ja", tmp=tmp_path)
    assert synced.returncode == 1
    assert one_line(synced.stderr).startswith(
        f"kev: 中断: {url}: HTTP 503: サーバーは再試行まで 999999 秒 (11.6 日)"
    )


# ------------------------------------------------------------------------------------ 4. redirects


def test_a_redirect_loop_is_one_error(hostile: Hostile, fake: FakeClock) -> None:
    hostile.routes["/loop"] = hostile.answer("302 Found", {"Location": "/loop"})
    with _fetcher(fake) as fetcher, pytest.raises(InputError, match="more than 5 redirects"):
        fetcher.get(hostile.url("/loop"))
    assert len(hostile.to("/loop")) == 6


def test_cli_redirect_loop_is_one_line(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/loop"] = hostile.answer("302 Found", {"Location": "/loop"})
    url = hostile.url("/loop")
    done = run("db", "import", url, tmp=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == f"mamori: error: {url}: more than 5 redirects (a redirect loop?): gave up"
    synced = run("db", "sync", "--source", "kev", "--url", f"kev={url}", tmp=tmp_path)
    assert synced.returncode == 1
    assert (
        one_line(synced.stderr) == f"kev: stopped: {url}: more than 5 redirects (a redirect loop?): gave up"
    )


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/kev.json", "gopher://x/"])
def test_a_redirect_out_of_http_is_refused_at_once(hostile: Hostile, fake: FakeClock, target: str) -> None:
    hostile.routes["/away"] = hostile.answer("301 Moved Permanently", {"Location": target})
    with _fetcher(fake) as fetcher, pytest.raises(InputError) as caught:
        fetcher.get(hostile.url("/away"))
    assert f"redirected to {target.split(':')[0]}://" in str(caught.value)
    assert str(caught.value).endswith(", which is not http(s): refused")
    assert len(hostile.to("/away")) == 1


def test_cli_redirect_to_a_file_is_one_line(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/away"] = hostile.answer("301 Moved Permanently", {"Location": "file:///etc/passwd"})
    url = hostile.url("/away")
    done = run("db", "import", url, tmp=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith(f"mamori: error: {url}: redirected to file://")


def test_an_answer_that_is_not_http_is_one_line(hostile: Hostile, fake: FakeClock) -> None:
    def garbage(seen: Seen, send: Callable[[bytes], None]) -> None:
        send(b"\x1b]0;owned\x07 this is not HTTP at all\r\n\r\n")

    hostile.routes["/g"] = garbage
    with _fetcher(fake) as fetcher, pytest.raises(GaveUp) as caught:
        fetcher.get(hostile.url("/g"))
    assert "gave up after 6 attempts (RemoteProtocolError" in str(caught.value)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/kev.json", "http:///kev.json"])
def test_a_malformed_url_is_refused_before_any_request(fake: FakeClock, url: str) -> None:
    with _fetcher(fake) as fetcher, pytest.raises(InputError, match=r"not an http\(s\) URL with a host"):
        fetcher.get(url)
    assert fake.sleeps == []


def test_cli_import_of_a_malformed_url_is_one_line(tmp_path: Path) -> None:
    done = run("db", "import", "http://[::1", tmp=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "mamori: error: http://[::1: not an http(s) URL with a host and a valid port (Invalid port: ':1')"
    )


def test_an_https_to_http_redirect_is_refused() -> None:
    with Fetcher() as fetcher:
        original = httpx.Request("GET", "https://services.nvd.nist.gov/rest/json/cves/2.0")
        down = httpx.Request("GET", "http://services.nvd.nist.gov/rest/json/cves/2.0")
        with pytest.raises(InputError, match=r"redirected from https to http .*: refused"):
            fetcher._redirect(original, original, down)
        up = httpx.Request("GET", "https://services.nvd.nist.gov/other", headers={"apiKey": "k"})
        assert fetcher._redirect(original, original, up).headers["apiKey"] == "k"  # same origin keeps it


# ------------------------------------------------------------- 5. credentials never reach another host


def test_cli_sync_refuses_a_redirect_from_https_to_http(hostile: Hostile, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test server's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    make = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    make += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run([*make.split(), "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure = Hostile(tls=context)
    try:
        hostile.routes["/nvd"] = hostile.answer("200 OK", {"Content-Type": "application/json"}, NVD_EMPTY)
        secure.routes["/nvd"] = secure.answer("302 Found", {"Location": hostile.url("/nvd")})
        url = secure.url("/nvd")
        done = run(
            *("db", "sync", "--source", "nvd", "--url", f"nvd={url}"),
            env={"MAMORI_NVD_API_KEY": "k-secret-123", "SSL_CERT_FILE": str(cert)},
            tmp=tmp_path,
        )
        assert secure.to("/nvd")[0].headers["apikey"] == "k-secret-123"  # https: the key is safe
        assert hostile.to("/nvd") == []  # never asked over plain http
        assert done.returncode == 1
        assert one_line(done.stderr).startswith(f"nvd: stopped: {url}?")
        assert done.stderr.rstrip().endswith(
            f"redirected from https to http ({hostile.url('/nvd')}): refused"
        )
    finally:
        secure.close()


def test_credentials_are_dropped_on_a_redirect_to_another_origin(hostile: Hostile, fake: FakeClock) -> None:
    other_host = Hostile(host="127.0.0.2")
    other_port = Hostile()
    try:
        for server in (other_host, other_port):
            server.routes["/nvd"] = server.answer("200 OK", {"Content-Type": "application/json"}, NVD_EMPTY)
        hostile.routes["/same"] = hostile.answer("307 Temporary Redirect", {"Location": "/nvd"})
        hostile.routes["/nvd"] = hostile.answer("200 OK", {"Content-Type": "application/json"}, NVD_EMPTY)
        hostile.routes["/host"] = hostile.answer("302 Found", {"Location": other_host.url("/nvd")})
        hostile.routes["/port"] = hostile.answer("301 Moved", {"Location": other_port.url("/nvd")})
        secret = {"apiKey": "k-secret", "Authorization": "Bearer t", "Cookie": "session=s"}
        with _fetcher(fake) as fetcher:
            for path in ("/same", "/host", "/port"):
                assert fetcher.get(hostile.url(path), headers=secret).content == NVD_EMPTY
        first = hostile.to("/same")[0].headers
        assert first["apikey"] == "k-secret" and first["authorization"] == "Bearer t"
        assert hostile.to("/nvd")[0].headers["apikey"] == "k-secret"  # same origin: still NVD
        for server in (other_host, other_port):
            got = server.to("/nvd")[0].headers
            assert not {"apikey", "authorization", "cookie"} & set(got), got
            assert got["user-agent"].startswith("mamori/")
    finally:
        other_host.close()
        other_port.close()


def test_cli_sync_never_sends_the_nvd_key_to_the_host_it_is_redirected_to(
    hostile: Hostile, tmp_path: Path
) -> None:
    other = Hostile(host="127.0.0.2")
    try:
        other.routes["/nvd"] = other.answer("200 OK", {"Content-Type": "application/json"}, NVD_EMPTY)
        hostile.routes["/nvd"] = hostile.answer("302 Found", {"Location": other.url("/nvd")})
        done = run(
            "db",
            "sync",
            "--source",
            "nvd",
            "--url",
            f"nvd={hostile.url('/nvd')}",
            "--format",
            "json",
            env={"MAMORI_NVD_API_KEY": "k-secret-123"},
            tmp=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert orjson.loads(done.stdout)["sources"]["nvd"]["error"] is None
        assert hostile.to("/nvd")[0].headers["apikey"] == "k-secret-123"
        assert [s.headers.get("apikey") for s in other.to("/nvd")] == [None]
    finally:
        other.close()

"""The network guard holds at connect time (DNS rebinding): a name that resolves to a public address when
it is checked and to 127.0.0.1 when the client connects is refused, and no connection reaches the loopback
server that counts them — for the CSAF subscription client (async, through the online sources' fetcher)
and for the webhook client. With the loopback network allowed, the same name is reached, connected to the
checked address with the name kept in the Host header."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mamori.errors import InputError
from mamori.notify import channels, netguard

NAME = "rebind.example"
PUBLIC = "93.184.216.34"  # a global unicast address: what the first answer says


class Counting:
    """A loopback HTTP server that counts the connections it accepts and keeps what they sent."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    while length and len(body) < int(length.group(1)):
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                    data = head + b"\r\n\r\n" + body
                except OSError:
                    pass
                self.received += data
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[Counting]:
    running = Counting()
    yield running
    running.close()


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The resolver answers NAME with a public address the first time and 127.0.0.1 after (every other
    name as usual); the answers it gave, in order."""
    real = netguard._real_getaddrinfo
    given: list[str] = []

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if (host.decode() if isinstance(host, bytes) else host) != NAME:  # anyio asks with bytes
            return real(host, port, *args, **kwargs)
        address = PUBLIC if not given else "127.0.0.1"
        given.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]

    monkeypatch.setattr(netguard, "_real_getaddrinfo", fake)
    monkeypatch.setattr(socket, "getaddrinfo", fake)  # the clients' own resolvers too
    return given


def test_the_csaf_client_refuses_a_name_that_rebinds(server: Counting, rebinding: list[str]) -> None:
    from mamori.advisory.subscribe import Client

    url = f"https://{NAME}:{server.port}/.well-known/csaf/provider-metadata.json"
    with netguard.guarded(()), Client(deadline=20) as client, pytest.raises(InputError) as refused:
        client.get(url, "csaf-small")
    assert server.connections == 0 and server.received == b""
    assert rebinding == [PUBLIC, "127.0.0.1"]  # checked public, then the connection's own answer
    assert "RefusedAddress" in str(refused.value)


def test_the_webhook_client_refuses_a_name_that_rebinds(
    server: Counting, rebinding: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(netguard.ALLOW_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    url = f"http://{NAME}:{server.port}/hook"
    netguard.check_url_host(url, ())  # when the subscription was added: a public address
    with channels.client() as http:
        outcome = channels.post(url, b"{}", {"content-type": "application/json"}, http)
    assert (outcome.ok, outcome.error_class) == (False, "RefusedAddress")
    assert rebinding == [PUBLIC, "127.0.0.1"]
    assert server.connections == 0 and server.received == b""


def test_the_connection_goes_to_the_checked_address(
    server: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend resolves once and connects to that address: a resolver asked again (for the name)
    would answer elsewhere, but it is not asked again."""
    real = netguard._real_getaddrinfo
    asked: list[Any] = []

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        if host == NAME:
            address = "127.0.0.1" if len([h for h in asked if h == NAME]) == 1 else "127.0.0.2"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(netguard, "_real_getaddrinfo", fake)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    backend = netguard.GuardedBackend([ipaddress.ip_network("127.0.0.1/32")])
    stream = backend.connect_tcp(NAME, server.port, timeout=5)
    try:
        assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"
    finally:
        stream.close()
    assert asked.count(NAME) == 1


def test_an_allowed_network_is_reached(
    server: Counting, monkeypatch: pytest.MonkeyPatch, rebinding: list[str]
) -> None:
    from mamori.vulndb.online.http import Fetcher

    rebinding.append(PUBLIC)  # every answer from now on: 127.0.0.1
    monkeypatch.setenv(netguard.ALLOW_ENV, "127.0.0.0/8")
    with channels.client() as http:
        outcome = channels.post(f"http://{NAME}:{server.port}/hook", b"{}", {}, http)
    assert outcome.ok and outcome.code == 200
    allowed = [ipaddress.ip_network("127.0.0.0/8")]
    with Fetcher(transport=netguard.async_transport(allowed), timeout=10) as fetcher:
        answer = fetcher.request("GET", f"http://{NAME}:{server.port}/advisory.json")
    assert answer.status == 200 and answer.content == b"ok"
    assert server.connections == 2
    assert (
        server.received.count(f"host: {NAME}:{server.port}".encode())
        + server.received.count(f"Host: {NAME}:{server.port}".encode())
        == 2
    )

"""A Microsoft Teams subscription delivers through Apprise's Power Automate (Workflows) plugin to a real HTTPS
server: the Teams host name of a real-format webhook URL is answered with 127.0.0.1 by the guarded name
lookup, the server on loopback holds a certificate for that name (made here, trusted through
``REQUESTS_CA_BUNDLE``), and the test reads the Adaptive Card that arrives. Microsoft's hosts are not reachable
from the test machines, so this is as close to Teams as a test gets."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mamori.notify import netguard
from mamori.notify.deliver import delivery_log, send_test
from mamori.notify.subscriptions import add_subscription
from notify_support import demo_store

HOST = "prod-00.westeurope.logic.azure.com"
WORKFLOW = "643e69f83c8944438d68119179a10a64"
QUERY = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDGYFr0z0eu"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for HOST and its key, as PEM files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "teams.pem", folder / "teams.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def teams_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An HTTPS server on 127.0.0.1 for HOST, recording each POST; HOST resolves to it."""
    cert_file, key_file = _certificate(tmp_path)
    seen: dict[str, Any] = {"requests": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["requests"].append((self.path, dict(self.headers.items()), body))
            self.send_response(202)  # what a Power Automate trigger answers
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    real = netguard._real_getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (HOST, HOST.encode()):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", args[0] if args else port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(netguard, "_real_getaddrinfo", lookup)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["url"] = f"https://{HOST}:{port}/workflows/{WORKFLOW}/triggers/manual/paths/invoke?{QUERY}"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_teams_gets_an_adaptive_card_over_https(tmp_path: Path, teams_server: dict[str, Any]) -> None:
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "teams", teams_server["url"])
    outcome = send_test(store, sub.id)
    assert outcome.ok, outcome
    ((path, headers, body),) = teams_server["requests"]
    assert path.startswith(f"/workflows/{WORKFLOW}/triggers/manual/paths/invoke?")
    assert "sig=KODuebWbDGYFr0z0eu" in path
    assert headers["Content-Type"].startswith("application/json")
    card = json.loads(body)
    (attachment,) = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "Test notification from mamori for team psirt" in json.dumps(
        attachment["content"], ensure_ascii=False
    )
    assert delivery_log(store, sub.id)[0]["status"] == "sent"


def test_teams_with_a_certificate_nobody_trusts_is_not_delivered(
    tmp_path: Path, teams_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same server without its certificate in the trust store: nothing is sent, the try is logged."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "teams", teams_server["url"])
    assert not send_test(store, sub.id).ok
    assert teams_server["requests"] == []
    assert delivery_log(store, sub.id)[0]["status"] != "sent"

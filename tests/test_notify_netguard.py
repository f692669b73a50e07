"""Notification targets on the operator's own networks are refused — when a subscription is added and when
something is sent (a name that resolves to another address by then: DNS rebinding) — unless the operator
allows those networks (``MAMORI_NOTIFY_ALLOW_NETWORKS``, which the test run sets for loopback: here it is
removed). Receivers are real servers on loopback; the refusal is proved by their receiving nothing."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from mamori.errors import InputError
from mamori.notify import add_subscription, compute_events, deliver_pending, delivery_log, netguard, send_test
from mamori.notify.channels import SmtpSettings
from notify_support import Receiver, demo_store, receiver

__all__ = ["receiver"]  # fixture

LOOPBACK = "127.0.0.0/8,::1/128"
PUBLIC = "93.184.215.14"  # a global unicast address (nothing connects to it in these tests)


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No network allowed: neither the environment nor a user mamori.toml."""
    monkeypatch.delenv(netguard.ALLOW_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _rebinding(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> None:
    """``rebind.example.test`` resolves to each of ``answers`` in turn (the last one from then on)."""
    real = netguard._real_getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example.test":
            return real(host, port, *args, **kwargs)
        ip = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port or 0)))]

    monkeypatch.setattr(netguard, "_real_getaddrinfo", fake)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.64.0.1", True),  # shared address space
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("239.255.255.250", True),
        ("255.255.255.255", True),
        ("192.0.2.1", True),  # documentation
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fc00::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("64:ff9b::7f00:1", True),  # NAT64 of loopback
        ("not-an-address", True),
        (PUBLIC, False),
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_which_addresses_are_refused(address: str, refused: bool) -> None:
    assert netguard.refused(address, ()) is refused


def test_allowed_networks_from_the_environment_and_the_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(netguard.ALLOW_ENV, "10.0.0.0/8, ::1")
    allowed = netguard.allowed_networks()
    assert not netguard.refused("10.9.8.7", allowed) and not netguard.refused("::1", allowed)
    assert netguard.refused("127.0.0.1", allowed) and netguard.refused("192.168.0.1", allowed)
    monkeypatch.delenv(netguard.ALLOW_ENV)
    config = tmp_path / "config" / "mamori"
    config.mkdir(parents=True)
    (config / "mamori.toml").write_text('[notify]\nallow_networks = ["192.168.0.0/16"]\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert [str(n) for n in netguard.allowed_networks()] == ["192.168.0.0/16"]
    monkeypatch.setenv(netguard.ALLOW_ENV, "10.0.0.0/33")
    with pytest.raises(InputError, match="not a network"):
        netguard.allowed_networks()


@pytest.mark.usefixtures("closed")
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9000/hook",
        "http://10.0.0.5/hook",
        "https://[::ffff:192.168.1.1]/hook",
    ],
)
def test_subscription_to_an_internal_address_is_refused(tmp_path: Path, url: str) -> None:
    store = demo_store(tmp_path)
    with pytest.raises(InputError, match="private, loopback") as caught:
        add_subscription(store, "psirt", "webhook", url)
    assert "127.0.0.1" not in str(caught.value) and "meta-data" not in str(caught.value)


def test_subscription_to_loopback_allowed_by_the_operator(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(netguard.ALLOW_ENV, LOOPBACK)
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "webhook", receiver.url)
    assert send_test(store, sub.id).ok
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("closed")
def test_dns_rebinding_is_refused_at_delivery(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolved to a public address when the subscription was added, to loopback when the
    events are sent: nothing reaches the receiver, the delivery log says RefusedAddress, and the
    deliveries are given up (not retried)."""
    port = receiver.url.split(":")[2].split("/")[0]
    _rebinding(monkeypatch, [PUBLIC, "127.0.0.1"])
    store = demo_store(tmp_path)
    sub = add_subscription(
        store, "psirt", "webhook", f"http://rebind.example.test:{port}/hook", kev_only=True
    )
    compute_events(store)
    report = deliver_pending(store, sleep=lambda _s: None)
    assert receiver.requests == []
    assert report.sent == 0 and report.failed >= 1 and report.retrying == 0
    log = delivery_log(store, sub.id)
    assert {(r["status"], r["error_class"]) for r in log} == {("failed", "RefusedAddress")}
    # the same name and receiver, the operator allowing loopback: delivered
    monkeypatch.setenv(netguard.ALLOW_ENV, LOOPBACK)
    assert send_test(store, sub.id).ok and len(receiver.requests) == 1


@pytest.mark.usefixtures("closed")
def test_slack_through_apprise_to_an_internal_address_is_refused(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Apprise's HTTP client (requests) resolves through the same guard: Slack's host pointed at the
    loopback receiver receives nothing."""
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", receiver.url.rsplit("/", 1)[0] + "/services")
    store = demo_store(tmp_path)
    monkeypatch.setattr(netguard, "_resolve", lambda host, port: [PUBLIC])
    sub = add_subscription(
        store,
        "psirt",
        "slack",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    )
    outcome = send_test(store, sub.id)
    assert (outcome.ok, outcome.error_class) == (False, "RefusedAddress")
    assert receiver.requests == []


@pytest.mark.usefixtures("closed")
def test_smtp_server_on_an_internal_address_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    got: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        store = demo_store(tmp_path)
        monkeypatch.setenv("MAMORI_SMTP_HOST", "127.0.0.1")
        with pytest.raises(InputError, match="private, loopback"):
            add_subscription(store, "psirt", "email", "psirt@example.test")
        monkeypatch.delenv("MAMORI_SMTP_HOST")
        sub = add_subscription(store, "psirt", "email", "psirt@example.test", kev_only=True)
        compute_events(store)
        smtp = SmtpSettings("127.0.0.1", port, sender="mamori@example.test", security="none")
        report = deliver_pending(store, smtp=smtp)
        assert got == [] and report.sent == 0
        assert {r["error_class"] for r in delivery_log(store, sub.id)} == {"RefusedAddress"}
        monkeypatch.setenv(netguard.ALLOW_ENV, LOOPBACK)
        outcome = send_test(store, sub.id, smtp=smtp)
        assert outcome.ok and len(got) == 1
    finally:
        controller.stop()


def test_guard_only_affects_the_sending_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(netguard.ALLOW_ENV, raising=False)
    with netguard.guarded(()) as guard:
        with pytest.raises(OSError):
            socket.getaddrinfo("127.0.0.1", 80)
        assert guard.refused
        found: list[Any] = []
        import threading

        other = threading.Thread(target=lambda: found.extend(socket.getaddrinfo("127.0.0.1", 80)))
        other.start()
        other.join()
        assert found
    assert guard.refused
    assert socket.getaddrinfo("127.0.0.1", 80)

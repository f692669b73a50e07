"""The notification pages of the web interface (mamori.server.web_notify) over httpx against the real
application served by uvicorn: a security manager adds a webhook subscription (secret never shown again),
sends the test message (signed, in the delivery log), removes it; a form without the CSRF token is
refused; an auditor reads without forms; a customer gets 403; another team's subscription is 404; input
text shows escaped; the pages exist in Japanese and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.notify import add_subscription, list_subscriptions
from mamori.portfolio.archive import add_product
from notify_support import SECRET, Receiver, receiver
from server_support import BACKENDS, backend_store, csrf_of, live, signin

__all__ = ["receiver"]  # fixture

PASSWORD = "a long enough pass phrase 42"


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("alpha", "beta"):
            accounts.create_team(store, team)
        add_product(store, "shop", who="test")
        accounts.assign_product(store, "alpha", "shop")
        accounts.create_user(store, "alice", PASSWORD, "alpha", "security_manager")
        accounts.create_user(store, "dave", PASSWORD, "alpha", "auditor")
        accounts.create_user(store, "carl", PASSWORD, "alpha", "customer")
        accounts.create_user(store, "bob", PASSWORD, "beta", "security_manager")
        with live(store) as server:
            yield {"url": server.url, "store": store}


def _user(site: dict[str, Any], name: str) -> httpx.Client:
    client = httpx.Client(base_url=site["url"], timeout=30)
    assert signin(client, name, PASSWORD).status_code == 303
    return client


def test_add_test_and_remove_a_subscription(site: dict[str, Any], receiver: Receiver) -> None:
    alice = _user(site, "alice")
    page = alice.get("/notifications?lang=en")
    assert (
        page.status_code == 200 and 'action="/notifications"' in page.text and "New subscription" in page.text
    )
    assert '<a href="/notifications">' in page.text
    form = {
        "csrf_token": csrf_of(alice),
        "team": "alpha",
        "channel": "webhook",
        "target": receiver.url,
        "secret": SECRET,
        "products": "shop",
        "min_severity": "high",
        "events": ["new_finding", "review_due"],
        "mode": "immediate",
        "lang": "ja",
    }
    no_csrf = alice.post("/notifications", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert no_csrf.status_code == 403 and list_subscriptions(site["store"]) == []
    added = alice.post("/notifications", data=form)
    assert added.status_code == 303 and added.headers["location"] == "/notifications?done=added"
    (sub,) = list_subscriptions(site["store"])
    assert (sub.team, sub.secret, sub.products, sub.events) == (
        "alpha",
        SECRET,
        ("shop",),
        ("new_finding", "review_due"),
    )
    listed = alice.get("/notifications?done=added&lang=en")
    assert "The subscription was added." in listed.text and SECRET not in listed.text
    assert "signed" in listed.text and "new_finding, review_due" in listed.text
    tested = alice.post(f"/notifications/{sub.id}/test", data={"csrf_token": csrf_of(alice)})
    assert tested.status_code == 303 and tested.headers["location"].endswith("done=test_queued")
    assert "delivery log" in alice.get("/notifications?done=test_queued&lang=en").text
    _wait_for_log(site["store"], sub.id)
    assert len(receiver.requests) == 1 and receiver.requests[0].headers["x-mamori-signature"].startswith(
        "sha256="
    )
    after = alice.get("/notifications?lang=ja")
    log = re.search(r'<table id="delivery-log".*?</table>', after.text, re.S)
    assert log and "送信済" in log.group(0) and "テスト" in log.group(0) and ">200<" in log.group(0)
    # another team's security manager: 404 for this subscription, nothing of it listed
    bob = _user(site, "bob")
    assert bob.post(f"/notifications/{sub.id}/delete", data={"csrf_token": csrf_of(bob)}).status_code == 404
    assert receiver.url.split("//")[1].split("/")[0] not in bob.get("/notifications").text
    # an auditor reads, without forms; a customer has no page
    dave = _user(site, "dave")
    seen = dave.get("/notifications?lang=en")
    assert seen.status_code == 200 and f"<td>{sub.id}</td>" in seen.text
    assert "New subscription" not in seen.text and "/delete" not in seen.text
    assert dave.post(f"/notifications/{sub.id}/delete", data={"csrf_token": csrf_of(dave)}).status_code == 403
    carl = _user(site, "carl")
    assert carl.get("/notifications").status_code == 403
    assert '<a href="/notifications">' not in carl.get("/").text
    gone = alice.post(f"/notifications/{sub.id}/delete", data={"csrf_token": csrf_of(alice)})
    assert gone.status_code == 303 and list_subscriptions(site["store"]) == []
    for c in (alice, bob, dave, carl):
        c.close()


def _wait_for_log(store: Any, subscription_id: int, tries: int = 300) -> list[dict[str, Any]]:
    """The delivery log of the subscription once the queued test's try is in it (polled, 20 s at most)."""
    import time

    from mamori.notify import delivery_log

    for _ in range(tries):
        found = delivery_log(store, subscription_id)
        if found:
            return found
        time.sleep(0.066)
    raise AssertionError("the test message's try never reached the delivery log")


def test_the_test_button_does_not_wait_for_the_target(site: dict[str, Any]) -> None:
    """A target that holds the connection open: the button's request is answered while the sending is
    still under way (the receiver is released only after the answer), and the try reaches the log."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    release = threading.Event()
    got: list[bytes] = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            release.wait(30)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    slow = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    alice = _user(site, "alice")
    try:
        sub = add_subscription(
            site["store"], "alpha", "webhook", f"http://127.0.0.1:{slow.server_address[1]}/h"
        )
        tested = alice.post(f"/notifications/{sub.id}/test", data={"csrf_token": csrf_of(alice)})
        assert tested.status_code == 303 and tested.headers["location"].endswith("done=test_queued")
        for _ in range(300):  # the message reaches the target, which holds it: the answer came before
            if got:
                break
            threading.Event().wait(0.066)
        assert len(got) == 1 and not release.is_set()
        release.set()
        (row,) = _wait_for_log(site["store"], sub.id)
        assert (row["status"], row["code"], row["test"]) == ("sent", 204, True) and len(got) == 1
    finally:
        release.set()
        slow.shutdown()
        slow.server_close()
        alice.close()


def test_a_bad_form_is_refused_in_one_line_and_input_shows_as_text(site: dict[str, Any]) -> None:
    alice = _user(site, "alice")
    form = {"csrf_token": csrf_of(alice), "channel": "email", "target": "<b>x</b>@example", "team": "alpha"}
    refused = alice.post("/notifications?lang=en", data=form)
    assert refused.status_code == 400 and "Not accepted" in refused.text
    assert "<b>x</b>" not in refused.text and "&lt;b&gt;x&lt;/b&gt;" in refused.text
    short = alice.post(
        "/notifications",
        data={**form, "channel": "webhook", "target": "https://h.example/x", "secret": "short"},
    )
    assert short.status_code == 400
    store = site["store"]
    add_subscription(store, "alpha", "email", "ops+shop@example.com", kev_only=True, mode="digest")
    page = alice.get("/notifications?lang=ja")
    assert "受け付け" not in page.text and "ops+shop@example.com" in page.text
    assert "購読の追加" in page.text and "KEV 掲載のみ" in page.text and "1 日 1 回のまとめ" in page.text
    alice.close()

"""The native API of notifications (/api/mamori/v1/notifications) per role: a team's security manager
subscribes a webhook (the secret write-only), lists, tests (the test message is queued, 202, and then
reaches a receiver on loopback, signed, its try in the delivery log) and removes it; a developer and an auditor read the subscriptions and the delivery log,
a customer nothing; another team's subscription answers 404 to everyone but an administrator; every change
and test is in the audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES
from mamori.notify import add_subscription, compute_events, deliver_pending
from mamori.portfolio.archive import add_product
from notify_support import SECRET, Receiver, receiver
from server_support import BACKENDS, backend_store, live

__all__ = ["receiver"]  # fixture

API = "/api/mamori/v1/notifications"
THEIR_MAIL = "zz-their-psirt@theirs.example"


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs", "ops"):
            accounts.create_team(store, team)
        add_product(store, "ours", who="test")
        add_product(store, "secret", who="test")
        accounts.assign_product(store, "mine", "ours")
        accounts.assign_product(store, "theirs", "secret")
        keys = {
            role: accounts.create_api_key(store, "mine", role)[1] for role in ROLE_NAMES if role != "admin"
        }
        keys["admin"] = accounts.create_api_key(store, "ops", "admin")[1]
        theirs = add_subscription(store, "theirs", "email", THEIR_MAIL, min_severity="high")
        with live(store) as server:
            clients = {who: server.client(headers={"X-Api-Key": key}) for who, key in keys.items()}
            yield {"store": store, "clients": clients, "theirs": theirs}
            for client in clients.values():
                client.close()


def test_a_security_manager_subscribes_tests_and_removes(site: dict[str, Any], receiver: Receiver) -> None:
    c, store = site["clients"], site["store"]
    body = {
        "channel": "webhook",
        "target": receiver.url + "?token=abc",
        "secret": SECRET,
        "products": ["ours"],
        "min_severity": "high",
        "ssvc_outcomes": ["immediate", "out_of_cycle"],
        "events": ["new_finding", "policy_violation"],
        "lang": "ja",
    }
    made = c["security_manager"].post(f"{API}/subscriptions", json=body)
    assert made.status_code == 201, made.text
    sub = made.json()
    assert sub["team"] == "mine" and sub["signed"] is True and "secret" not in sub
    assert sub["target"].startswith("http://127.0.0.1:") and "token" not in sub["target"]
    assert sub["events"] == ["new_finding", "policy_violation"] and sub["lang"] == "ja"
    assert SECRET not in made.text
    for role in ("security_manager", "developer", "auditor"):
        listed = c[role].get(f"{API}/subscriptions")
        assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [sub["id"]]
        assert SECRET not in listed.text and THEIR_MAIL not in listed.text
        assert c[role].get(f"{API}/subscriptions/{sub['id']}").json()["id"] == sub["id"]
    assert c["customer"].get(f"{API}/subscriptions").status_code == 403
    assert c["customer"].get(f"{API}/log").status_code == 403
    # the developer reads but does not manage
    assert c["developer"].post(f"{API}/subscriptions", json=body).status_code == 403
    assert c["developer"].post(f"{API}/subscriptions/{sub['id']}/test").status_code == 403
    assert c["auditor"].delete(f"{API}/subscriptions/{sub['id']}").status_code == 403
    # the test message is queued (202, the job's id and where its outcome appears), then arrives, signed
    # with the secret given
    tested = c["security_manager"].post(f"{API}/subscriptions/{sub['id']}/test")
    assert tested.status_code == 202, tested.text
    queued = tested.json()
    log_url = f"{API}/log?subscription={sub['id']}"
    assert queued["job"] and queued["subscription"] == sub["id"] and queued["log"] == log_url
    assert queued["state"] in ("queued", "running", "done") and tested.headers["location"] == log_url
    _wait_for(lambda: c["auditor"].get(log_url).json())
    (req,) = receiver.requests
    ts = req.headers["x-mamori-timestamp"]
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-mamori-signature"] == f"sha256={expected}"
    log = c["auditor"].get(f"{API}/log")
    assert log.status_code == 200
    (line,) = log.json()
    assert (line["subscription"], line["status"], line["code"], line["test"]) == (
        sub["id"],
        "sent",
        200,
        True,
    )
    assert c["developer"].get(f"{API}/log", params={"subscription": sub["id"]}).json() == [line]
    # bad values: 422 with the field named, nothing stored
    bad = c["security_manager"].post(f"{API}/subscriptions", json={**body, "products": ["secret"]})
    assert bad.status_code == 422 and "products" in bad.text
    short = c["security_manager"].post(f"{API}/subscriptions", json={**body, "secret": "short"})
    assert short.status_code == 422
    files = c["security_manager"].post(f"{API}/subscriptions", json={**body, "target": "file:///etc/passwd"})
    assert files.status_code == 422
    team = c["security_manager"].post(f"{API}/subscriptions", json={**body, "team": "theirs"})
    assert team.status_code == 422
    assert len(c["security_manager"].get(f"{API}/subscriptions").json()) == 1
    # removed: gone, its log stays for the administrator
    gone = c["security_manager"].delete(f"{API}/subscriptions/{sub['id']}")
    assert gone.status_code == 200 and gone.json()["id"] == sub["id"] and SECRET not in gone.text
    assert c["security_manager"].get(f"{API}/subscriptions/{sub['id']}").status_code == 404
    assert c["security_manager"].get(f"{API}/log").json() == []
    assert [r["subscription"] for r in c["admin"].get(f"{API}/log").json()] == [sub["id"]]
    audit = [
        (line["action"], line["target"])
        for line in c["auditor"].get("/api/mamori/v1/audit", params={"limit": 1000}).json()
        if line["action"].startswith("notify.")
    ]
    target = f"subscription:{sub['id']}"
    assert sorted(audit) == sorted(
        [("notify.add", target), ("notify.test", target), ("notify.remove", target)]
    )
    assert SECRET not in json.dumps(c["admin"].get("/api/mamori/v1/audit", params={"limit": 1000}).json())
    del store


def _wait_for(check: Any, tries: int = 300) -> Any:
    """Polled until true (20 s at most): the queued test message's try reaching the delivery log."""
    import time

    for _ in range(tries):
        if found := check():
            return found
        time.sleep(0.066)
    raise AssertionError("the queued test message's try never reached the delivery log")


def test_another_teams_subscription_is_404_but_for_an_administrator(site: dict[str, Any]) -> None:
    c, theirs = site["clients"], site["theirs"]
    for role in ("security_manager", "developer", "auditor"):
        assert c[role].get(f"{API}/subscriptions/{theirs.id}").status_code == 404
        assert c[role].get(f"{API}/subscriptions/999999").status_code == 404  # the same answer
        assert c[role].get(f"{API}/log", params={"subscription": theirs.id}).status_code == 404
    assert c["security_manager"].delete(f"{API}/subscriptions/{theirs.id}").status_code == 404
    assert c["security_manager"].post(f"{API}/subscriptions/{theirs.id}/test").status_code == 404
    admin = c["admin"].get(f"{API}/subscriptions")
    assert [s["team"] for s in admin.json()] == ["theirs"] and admin.json()[0]["target"] == THEIR_MAIL
    made = c["admin"].post(
        f"{API}/subscriptions", json={"team": "theirs", "channel": "email", "target": "b@theirs.example"}
    )
    assert made.status_code == 201 and made.json()["team"] == "theirs"


def test_the_delivery_log_of_events_delivered_by_the_notify_step(
    site: dict[str, Any], receiver: Receiver, tmp_path: Path
) -> None:
    """Deliveries made by ``compute_events``/``deliver_pending`` show in the team's log: one per message."""
    from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities

    store = site["store"]
    if store.url.startswith("sqlite"):
        load_demo_vulnerabilities(store.url.removeprefix("sqlite:///"))
    else:
        pytest.skip("the demo vulnerability set loads into a SQLite file")
    from mamori.portfolio import match_release, store_sbom

    stored = store_sbom(store, "ours", "1.0", demo_data() / DEMO_SBOM, who="tester")
    match_release(store, stored.sbom_id, stored.previous_sbom_id)
    c = site["clients"]
    sub = (
        c["security_manager"]
        .post(f"{API}/subscriptions", json={"channel": "webhook", "target": receiver.url, "kev_only": True})
        .json()
    )
    compute_events(store)
    deliver_pending(store)
    assert len(receiver.requests) == 2  # the two demo findings in KEV
    log = c["developer"].get(f"{API}/log").json()
    assert [(r["subscription"], r["status"], r["events"], r["test"]) for r in log] == [
        (sub["id"], "sent", 1, False)
    ] * 2

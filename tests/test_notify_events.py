"""The events of issue 17 added last: a policy violation (the default gate and a policy file), a VEX
received from a supplier (OpenVEX imported for a release), and an assessment or JC-STAR label due for
review; their dedup keys, filters and ja/en texts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mamori import accounts
from mamori.i18n import translate
from mamori.notify import add_subscription, compute_events, deliver_pending
from mamori.notify.render import digest, one
from notify_support import SECRET, Receiver, demo_store, receiver

__all__ = ["receiver"]  # fixture

LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"


def _sent(receiver: Receiver) -> list[dict]:
    return [e for r in receiver.requests for e in json.loads(r.body)["events"]]


def test_policy_violation_of_the_default_gate_and_of_a_policy_file(
    tmp_path: Path, receiver: Receiver
) -> None:
    store = demo_store(tmp_path)
    asked = add_subscription(
        store, "psirt", "webhook", receiver.url, secret=SECRET, events=["policy_violation"]
    )
    computed = compute_events(store)
    violations = [e for e in computed.events if e.kind == "policy_violation"]
    rules = {(e.vuln_id, e.payload["rule"]) for e in violations}
    # KEV (log4j's CVE-2021-44228 and Spring4Shell) and the most urgent SSVC outcome
    assert ("CVE-2021-44228", "kev") in rules and ("CVE-2022-22965", "kev") in rules
    assert all(e.ssvc_outcome == "immediate" for e in violations if e.payload["rule"] == "ssvc-immediate")
    assert computed.deliveries == len(violations)
    deliver_pending(store)
    sent = _sent(receiver)
    assert {e["kind"] for e in sent} == {"policy_violation"} and len(sent) == len(violations)
    log4j = next(e for e in sent if e["vulnerability"] == "CVE-2021-44228" and e["detail"]["rule"] == "kev")
    assert log4j["detail"]["reasons"] == ["listed in CISA KEV"]
    assert log4j["detail"]["policy"] == "policy.yaml"
    # once per (finding, rule): nothing again
    assert compute_events(store).events == []
    # a team's own policy: a warn rule makes no event, a fail rule on the priority score does
    policy = tmp_path / "team-policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - id: priority\n    action: fail\n    priority_above: 5\n"
        "  - id: any\n    action: warn\n    rating: [low, medium, high, critical]\n",
        encoding="utf-8",
    )
    from mamori.triage.policy import load_policy

    again = compute_events(store, policy=load_policy(policy))
    assert again.events and {e.payload["rule"] for e in again.events} == {"priority"}
    assert all(e.payload["priority"] > 5 for e in again.events)
    assert asked.events == ("policy_violation",)


def test_supplier_vex_received(tmp_path: Path, receiver: Receiver) -> None:
    """An OpenVEX document of the supplier imported for the release: one event, counted by status; the
    same document again adds nothing; a newer statement is a new event."""
    from mamori.portfolio.vexin import import_vex
    from mamori.vex import read

    store = demo_store(tmp_path)
    add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET, events=["supplier_document"])
    compute_events(store)
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://acme.example/vex/shop-2.1.0-1",
        "author": "ACME PSIRT",
        "timestamp": "2026-12-01T09:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2021-44228"},
                "products": [{"@id": LOG4J}],
                "status": "affected",
                "action_statement": "Update log4j-core to 2.17.1",
                "timestamp": "2026-12-01T09:00:00Z",
            },
            {
                "vulnerability": {"name": "CVE-2021-45046"},
                "products": [{"@id": LOG4J}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "timestamp": "2026-12-01T09:00:00Z",
            },
        ],
    }
    path = tmp_path / "acme.openvex.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = import_vex(store, "shop", "2.1.0", path, read(path))
    assert done.created == 2
    computed = compute_events(store)
    (event,) = [e for e in computed.events if e.kind == "supplier_document"]
    assert (event.product, event.release, event.vuln_id) == ("shop", "2.1.0", None)
    assert event.payload["author"] == "ACME PSIRT" and event.payload["records"] == 2
    assert event.payload["statuses"] == {"affected": 1, "not_affected": 1}
    deliver_pending(store)
    assert [e["kind"] for e in _sent(receiver)] == ["supplier_document"]
    body = json.loads(receiver.requests[0].body)
    assert "ACME PSIRT" in body["subject"] and "shop 2.1.0" in body["subject"]
    import_vex(store, "shop", "2.1.0", path, read(path))  # the same document: nothing new
    assert [e for e in compute_events(store).events if e.kind == "supplier_document"] == []
    doc["statements"][0]["status"] = "fixed"
    doc["statements"][0].pop("action_statement")
    doc["statements"][0]["timestamp"] = "2026-12-05T09:00:00Z"
    path.write_text(json.dumps(doc), encoding="utf-8")
    import_vex(store, "shop", "2.1.0", path, read(path))
    (newer,) = [e for e in compute_events(store).events if e.kind == "supplier_document"]
    assert newer.payload["statuses"] == {"fixed": 1, "not_affected": 1}
    # kev-only keeps it out (no vulnerability of its own)
    kev = add_subscription(store, "psirt", "webhook", receiver.url, kev_only=True)
    from mamori.notify.events import wants

    assert not wants(kev, newer, {"shop"})


def test_review_due_of_a_jcstar_label_and_a_declaration(tmp_path: Path, receiver: Receiver) -> None:
    """A JC-STAR ☆1 self-declaration valid two years from its date: its end 30 days ahead is announced
    (review window 90 days) to the owning team, once; a declaration's next review is announced too; an
    end a year ahead is not."""
    from mamori.accounts import assessment_owner
    from mamori.compliance.declaration import build
    from mamori.compliance.jcstar import valid_until
    from mamori.compliance.repository import Assessments

    store = demo_store(tmp_path)
    accounts.create_team(store, "other")
    add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET, lang="ja", events=["review_due"])
    other = add_subscription(store, "other", "webhook", receiver.url + "/other", events=["review_due"])
    compute_events(store)
    today = datetime.now(UTC).date()
    book = Assessments(store)
    label = book.create("jcstar1", "ACME", ("developer",), "shop 2.1.0")
    issued = today - timedelta(days=2 * 365 - 30)
    until = valid_until(issued)
    book.update_header(label, {"valid_from": issued.isoformat(), "valid_until": until.isoformat()})
    team = accounts.get_team(store, "psirt")
    assert team is not None
    assessment_owner.set_owner(store, label.id, team.id, None)  # the whole team, no product
    guideline = book.create("guideline", "ACME", ("developer",), "shop")
    assessment_owner.set_owner(store, guideline.id, team.id, 1)
    declared = build(
        book.get(guideline.id), {"name": "A", "title": "B"}, (today - timedelta(days=340)).isoformat()
    )
    assessment_owner.save_declaration(store, guideline.id, declared, "psirt")
    later = book.create("jcstar1", "ACME", ("developer",), "shop 3.0")
    book.update_header(
        later, {"valid_from": today.isoformat(), "valid_until": valid_until(today).isoformat()}
    )
    assessment_owner.set_owner(store, later.id, team.id, None)

    computed = compute_events(store)
    due = sorted(
        (e.payload["assessment"], e.payload["what"]) for e in computed.events if e.kind == "review_due"
    )
    assert due == [(label.id, "valid_until"), (guideline.id, "review")]
    jc = next(e for e in computed.events if e.kind == "review_due" and e.payload["assessment"] == label.id)
    assert jc.payload["due"] == until.isoformat() and jc.payload["days_left"] == (until - today).days
    assert 0 < jc.payload["days_left"] <= 31 and jc.product is None
    review = next(e for e in computed.events if e.kind == "review_due" and e.payload["what"] == "review")
    assert review.product == "shop" and review.payload["due"] == declared["review"]["next"]
    deliver_pending(store)
    paths = [r.path for r in receiver.requests]
    assert paths == ["/hook", "/hook"]  # the owning team only: not team other
    assert other.team == "other"
    body = json.loads(receiver.requests[0].body)
    assert body["lang"] == "ja" and "見直し" in body["subject"]
    assert compute_events(store).events == []  # once per assessment and date
    # a narrower window: the JC-STAR end 30 days ahead is not within 7
    fresh = demo_store(tmp_path / "b")
    book2 = Assessments(fresh)
    made = book2.create("jcstar1", "ACME", ("developer",), "x")
    book2.update_header(made, {"valid_until": (today + timedelta(days=30)).isoformat()})
    assert [e for e in compute_events(fresh, review_days=7).events if e.kind == "review_due"] == []
    assert [e for e in compute_events(fresh, review_days=30).events if e.kind == "review_due"]


def test_texts_in_both_languages() -> None:
    from mamori.notify.events import Event

    def event(kind: str, payload: dict, **kw: object) -> Event:
        base = {
            "product": "shop",
            "release": "2.1.0",
            "vuln_id": None,
            "severity": None,
            "ssvc_outcome": None,
        }
        return Event(1, "k", kind, **{**base, **kw}, kev=False, payload=payload, created_at="")  # type: ignore[arg-type]

    events = [
        event(
            "policy_violation",
            {
                "rule": "kev",
                "reasons": ["listed in CISA KEV"],
                "reasons_ja": ["CISA KEV に掲載"],
                "policy": "policy.yaml",
                "component": {"name": "log4j-core", "version": "2.14.1"},
            },
            vuln_id="CVE-2021-44228",
            severity="critical",
        ),
        event(
            "supplier_document",
            {
                "author": "ACME\x1b[31m",
                "records": 2,
                "source": "a.json",
                "statuses": {"fixed": 2},
                "latest": "2026-12-01",
            },
        ),
        event(
            "review_due",
            {
                "assessment": 3,
                "framework": "jcstar1",
                "organization": "ACME",
                "due": "2027-01-01",
                "what": "valid_until",
                "days_left": -2,
                "scope": "x",
            },
            product=None,
            release=None,
        ),
    ]
    for e in events:
        en, ja = one(e, "en"), one(e, "ja")
        assert en.subject != ja.subject and "\x1b" not in en.body + ja.body
    assert (
        "CISA KEV に掲載" in one(events[0], "ja").body and "listed in CISA KEV" in one(events[0], "en").body
    )
    assert "\\x1b" in one(events[1], "en").subject  # control characters shown, not sent
    assert translate("review due", "ja") != "review due"
    text = digest(events, "psirt", "ja").body
    assert translate("policy violation", "ja") in text and translate("supplier VEX received", "ja") in text
    assert date.fromisoformat("2027-01-01")


def test_cli_run_with_a_policy_file_and_review_days(
    tmp_path: Path, receiver: Receiver, capsys: object
) -> None:
    """``mamori notify run --policy FILE`` evaluates the team's policy; a bad file or --review-days is one
    line on stderr, exit 2."""
    import subprocess
    import sys

    store = demo_store(tmp_path)
    add_subscription(store, "psirt", "webhook", receiver.url, events=["policy_violation"])
    store.engine.dispose()
    mamori = str(Path(sys.executable).parent / "mamori")
    db = str(tmp_path / "notify.db")
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - id: crit\n    action: fail\n    rating: [critical]\n", encoding="utf-8"
    )
    import os

    allow = os.environ["MAMORI_NOTIFY_ALLOW_NETWORKS"]  # the receiver is on loopback (tests/conftest.py)
    env = {
        "MAMORI_LANG": "en",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MAMORI_NOTIFY_ALLOW_NETWORKS": allow,
    }
    ran = subprocess.run(
        [mamori, "notify", "run", "--policy", str(policy), "--db", db],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    sent = _sent(receiver)
    assert (
        sent
        and {e["detail"]["rule"] for e in sent} == {"crit"}
        and {e["severity"] for e in sent} == {"critical"}
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: x\n    action: explode\n", encoding="utf-8")
    for args in (["--policy", str(bad)], ["--review-days", "-1"]):
        failed = subprocess.run(
            [mamori, "notify", "run", *args, "--db", db], capture_output=True, text=True, env=env, timeout=120
        )
        assert failed.returncode == 2 and failed.stderr.count("\n") == 1, failed.stderr

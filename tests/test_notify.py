"""Notifications: events computed from a real SBOM scanned into a store, delivered to a webhook receiver on
loopback that checks the HMAC signature, e-mail to an SMTP server on loopback (aiosmtpd) in Japanese,
retries with backoff, deduplication, daily digests, filters, and the CLI."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from kb_support import throwaway_databases
from mamori.cli.main import main
from mamori.notify import (
    add_subscription,
    compute_events,
    deliver_pending,
    delivery_log,
    list_subscriptions,
    send_test,
)
from mamori.notify.channels import SmtpSettings
from mamori.store import Store
from notify_support import SECRET, Receiver, demo_store, receiver

__all__ = ["receiver"]  # fixture

# the demo product's findings (bundled demo set): 13, two of them in the demo KEV subset
DEMO_FINDINGS = 13
DEMO_KEV = {"CVE-2021-44228", "CVE-2022-22965"}
# the default notification gate (data/notify/policy.yaml) on them: KEV, or SSVC outcome ``immediate``
DEMO_POLICY = 4


def _events(req_body: bytes) -> list[dict]:
    return json.loads(req_body)["events"]


def _no_sleep(waits: list[float]):  # type: ignore[no-untyped-def]
    return waits.append


def test_webhook_receives_signed_events_of_a_real_sbom(tmp_path: Path, receiver: Receiver) -> None:
    """Each new finding of the demo SBOM reaches the webhook once, signed over the exact body with a timestamp;
    log4j's finding carries its SSVC outcome, priority score and KEV."""
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
    computed = compute_events(store)
    found = [e for e in computed.events if e.kind == "new_finding"]
    assert len(found) == DEMO_FINDINGS
    # the default gate's violations are events too, not sent to a subscription that did not ask for them
    assert {e.kind for e in computed.events} == {"new_finding", "policy_violation"}
    assert computed.deliveries == DEMO_FINDINGS
    report = deliver_pending(store)
    assert (report.sent, report.messages, report.failed) == (DEMO_FINDINGS, DEMO_FINDINGS, 0)
    assert len(receiver.requests) == DEMO_FINDINGS
    now = time.time()
    by_vuln = {}
    for req in receiver.requests:
        ts = req.headers["x-mamori-timestamp"]
        assert abs(now - int(ts)) < 600
        expected = hmac.new(SECRET.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
        assert req.headers["x-mamori-signature"] == f"sha256={expected}"
        # one byte changed: the signature no longer holds
        tampered = req.body.replace(b"shop", b"shoq", 1)
        assert (
            hmac.new(SECRET.encode(), ts.encode() + b"." + tampered, hashlib.sha256).hexdigest() != expected
        )
        assert req.headers["content-type"].startswith("application/json")
        body = json.loads(req.body)
        assert body["subscription"] == sub.id and body["digest"] is False
        (event,) = body["events"]
        by_vuln[event["vulnerability"]] = event
    log4j = by_vuln["CVE-2021-44228"]
    assert log4j["kind"] == "new_finding"
    assert (log4j["product"], log4j["release"]) == ("shop", "2.1.0")
    assert log4j["severity"] == "critical" and log4j["kev"] is True
    assert log4j["ssvc_outcome"] == "immediate"
    assert log4j["detail"]["priority"] == 20.0  # (1 + √1) × 10: KEV takes p = 1
    assert log4j["detail"]["component"]["name"] == "log4j-core"
    assert {v for v, e in by_vuln.items() if e["kev"]} == DEMO_KEV
    log = delivery_log(store, sub.id)
    assert len(log) == DEMO_FINDINGS and {r["status"] for r in log} == {"sent"}
    assert {r["code"] for r in log} == {200}


def test_delivery_twice_sends_once(tmp_path: Path, receiver: Receiver) -> None:
    """Computing and delivering again adds nothing: one delivery per (subscription, event)."""
    store = demo_store(tmp_path)
    add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET, kev_only=True)
    assert compute_events(store).deliveries == len(DEMO_KEV)
    deliver_pending(store)
    assert len(receiver.requests) == len(DEMO_KEV)
    again = compute_events(store)
    assert (again.events, again.deliveries) == ([], 0)
    report = deliver_pending(store)
    assert (report.sent, report.messages) == (0, 0)
    assert len(receiver.requests) == len(DEMO_KEV)
    assert sorted(e["vulnerability"] for r in receiver.requests for e in _events(r.body)) == sorted(DEMO_KEV)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_at_once_send_each_event_once(tmp_path: Path, receiver: Receiver, backend: str) -> None:
    """Two computations and two deliveries running at the same time (threads, separate connections): each
    event reaches the receiver once (SQLite; PostgreSQL when MAMORI_TEST_PG_URL is set)."""
    import threading
    from contextlib import ExitStack

    with ExitStack() as stack:
        (db,) = throwaway_databases(stack, backend, "mamori_notify")
        store = demo_store(tmp_path, db=db)
        add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                barrier.wait()
                compute_events(store)
                deliver_pending(store)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        ids = [e["id"] for r in receiver.requests for e in _events(r.body)]
        assert len(ids) == DEMO_FINDINGS and len(set(ids)) == DEMO_FINDINGS
        store.engine.dispose()


def test_retry_with_backoff_after_a_500(tmp_path: Path, receiver: Receiver) -> None:
    """A 500 is tried again after the backoff, then succeeds; the log has both tries."""
    store = demo_store(tmp_path)
    sub = add_subscription(
        store, "psirt", "webhook", receiver.url, secret=SECRET, kev_only=True, products=["shop"]
    )
    compute_events(store)
    receiver.statuses = [500]
    waits: list[float] = []
    report = deliver_pending(store, sleep=_no_sleep(waits))
    assert waits == [1.0]
    assert (report.sent, report.failed, report.retrying) == (2, 0, 0)
    assert len(receiver.requests) == 3
    first, retried = receiver.requests[0], receiver.requests[1]
    assert first.body == retried.body
    assert first.headers["x-mamori-delivery"] == retried.headers["x-mamori-delivery"]
    statuses = [(r["status"], r["code"], r["error_class"]) for r in reversed(delivery_log(store, sub.id))]
    assert statuses == [("retry", 500, "HTTPStatus"), ("sent", 200, None), ("sent", 200, None)]


def test_failing_endpoint_is_retried_in_a_later_run_then_given_up(tmp_path: Path, receiver: Receiver) -> None:
    """A channel that keeps failing: its tries in one run back off (1 s, 2 s), the delivery waits for a
    later run, and a 4xx answer is not tried again."""
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET, kev_only=True)
    compute_events(store)
    receiver.statuses = [503, 503, 503]
    waits: list[float] = []
    now = datetime.now(UTC)
    report = deliver_pending(store, sleep=_no_sleep(waits), now=now)
    assert waits == [1.0, 2.0]
    assert (report.sent, report.retrying) == (0, 1)  # the other delivery waits: the channel is failing
    # the same time: the other delivery goes; the failed one is not due before its backoff
    again = deliver_pending(store, sleep=_no_sleep(waits), now=now)
    assert (again.sent, again.retrying, len(receiver.requests)) == (1, 0, 4)
    receiver.statuses = [404]
    later = deliver_pending(store, sleep=_no_sleep(waits), now=now + timedelta(minutes=2))
    assert (later.sent, later.failed, len(receiver.requests)) == (0, 1, 5)  # a 404 is not tried again
    final = deliver_pending(store, sleep=_no_sleep(waits), now=now + timedelta(days=1))
    assert (final.messages, len(receiver.requests)) == (0, 5)
    assert [r["status"] for r in delivery_log(store, sub.id)] == ["failed", "sent", "retry", "retry", "retry"]


def test_redirect_to_another_host_is_not_followed(tmp_path: Path, receiver: Receiver) -> None:
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
    receiver.statuses = [307]
    receiver.location = "http://localhost:9/elsewhere"
    outcome = send_test(store, sub.id)
    assert (outcome.ok, outcome.code, outcome.error_class) == (False, 307, "RedirectToOtherHost")
    assert len(receiver.requests) == 1
    receiver.statuses = [308]
    receiver.location = "/hook2"  # the same host: followed
    assert send_test(store, sub.id).ok
    assert [r.path for r in receiver.requests[1:]] == ["/hook", "/hook2"]


def test_digest_groups_the_days_events(tmp_path: Path, receiver: Receiver) -> None:
    store = demo_store(tmp_path)
    add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET, mode="digest", lang="ja")
    now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    compute_events(store, now=now)
    assert deliver_pending(store, now=now).messages == 0  # the digest goes out at 00:00 UTC
    report = deliver_pending(store, now=datetime(2026, 12, 8, 0, 1, tzinfo=UTC))
    assert (report.messages, report.sent) == (1, DEMO_FINDINGS)
    (req,) = receiver.requests
    body = json.loads(req.body)
    assert body["digest"] is True and len(body["events"]) == DEMO_FINDINGS
    assert body["lang"] == "ja"
    assert "psirt" in body["subject"] and str(DEMO_FINDINGS) in body["subject"]
    assert "新しい検出" in body["text"] and "CVE-2021-44228" in body["text"]


def test_filters_and_team_scope(tmp_path: Path, receiver: Receiver) -> None:
    """Severity, SSVC outcome and product filters; a team that does not own the product gets nothing."""
    from mamori import accounts

    store = demo_store(tmp_path)
    accounts.create_team(store, "other")
    add_subscription(store, "other", "webhook", receiver.url + "/other", secret=SECRET)
    high = add_subscription(store, "psirt", "webhook", receiver.url + "/high", min_severity="critical")
    ssvc = add_subscription(store, "psirt", "webhook", receiver.url + "/ssvc", ssvc_outcomes=["immediate"])
    compute_events(store)
    deliver_pending(store)
    paths: dict[str, list[dict]] = {}
    for r in receiver.requests:
        paths.setdefault(r.path, []).extend(_events(r.body))
    assert "/hook/other" not in paths
    assert {e["severity"] for e in paths["/hook/high"]} == {"critical"}
    assert len(paths["/hook/high"]) == 8  # the demo's critical findings
    assert {e["ssvc_outcome"] for e in paths["/hook/ssvc"]} == {"immediate"}
    assert {e["vulnerability"] for e in paths["/hook/ssvc"]} >= DEMO_KEV
    assert "x-mamori-signature" not in receiver.requests[0].headers  # no secret: not signed
    assert {s.id for s in list_subscriptions(store, "psirt")} == {high.id, ssvc.id}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_email_in_japanese_over_smtp(tmp_path: Path) -> None:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    got: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            got.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        store = demo_store(tmp_path)
        sub = add_subscription(store, "psirt", "email", "psirt@example.test", kev_only=True, lang="ja")
        compute_events(store)
        smtp = SmtpSettings("127.0.0.1", port, sender="mamori@example.test", security="none")
        report = deliver_pending(store, smtp=smtp)
    finally:
        controller.stop()
    assert (report.sent, report.messages) == (2, 2)
    assert len(got) == 2
    assert got[0].rcpt_tos == ["psirt@example.test"] and got[0].mail_from == "mamori@example.test"
    raw = got[0].content
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    subject_line = next(line for line in head.splitlines() if line.lower().startswith(b"subject:"))
    assert b"=?utf-8?" in subject_line.lower()  # RFC 2047 encoded, not raw UTF-8
    assert all(b < 0x80 for b in head)  # the header is 7-bit
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_charset() == "utf-8"
    subjects = sorted(str(email.message_from_bytes(e.content, policy=policy.default)["subject"]) for e in got)
    assert "【mamori】新しい検出: CVE-2021-44228（log4j-core@2.14.1、shop 2.1.0）" in subjects
    text = message.get_content()
    assert "CISA KEV 掲載: はい" in text and "SSVC 判定: immediate" in text
    assert {r["status"] for r in delivery_log(store, sub.id)} == {"sent"}


def test_email_without_smtp_settings_is_logged_as_failed_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "SECURITY"):
        monkeypatch.delenv(f"MAMORI_SMTP_{key}", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    store = demo_store(tmp_path)
    sub = add_subscription(store, "psirt", "email", "psirt@example.test")
    outcome = send_test(store, sub.id)
    assert (outcome.ok, outcome.error_class) == (False, "InputError")
    assert delivery_log(store, sub.id)[0]["status"] == "retry"


def test_slack_through_apprise(tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Slack incoming webhook gets Apprise's Slack body, with Slack's markup characters escaped (the test
    points Apprise's Slack host at the loopback receiver)."""
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", receiver.url.rsplit("/", 1)[0] + "/services")
    store = demo_store(tmp_path)
    sub = add_subscription(
        store,
        "psirt",
        "slack",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    )
    assert send_test(store, sub.id).ok
    (req,) = receiver.requests
    assert req.path == "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    assert "Test notification from mamori for team psirt" in req.body.decode()


def test_slack_and_teams_urls_are_checked(tmp_path: Path) -> None:
    from mamori.errors import InputError
    from mamori.notify.channels import apprise_service

    teams = (
        "https://prod-00.westeurope.logic.azure.com:443/workflows/643e69f83c8944438d68119179a10a64/triggers/"
        "manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDGYFr0z0eu"
    )
    service = apprise_service(teams)
    assert service.redirects is False and service.socket_read_timeout == 10.0
    with pytest.raises(InputError):
        apprise_service("https://example.com/not-a-teams-webhook")
    store = demo_store(tmp_path)
    with pytest.raises(InputError, match="https://"):
        add_subscription(store, "psirt", "slack", "http://hooks.slack.com/services/T/B/C")
    with pytest.raises(InputError, match="no user or password"):
        add_subscription(store, "psirt", "webhook", "https://user:pw@example.com/hook")
    with pytest.raises(InputError, match="only"):
        add_subscription(store, "psirt", "teams", teams, secret="0123456789abcdef0")


def _import(store: Store, path: Path) -> None:
    from mamori.vulndb import import_path

    import_path(store, path)


def test_kev_epss_and_ssvc_events(tmp_path: Path, shared_data: Path, receiver: Receiver) -> None:
    """After the first computation: the real KEV catalog adds CVE-2021-45046 (log4j) → ``kev_added`` and,
    exploitation now active, ``ssvc_change``; an EPSS rise of at least the threshold → ``epss_rise``."""
    store = demo_store(tmp_path)
    add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
    epss = tmp_path / "epss_scores-2026-12-06.csv"
    epss.write_text(
        "#model_version:v2025.03.14,score_date:2026-12-06T00:00:00+0000\ncve,epss,percentile\n"
        "CVE-2022-42889,0.02000,0.80000\nCVE-2020-8203,0.10000,0.90000\n",
        encoding="utf-8",
    )
    _import(store, epss)
    compute_events(store, baseline=True)
    _import(store, shared_data / "kev" / "known_exploited_vulnerabilities.json")
    epss.write_text(
        "#model_version:v2025.03.14,score_date:2026-12-07T00:00:00+0000\ncve,epss,percentile\n"
        "CVE-2022-42889,0.45000,0.99000\nCVE-2020-8203,0.15000,0.92000\n",
        encoding="utf-8",
    )
    _import(store, epss)
    computed = compute_events(store, epss_rise=0.1)
    kinds = {(e.kind, e.vuln_id) for e in computed.events}
    assert ("kev_added", "CVE-2021-45046") in kinds
    assert ("epss_rise", "CVE-2022-42889") in kinds
    assert ("epss_rise", "CVE-2020-8203") not in kinds  # +0.05 < 0.1
    assert ("new_finding", "CVE-2021-45046") not in kinds
    change = next(e for e in computed.events if e.kind == "ssvc_change" and e.vuln_id == "CVE-2021-45046")
    assert change.payload["ssvc_outcome_before"] != change.ssvc_outcome
    rise = next(e for e in computed.events if e.kind == "epss_rise")
    assert (rise.payload["epss_before"], rise.payload["epss"]) == (0.02, 0.45)
    # now in KEV: it fires the default gate's rule ``kev`` (a policy violation, sent only when asked for)
    assert ("policy_violation", "CVE-2021-45046") in kinds
    deliver_pending(store)
    sent = {(e["kind"], e["vulnerability"]) for r in receiver.requests for e in _events(r.body)}
    assert sent == {k for k in kinds if k[0] != "policy_violation"}
    assert compute_events(store).events == []


def test_sbom_quality_drop_between_releases(tmp_path: Path) -> None:
    """Release 2.2.0's SBOM lacks the supplier, author and timestamp that 2.1.0's has: lower NTIA score."""
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.portfolio import store_sbom

    store = demo_store(tmp_path)
    compute_events(store, baseline=True)
    doc = json.loads((demo_data() / DEMO_SBOM).read_text(encoding="utf-8"))
    doc["metadata"].pop("authors", None)
    doc["metadata"].pop("timestamp", None)
    doc["metadata"].pop("supplier", None)
    for c in doc.get("components", []):
        c.pop("supplier", None)
        c.pop("author", None)
    worse = tmp_path / "shop-2.2.0.cdx.json"
    worse.write_text(json.dumps(doc), encoding="utf-8")
    store_sbom(store, "shop", "2.2.0", worse, who="tester")
    computed = compute_events(store)
    (drop,) = [e for e in computed.events if e.kind == "sbom_quality_drop"]
    assert (drop.product, drop.release, drop.payload["previous_release"]) == ("shop", "2.2.0", "2.1.0")
    assert drop.payload["score"] < drop.payload["score_before"]
    assert [e for e in compute_events(store).events if e.kind == "sbom_quality_drop"] == []


def test_cli_add_list_test_log_remove(
    tmp_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    store = demo_store(tmp_path)
    db = str(tmp_path / "notify.db")
    store.engine.dispose()
    assert (
        main(["notify", "add", "webhook", receiver.url, "--team", "psirt", "--secret", SECRET, "--db", db])
        == 0
    )
    assert (
        main(
            [
                "notify",
                "add",
                "email",
                "psirt@example.test",
                "--team",
                "psirt",
                "--digest",
                "--lang",
                "ja",
                "--db",
                db,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["notify", "list", "--format", "json", "--db", db]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert [(r["channel"], r["mode"], r["signed"]) for r in rows] == [
        ("webhook", "immediate", True),
        ("email", "digest", False),
    ]
    assert SECRET not in out and "/hook" not in out  # neither the secret nor the URL's path
    assert main(["notify", "test", str(rows[0]["id"]), "--db", db]) == 0
    assert len(receiver.requests) == 1
    capsys.readouterr()
    assert main(["notify", "log", "--db", db]) == 0
    line = capsys.readouterr().out.strip()
    assert " webhook  sent  200  -  test:0" in line
    assert main(["notify", "remove", str(rows[1]["id"]), "--db", db]) == 0
    capsys.readouterr()
    assert main(["notify", "remove", "99", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "99" in err
    assert main(["notify", "add", "webhook", "file:///etc/passwd", "--team", "psirt", "--db", db]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["notify", "add", "pager", "x", "--team", "psirt", "--db", db]) == 2
    assert main(["notify", "add", "webhook", receiver.url, "--db", db]) == 2  # --team is required
    assert capsys.readouterr().err.count("\n") == 2
    assert main(["notify", "run", "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"{DEMO_FINDINGS + DEMO_POLICY} new events, {DEMO_FINDINGS} deliveries queued" in out
    assert len(receiver.requests) == 1 + DEMO_FINDINGS


def test_secrets_stay_out_of_logs_and_the_delivery_log(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token in the webhook's query and the signing secret appear in no log record, no delivery log
    row and no listing, even with every logger at DEBUG."""
    import logging

    caplog.set_level(logging.DEBUG)
    store = demo_store(tmp_path)
    token = "tok3n-in-the-query-9f8e7d"
    sub = add_subscription(
        store, "psirt", "webhook", f"{receiver.url}?token={token}", secret=SECRET, kev_only=True
    )
    compute_events(store)
    receiver.statuses = [500]
    assert deliver_pending(store, sleep=lambda _s: None).sent == len(DEMO_KEV)
    assert send_test(store, sub.id).ok
    assert len(receiver.requests) == len(DEMO_KEV) + 2
    assert all(r.path == f"/hook?token={token}" for r in receiver.requests)
    shown = json.dumps([delivery_log(store), [s.as_dict() for s in list_subscriptions(store)]])
    for secret in (token, SECRET):
        assert secret not in caplog.text
        assert secret not in shown
    assert main(["notify", "log", "--db", str(tmp_path / "notify.db")]) == 0
    assert token not in capsys.readouterr().out


def test_smtp_settings_from_the_environment_over_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from mamori.errors import InputError
    from mamori.notify.channels import smtp_settings

    for key in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "SECURITY"):
        monkeypatch.delenv(f"MAMORI_SMTP_{key}", raising=False)
    config = tmp_path / "config" / "mamori"
    config.mkdir(parents=True)
    (config / "mamori.toml").write_text(
        '[notify.smtp]\nhost = "smtp.example.test"\nport = 587\nuser = "mamori"\npassword = "p@ss:w/rd"\n'
        'from = "mamori@example.test"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    found = smtp_settings()
    assert (found.host, found.port, found.user, found.security) == (
        "smtp.example.test",
        587,
        "mamori",
        "starttls",
    )
    url = urlsplit(found.apprise_url("psirt@example.test"))
    assert (url.scheme, url.hostname, url.port, url.username) == (
        "mailto",
        "smtp.example.test",
        587,
        "mamori",
    )
    assert url.password == "p%40ss%3Aw%2Frd"  # quoted: the password's @ : / do not break the URL
    assert parse_qs(url.query)["mode"] == ["starttls"] and parse_qs(url.query)["to"] == ["psirt@example.test"]
    monkeypatch.setenv("MAMORI_SMTP_HOST", "relay.example.test")
    monkeypatch.setenv("MAMORI_SMTP_SECURITY", "ssl")
    env = smtp_settings()
    assert (env.host, env.security, env.user) == ("relay.example.test", "ssl", "mamori")
    assert env.apprise_url("a@example.test").startswith("mailtos://")
    monkeypatch.setenv("MAMORI_SMTP_SECURITY", "plaintext")
    with pytest.raises(InputError, match="starttls, ssl or none"):
        smtp_settings()

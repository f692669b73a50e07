"""Notifications end to end on the real RabbitMQ (skipped when it does not answer): a real ``mamori
worker`` process processes an uploaded SBOM (the demo product's: findings in CISA KEV), then computes the
events and delivers them to a webhook receiver on loopback (which verifies the HMAC signature with
:func:`mamori.notify.channels.verify`) and to an SMTP server on loopback (aiosmtpd). The first worker is
killed (SIGKILL of its process group) after delivering and before acknowledging the notification job:
RabbitMQ delivers that message again to a second worker, which sends nothing again — each event arrives
exactly once on each channel. Queue names of this test only (``MAMORI_QUEUE_PREFIX``)."""

from __future__ import annotations

import email
import json
import os
import signal
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jobs_support import BROKER, Workers, needs_broker, prefix, wait_for, workers
from mamori import accounts
from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
from mamori.jobs import records
from mamori.jobs.dispatch import Dispatcher
from mamori.jobs.settings import Queues
from mamori.notify import add_subscription, delivery_log
from mamori.notify.channels import verify
from mamori.portfolio import add_product, uploads
from mamori.store import open_store

__all__ = ["prefix", "workers"]  # fixtures

pytestmark = needs_broker
SECRET = "e2e-webhook-secret-0123456789abcdef"
DEMO_KEV = {"CVE-2021-44228", "CVE-2022-22965"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Hook:
    """A webhook receiver on loopback: each POST's signature checked (timestamp within 5 minutes)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refused = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
                ok = verify(
                    SECRET,
                    self.headers.get("X-Mamori-Timestamp") or "",
                    body,
                    self.headers.get("X-Mamori-Signature") or "",
                )
                if ok:
                    owner.received.append(
                        {"delivery": self.headers.get("X-Mamori-Delivery"), **json.loads(body)}
                    )
                else:
                    owner.refused += 1
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mamori"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _notify_jobs(store: Any) -> list[records.JobRecord]:
    from mamori.jobs.tables import JobRow

    j = JobRow.__table__
    with store.engine.connect() as conn:
        ids = list(conn.scalars(select(j.c.id).where(j.c.kind == "notify")))
    return [r for r in (records.get(store, i) for i in ids) if r is not None]


def test_upload_to_webhook_and_email_exactly_once_across_a_redelivery(
    tmp_path: Path, prefix: str, workers: Any
) -> None:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    mails: list[Any] = []

    class Smtp:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mails.append(envelope)
            return "250 OK"

    smtp_port = _free_port()
    controller = aiosmtpd.Controller(Smtp(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    hook = Hook()
    db = str(tmp_path / "e2e.db")
    load_demo_vulnerabilities(db)
    try:
        with open_store(db) as store:
            add_product(store, "shop", "ACME")
            accounts.create_team(store, "psirt")
            accounts.assign_product(store, "psirt", "shop")
            web = add_subscription(store, "psirt", "webhook", hook.url, secret=SECRET, kev_only=True)
            mail = add_subscription(store, "psirt", "email", "psirt@example.test", kev_only=True, lang="ja")
            data = (demo_data() / DEMO_SBOM).read_bytes()
            token = uploads.submit_upload(store, data, "shop.cdx.json", "shop", "2.1.0", True, "tester")
            w: Workers = workers(db)
            marker = tmp_path / "notified"
            env = {
                "MAMORI_SMTP_HOST": "127.0.0.1",
                "MAMORI_SMTP_PORT": str(smtp_port),
                "MAMORI_SMTP_FROM": "mamori@example.test",
                "MAMORI_SMTP_SECURITY": "none",
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
            }
            first = w.start(env={**env, "MAMORI_JOBS_FAULT": f"pause-after-notify:{marker}"})
            dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
            dispatcher.submit("upload", token=token)
            # the worker processed the upload, computed the events, delivered, and is paused before its ack
            wait_for(lambda: marker.exists() and marker.read_text(), "the notify job delivered", w.logs, 60)
            assert int(marker.read_text()) == first.pid
            assert len(hook.received) == len(DEMO_KEV), (hook.refused, delivery_log(store), w.logs())
            assert len(mails) == len(DEMO_KEV)
            (job,) = _notify_jobs(store)
            assert job.state == records.RUNNING
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its broker connection: RabbitMQ redelivers
            first.wait(timeout=30)
            w.start(env=env)
            done = wait_for(
                lambda: (j := _notify_jobs(store)) and j[0].state == records.DONE and j[0],
                "redelivered",
                w.logs,
                60,
            )
            assert done.attempts == 2  # the same message, run again
            assert done.result["events"] == 0 and done.result["sent"] == 0  # nothing new, nothing again
            dispatcher.shutdown()
            # exactly once per event on each channel
            assert hook.refused == 0
            vulns = sorted(e["vulnerability"] for body in hook.received for e in body["events"])
            assert vulns == sorted(DEMO_KEV)
            assert len({body["delivery"] for body in hook.received}) == len(DEMO_KEV)
            assert {e["kind"] for body in hook.received for e in body["events"]} == {"new_finding"}
            subjects = sorted(
                str(email.message_from_bytes(m.content, policy=policy.default)["subject"]) for m in mails
            )
            assert len(subjects) == len(DEMO_KEV) and all(
                s.startswith("【mamori】新しい検出") for s in subjects
            )
            assert all(m.rcpt_tos == ["psirt@example.test"] for m in mails)
            assert [r["status"] for r in delivery_log(store, web.id)] == ["sent"] * len(DEMO_KEV)
            assert [r["status"] for r in delivery_log(store, mail.id)] == ["sent"] * len(DEMO_KEV)
    finally:
        hook.close()
        controller.stop()


def test_the_api_test_message_is_a_job_of_a_worker(tmp_path: Path, prefix: str, workers: Any) -> None:
    """The team server with the real broker: ``POST …/subscriptions/{id}/test`` answers 202 with the job
    at once; a ``mamori worker`` sends the signed test message, and its try appears in the delivery log
    the answer names; the job is done."""
    from fastapi.testclient import TestClient

    from mamori.server.app import create_app
    from mamori.server.settings import ServerSettings

    hook = Hook()
    db = str(tmp_path / "api-test.db")
    try:
        with open_store(db) as store:
            add_product(store, "shop", "ACME")
            accounts.create_team(store, "psirt")
            accounts.assign_product(store, "psirt", "shop")
            sub = add_subscription(store, "psirt", "webhook", hook.url, secret=SECRET)
            key = accounts.create_api_key(store, "psirt", "security_manager")[1]
            w: Workers = workers(db)
            w.start()
            app = create_app(ServerSettings(db=db, broker_url=BROKER), store)
            with TestClient(app) as client:
                headers = {"X-Api-Key": key}
                answer = client.post(
                    f"/api/mamori/v1/notifications/subscriptions/{sub.id}/test", headers=headers
                )
                assert answer.status_code == 202, answer.text
                queued = answer.json()
                assert queued["state"] in ("queued", "running", "done"), queued
                log = client.get(queued["log"], headers=headers)
                (line,) = wait_for(
                    lambda: client.get(queued["log"], headers=headers).json(), "the test's try", w.logs, 60
                )
                assert log.status_code == 200
                assert (line["subscription"], line["status"], line["test"]) == (sub.id, "sent", True)
            job = wait_for(
                lambda: (r := records.get(store, queued["job"])) and r.state == records.DONE and r,
                "the notify-test job done",
                w.logs,
                60,
            )
            assert job.kind == "notify-test"
            assert hook.refused == 0 and len(hook.received) == 1
            assert [r["status"] for r in delivery_log(store, sub.id)] == ["sent"]
    finally:
        hook.close()

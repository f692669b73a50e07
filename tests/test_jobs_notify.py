"""A re-match run's end notifies: the job ``notify`` records the events the new findings give and delivers
them to the subscriptions (in process, and on a real ``mamori worker`` after a sharded run when RabbitMQ
answers); with no subscription it records nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from jobs_support import BROKER, Workers, broker_answers, prefix, wait_for, workers
from mamori.jobs import records
from mamori.jobs.dispatch import Dispatcher, run_inline
from mamori.jobs.settings import Queues
from mamori.jobs.tables import JobRow
from mamori.notify import add_subscription
from mamori.notify import tables as nt
from notify_support import SECRET, Receiver, demo_store, receiver

__all__ = ["prefix", "receiver", "workers"]  # fixtures used below


def _events(store: object) -> int:
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.scalar(select(func.count()).select_from(nt.EventRow.__table__)) or 0)


def test_notify_job_delivers_the_new_findings(tmp_path: Path, receiver: Receiver) -> None:
    with demo_store(tmp_path) as store:
        assert run_inline(store, "notify", {}) == {"subscriptions": 0, "events": 0, "messages": 0}
        assert _events(store) == 0  # nobody subscribed: nothing recorded
        add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
        result = run_inline(store, "notify", {}, job_id="n-1")
        # every event but the default policy's violations (sent only to subscriptions that ask for them)
        assert result["deliveries"] > 0 and result["messages"] == result["deliveries"] == len(
            receiver.requests
        )
        assert result["events"] > result["deliveries"]
        assert records.get(store, "n-1").state == records.DONE
        again = run_inline(store, "notify", {})
        assert again["events"] == again["messages"] == 0 and len(receiver.requests) == result["deliveries"]


def test_a_sharded_run_on_a_worker_ends_with_its_notifications(
    tmp_path: Path, receiver: Receiver, prefix: str, workers: object
) -> None:
    import pytest

    if not broker_answers():
        pytest.skip("no RabbitMQ answers on " + BROKER)
    db = str(tmp_path / "notify.db")
    with demo_store(tmp_path, db=db) as store:
        add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
        w: Workers = workers(db)  # type: ignore[operator]
        w.start(pool="prefork", concurrency=2)
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        dispatcher.submit("rematch", size=3)
        j = JobRow.__table__

        def notified() -> Any:
            with store.engine.connect() as conn:
                return conn.scalar(select(j.c.id).where(j.c.kind == "notify", j.c.state == records.DONE))

        job = records.get(store, wait_for(notified, "the run's notify job done", w.logs))
        assert job.result["events"] > 0  # every finding of the first run is new
        assert job.result["messages"] == job.result["deliveries"] == len(receiver.requests)
        assert all(r.headers["x-mamori-signature"].startswith("sha256=") for r in receiver.requests)
        dispatcher.shutdown()


def test_the_test_message_job_in_process_and_on_a_worker(
    tmp_path: Path, receiver: Receiver, prefix: str, workers: object
) -> None:
    """The web interface's test button queues ``notify-test``: in process it sends the test message and
    logs it; on a worker over RabbitMQ the same; a removed subscription sends nothing."""
    import pytest

    from mamori.notify import delivery_log, remove_subscription

    db = str(tmp_path / "notify.db")
    with demo_store(tmp_path, db=db) as store:
        sub = add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET)
        result = run_inline(store, "notify-test", {"subscription_id": sub.id}, job_id="t-1")
        assert result == {"subscription": sub.id, "sent": True, "error_class": None}
        assert len(receiver.requests) == 1 and delivery_log(store, sub.id)[0]["test"] is True
        gone = add_subscription(store, "psirt", "webhook", receiver.url)
        remove_subscription(store, gone.id)
        assert run_inline(store, "notify-test", {"subscription_id": gone.id})["sent"] is False
        if not broker_answers():
            pytest.skip("no RabbitMQ answers on " + BROKER)
        w: Workers = workers(db)  # type: ignore[operator]
        w.start(pool="prefork", concurrency=1)
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        job_id = dispatcher.submit("notify-test", subscription_id=sub.id)

        def done() -> Any:
            found = records.get(store, job_id)
            return found if found is not None and found.state == records.DONE else None

        wait_for(done, "the notify-test job done", w.logs)
        assert len(receiver.requests) == 2 and len(delivery_log(store, sub.id)) == 2
        dispatcher.shutdown()

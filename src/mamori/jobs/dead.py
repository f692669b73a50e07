"""The dead-letter queue: list the messages RabbitMQ dead-lettered, and send them again.

Listing takes each message without acknowledging it and closes the channel: every message goes back to
the queue. Replaying publishes a message again to the queue it died in (RabbitMQ's ``x-death`` header
names it) with its headers and body as they were, then acknowledges the dead copy; the job's row is
``queued`` again with its count of starts from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamori.jobs.settings import Queues

LIST_LIMIT = 10_000


@dataclass(slots=True)
class DeadLetter:
    job_id: str | None
    task: str | None
    queue: str | None
    reason: str | None
    count: int
    body: bytes
    headers: dict[str, Any]
    properties: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "task": self.task,
            "queue": self.queue,
            "reason": self.reason,
            "deaths": self.count,
            "size": len(self.body),
        }


def _letter(message: Any) -> DeadLetter:
    headers = dict(message.headers or {})
    deaths = headers.get("x-death") or []
    first = deaths[0] if deaths and isinstance(deaths[0], dict) else {}
    return DeadLetter(
        job_id=str(headers.get("id") or message.properties.get("correlation_id") or "") or None,
        task=str(headers.get("task")) if headers.get("task") else None,
        queue=str(first.get("queue")) if first.get("queue") else None,
        reason=str(first.get("reason")) if first.get("reason") else None,
        count=int(first.get("count") or 1),
        body=bytes(message.body if isinstance(message.body, bytes) else str(message.body).encode()),
        headers=headers,
        properties=dict(message.properties or {}),
    )


def _dead_queue(conn: Any, queues: Queues) -> Any:
    from mamori.jobs.celeryapp import topology

    _work, dead = topology(queues)
    return dead.bind(conn.default_channel)


def list_dead(broker: str, queues: Queues | None = None, limit: int = LIST_LIMIT) -> list[DeadLetter]:
    """The dead letters, oldest first (none is taken off the queue)."""
    from kombu import Connection

    queues = queues or Queues.from_env()
    found: list[DeadLetter] = []
    with Connection(broker, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)
        queue = _dead_queue(conn, queues)
        queue.declare()
        while len(found) < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            found.append(_letter(message))
        # closing the channel without acknowledging puts every message back
    return found


def replay(
    broker: str, queues: Queues | None = None, job_ids: set[str] | None = None, store: Any = None
) -> list[DeadLetter]:
    """Send the dead letters (all, or those of ``job_ids``) again to the queues they died in; those sent."""
    from kombu import Connection, Exchange, Producer

    from mamori.jobs import records

    queues = queues or Queues.from_env()
    sent: list[DeadLetter] = []
    with Connection(broker, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)
        queue = _dead_queue(conn, queues)
        queue.declare()
        producer = Producer(conn.channel(), exchange=Exchange(queues.exchange, type="direct", durable=True))
        taken = 0
        while taken < LIST_LIMIT:
            message = queue.get(no_ack=False)
            if message is None:
                break
            taken += 1
            letter = _letter(message)
            if job_ids is not None and letter.job_id not in job_ids:
                continue  # left unacknowledged: back to the queue when the channel closes
            target = letter.queue if letter.queue in queues.names else queues.default
            headers = {k: v for k, v in letter.headers.items() if not k.startswith("x-")}
            props = letter.properties
            if store is not None and letter.job_id:
                records.replayed(store, letter.job_id)
            producer.publish(
                letter.body,
                routing_key=target,
                headers=headers,
                content_type=props.get("content_type") or message.content_type,
                content_encoding=props.get("content_encoding") or message.content_encoding,
                correlation_id=props.get("correlation_id"),
                delivery_mode=2,
            )
            message.ack()
            sent.append(letter)
    return sent

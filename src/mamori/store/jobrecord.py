"""What every background-job record of the store shares: its times, its claim, its requeue, its end and its
refusal.

A job record is a row with an id, a state, when it was submitted, started and finished, the input's
bytes (zlib) kept until it ends, and, when it failed, why: an SBOM upload (``sbom_upload``,
:mod:`mamori.portfolio.uploads`), a received bundle (``bundle_job``, :mod:`mamori.bundle.jobs`) and a
dispatched job (``job``, :mod:`mamori.jobs.records`, which keeps an error's class name only).

A refusal is kept twice: ``error`` is one line in English (what machine clients and rows written before
the column ``error_message`` show), and ``error_message`` is the same line language-neutral (JSON: the
gettext msgid and its values, :func:`mamori.i18n.phrase_data`), so that it is read in the reader's
language, whatever language the worker that refused it runs in (:meth:`Refusal.text`). Only messages made
inside :func:`mamori.i18n.recording` can be kept language-neutral; the others keep their line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Table, select
from sqlalchemy.engine import Row

from mamori.display import visible
from mamori.errors import MamoriError
from mamori.i18n import error_data, phrase_data, phrase_text

if TYPE_CHECKING:
    from mamori.store import Store

STORED_LIMIT = 4_000  # characters of a refusal's JSON kept (longer ones keep their line only)


def now_ms() -> str:
    """UTC now to the millisecond (``2026-12-07T12:00:00.123Z``): Dependency-Track clients tell one import
    from the next by this time."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line(text: str, limit: int) -> str:
    return visible(" ".join(str(text).split()))[:limit]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a job was refused: ``line`` as stored (English when it could be said again, else as the worker
    said it) and ``data`` (None for a line only)."""

    line: str
    data: dict[str, Any] | None = None
    limit: int = 2000

    def text(self, lang: str) -> str:
        """The refusal in ``lang`` (its line when it has no language-neutral form)."""
        said = phrase_text(self.data, lang) if self.data is not None else None
        return self.line if said is None else _line(said, self.limit)

    def values(self) -> dict[str, Any]:
        """The columns ``error`` and ``error_message`` of the record."""
        raw = orjson.dumps(self.data).decode() if self.data is not None else None
        return {"error": self.line, "error_message": raw if raw and len(raw) <= STORED_LIMIT else None}


class Refused:
    """What a job record's status shares (a dataclass's base): ``error``, the stored line, and
    ``refusal``, the same said again in any language."""

    __slots__ = ()

    error: str | None
    refusal: Refusal | None

    def error_in(self, lang: str) -> str | None:
        """Why the job was refused, in ``lang`` (a record stored before ``error_message``: its line)."""
        return self.refusal.text(lang) if self.refusal is not None else self.error


def refusal(reason: BaseException | str, limit: int = 2000) -> Refusal:
    """The refusal of an error, or of a text (a :class:`mamori.i18n.Phrase` can be said again), in one line
    of at most ``limit`` characters, control characters made visible."""
    if isinstance(reason, BaseException):
        data = error_data(reason)
        fallback = reason.message("en") if isinstance(reason, MamoriError) else str(reason)
    else:
        data = phrase_data(reason)
        fallback = reason
    english = phrase_text(data, "en") if data is not None else None
    return Refusal(_line(english if english is not None else fallback, limit), data, limit)


def stored_refusal(line: str | None, raw: str | None, limit: int = 2000) -> Refusal | None:
    """The refusal a record keeps (None: it has none); a record written before ``error_message`` (or with
    a value that is not JSON) keeps its line only."""
    if line is None:
        return None
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        data = None
    return Refusal(line, data if isinstance(data, dict) else None, limit)


def claim(conn: Any, table: Table, column: str, key: Any, *, state: str, to: str) -> Row[Any] | None:
    """Take up the record whose ``column`` (its id or token) is ``key`` when it is in ``state``: it goes to
    ``to`` with its start time, in the caller's transaction; its row, or None when another took it up or
    it ended."""
    pk = table.c[column]
    taken = conn.execute(
        table.update().where(pk == key, table.c.state == state).values(state=to, started_at=now_ms())
    ).rowcount
    return conn.execute(select(table).where(pk == key)).first() if taken == 1 else None


def requeue(conn: Any, table: Table, state: str, column: str | None = None, key: Any = None) -> int:
    """Put back to ``queued`` the records left in ``state`` (``processing``, ``running``) by a process
    that stopped (only the one whose ``column`` is ``key`` when given), in the caller's transaction; how
    many."""
    where = [table.c.state == state]
    if column is not None:
        where.append(table.c[column] == key)
    return int(conn.execute(table.update().where(*where).values(state="queued", started_at=None)).rowcount)


def left_queued(store: Store, table: Table, column: str, older_than: float, order: str) -> list[Any]:
    """The ``column`` (id or token) of the records left ``queued`` longer than ``older_than`` seconds (their
    message was never sent: the broker was away when they came), ordered by ``order``, to be submitted
    again."""
    limit = (datetime.now(UTC) - timedelta(seconds=older_than)).isoformat()
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(table.c[column], table.c.submitted_at)
            .where(table.c.state == "queued")
            .order_by(table.c[order])
        )
        return [key for key, at in rows if at and at.replace("Z", "+00:00") < limit]


def end_values(state: str, refused: Refusal | None = None, **values: Any) -> dict[str, Any]:
    """The columns a record's end writes: ``state``, the finish time, the input's bytes dropped, and the
    refusal (cleared when there is none)."""
    out = {**values, "state": state, "finished_at": now_ms(), "content": None}
    out.update(refused.values() if refused is not None else {"error": None, "error_message": None})
    return out


__all__ = [
    "Refusal",
    "Refused",
    "claim",
    "end_values",
    "left_queued",
    "now_ms",
    "refusal",
    "requeue",
    "stored_refusal",
]

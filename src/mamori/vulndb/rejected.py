"""A record that a parser skipped: which file, which record, why. Counted and reported, never silent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mamori.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rejected:
    name: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.record}: {self.reason}" if self.record else f"{self.name}: {self.reason}"


def guarded(name: str, record: str, make: Callable[[], T]) -> T | Rejected:
    """One record of a multi-record document: a bad one becomes a :class:`Rejected` note, so the
    records after it are still read (a bad record never stops the others)."""
    try:
        return make()
    except InputError as exc:
        return Rejected(name, record, exc.problem.removeprefix(f"{record}: "))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a shape the parser did not expect
        return Rejected(name, record, f"malformed record ({type(exc).__name__}: {exc})")

"""A record that a parser skipped: which file, which record, why. Counted and reported, never silent.

:class:`Rejected` records make an import incomplete (exit 1); :class:`DataWarning` lines do not."""

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


@dataclass(frozen=True, slots=True)
class DataWarning:
    """A malformed line of upstream data that was skipped with a warning: counted and shown, but it
    does not fail the import (an upstream table's stray line is no lost record of ours)."""

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

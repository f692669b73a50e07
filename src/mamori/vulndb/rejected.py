"""A record that a parser skipped: which file, which record, why. Counted and reported, never silent.

:class:`Rejected` records make an import incomplete (exit 1); :class:`DataWarning` lines do not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mamori.errors import InputError
from mamori.i18n import _

T = TypeVar("T")


class RecordTypeProblem(InputError):
    """A field of one record holds the wrong type: the key path and the reason, in English and Japanese
    (raised by :mod:`mamori.vulndb.shapes`)."""

    def __init__(self, path: str | None, record: str, where: str, texts: dict[str, str]) -> None:
        self.record = record
        self.where = where
        self.texts = texts
        super().__init__(path, f"{record}: {texts['en']}" if record else texts["en"])

    def reason(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts["en"]

    def message(self, lang: str) -> str:
        problem = f"{self.record}: {self.reason(lang)}" if self.record else self.reason(lang)
        return f"{self.path}: {problem}" if self.path else problem


@dataclass(frozen=True, slots=True)
class Rejected:
    name: str
    record: str
    reason: str
    reason_ja: str = ""  # the reason in Japanese, where mamori words it (a wrongly typed field)

    def __str__(self) -> str:
        return self.line("en")

    def line(self, lang: str) -> str:
        """``file: record: reason`` in ``lang`` (the English reason when there is no Japanese one)."""
        reason = self.reason_ja if lang == "ja" and self.reason_ja else self.reason
        return f"{self.name}: {self.record}: {reason}" if self.record else f"{self.name}: {reason}"

    @classmethod
    def of(cls, name: str, record: str, exc: InputError) -> Rejected:
        """The record rejected for ``exc`` (its problem without the record's own label)."""
        if isinstance(exc, RecordTypeProblem):
            return cls(name, record or exc.record, exc.reason("en"), exc.reason("ja"))
        return cls(name, record, exc.problem.removeprefix(f"{record}: "))


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
        return Rejected.of(name, record, exc)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a shape the parser did not expect
        return Rejected(
            name, record, _("malformed record ({kind}: {exc})").format(kind=type(exc).__name__, exc=exc)
        )

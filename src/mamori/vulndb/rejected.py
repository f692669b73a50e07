"""A record that a parser skipped: which file, which record, why. Counted and reported, never silent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rejected:
    name: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.record}: {self.reason}"

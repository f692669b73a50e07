"""Errors that the CLI turns into one clear line and a non-zero exit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class MamoriError(Exception):
    """Base class for every error mamori reports to a person."""

    #: the exit code of a command that stops on this error (2: bad input, 3: cannot judge)
    exit_code: int = 2

    def message(self, lang: str) -> str:
        """The error in ``lang`` (ja or en) where it has both, else as it was raised."""
        return str(self)


class InputError(MamoriError):
    """Bad input: the file and the problem, in one line."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class UnsupportedFormat(InputError):
    """The file is not a format mamori reads (or not an SBOM at all)."""


class StoreError(MamoriError):
    """The store cannot be used: another program's database, a damaged or newer one, or the connection to it
    was lost. ``texts`` holds the problem in Japanese and English; the CLI prints the user's language.
    Not an :class:`InputError`, so code that skips one bad input file never swallows it."""

    def __init__(self, where: str, texts: Mapping[str, str], *, exit_code: int = 2) -> None:
        self.where = where
        self.texts = dict(texts)
        self.exit_code = exit_code
        super().__init__(f"{where}: {self.texts['en']}")

    @property
    def problem(self) -> str:
        return self.texts["en"]

    def message(self, lang: str) -> str:
        return f"{self.where}: {self.texts.get(lang) or self.texts['en']}"

"""Errors that the CLI turns into one clear line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class MamoriError(Exception):
    """Base class for every error mamori reports to a person."""


class InputError(MamoriError):
    """Bad input: the file and the problem, in one line."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class UnsupportedFormat(InputError):
    """The file is not a format mamori reads (or not an SBOM at all)."""

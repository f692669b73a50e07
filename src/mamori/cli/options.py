"""Small checks shared by the CLI modules (kept light: imported at start-up)."""

from __future__ import annotations

from mamori.errors import InputError


def choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    """``value`` when it is one of ``allowed`` (None passes through), else a one-line InputError."""
    if value is not None and value not in allowed:
        raise InputError(None, f"{option}: expected one of {', '.join(allowed)}, got {value!r}")
    return value

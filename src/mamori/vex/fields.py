"""Typed access to parsed JSON for the VEX readers: every wrong type or value is an InputError naming the file.

``where`` strings use JSON-pointer-like paths (``vulnerabilities[2].analysis.state``) so a person can
find the problem in the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from mamori.errors import InputError
from mamori.i18n import _

_SHOWN = 60


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class Fields:
    """Helpers bound to one input file."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> NoReturn:
        raise InputError(self.path, f"{where}: {problem}" if where else problem)

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if type(value) is not dict:
            self.fail(where, _("expected an object, got {type}").format(type=type(value).__name__))
        return value

    def get_obj(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
        value = parent.get(key)
        return None if value is None else self.obj(value, f"{where}.{key}" if where else key)

    def get_list(self, parent: dict[str, Any], key: str, where: str) -> list[Any]:
        value = parent.get(key)
        if value is None:
            return []
        if type(value) is not list:
            self.fail(
                f"{where}.{key}" if where else key,
                _("expected a list, got {type}").format(type=type(value).__name__),
            )
        return value

    def get_str(self, parent: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
        value = parent.get(key)
        at = f"{where}.{key}" if where else key
        if value is None:
            if required:
                self.fail(at, _("is missing"))
            return None
        if type(value) is not str:
            self.fail(at, _("expected a string, got {type}").format(type=type(value).__name__))
        if required and not value.strip():
            self.fail(at, _("is empty"))
        return value

    def get_int(self, parent: dict[str, Any], key: str, where: str) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if type(value) is not int:
            self.fail(
                f"{where}.{key}" if where else key,
                _("expected an integer, got {shown}").format(shown=shown(value)),
            )
        return value

    def get_time(self, parent: dict[str, Any], key: str, where: str) -> datetime | None:
        text = self.get_str(parent, key, where)
        if text is None:
            return None
        return self.time(text, f"{where}.{key}" if where else key)

    def time(self, text: str, where: str) -> datetime:
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            self.fail(where, _("not an ISO 8601 date-time: {shown}").format(shown=shown(text)))
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def strings(self, parent: dict[str, Any], key: str, where: str) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(self.get_list(parent, key, where)):
            if type(item) is not str:
                self.fail(
                    f"{where}.{key}[{i}]",
                    _("expected a string, got {type}").format(type=type(item).__name__),
                )
            out.append(item)
        return out


def iso(value: datetime) -> str:
    """UTC ISO 8601 with a ``Z``; microseconds only when present."""
    utc = value.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return utc.strftime(fmt)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)

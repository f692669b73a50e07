"""Words people read in the contract outputs, in Japanese and English (data/contract/messages.yaml)."""

from __future__ import annotations

from mamori.i18n import Messages

MESSAGES = Messages("data/contract/messages.yaml")


def pair(group: str, key: str) -> dict[str, str]:
    """The ``{"ja", "en"}`` entry ``group.key``."""
    return MESSAGES.pair(group, key)


def text(group: str, key: str, lang: str, **values: object) -> str:
    """One message in ``lang`` with ``{placeholders}`` filled in."""
    return MESSAGES.text(lang, group, key, **values)

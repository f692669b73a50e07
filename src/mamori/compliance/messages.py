"""Words people read in the compliance outputs, in Japanese and English (data/compliance/messages.yaml)."""

from __future__ import annotations

from mamori.i18n import Lang, Messages

MESSAGES = Messages("data/compliance/messages.yaml")


def both(key: str) -> dict[str, str]:
    """The ``{"ja", "en"}`` entry at a dotted key such as ``status.partial``."""
    return MESSAGES.pair(*key.split("."))


def t(key: str, lang: Lang, **values: object) -> str:
    """One message in ``lang`` with ``{placeholders}`` filled in."""
    return MESSAGES.text(lang, *key.split("."), **values)

"""Bilingual (en/ja) words of the scan reports: data/scan/messages.yaml, ``text(lang, *path, **values)``."""

from __future__ import annotations

from mamori.i18n import Messages

MESSAGES = Messages("data/scan/messages.yaml")


def text(lang: str, *path: str, **values: object) -> str:
    """The entry at ``path`` in ``lang`` (English when the language is unknown), placeholders filled."""
    return MESSAGES.text(lang, *path, **values)

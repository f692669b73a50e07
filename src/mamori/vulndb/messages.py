"""Bilingual (en/ja) words of the ``mamori db`` commands, loaded from data/vulndb/messages.yaml."""

from __future__ import annotations

from mamori.i18n import Messages

MESSAGES = Messages("data/vulndb/messages.yaml")


def text(lang: str, *path: str, **values: object) -> str:
    """One message in ``lang`` (en or ja), ``{placeholders}`` filled from ``values``."""
    return MESSAGES.text(lang, *path, **values)

"""Bilingual (en/ja) words about the store itself, loaded from data/store/messages.yaml."""

from __future__ import annotations

from mamori.i18n import Messages

MESSAGES = Messages("data/store/messages.yaml")


def texts(*path: str, **values: object) -> dict[str, str]:
    """The message at ``path`` in Japanese and English, ``{placeholders}`` filled from ``values``."""
    return {lang: MESSAGES.text(lang, *path, **values) for lang in ("ja", "en")}

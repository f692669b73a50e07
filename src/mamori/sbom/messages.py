"""Bilingual (en/ja) words for the SBOM check, diff and merge commands, loaded from data/sbom/messages.yaml."""

from __future__ import annotations

from mamori.i18n import Messages

LANGS = ("en", "ja")
MESSAGES = Messages("data/sbom/messages.yaml", strip=True, langs=LANGS)


def bilingual(*path: str) -> dict[str, str]:
    """The {"en": ..., "ja": ...} entry at ``path`` (e.g. ``"elements", "supplier", "missing"``)."""
    return MESSAGES.pair(*path)


def text(lang: str, *path: str, **values: object) -> str:
    """One message in ``lang``, with ``{placeholders}`` filled from ``values``."""
    return MESSAGES.text(lang, *path, **values)


def label(element: str, lang: str) -> str:
    return text(lang, "elements", element, "label")

"""Bilingual (en/ja) words for the SBOM check, diff and merge commands, loaded from data/sbom/messages.yaml."""

from __future__ import annotations

from functools import cache
from typing import Any

from mamori.sbom.data import load_data

LANGS = ("en", "ja")


@cache
def _messages() -> dict[str, Any]:
    return load_data("messages.yaml")


def bilingual(*path: str) -> dict[str, str]:
    """The {"en": ..., "ja": ...} entry at ``path`` (e.g. ``"elements", "supplier", "missing"``)."""
    node: Any = _messages()
    for part in path:
        node = node[part]
    return {lang: str(node[lang]).strip() for lang in LANGS}


def text(lang: str, *path: str, **values: object) -> str:
    """One message in ``lang``, with ``{placeholders}`` filled from ``values``."""
    message = bilingual(*path)[lang if lang in LANGS else "en"]
    return message.format(**values) if values else message


def label(element: str, lang: str) -> str:
    return text(lang, "elements", element, "label")

"""Bilingual (en/ja) words for the SBOM check, diff and merge commands, loaded from data/sbom/messages.yaml."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("en", "ja")


@cache
def _messages() -> dict[str, Any]:
    text = resources.files("mamori").joinpath("data/sbom/messages.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


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

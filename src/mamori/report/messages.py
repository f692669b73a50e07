"""Bilingual (en/ja) words of the scan reports: data/scan/messages.yaml, ``text(lang, *path, **values)``."""

from __future__ import annotations

from functools import cache, reduce
from importlib import resources
from typing import Any

import yaml

MESSAGES = "data/scan/messages.yaml"


@cache
def _catalog() -> dict[str, Any]:
    return yaml.safe_load(resources.files("mamori").joinpath(MESSAGES).read_text(encoding="utf-8"))


def text(lang: str, *path: str, **values: object) -> str:
    """The entry at ``path`` in ``lang`` (English when the language is unknown), placeholders filled."""
    entry: dict[str, str] = reduce(lambda node, key: node[key], path, _catalog())
    message = entry.get(lang) or entry["en"]
    return message.format(**values) if values else message

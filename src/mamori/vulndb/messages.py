"""Bilingual (en/ja) words of the ``mamori db`` commands, loaded from data/vulndb/messages.yaml."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("en", "ja")


@cache
def _messages() -> dict[str, Any]:
    text = resources.files("mamori").joinpath("data/vulndb/messages.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def text(lang: str, *path: str, **values: object) -> str:
    """One message in ``lang`` (en or ja), ``{placeholders}`` filled from ``values``."""
    node: Any = _messages()
    for part in path:
        node = node[part]
    message = str(node[lang if lang in LANGS else "en"])
    return message.format(**values) if values else message

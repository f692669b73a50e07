"""Bilingual (en/ja) words of the portfolio commands: data/portfolio/messages.yaml."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def _words() -> dict[str, Any]:
    source = resources.files("mamori").joinpath("data/portfolio/messages.yaml")
    return yaml.safe_load(source.read_text(encoding="utf-8"))


def text(lang: str, section: str, key: str, **values: object) -> str:
    """``section.key`` in ``lang`` (English for any other language), placeholders filled."""
    entry = _words()[section][key]
    message = str(entry.get(lang) or entry["en"])
    return message.format(**values) if values else message

"""Words people read in the compliance outputs, in Japanese and English (data/compliance/messages.yaml)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from mamori.compliance.catalog import Lang


@cache
def _table() -> dict[str, Any]:
    text = resources.files("mamori").joinpath("data/compliance/messages.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def both(key: str) -> dict[str, str]:
    """The ``{"ja", "en"}`` entry at a dotted key such as ``status.partial``."""
    node: Any = _table()
    for part in key.split("."):
        node = node[part]
    return {"ja": str(node["ja"]), "en": str(node["en"])}


def t(key: str, lang: Lang, **values: object) -> str:
    """One message in ``lang`` with ``{placeholders}`` filled in."""
    text = both(key)[lang]
    return text.format(**values) if values else text

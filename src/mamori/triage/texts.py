"""Bilingual texts of triage output, from ``mamori/data/triage/messages.yaml``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from mamori.packaged import load_yaml_text


@cache
def _messages() -> dict[str, Any]:
    text = (resources.files("mamori") / "data" / "triage" / "messages.yaml").read_text(encoding="utf-8")
    return load_yaml_text(text)


def basis_label(basis: str, lang: str, short: bool = False) -> str:
    return str(_messages()["basis_short" if short else "basis"][basis][lang])


def text(key: str, lang: str, **values: Any) -> str:
    template = str(_messages()["text"][key][lang])
    return template.format(**values) if values else template


def change_label(change: str, lang: str) -> str:
    return str(_messages()["text"]["record_change"][change][lang])


def state_label(status: str, lang: str) -> str:
    """The words of a finding's triage status (open, affected, not_affected, fixed, under_investigation)."""
    entry = _messages()["states"].get(status)
    return str(entry[lang if lang in entry else "en"]) if entry else status

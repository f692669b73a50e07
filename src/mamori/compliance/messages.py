"""Words people read in the compliance outputs, in Japanese and English (data/compliance/messages.yaml)."""

from __future__ import annotations

from typing import Any

from mamori.i18n import Lang, Messages

MESSAGES = Messages("data/compliance/messages.yaml")


def both(key: str) -> dict[str, str]:
    """The ``{"ja", "en"}`` entry at a dotted key such as ``status.partial``."""
    return MESSAGES.pair(*key.split("."))


def t(key: str, lang: Lang, **values: object) -> str:
    """One message in ``lang`` with ``{placeholders}`` filled in."""
    return MESSAGES.text(lang, *key.split("."), **values)


def label(group: str, key: str, lang: Lang) -> str:
    """The name people read for a catalog key (``kind``, ``framework``, ``value``); the key itself if unnamed."""
    entry = MESSAGES.table().get(group, {}).get(key)
    if not isinstance(entry, dict):
        return key
    return str(entry.get(lang) or entry.get("en") or key)


def guideline_name(catalog: Any, key: str, lang: Lang) -> str:
    """The title of a Japanese guideline the SSDF mapping names by key (``meti_mgmt`` ...)."""
    names = (catalog.extra.get("mapping_guidelines") or {}).get("guidelines") or {}
    entry = names.get(key) or {}
    return str(entry.get("title_ja" if lang == "ja" else "title_en") or key)


def key_word(section: str, key: str, lang: Lang) -> str:
    """A catalog key in words (an item kind, a catalog name, an applicability, level or periodicity value)
    through :func:`label`; roles (``roles``) in Japanese only, as the guideline names them; a key the file
    does not name as it is."""
    if section == "roles":
        entry = MESSAGES.table()["role"].get(key) if lang == "ja" else None
        return str(entry[lang]) if entry else key
    return label(section if section in ("kind", "framework") else "value", key, lang)

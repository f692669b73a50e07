"""Words people read in the compliance outputs, in Japanese and English (data/compliance/messages.yaml)."""

from __future__ import annotations

from mamori.i18n import Lang, Messages

MESSAGES = Messages("data/compliance/messages.yaml")


def both(key: str) -> dict[str, str]:
    """The ``{"ja", "en"}`` entry at a dotted key such as ``status.partial``."""
    return MESSAGES.pair(*key.split("."))


def t(key: str, lang: Lang, **values: object) -> str:
    """One message in ``lang`` with ``{placeholders}`` filled in."""
    return MESSAGES.text(lang, *key.split("."), **values)


def key_word(section: str, key: str, lang: Lang) -> str:
    """A catalog key (an item kind, an applicability or periodicity value, a catalog name such as
    ``guideline``) in words: ``key.<section>`` of the message file (roles: ``role``, in Japanese only);
    a key the file does not name as it is."""
    table = MESSAGES.table()
    if section == "roles":
        entry = table["role"].get(key) if lang == "ja" else None
    else:
        entry = table["key"].get(section, {}).get(key)
    return str(entry[lang]) if entry else key

"""Bilingual (en/ja) words of the scan and its reports (data/scan/messages.yaml).

The scan layer owns the file (the reasons a component was not evaluated and the coverage lines are
worded here); :mod:`mamori.report.messages` reads the same file for the reports.
"""

from __future__ import annotations

from mamori.display import visible
from mamori.i18n import Messages

MESSAGES = Messages("data/scan/messages.yaml")


def text(lang: str, *path: str, **values: object) -> str:
    """The entry at ``path`` in ``lang`` (English when the language is unknown), placeholders filled."""
    return MESSAGES.text(lang, *path, **values)


__all__ = ["MESSAGES", "text", "visible"]

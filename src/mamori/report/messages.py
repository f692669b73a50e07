"""Bilingual (en/ja) words of the scan reports: data/scan/messages.yaml, ``text(lang, *path, **values)``."""

from __future__ import annotations

from mamori.scan.messages import MESSAGES, text, visible

__all__ = ["MESSAGES", "text", "visible"]

"""Lenient reading of SPDX agent strings typed by people into spreadsheets.

"Organization: ACME (oss@acme.example)", "Tool: mamori-0.1.0", Japanese prefixes (組織: / 個人: / ツール:) and bare
names (read as organisations) are all accepted. Writing uses mamori.sbom.spdx.mapping.format_actor / format_tool.
"""

from __future__ import annotations

import re

from mamori.model import Contact, Tool
from mamori.sbom.spdx.mapping import NOASSERTION, parse_tool

_PREFIX = re.compile(
    r"^\s*(person|organization|organisation|tool|個人|組織|団体|ツール)\s*[:：]\s*(.*)$", re.I | re.S
)
_EMAIL = re.compile(r"^(.*?)\s*[(<（]\s*([^()<>（）\s]*@[^()<>（）\s]*)\s*[)>）]\s*$", re.S)
_EMPTY_PARENS = re.compile(r"\s*[(（]\s*[)）]\s*$")
_KINDS = {"person": "person", "個人": "person", "tool": "tool", "ツール": "tool"}


def parse_agent(text: str, default_kind: str = "organization") -> Contact | Tool | None:
    """One agent; a bare name is an organisation. NOASSERTION and empty text give None."""
    text = text.strip()
    if not text or text.upper() in (NOASSERTION, "NONE"):
        return None
    kind = default_kind
    match = _PREFIX.match(text)
    if match:
        kind = _KINDS.get(match.group(1).casefold(), "organization")
        text = match.group(2).strip()
        if not text or text.upper() == NOASSERTION:
            return None
    text = _EMPTY_PARENS.sub("", text)
    if not text:
        return None
    if kind == "tool":
        return parse_tool(text)
    email = _EMAIL.match(text)
    if email and email.group(1):
        return Contact(email.group(1).strip(), email=email.group(2) or None, kind=kind)
    return Contact(text, kind=kind)


def parse_contact(text: str) -> Contact | None:
    """An agent that must be a person or organisation (a supplier); a Tool prefix is read as a name."""
    agent = parse_agent(text)
    if isinstance(agent, Tool):
        return Contact(agent.name if agent.version is None else f"{agent.name}-{agent.version}")
    return agent

"""A case from an e-mail (``.eml``, RFC 5322/MIME): subject, sender, date, Message-ID and the text body.

A message sent by a coordinator (the sender's domain is one of :data:`COORDINATORS`, e.g. JPCERT/CC under
the Information Security Early Warning Partnership) becomes a ``coordinator`` case with the coordinator's
own case number (``JVNVU#…``, ``JPCERT#…``) as the channel reference; any other is an ``email`` case. The
file is read bounded in size; HTML parts are never rendered (only ``text/plain`` is taken).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from mamori.errors import InputError
from mamori.fileio import read_bytes
from mamori.i18n import _

MAX_EML = 2 * 1024 * 1024
MAX_BODY = 20_000
# sender domain → the coordinator's name
COORDINATORS = {"jpcert.or.jp": "JPCERT/CC", "cert.org": "CERT/CC", "ipa.go.jp": "IPA"}
_COORD_REF = re.compile(r"\b(JVNVU#[0-9]{5,10}|JPCERT#[0-9]{5,10}|VU#[0-9]{5,10})\b")
_CVE = re.compile(r"\bCVE-[0-9]{4}-[0-9]{4,}\b")


@dataclass
class EmailReport:
    title: str
    reporter_name: str | None
    reporter_contact: str | None
    received_at: datetime | None
    message_id: str | None
    body: str
    channel: str
    coordinator: str | None
    coordinator_ref: str | None
    cves: list[str] = field(default_factory=list)

    @property
    def channel_ref(self) -> str | None:
        return self.coordinator_ref or self.message_id


def _domain_coordinator(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    domain = address.rsplit("@", 1)[1].lower().rstrip(">")
    for suffix, name in COORDINATORS.items():
        if domain == suffix or domain.endswith("." + suffix):
            return name
    return None


def read_eml(path: str | Path) -> EmailReport:
    """The report an ``.eml`` file carries; one InputError naming the file when it is not an e-mail."""
    data = read_bytes(path, MAX_EML)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except Exception as exc:  # the parser is lenient; a failure here is a damaged file
        raise InputError(
            path, _("not an e-mail message: {reason}").format(reason=type(exc).__name__)
        ) from None
    subject = str(msg.get("Subject") or "").strip()
    sender = msg.get("From")
    if not subject or sender is None:
        raise InputError(path, _("not an e-mail message: no Subject or From header"))
    name: str | None = None
    contact: str | None = None
    addresses = getattr(sender, "addresses", ()) or ()
    if addresses and isinstance(addresses[0], Address):
        name = addresses[0].display_name or None
        contact = addresses[0].addr_spec or None
    else:
        contact = str(sender).strip() or None
    received: datetime | None = None
    if msg.get("Date"):
        try:
            received = parsedate_to_datetime(str(msg["Date"])).astimezone(UTC)
        except (TypeError, ValueError):
            received = None
    body_part = msg.get_body(preferencelist=("plain",))
    body = ""
    if body_part is not None:
        try:
            body = str(body_part.get_content())
        except (LookupError, ValueError):
            body = (
                body_part.get_payload(decode=True).decode("utf-8", "replace")
                if body_part.get_payload(decode=True)
                else ""
            )
    body = body.replace("\r\n", "\n").strip()[:MAX_BODY]
    coordinator = _domain_coordinator(contact)
    ref_match = _COORD_REF.search(subject) or _COORD_REF.search(body)
    message_id = str(msg.get("Message-ID") or "").strip() or None
    if coordinator:  # the finder stays unnamed until the coordinator names them; the contact is its desk
        name = None
    return EmailReport(
        title=subject[:500],
        reporter_name=name[:500] if name else None,
        reporter_contact=contact[:500] if contact else None,
        received_at=received,
        message_id=message_id[:1000] if message_id else None,
        body=body,
        channel="coordinator" if coordinator else "email",
        coordinator=coordinator,
        coordinator_ref=ref_match.group(1) if ref_match and coordinator else None,
        cves=list(dict.fromkeys(_CVE.findall(f"{subject}\n{body}"))),
    )

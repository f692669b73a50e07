"""security.txt (RFC 9116) for a team's domain, with the ``CSAF:`` line of CSAF 2.0 (section 7.1.8: the
provider's ``provider-metadata.json``).

``Contact`` (one or more, ``mailto:``, ``https:`` or ``tel:``) and ``Expires`` (at most a year ahead, as
the RFC recommends) are required; ``Canonical`` defaults to ``https://<domain>/.well-known/security.txt``
and ``CSAF`` to ``https://<domain>/.well-known/csaf/provider-metadata.json``. Values are single lines:
a value holding a line break or a control character is refused (it would add a field).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from mamori.errors import InputError
from mamori.i18n import _

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_EXPIRES = timedelta(days=366)


def _line(name: str, value: str) -> str:
    value = value.strip()
    if not value or _CONTROL.search(value) or len(value) > 2000:
        raise InputError(
            None, _("{name}: {value} is not a single-line value").format(name=name, value=repr(value))
        )
    return value


def _uri(name: str, value: str, schemes: Sequence[str]) -> str:
    value = _line(name, value)
    if not any(value.startswith(s) for s in schemes):
        raise InputError(
            None,
            _("{name}: {value} must start with {schemes}").format(
                name=name, value=repr(value), schemes=" or ".join(schemes)
            ),
        )
    return value


def security_txt(
    domain: str,
    contacts: Sequence[str],
    *,
    expires: datetime | None = None,
    csaf: str | None = None,
    encryption: Sequence[str] = (),
    policy: str | None = None,
    acknowledgments: str | None = None,
    hiring: str | None = None,
    languages: Sequence[str] = ("ja", "en"),
    canonical: str | None = None,
    now: datetime | None = None,
) -> str:
    """The text of ``/.well-known/security.txt`` for ``domain``."""
    domain = domain.strip().lower().rstrip(".")
    if not _DOMAIN.match(domain):
        raise InputError(None, _("{domain} is not a domain name").format(domain=repr(domain)))
    if not contacts:
        raise InputError(None, _("security.txt needs at least one contact (--contact)"))
    now = now or datetime.now(UTC)
    expires = expires or (now + timedelta(days=365))
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= now:
        raise InputError(None, _("--expires must lie in the future"))
    if expires - now > MAX_EXPIRES:
        raise InputError(None, _("--expires must lie less than a year ahead (RFC 9116 section 2.5.5)"))
    base = f"https://{domain}"
    lines = [
        f"# security.txt of {domain} (RFC 9116); written by mamori",
        *(f"Contact: {_uri('--contact', c, ('mailto:', 'https://', 'tel:'))}" for c in contacts),
        f"Expires: {expires.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        *(f"Encryption: {_uri('--encryption', e, ('https://', 'openpgp4fpr:', 'dns:'))}" for e in encryption),
    ]
    if acknowledgments:
        lines.append(f"Acknowledgments: {_uri('--acknowledgments', acknowledgments, ('https://',))}")
    lines.append(f"Preferred-Languages: {', '.join(_line('--language', x) for x in languages)}")
    lines.append(
        f"Canonical: {_uri('--canonical', canonical, ('https://',)) if canonical else base + '/.well-known/security.txt'}"
    )
    if policy:
        lines.append(f"Policy: {_uri('--policy', policy, ('https://',))}")
    if hiring:
        lines.append(f"Hiring: {_uri('--hiring', hiring, ('https://',))}")
    lines.append(
        f"CSAF: {_uri('--csaf', csaf, ('https://',)) if csaf else base + '/.well-known/csaf/provider-metadata.json'}"
    )
    return "\n".join(lines) + "\n"


def parse_security_txt(text: str) -> dict[str, list[str]]:
    """Field name (lower case) → values, as a reader of RFC 9116 sees them (comments and blanks skipped)."""
    out: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if sep:
            out.setdefault(name.strip().lower(), []).append(value.strip())
    return out

"""Product identifiers shared by the VEX readers and writers: purl parts and hash algorithm names."""

from __future__ import annotations

import re
from urllib.parse import quote

from packageurl import PackageURL

# OpenVEX hash labels (IANA "Hash Function Textual Names" plus OpenVEX's additions)
HASH_LABELS = frozenset(
    (
        "md5",
        "sha1",
        "sha-256",
        "sha-384",
        "sha-512",
        "sha3-224",
        "sha3-256",
        "sha3-384",
        "sha3-512",
        "blake2s-256",
        "blake2b-256",
        "blake2b-512",
    )
)
_HASH_NAMES = {"sha-1": "sha1", "sha1": "sha1", "md5": "md5"}


def hash_label(alg: str) -> str:
    """An algorithm name (CycloneDX ``SHA-256``, CSAF ``sha256`` ...) in OpenVEX / IANA spelling."""
    low = alg.strip().lower()
    if low in _HASH_NAMES:
        return _HASH_NAMES[low]
    if re.fullmatch(r"sha(256|384|512)", low):
        return f"sha-{low[3:]}"
    return low


def purl_parts(text: str) -> tuple[str | None, str | None]:
    """(name, version) of a purl, or (None, None) when it does not parse."""
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None, None
    return purl.name, purl.version


_FRAGMENT_SAFE = "-._~!$&'()*+,;=:@/?"
_SERIAL = re.compile(
    r"^urn:uuid:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


def serial_uuid(serial: str | None) -> str | None:
    """The UUID (lower case) of a CycloneDX serial number ``urn:uuid:…``, or None."""
    found = _SERIAL.match(serial.strip()) if serial else None
    return found.group(1).lower() if found else None


def bomlink(serial: str, version: int, ref: str) -> str:
    """The CycloneDX BOM-Link ``urn:cdx:<serial>/<version>#<bom-ref>`` (the bom-ref percent-encoded)."""
    return f"urn:cdx:{serial}/{max(1, version)}#{quote(ref, safe=_FRAGMENT_SAFE)}"


def is_uri(text: str) -> bool:
    """Whether ``text`` is an absolute URI (RFC 3986), as the CSAF schema's ``uri`` format requires."""
    from rfc3986_validator import validate_rfc3986

    return bool(validate_rfc3986(text, rule="URI"))

"""CPE names: split CPE 2.3 formatted strings and turn CPE 2.2 URIs (JVN) into 2.3 formatted strings.

Only what the knowledge base needs (part, vendor, product, version for indexing); matching
semantics live with the matcher. The ``cpe`` package on PyPI was measured at ~100 µs per name and
keeps escapes unresolved, too slow for NVD's millions of match entries, hence this small splitter.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

_FIELDS = 11  # part .. other
_FS_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True, slots=True)
class CpeName:
    """The fields of a CPE 2.3 formatted string, still FS-escaped (``*`` any, ``-`` not applicable)."""

    part: str
    vendor: str
    product: str
    version: str = "*"
    update: str = "*"
    edition: str = "*"
    language: str = "*"
    sw_edition: str = "*"
    target_sw: str = "*"
    target_hw: str = "*"
    other: str = "*"

    def formatted(self) -> str:
        values = (
            self.part,
            self.vendor,
            self.product,
            self.version,
            self.update,
            self.edition,
            self.language,
            self.sw_edition,
            self.target_sw,
            self.target_hw,
            self.other,
        )
        return "cpe:2.3:" + ":".join(values)


def _split_fs(text: str) -> list[str]:
    if "\\" not in text:
        return text.split(":")
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _fs_value(uri_value: str) -> str:
    """One CPE 2.2 URI component → CPE 2.3 FS value."""
    if uri_value == "":
        return "*"
    if uri_value == "-":
        return "-"
    out = []
    for ch in unquote(uri_value.replace("%01", "\x01").replace("%02", "\x02")):
        if ch == "\x01":
            out.append("?")
        elif ch == "\x02":
            out.append("*")
        elif ch in _FS_PLAIN:
            out.append(ch)
        else:
            out.append("\\" + ch)
    return "".join(out)


def _from_uri(text: str) -> CpeName | None:
    body = text[5:]
    raw = body.split(":")
    if not raw or raw[0] not in ("a", "o", "h", ""):
        return None
    raw += [""] * (7 - len(raw))
    part, vendor, product, version, update, edition, language = raw[:7]
    sw_edition = target_sw = target_hw = other = ""
    if edition.startswith("~"):
        packed = edition.split("~") + [""] * 6
        edition, sw_edition, target_sw, target_hw, other = packed[1:6]
    return CpeName(
        part=part or "*",
        vendor=_fs_value(vendor),
        product=_fs_value(product),
        version=_fs_value(version),
        update=_fs_value(update),
        edition=_fs_value(edition),
        language=_fs_value(language),
        sw_edition=_fs_value(sw_edition),
        target_sw=_fs_value(target_sw),
        target_hw=_fs_value(target_hw),
        other=_fs_value(other),
    )


def parse_cpe(text: str) -> CpeName | None:
    """A CPE 2.3 formatted string or 2.2 URI → :class:`CpeName`; None when it is neither."""
    text = text.strip()
    if text.startswith("cpe:2.3:"):
        fields = _split_fs(text[8:])
        if len(fields) != _FIELDS or fields[0] not in ("a", "o", "h", "*"):
            return None
        return CpeName(*fields)
    if text.startswith("cpe:/"):
        return _from_uri(text)
    return None


def index_key(value: str) -> str:
    """How vendor and product are compared in the store: FS-escaped, lower case."""
    return value.lower()

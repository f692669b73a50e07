"""Flaws in one field of an SBOM someone else wrote: a warning when reading leniently, a refusal when strict.

Reading an SBOM to scan, check, compare or merge it is lenient (``ReadOptions(strict=False)``, the
default): a bad licence expression, a value outside the spec's enumeration, a component without a
version, a purl or CPE that does not parse, a date that is not ISO 8601, a field of the wrong JSON
type — each becomes a :class:`~mamori.model.ReadWarning` tied to the component (file, component,
field, problem), the component is kept and the flawed field is dropped or kept as text. A file that
is not an SBOM at all, or whose structure is unusable (``components`` not an array …), is still
refused with one :class:`~mamori.errors.InputError`.

``strict=True`` (``mamori sbom convert --strict``) refuses the file on the first flaw instead, except
for what the spec allows (a component without a version, :data:`ALLOWED`).

Codes (``ReadWarning.code``) and what ``value`` / ``detail`` hold:

=================  ============================================  ==========================================
code               value                                         detail
=================  ============================================  ==========================================
invalid_licence    the licence text                              the parser's message
unknown_value      the value                                     the spec and field (``CycloneDX 1.4 type``)
wrong_type         the JSON kind found (``number``)              the kind expected (``string``)
invalid_purl       the purl                                      the purl library's message
invalid_cpe        the CPE                                       —
invalid_date       the date text                                 —
invalid_hash       ``ALG:content``                               —
no_version         —                                             —
skipped_entry      the JSON kind found                           —
incomplete_entry   —                                             what is missing (the entry is skipped)
=================  ============================================  ==========================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import current_lang, joined
from mamori.model import ReadWarning

INVALID_LICENCE = "invalid_licence"
UNKNOWN_VALUE = "unknown_value"
WRONG_TYPE = "wrong_type"
INVALID_PURL = "invalid_purl"
INVALID_CPE = "invalid_cpe"
INVALID_DATE = "invalid_date"
INVALID_HASH = "invalid_hash"
NO_VERSION = "no_version"
SKIPPED_ENTRY = "skipped_entry"
INCOMPLETE_ENTRY = "incomplete_entry"
CODES = (
    INVALID_LICENCE,
    UNKNOWN_VALUE,
    WRONG_TYPE,
    INVALID_PURL,
    INVALID_CPE,
    INVALID_DATE,
    INVALID_HASH,
    NO_VERSION,
    SKIPPED_ENTRY,
    INCOMPLETE_ENTRY,
)
ALLOWED = frozenset((NO_VERSION,))  # the spec allows it: a warning even in strict mode

# JSON kinds as the readers name them in messages ("expected a string, got a number")
KINDS = ("object", "array", "string", "number", "boolean", "null", "whole_number", "date_time")
_KIND_OF_PHRASE = {
    "an object": "object",
    "an array": "array",
    "a list": "array",
    "a string": "string",
    "a number": "number",
    "a boolean": "boolean",
    "null": "null",
    "a whole number": "whole_number",
    "a date-time string": "date_time",
    "true or false": "boolean",
}
_SHOWN = 120  # characters of a value shown in a message


class Flaw(InputError):
    """A flaw in one field, raised inside a reader: the InputError of strict mode, or (caught by the
    reader) a warning with ``code``, ``value`` and ``detail`` at ``where``."""

    def __init__(
        self,
        path: str | Path | None,
        where: str,
        problem: str,
        code: str,
        value: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(path, joined(where, problem) if where else problem)
        self.where, self.code, self.value, self.detail = where, code, value, detail


class Structural(InputError):
    """The document cannot be read at all: refused in lenient mode too."""


def kind_of(phrase: str) -> str:
    """``"a string"`` → ``"string"`` (the key :data:`KINDS` uses); unknown phrases pass through."""
    return _KIND_OF_PHRASE.get(phrase, phrase)


def shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = visible(text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# A purl that certainly parses (checked against packageurl-python in tests): scheme, type, one or
# more path segments without '@', '?', '#', an optional version, key=value qualifiers, a subpath.
_SEGMENT = r"(?=[^/?#@\s])[^/?#@%\s]*(?:%[0-9A-Fa-f]{2}[^/?#@%\s]*)*"  # non-empty; no loop of alternatives
_PURL_FAST = re.compile(
    rf"pkg:[A-Za-z][A-Za-z0-9._-]*/{_SEGMENT}(?:/{_SEGMENT})*"
    r"(?:@(?=[^?#@\s])[^?#@%\s]*(?:%[0-9A-Fa-f]{2}[^?#@%\s]*)*)?"
    r"(?:\?[A-Za-z][A-Za-z0-9._-]*=[^&#=\s]+(?:&[A-Za-z][A-Za-z0-9._-]*=[^&#=\s]+)*)?"
    r"(?:#[^?#\s]+)?"
)


@lru_cache(maxsize=4096)
def _purl_problem_slow(text: str) -> str | None:
    from packageurl import PackageURL

    try:
        PackageURL.from_string(text.strip())
    except ValueError as exc:
        return " ".join(str(exc).split())[:200]
    return None


def purl_problem(text: str) -> str | None:
    """Why ``text`` is not a purl packageurl-python parses, or None (a regex answers the usual case)."""
    if _PURL_FAST.fullmatch(text):
        return None
    return _purl_problem_slow(text)


def purl_has_version(purl: str | None) -> bool:
    """Whether a purl names a version (``…/name@1.2``): a component without a version field is then
    still evaluated by the purl's version."""
    if not purl:
        return False
    last = purl.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return "@" in last and not last.endswith("@")


def hex_digest_problem(value: str, lengths: frozenset[int]) -> bool:
    """True unless ``value`` is hexadecimal of one of ``lengths`` (bytes.fromhex: faster than a regex)."""
    if len(value) not in lengths:
        return True
    try:
        return len(bytes.fromhex(value)) * 2 != len(value)  # whitespace, which fromhex skips, shortens it
    except ValueError:
        return True


def cpe_problem(text: str) -> bool:
    """True when ``text`` is neither a CPE 2.3 formatted string nor a CPE 2.2 URI."""
    from mamori.model.cpe import parse_cpe

    return parse_cpe(text) is None


def english(code: str, value: str | None, detail: str | None) -> str:
    """The problem in English, without what a lenient read does about it (the text of strict mode's InputError)."""
    return strict_text("en", code, value, detail)


def strict_text(lang: str, code: str, value: str | None, detail: str | None) -> str:
    """The problem in ``lang``, without what a lenient read does about it (the text of strict mode's InputError)."""
    text = message(lang, code, value, detail)
    if code in (INVALID_LICENCE, NO_VERSION):
        return text
    return text.rsplit("; " if lang == "en" else "。", 1)[0]


def message(lang: str, code: str, value: str | None, detail: str | None) -> str:
    from mamori.sbom.messages import text

    values = {"value": f"'{shown(value)}'" if value is not None else "", "detail": detail or ""}
    if code == WRONG_TYPE:
        values["value"] = text(lang, "read_warnings", "kinds", value) if value in KINDS else value or ""
        values["detail"] = text(lang, "read_warnings", "kinds", detail) if detail in KINDS else detail or ""
    key = code if code in CODES else "other"
    if code == UNKNOWN_VALUE and not detail:
        key = "unknown_value_bare"
    return text(lang, "read_warnings", "codes", key, **values)


class Problems:
    """Collects the flaws of one file; ``strict`` turns the first one (outside ALLOWED) into InputError."""

    __slots__ = ("path", "strict", "warnings")

    def __init__(self, path: Path, strict: bool) -> None:
        self.path = path
        self.strict = strict
        self.warnings: list[ReadWarning] = []

    def report(
        self,
        where: str,
        component: str | None,
        code: str,
        value: object = None,
        detail: str | None = None,
    ) -> None:
        value_text = None if value is None else value if isinstance(value, str) else str(value)
        if self.strict and code not in ALLOWED:
            problem = strict_text(current_lang(), code, value_text, detail)
            raise InputError(self.path, f"{where}: {problem}" if where else problem)
        self.warnings.append(ReadWarning(str(self.path), component, where, code, value_text, detail))


def component_label(bom_ref: object, name: object, version: object) -> str | None:
    """How a warning names a component: its bom-ref, else name@version, else its name."""
    if isinstance(bom_ref, str) and bom_ref:
        return bom_ref
    if isinstance(name, str) and name:
        return f"{name}@{version}" if isinstance(version, str) and version else name
    return None


def warning_text(warning: ReadWarning, lang: str = "en") -> str:
    """One line: ``file: component X: field: problem`` (control characters made visible)."""
    from mamori.sbom.messages import text

    problem = message(lang, warning.code, warning.value, warning.detail)
    parts = [visible(warning.file)]
    if warning.component:
        parts.append(text(lang, "read_warnings", "component", name=shown(warning.component)))
    if warning.field:
        parts.append(visible(warning.field))
    parts.append(problem)
    return ": ".join(parts)


def warning_lines(warnings: Iterable[ReadWarning], lang: str = "en", limit: int = 20) -> list[str]:
    """``mamori: warning: …`` lines, at most ``limit``, then one ``… and N more`` line."""
    from mamori.sbom.messages import text

    items = list(warnings)
    prefix = text(lang, "read_warnings", "prefix") + " "
    lines = [f"{prefix}{warning_text(w, lang)}" for w in items[:limit]]
    if len(items) > limit:
        lines.append(prefix + text(lang, "read_warnings", "more", count=len(items) - limit))
    return lines


def warning_dict(warning: ReadWarning, lang: str = "en") -> dict[str, object]:
    """The JSON form: every field, plus the message in ``lang``."""
    return {
        "file": warning.file,
        "component": warning.component,
        "field": warning.field,
        "code": warning.code,
        "value": warning.value,
        "message": message(lang, warning.code, warning.value, warning.detail),
    }

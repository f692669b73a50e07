"""SPDX 2.3 (or 2.2) JSON and tag-value writers.

JSON is built as a dict by to_dict and serialised with orjson: the SPDX JSON structure *is* the dict
the readers map from, so one mapping serves both directions, and no spdx-tools objects (checked by
beartype on every construction) are built for the common case. Tag-value has escaping and ordering
rules that spdx-tools already implements, so the same dict goes through spdx-tools' JSON-dict parser
into its Document and out through its tag-value writer.
"""

from __future__ import annotations

import io

import orjson

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model import Document
from mamori.sbom.spdx.to_dict import DocumentWriter

_VERSIONS = {"2.3": "SPDX-2.3", "2.2": "SPDX-2.2"}


def spdx_version(spec_version: str | None) -> str:
    """``None``/``2.3``/``SPDX-2.3`` → ``SPDX-2.3``; ``2.2`` likewise; anything else is refused."""
    if spec_version is None:
        return "SPDX-2.3"
    key = spec_version.strip().upper().removeprefix("SPDX-").removeprefix("SPDX")
    if key not in _VERSIONS:
        raise InputError(
            None,
            _("cannot write SPDX version {spec_version!r}; choose 2.3 or 2.2").format(
                spec_version=spec_version
            ),
        )
    return _VERSIONS[key]


def document_dict(doc: Document, spec_version: str | None = None) -> dict[str, object]:
    return DocumentWriter(doc, spdx_version(spec_version)).build()


def write_json(doc: Document, spec_version: str | None) -> bytes:
    """SPDX JSON, indented by two spaces, ending in a newline."""
    return orjson.dumps(document_dict(doc, spec_version), option=orjson.OPT_INDENT_2) + b"\n"


def write_tagvalue(doc: Document, spec_version: str | None) -> bytes:
    """SPDX tag-value, written by spdx-tools from the same dict as the JSON writer."""
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document

    from mamori.sbom.spdx.read_tools import first_problem, share_licensing

    share_licensing()
    data = _no_keywords(_single_lines(document_dict(doc, spec_version)))
    try:
        spdx_doc = JsonLikeDictParser().parse(data)
        out = io.StringIO()
        write_document(spdx_doc, out)
    except SPDXParsingError as exc:
        problem = " ".join(first_problem(exc.get_messages()).split())
        raise InputError(None, _("cannot write SPDX tag-value: {problem}").format(problem=problem)) from None
    except Exception as exc:  # spdx-tools on odd kept values (AttributeError, TypeError …)
        problem = " ".join(str(exc).split())
        raise InputError(
            None,
            _("cannot write SPDX tag-value: {kind}: {problem}").format(
                kind=type(exc).__name__, problem=problem
            ),
        ) from None
    return out.getvalue().encode("utf-8")


_KEYWORDS = frozenset({"NONE", "NOASSERTION"})
_NAMES = {"name": "name", "fileName": "file name"}


def _no_keywords(value: object) -> object:
    """Tag-value reads NONE and NOASSERTION as keywords, never as text: a version that says so is
    left out (it asserts nothing), a name that says so cannot be written and is refused."""
    if isinstance(value, list):
        return [_no_keywords(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(item, str) and item.strip() in _KEYWORDS:
            if key == "versionInfo":
                continue
            if key in _NAMES:
                raise InputError(
                    None,
                    _("cannot write SPDX tag-value: a {names} {item!r} reads back as a keyword").format(
                        names=_NAMES[key], item=item.strip()
                    ),
                )
        out[key] = _no_keywords(item)
    return out


# tag-value writes these in <text>…</text>, where new lines are kept; every other value is one line
_TEXT_FIELDS = frozenset(
    {
        "comment",
        "description",
        "summary",
        "copyrightText",
        "licenseComments",
        "attributionTexts",
        "extractedText",
        "sourceInfo",
        "noticeText",
    }
)


def _single_lines(value: object, key: str = "") -> object:
    """The document dict with new lines in one-line values turned into spaces: spdx-tools writes a
    PackageVersion (and other one-line values) as given, and a new line would start a line of its own."""
    if isinstance(value, dict):
        return {k: _single_lines(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_single_lines(v, key) for v in value]
    if isinstance(value, str) and key not in _TEXT_FIELDS and ("\n" in value or "\r" in value):
        return " ".join(value.split())
    return value

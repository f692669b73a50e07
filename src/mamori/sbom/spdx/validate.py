"""spdx-tools' verdict on SPDX 2 bytes: what its parser and its full validator complain about."""

from __future__ import annotations

import json


def spdx_tools_problems(data: bytes, fmt: str) -> list[str]:
    """Parse ``data`` (``spdx-json`` or ``spdx-tv``) with spdx-tools and validate it fully.

    Returns the parse errors, else the validation messages; an empty list means spdx-tools accepts it.
    """
    from ply import yacc
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.parser.tagvalue.parser import Parser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    from mamori.sbom.spdx.read_tools import share_licensing

    share_licensing()
    try:
        if fmt == "spdx-json":
            document = JsonLikeDictParser().parse(json.loads(data))
        elif fmt == "spdx-tv":
            parser = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger())
            document = parser.parse(data.decode("utf-8"))
        else:
            raise ValueError(f"spdx_tools_problems reads spdx-json or spdx-tv, not {fmt!r}")
    except SPDXParsingError as exc:
        return [f"parse: {message}" for message in exc.get_messages()]
    return [message.validation_message for message in validate_full_spdx_document(document)]

"""SPDX 2 tag-value and RDF/XML readers built on spdx-tools' parsers.

spdx-tools parses into its own Document; its JSON converter turns that into the SPDX JSON structure,
which from_dict maps into the model exactly as for JSON input (one mapping for every format).

spdx-tools is a third-party parser that raises more than its own SPDXParsingError on odd input
(TypeError, ValueError, beartype errors …), so every failure inside it becomes one InputError.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.errors import InputError
from mamori.i18n import _, ngettext
from mamori.model import Document
from mamori.sbom.spdx.from_dict import document_from_dict

if TYPE_CHECKING:
    from mamori.sbom.formats import ReadOptions

_LINE = re.compile(r"(?:Line:|in line)\s*(\d+)", re.I)
_WRAPPED = re.compile(r"^Error while (?:parsing|constructing) (\w+): (.*)$", re.S)
_MISSING = re.compile(r"missing \d+ required positional arguments?: (.*)$")


def read_tagvalue(data: bytes, path: Path, options: ReadOptions) -> Document:
    """Read SPDX 2.1-2.3 tag-value."""
    from ply import yacc
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    share_licensing()
    text = _decode(data, path)
    try:
        parser = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger())
        spdx_doc = parser.parse(text)
    except SPDXParsingError as exc:
        raise InputError(
            path, _("tag-value: {problem}").format(problem=first_problem(exc.get_messages()))
        ) from None
    except (Exception, SystemExit) as exc:
        raise InputError(path, _("tag-value: cannot parse: {reason}").format(reason=_short(exc))) from None
    return document_from_dict(_as_dict(spdx_doc, path), path, strict=options.strict)


@cache
def share_licensing() -> None:
    """Let spdx-tools' parsers (tag-value, RDF and the JSON-like dict parser the tag-value writer goes
    through) read licence expressions with mamori's licensing (mamori.sbom.licenses.licensing).

    Theirs is license-expression's SPDX licensing, which maps some ``LicenseRef-…`` names to listed
    licences (``LicenseRef-lgpl`` → ``LGPL-2.0-or-later``): a document's own LicenseRef would change on
    the way through spdx-tools, in tag-value and RDF but not in JSON. mamori's licensing is the same list
    without those aliases. It is also built once, where the tag-value parser builds a new licensing
    (~50 ms) for every licence field it reads (upstream: spdx/tools-python pull request 749).
    """
    from spdx_tools.spdx.parser.jsonlikedict import license_expression_parser as dict_parser
    from spdx_tools.spdx.parser.rdf import license_expression_parser as rdf_parser
    from spdx_tools.spdx.parser.tagvalue import parser

    from mamori.sbom.licenses import licensing

    shared = licensing()
    parser.get_spdx_licensing = lambda: shared
    dict_parser.spdx_licensing = shared
    rdf_parser.spdx_licensing = shared


def read_rdf(data: bytes, path: Path, options: ReadOptions) -> Document:
    """Read SPDX 2.1-2.3 RDF/XML. DOCTYPE declarations (and so any entity) are refused before rdflib sees the bytes."""
    from rdflib import Graph
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.rdf.rdf_parser import translate_graph_to_document

    _check_xml(data, path)
    share_licensing()
    try:
        graph = Graph()
        graph.parse(data=data, format="xml")
    except Exception as exc:
        raise InputError(path, _("RDF: cannot parse: {reason}").format(reason=_short(exc))) from None
    _check_document_node(graph, path)
    try:
        spdx_doc = translate_graph_to_document(graph)
    except SPDXParsingError as exc:
        raise InputError(
            path, _("RDF: {problem}").format(problem=first_problem(exc.get_messages()))
        ) from None
    except (Exception, SystemExit) as exc:  # spdx-tools calls sys.exit() on some graphs
        raise InputError(path, _("RDF: cannot parse: {reason}").format(reason=_short(exc))) from None
    return document_from_dict(_as_dict(spdx_doc, path), path, strict=options.strict)


def _check_document_node(graph: object, path: Path) -> None:
    """What spdx-tools would otherwise answer with logging.error and sys.exit(1)."""
    from rdflib import RDF, URIRef
    from spdx_tools.spdx.rdfschema.namespace import SPDX_NAMESPACE

    nodes = list(graph.subjects(RDF.type, SPDX_NAMESPACE.SpdxDocument))
    if len(nodes) != 1:
        raise InputError(
            path, _("RDF: expected one spdx:SpdxDocument, found {nodes}").format(nodes=len(nodes))
        )
    node = nodes[0]
    namespace, _hash, spdx_id = str(node).partition("#")
    if not isinstance(node, URIRef) or not namespace or not spdx_id:
        raise InputError(
            path,
            _("RDF: the SpdxDocument URI must be <namespace>#SPDXRef-DOCUMENT, not {node!r}").format(
                node=str(node)
            ),
        )


def _check_xml(data: bytes, path: Path) -> None:
    """Well-formed XML without DOCTYPE: rdflib's SAX parser would expand internal entities."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        line = _(" at line {line}").format(line=exc.lineno) if exc.lineno else ""
        raise InputError(
            path, _("invalid XML{line}: {reason}").format(line=line, reason=" ".join(str(exc.msg).split()))
        ) from None
    except ValueError as exc:
        raise InputError(path, _("invalid XML: {reason}").format(reason=" ".join(str(exc).split()))) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InputError(path, _("XML with a DOCTYPE (DTD or entity declarations) is refused"))


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, _("not UTF-8 text (byte {start})").format(start=exc.start)) from None


def _as_dict(spdx_doc: object, path: Path) -> dict:
    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter

    try:
        return DocumentConverter().convert(spdx_doc)
    except (Exception, SystemExit) as exc:
        raise InputError(path, _("inconsistent SPDX document: {reason}").format(reason=_short(exc))) from None


def first_problem(messages: list[str]) -> str:
    """spdx-tools' nested messages → ``line 14: Package: PackageVersion: … (and 2 more problems)``."""
    if not messages:
        return "cannot parse"
    message, context = messages[0], []
    while match := _WRAPPED.match(message):
        context.append(match.group(1))
        message = match.group(2)
        if message.startswith("["):
            try:
                inner = ast.literal_eval(message)
            except (ValueError, SyntaxError):
                break
            if not isinstance(inner, list) or not inner:
                break
            message = str(inner[0])
    line = _LINE.search(message)
    message = _LINE.sub("", message).strip().rstrip(".").strip()
    missing = _MISSING.search(message)
    if missing:
        message = _("missing required field(s) {fields}").format(fields=missing.group(1))
    text = ": ".join([*context, message])
    if line:
        text = _("line {line}: {problem}").format(line=line.group(1), problem=text)
    if len(messages) > 1:
        more = len(messages) - 1
        text += ngettext(" (and {count} more problem)", " (and {count} more problems)", more).format(
            count=more
        )
    return text


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."

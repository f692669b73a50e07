"""Safe XML parsing with lxml: no entities, no network, no DTDs.

MyJVN's live responses declare their namespaces; the published fixtures leave the prefixes
(``sec:``, ``status:``, ``rdf:`` ...) undeclared. Both are accepted: undeclared-prefix errors are
tolerated, any other well-formedness error is refused. Elements are looked up by local name.
"""

from __future__ import annotations

from lxml import etree

from mamori.errors import InputError
from mamori.i18n import _


def parse(name: str, data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(
            name, _("not well-formed XML: {reason}").format(reason=" ".join(str(exc).split()))
        ) from None
    errors = [
        e for e in parser.error_log if e.domain_name != "NAMESPACE" and e.level_name in ("ERROR", "FATAL")
    ]
    if root is None or errors:
        first = errors[0] if errors else None
        # the message may quote the document, new lines included: the error stays one line
        where = (
            _(" (line {line}: {message})").format(line=first.line, message=" ".join(first.message.split()))
            if first is not None
            else ""
        )
        raise InputError(name, _("not well-formed XML{where}").format(where=where))
    doctype = root.getroottree().docinfo
    if doctype.internalDTD is not None or doctype.doctype:
        raise InputError(name, _("XML with a DTD is refused"))
    return root


def local(tag: object) -> str:
    """Local name of a tag: ``{ns}Title``, ``sec:cpe`` (undeclared prefix) and ``Title`` → Title / cpe."""
    if not isinstance(tag, str):
        return ""
    if tag.startswith("{"):
        return tag.rsplit("}", 1)[1]
    return tag.rsplit(":", 1)[-1]


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if local(c.tag) == name]


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def text(el: etree._Element | None, name: str | None = None) -> str | None:
    node = child(el, name) if name else el
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def attr(el: etree._Element, name: str) -> str | None:
    """An attribute by local name, whatever its prefix."""
    for key, value in el.attrib.items():
        if local(key) == name:
            return value
    return None

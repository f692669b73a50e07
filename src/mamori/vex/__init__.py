"""VEX in and out: CycloneDX VEX (1.4-1.6), OpenVEX 0.2 and CSAF 2.0 VEX, through one model.

``read(path)`` detects the format, reads it into a :class:`~mamori.model.vex.VexDocument` and
enforces the VEX rules (validate.py); ``dumps(doc, fmt)`` / ``write(doc, path, fmt)`` serialise it
and check the result against the target format's schema before anything is written. The status,
justification and response mapping between the formats is data (mapping.yaml, docs/vex-mapping.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from mamori.errors import InputError, UnsupportedFormat
from mamori.fileio import read_bytes, write_bytes_atomic
from mamori.i18n import _
from mamori.model.references import web_url
from mamori.model.vex import VexDocument, VexProduct
from mamori.vex.fields import now

FORMATS = ("cyclonedx", "openvex", "csaf")
_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def __getattr__(name: str) -> Any:
    """``TLP_LABELS`` (CSAF's), read from :mod:`mamori.vex.csaf` on first use: the formats' modules (lxml,
    the schemas) are imported when a document is read or written, not by the modules that only need
    :mod:`mamori.vex.fields` or :mod:`mamori.vex.mapping` (a scan's triage)."""
    if name == "TLP_LABELS":
        from mamori.vex import csaf

        return csaf.TLP_LABELS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class WriteOptions:
    """What a writer may need beyond the document; values here override the document's own."""

    spec_version: str | None = None  # CycloneDX 1.4 / 1.5 / 1.6 (default 1.6)
    author: str | None = None
    author_role: str | None = None
    namespace: str | None = None  # CSAF publisher namespace (a URL the publisher controls)
    timestamp: datetime | None = None  # the time of writing (default: now)
    strict: bool = True  # refuse statements that break the VEX rules
    csaf_schema: Path | None = None  # check CSAF output against this schema file instead of csaf-lib's
    source: str | Path | None = None  # the input file, named in error messages
    lang: str = "en"  # CSAF: document.lang and the language of the titles and notes mamori writes (en, ja)
    tlp: str = "WHITE"  # CSAF: distribution.tlp.label (AMBER, GREEN, RED or WHITE)


def detect(obj: Any) -> str:
    """The VEX format of parsed JSON: cyclonedx, openvex or csaf."""
    if isinstance(obj, dict):
        if obj.get("bomFormat") == "CycloneDX":
            return "cyclonedx"
        context = obj.get("@context")
        from mamori.vex import openvex

        if isinstance(context, str) and context.startswith(openvex.CONTEXT_PREFIX):
            return "openvex"
        document = obj.get("document")
        if isinstance(document, dict) and "csaf_version" in document:
            return "csaf"
    raise UnsupportedFormat(
        None, _("not a VEX document mamori reads (CycloneDX, OpenVEX or CSAF JSON, CycloneDX XML)")
    )


def parse(data: bytes, path: str | Path, strict: bool = True) -> VexDocument:
    """A VEX document from bytes; InputError (naming ``path``) for anything wrong."""
    from mamori.sbom.cyclonedx.read_json import parse_json
    from mamori.vex import csaf, cyclonedx, openvex
    from mamori.vex.validate import enforce

    path = Path(path)
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        if head.startswith(b"<"):
            doc = cyclonedx.read_xml(data, path)
        else:
            obj = parse_json(data, path)
            try:
                fmt = detect(obj)
            except UnsupportedFormat as exc:
                raise UnsupportedFormat(path, exc.problem) from None
            reader = {"cyclonedx": cyclonedx.read_json, "openvex": openvex.read, "csaf": csaf.read}[fmt]
            doc = reader(obj, path)
    except RecursionError:
        raise InputError(path, _("structure nested too deeply")) from None
    enforce(doc, path, strict)
    return doc


def read(path: str | Path, strict: bool = True) -> VexDocument:
    """Read and check a VEX file (CycloneDX JSON/XML, OpenVEX, CSAF)."""
    return parse(read_bytes(path), path, strict)


def _content_hash(doc: VexDocument) -> str:
    import hashlib  # on use: loading OpenSSL's hashes costs every scan a few ms

    body = orjson.dumps([doc.author, doc.statements], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def _filled(product: VexProduct) -> VexProduct:
    """The product with blank text fields left out: a blank name or version would be written as a
    value that every VEX reader (mamori's too) refuses as empty."""
    blank = {
        f: None
        for f in ("ref", "name", "version", "version_range", "vendor", "purl", "cpe", "csaf_id")
        if isinstance(getattr(product, f), str) and not getattr(product, f).strip()
    }
    return replace(product, **blank, subcomponents=[_filled(s) for s in product.subcomponents])


def _prepared(doc: VexDocument, opts: WriteOptions, written: datetime) -> VexDocument:
    return replace(
        doc,
        statements=[replace(s, products=[_filled(p) for p in s.products]) for s in doc.statements],
        author=opts.author or doc.author,
        author_role=opts.author_role or doc.author_role,
        author_url=opts.namespace or doc.author_url,
        timestamp=doc.timestamp or written,
        warnings=list(doc.warnings),
    )


def _needs(doc: VexDocument, fmt: str, opts: WriteOptions) -> None:
    if not doc.statements:
        raise InputError(
            opts.source, _("no VEX statements to write: {fmt} needs at least one").format(fmt=fmt)
        )
    if not (doc.author or "").strip():
        raise InputError(
            opts.source,
            _("{fmt} needs the document author (the source names none): give --author").format(fmt=fmt),
        )


def to_data(doc: VexDocument, fmt: str, options: WriteOptions | None = None) -> dict[str, Any]:
    """The target format's JSON as a dict, rules enforced; not yet schema-checked."""
    from mamori.vex import csaf, cyclonedx, openvex
    from mamori.vex.validate import enforce

    opts = options or WriteOptions()
    if fmt not in FORMATS:
        raise InputError(
            None,
            _("unknown VEX format {fmt!r}: expected one of {allowed}").format(
                fmt=fmt, allowed=", ".join(FORMATS)
            ),
        )
    written = opts.timestamp or now()
    given = doc
    doc = _prepared(doc, opts, written)
    for n, st in enumerate(doc.statements, 1):  # every format names the vulnerability and the products
        if not st.vulnerability.id.strip():
            raise InputError(opts.source, _("statement {n}: the vulnerability has no id").format(n=n))
        for m, product in enumerate(st.products, 1):
            if not product.key.strip():
                raise InputError(
                    opts.source,
                    _("statement {n}, product {m}: names no product (no identifier)").format(n=n, m=m),
                )
    enforce(doc, opts.source, opts.strict)
    if fmt == "cyclonedx":
        try:
            return cyclonedx.to_json(doc, opts.spec_version)
        except ValueError as exc:
            raise InputError(None, str(exc)) from None
    _needs(doc, fmt, opts)
    digest = _content_hash(doc)
    if fmt == "openvex":
        return openvex.to_json(doc, openvex.document_id(doc, digest))
    namespace = web_url(doc.author_url)
    if namespace is None:
        raise InputError(
            opts.source,
            _("CSAF needs the publisher's namespace, a URL the publisher controls: give --namespace"),
        )
    tracking_id = doc.id if doc.id and doc.id.strip() == doc.id and doc.id else f"VEX-{digest[:16].upper()}"
    known = len(doc.warnings)
    try:
        out = csaf.to_json(doc, namespace, tracking_id, written, opts.lang, opts.tlp)
    except InputError as exc:  # a conflict found while building: name the input file
        raise InputError(opts.source, exc.problem) from None
    given.warnings.extend(w for w in doc.warnings[known:] if w not in given.warnings)
    return out


def dumps(doc: VexDocument, fmt: str, options: WriteOptions | None = None) -> bytes:
    """Serialised VEX in ``fmt``; InputError when the rules or the target schema are not met."""
    from mamori.vex.schemas import csaf_problems, cyclonedx_problems, openvex_problems

    opts = options or WriteOptions()
    data = to_data(doc, fmt, opts)
    out = orjson.dumps(data, option=_JSON_OPTIONS)
    if fmt == "cyclonedx":
        problems = cyclonedx_problems(out.decode("utf-8"), data["specVersion"])
    elif fmt == "openvex":
        problems = openvex_problems(data)
    else:
        problems = csaf_problems(data, opts.csaf_schema)
    if problems:
        raise InputError(
            opts.source,
            _("the {fmt} output would not be valid: {problem}").format(fmt=fmt, problem=problems[0]),
        )
    return out


def write(doc: VexDocument, path: str | Path, fmt: str, options: WriteOptions | None = None) -> None:
    """Write VEX atomically (nothing is written when a check fails)."""
    write_bytes_atomic(path, dumps(doc, fmt, options))

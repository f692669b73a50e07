"""``mamori vex ...``: read, check and convert VEX (CycloneDX VEX, OpenVEX, CSAF VEX)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, default_lang

if TYPE_CHECKING:
    from mamori import vex
    from mamori.model.vex import VexDocument, VexProduct, VexStatement

app = typer.Typer(
    help="VEX: import, convert and export CycloneDX VEX, OpenVEX and CSAF VEX.", no_args_is_help=True
)

TO_OPTION = typer.Option(
    None, "--to", help="Target format: cyclonedx, openvex or csaf (default: from the output name)."
)
SPEC_VERSION_OPTION = typer.Option(
    None, "--spec-version", help="CycloneDX spec version: 1.4, 1.5 or 1.6 (default 1.6)."
)
TLP_OPTION = typer.Option(
    "WHITE", "--tlp", help="CSAF distribution.tlp.label: WHITE (default), GREEN, AMBER or RED."
)
CSAF_LANG_HELP = (
    f"Language of the titles and notes written into CSAF (document.lang): en or ja ({DEFAULT_NOTE})."
)
LENIENT_HELP = "Report statements that break the VEX rules as warnings instead of refusing the file."
_SUFFIXES = (
    ("openvex", "openvex"),
    ("csaf", "csaf"),
    (".cdx", "cyclonedx"),
    ("cyclonedx", "cyclonedx"),
    ("bom", "cyclonedx"),
)
_HEADINGS = {
    "en": {
        "statements": "statements",
        "vulnerabilities": "vulnerabilities",
        "author": "author",
        "none": "none",
        "timestamp": "timestamp",
        "id": "document id",
        "warning": "warning",
        "all": "all products",
        "impact": "impact",
        "action": "action",
        "notes": "notes",
    },
    "ja": {
        "statements": "ステートメント",
        "vulnerabilities": "脆弱性",
        "author": "作成者",
        "none": "なし",
        "timestamp": "作成日時",
        "id": "文書ID",
        "warning": "警告",
        "all": "全製品",
        "impact": "影響",
        "action": "対応",
        "notes": "備考",
    },
}


def _lang(lang: str | None) -> str:
    if lang is None:
        return default_lang()
    if lang not in _HEADINGS:
        raise InputError(None, _("--lang: expected en or ja, got {lang!r}").format(lang=lang))
    return lang


def _tlp(label: str) -> str:
    from mamori.vex.csaf import TLP_LABELS

    if label.upper() not in TLP_LABELS:
        raise InputError(
            None,
            _("--tlp: expected one of {labels}, got {value}").format(
                labels=", ".join(TLP_LABELS), value=repr(label)
            ),
        )
    return label.upper()


def _product_dict(p: VexProduct) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: getattr(p, k)
        for k in ("ref", "name", "version", "version_range", "vendor", "purl", "cpe", "csaf_id")
        if getattr(p, k)
    }
    if p.hashes:
        out["hashes"] = dict(p.hashes)
    if p.subcomponents:
        out["subcomponents"] = [_product_dict(s) for s in p.subcomponents]
    return out


def _statement_dict(st: VexStatement) -> dict[str, Any]:
    from mamori.vex.fields import iso

    vuln = st.vulnerability
    out: dict[str, Any] = {
        "vulnerability": {
            k: v
            for k, v in (
                ("id", vuln.id),
                ("aliases", vuln.aliases),
                ("description", vuln.description),
                ("url", vuln.url),
            )
            if v
        },
        "status": st.status,
        "products": [_product_dict(p) for p in st.products],
    }
    for key in (
        "justification",
        "impact_statement",
        "action_statement",
        "detail",
        "cdx_state",
        "cdx_justification",
    ):
        if getattr(st, key):
            out[key] = getattr(st, key)
    if st.responses:
        out["responses"] = list(st.responses)
    for key in ("timestamp", "last_updated", "action_statement_timestamp"):
        if getattr(st, key):
            out[key] = iso(getattr(st, key))
    return out


def document_dict(doc: VexDocument, path: Path) -> dict[str, Any]:
    """The document as JSON-ready data (the ``--format json`` output of ``vex import``)."""
    from mamori.vex.fields import iso

    return {
        "file": str(path),
        "format": doc.source_format,
        "spec_version": doc.spec_version,
        "id": doc.id,
        "author": doc.author,
        "author_role": doc.author_role,
        "timestamp": iso(doc.timestamp) if doc.timestamp else None,
        "version": doc.version,
        "tool": doc.tool,
        "status_counts": doc.status_counts(),
        "statements": [_statement_dict(st) for st in doc.statements],
        "warnings": list(doc.warnings),
    }


def _summary(doc: VexDocument, path: Path, lang: str) -> list[str]:
    from mamori.vex.fields import iso
    from mamori.vex.mapping import mapping

    h, table = _HEADINGS[lang], mapping()
    lines = [
        f"{path}: {doc.source_format} {doc.spec_version or ''} VEX — {len(doc.statements)} {h['statements']}, "
        f"{len(doc.vulnerability_ids())} {h['vulnerabilities']}",
        f"  {h['id']}: {doc.id or h['none']}; {h['author']}: {doc.author or h['none']}"
        + (f" ({doc.author_role})" if doc.author_role else "")
        + f"; {h['timestamp']}: {iso(doc.timestamp) if doc.timestamp else h['none']}",
        "  " + ", ".join(f"{table.status_label[s][lang]} {n}" for s, n in doc.status_counts().items()),
    ]
    for st in doc.statements:
        status = table.status_label[st.status][lang]
        if st.justification:
            status += f" ({table.justification_label[st.justification][lang]})"
        products = ", ".join(dict.fromkeys(p.label for p in st.products)) or h["all"]
        lines.append(f"  {st.vulnerability.id}  {status}  {products}")
        for key, text in (
            ("impact", st.impact_statement),
            ("action", st.action_statement or table.responses_text(st.responses, lang)),
            ("notes", st.detail),
        ):
            if text:
                lines.append(f"      {h[key]}: {' '.join(text.split())[:200]}")
    lines.extend(f"{h['warning']}: {w}" for w in doc.warnings)
    return [visible(line) for line in lines]


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A VEX file: CycloneDX (JSON/XML), OpenVEX or CSAF."),
    product: str | None = typer.Option(
        None, "--product", help="Store the statements as triage records of this product's release."
    ),
    release: str | None = typer.Option(
        None, "--release", help="The release (its stored SBOM resolves the statements' components)."
    ),
    fmt: str = typer.Option("text", "--format", help="Output format: text or json."),
    lenient: bool = typer.Option(False, "--lenient", help=LENIENT_HELP),
    db: str | None = typer.Option(
        None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
    ),
    lang: str | None = typer.Option(None, "--lang", help=f"Language of labels: en or ja ({DEFAULT_NOTE})."),
) -> None:
    """Read and check a VEX file and print its statements; with --product and --release, store them as
    triage records of that release (origin: the VEX document and its author).

    Each statement is resolved against the release's stored SBOM (purl, bom-ref, BOM-Link, CPE, or the
    product itself for the whole release). Statements naming components the release does not have, or
    another product, are counted with examples; one breaking the VEX rules is rejected alone (exit 1);
    the others are stored in one transaction. Importing the same file again changes nothing. `mamori
    scan`, `mamori triage` and `mamori portfolio findings` then show the statuses (your own triage
    records win over VEX).
    """
    from mamori import vex

    if fmt not in ("text", "json"):
        raise InputError(None, _("--format: expected text or json, got {fmt!r}").format(fmt=fmt))
    lg = _lang(lang)
    if (product is None) != (release is None):
        raise InputError(
            None, _("--product and --release go together: the release's SBOM resolves the statements")
        )
    if product is not None and release is not None:
        _store_vex(file, product, release, fmt, lg, db)
        return
    doc = vex.read(file, strict=not lenient)
    if fmt == "json":
        typer.echo(json.dumps(document_dict(doc, file), ensure_ascii=False, indent=2))
        return
    for line in _summary(doc, file, lg):
        typer.echo(line)


def _store_vex(file: Path, product: str, release: str, fmt: str, lang: str, db: str | None) -> None:
    from mamori import vex
    from mamori.portfolio.messages import text
    from mamori.portfolio.vexin import import_vex
    from mamori.store import open_store

    doc = vex.read(file, strict=False)  # a statement breaking the VEX rules is rejected alone, below
    with open_store(db) as store:
        done = import_vex(store, product, release, file, doc)
    if fmt == "json":
        typer.echo(json.dumps(done.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(
            text(
                lang,
                "vex_import",
                "stored",
                file=visible(file.name),
                statements=done.statements,
                author=visible(done.author),
                product=visible(product),
                release=visible(release),
                records=done.records,
                created=done.created,
                updated=done.updated,
                unchanged=done.unchanged,
                older=done.older,
                whole=done.whole_release,
            )
        )
        for kind in ("not_in_release", "other_product", "without_purl"):
            count = getattr(done, kind)
            if count:
                shown = text(lang, "vex_import", kind, count=count, product=product, release=release)
                typer.echo(visible(shown))
                for example in getattr(done, f"{kind}_examples"):
                    typer.echo(f"  {visible(example)}")
    for r in done.rejected:
        message = text(
            lang,
            "vex_import",
            "rejected",
            index=r["statement"],
            vulnerability=r["vulnerability"],
            problem=r["problem"],
        )
        typer.echo(visible(f"{file}: {message}"), err=True)
    if done.rejected:
        raise typer.Exit(1)


def target_format(output: Path, to: str | None) -> str:
    """``--to`` if given, else guessed from the output file name (…openvex…, …csaf…, ….cdx.json / bom)."""
    from mamori import vex

    if to is not None:
        if to not in vex.FORMATS:
            raise InputError(
                None,
                _("--to: expected one of {allowed}, got {to!r}").format(
                    allowed=", ".join(vex.FORMATS), to=to
                ),
            )
        return to
    name = output.name.lower()
    for needle, fmt in _SUFFIXES:
        if needle in name:
            return fmt
    raise InputError(
        None,
        _("cannot tell the VEX format from the name {name!r}: give --to cyclonedx|openvex|csaf").format(
            name=output.name
        ),
    )


def _write(doc: VexDocument, output: Path, fmt: str, options: vex.WriteOptions) -> None:
    from mamori import vex

    vex.write(doc, output, fmt, options)
    from mamori.i18n import _

    count = len(doc.statements)
    typer.echo(
        visible(
            _("{output}: {format} VEX, {count} statements").format(output=output, format=fmt, count=count)
        )
    )
    for warning in doc.warnings:
        typer.echo(visible(_("warning: {warning}").format(warning=warning)), err=True)


@app.command("convert")
def convert_cmd(
    src: Path = typer.Argument(..., help="The VEX file to convert."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the converted VEX."),
    to: str = TO_OPTION,
    spec_version: str = SPEC_VERSION_OPTION,
    author: str = typer.Option(
        None, "--author", help="Document author, when the source names none (OpenVEX and CSAF need one)."
    ),
    role: str = typer.Option(
        None, "--role", help="The author's role (vendor, coordinator ...); CSAF publisher category."
    ),
    namespace: str = typer.Option(
        None, "--namespace", help="CSAF publisher namespace: a URL the publisher controls."
    ),
    lenient: bool = typer.Option(False, "--lenient", help=LENIENT_HELP),
    lang: str | None = typer.Option(None, "--lang", help=CSAF_LANG_HELP),
    tlp: str = TLP_OPTION,
) -> None:
    """Convert between CycloneDX VEX, OpenVEX and CSAF VEX; the output is schema-checked before it is written."""
    from mamori import vex

    fmt = target_format(output, to)
    lg, label = _lang(lang), _tlp(tlp)
    doc = vex.read(src, strict=not lenient)
    options = vex.WriteOptions(
        spec_version=spec_version,
        author=author,
        author_role=role,
        namespace=namespace,
        strict=not lenient,
        source=src,
        lang=lg,
        tlp=label,
    )
    _write(doc, output, fmt, options)


@app.command("export")
def export_cmd(
    statements: Path = typer.Argument(
        ..., help="A YAML file of VEX statements (format: docs/vex-mapping.md)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the VEX document."),
    to: str = TO_OPTION,
    spec_version: str = SPEC_VERSION_OPTION,
    lenient: bool = typer.Option(False, "--lenient", help=LENIENT_HELP),
    lang: str | None = typer.Option(None, "--lang", help=CSAF_LANG_HELP),
    tlp: str = TLP_OPTION,
) -> None:
    """Write VEX from a YAML file of statements (stored triage records: `mamori triage export`)."""
    from mamori import vex
    from mamori.vex.statements import read_statements

    fmt = target_format(output, to)
    lg, label = _lang(lang), _tlp(tlp)
    doc = read_statements(statements)
    options = vex.WriteOptions(
        spec_version=spec_version, strict=not lenient, source=statements, lang=lg, tlp=label
    )
    _write(doc, output, fmt, options)

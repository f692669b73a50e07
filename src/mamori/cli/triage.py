"""``mamori triage ...``: SSVC prioritisation by role and skill, triage records, VEX export.

``mamori triage FILE ...`` is short for ``mamori triage prioritize FILE ...``. Heavy imports stay inside
the commands so that ``mamori --version`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from mamori.cli.options import choice as _choice
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, current_lang

DEFAULT_COMMAND = "prioritize"
LANGS = ("en", "ja")
LANG_HELP = f"Language of the text output: en or ja ({DEFAULT_NOTE})."


class _DefaultCommandGroup(TyperGroup):
    """Dispatch ``mamori triage FILE`` to the default command; subcommand names still win."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultCommandGroup,
    help=(
        "Prioritise findings with SSVC by role (developer|user) and skill (high|low); keep triage records; "
        "export them as VEX. `mamori triage FILE` runs `prioritize`."
    ),
    no_args_is_help=True,
)

DB_HELP = "Knowledge base / record store: SQLite path or URL; default $MAMORI_DB or the user data dir."


def _load_input(
    path: Path, db: str | None, wants_store: bool = False, lang: str = "en"
) -> tuple[Any, Any, Any]:
    """(ScanResult, SBOM Document or None, store or None): scan JSON is read back (with the store when
    ``--db`` is given or records are wanted), an SBOM is scanned (its read warnings on stderr)."""
    import orjson

    from mamori.fileio import read_bytes
    from mamori.triage.scanjson import looks_like_scan, scan_result_from_json

    if not path.exists():
        raise InputError(path, _("file not found"))
    if path.is_file():
        data = read_bytes(path)
        if data.lstrip()[:1] == b"{":
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                obj = None
            if looks_like_scan(obj):
                from mamori.store import open_store

                return scan_result_from_json(obj, path), None, open_store(db) if db or wants_store else None
    from mamori.cli.options import print_read_warnings
    from mamori.scan.run import load_target, scan_document
    from mamori.store import open_store

    doc, fmt = load_target(path)
    print_read_warnings(doc.warnings, current_lang())  # stderr: the person's language
    store = open_store(db)
    try:
        return scan_document(doc, store, target=str(path), sbom_format=fmt), doc, store
    except BaseException:
        store.close()
        raise


def _product_name(given: str | None, doc: Any, path: Path) -> str:
    if given:
        return given
    if doc is not None and doc.root is not None and doc.root.name:
        return str(doc.root.name)
    if doc is not None and doc.name:
        return str(doc.name)
    return path.name


@app.command(DEFAULT_COMMAND)
def prioritize(
    target: Path = typer.Argument(
        ..., help="An SBOM (scanned first) or the JSON of `mamori scan --format json`."
    ),
    role: str = typer.Option(..., "--role", help="developer (supplier tree) or user (deployer tree)."),
    skill: str = typer.Option(..., "--skill", help="high (set/override any point) or low (plain questions)."),
    context_file: Path | None = typer.Option(
        None,
        "--context",
        help="YAML context per product (docs/triage-context.md); wins over the product's stored context.",
    ),
    set_values: list[str] = typer.Option(
        [], "--set", help="POINT=VALUE, repeatable (low skill: context points only)."
    ),
    fmt: str = typer.Option("text", "--format", help="text or json."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    product: str | None = typer.Option(
        None,
        "--product",
        help="Product name (default: the SBOM's root component): its stored context and records apply.",
    ),
    release: str | None = typer.Option(
        None,
        "--release",
        help="Apply the stored triage records of this release (default: the root component's version).",
    ),
    vex_files: list[Path] = typer.Option(
        [], "--vex", help="VEX file(s) whose statements apply to the findings."
    ),
    policy_file: Path | None = typer.Option(
        None, "--policy", help="Policy YAML (docs/triage-policy.md); exit 1 on fail."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Text: list every finding (default: findings decided alike are grouped)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the output to this file."),
) -> None:
    """Prioritise the findings of an SBOM or a scan report: SSVC outcome, path and evidence, score, and
    each finding's one status (records and VEX; not affected / fixed ones stay listed, outside the gate)."""
    from mamori.portfolio.context import ReleaseTriage, release_triage
    from mamori.triage import integrate, report
    from mamori.triage.context import layered, load_context
    from mamori.triage.engine import ordered
    from mamori.triage.notice import worst_case
    from mamori.triage.policy import failed, load_policy
    from mamori.triage.ssvc import parse_assignments
    from mamori.triage.state import Resolver
    from mamori.triage.variants import overrides, variant
    from mamori.triage.vexmatch import ScannedProduct

    _choice(fmt, ("text", "json"), "--format")
    lg = _choice(lang, LANGS, "--lang") or current_lang()
    chosen = variant(role, skill)
    given = overrides(chosen, parse_assignments(set_values))
    context_given = load_context(context_file) if context_file else None
    policy = load_policy(policy_file) if policy_file else None
    vex_docs = _read_vex(vex_files)
    result, doc, store = _load_input(
        target, db, wants_store=product is not None or release is not None, lang=lg
    )
    try:
        root = doc.root if doc is not None else None
        stored = (
            release_triage(
                store, product, release, root.name if root else None, root.version if root else None
            )
            if store is not None
            else ReleaseTriage(None, release, [], None)
        )
        name = stored.product or _product_name(product, doc, target)
        context = layered(stored.context, context_given)
        records = integrate.stored_records(store, result) if store is not None else None
        extra = integrate.enrich(
            result, chosen, context=context, set_values=given, records=records, product=name, lang=lg
        )
        scanned = ScannedProduct.of(root, product or stored.product, stored.release, doc)
        integrate.apply_states(result, Resolver(stored.records, vex_docs, scanned), extra)
        violations, notices = (
            integrate.evaluate_policy(
                policy, result, extra, doc.all_components() if doc is not None else None
            )
            if policy is not None
            else ([], [])
        )
    finally:
        if store is not None:
            store.close()
    triaged = ordered(t for f in result.findings if (t := extra[id(f)].triaged) is not None)
    warnings = list(notices)
    if context_given is not None and context_given.products and context_given.product(name) is None:
        from mamori.triage.texts import text

        warnings.append(text("context_missing", lg, path=context_given.path, product=name))
    notice, assumed = worst_case(triaged, chosen, context, name, lg)
    shown = report.TriageReport(
        result, chosen, triaged, lg, name, context, violations, warnings, notice, assumed, verbose
    )
    report.emit(shown.render(fmt), output)
    if policy is not None and failed(violations):
        raise typer.Exit(1)


def _read_vex(paths: list[Path]) -> list[tuple[str, Any]]:
    from mamori import vex

    return [(str(p), vex.read(p)) for p in paths]


@app.command("record")
def record_cmd(
    product: str = typer.Option(..., "--product", help="Product name."),
    release: str = typer.Option(..., "--release", help="Product release (version)."),
    component: str = typer.Option(..., "--component", help="Component package URL (purl)."),
    vulnerability: str = typer.Option(..., "--vulnerability", help="Vulnerability id (CVE, GHSA, ...)."),
    status: str = typer.Option(
        ..., "--status", help="not_affected | affected | fixed | under_investigation."
    ),
    justification: str | None = typer.Option(
        None, "--justification", help="Why not_affected (CISA or CycloneDX label)."
    ),
    responses: list[str] = typer.Option(
        [], "--response", help="CycloneDX response, repeatable (update, workaround_available, ...)."
    ),
    detail: str | None = typer.Option(
        None, "--detail", help="Free text: impact statement (not_affected) or action (affected)."
    ),
    who: str | None = typer.Option(
        None, "--who", help="Who decides (default: $MAMORI_USER or the login name)."
    ),
    fmt: str = typer.Option("text", "--format", help="text or json."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Set the triage record of one vulnerability in one component of a product release (history is kept)."""
    from mamori.store import open_store
    from mamori.triage import records

    _choice(fmt, ("text", "json"), "--format")
    lg = _choice(lang, LANGS, "--lang") or current_lang()
    rec = records.validated(
        product, release, component, vulnerability, status, justification, responses, detail, who
    )
    with open_store(db) as store:
        stored, change = records.set_record(store, rec)
    if fmt == "json":
        _echo_json({"change": change, "record": _record_dict(stored)})
    else:
        from mamori.triage.texts import change_label

        typer.echo(f"{change_label(change, lg)}: {visible(_record_line(stored))}")


@app.command("records")
def records_cmd(
    product: str = typer.Option(..., "--product", help="Product name."),
    release: str | None = typer.Option(None, "--release", help="One release (default: all)."),
    history_of: str | None = typer.Option(
        None,
        "--history",
        help="COMPONENT_PURL,VULNERABILITY: show every version of that record (needs --release).",
    ),
    fmt: str = typer.Option("text", "--format", help="text or json."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """List a product's triage records, or the history of one record."""
    from mamori.store import open_store
    from mamori.triage import records

    _choice(fmt, ("text", "json"), "--format")
    lg = _choice(lang, LANGS, "--lang") or current_lang()
    with open_store(db) as store:
        if history_of is not None:
            purl, sep, vuln = history_of.rpartition(",")
            if not sep or release is None:
                raise InputError(None, _("--history needs COMPONENT_PURL,VULNERABILITY and --release"))
            found = records.history(store, product, release, purl, vuln)
        else:
            found = records.list_records(store, product, release)
    if fmt == "json":
        _echo_json([_record_dict(r) for r in found])
        return
    if not found:
        from mamori.triage.texts import text

        typer.echo(text("no_records", lg))
    for r in found:
        typer.echo(visible(_record_line(r)))


@app.command("export")
def export_cmd(
    product: str = typer.Option(..., "--product", help="Product name."),
    release: str = typer.Option(..., "--release", help="Product release."),
    fmt: str = typer.Option(..., "--format", help="cyclonedx | openvex | csaf."),
    output: Path = typer.Option(..., "--output", "-o", help="The VEX file to write."),
    author: str | None = typer.Option(
        None, "--author", help="Document author (required by OpenVEX and CSAF)."
    ),
    namespace: str | None = typer.Option(None, "--namespace", help="CSAF publisher namespace (https URL)."),
    spec_version: str | None = typer.Option(None, "--spec-version", help="CycloneDX 1.4, 1.5 or 1.6."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    tlp: str = typer.Option(
        "WHITE", "--tlp", help="CSAF distribution.tlp.label: WHITE (default), GREEN, AMBER or RED."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export a product release's triage state as VEX that other tools can apply to the release's SBOM.

    One statement per component and vulnerability (your own record, else the imported VEX statement).
    CycloneDX VEX names components with BOM-Links into the release's stored SBOM
    (urn:cdx:<serialNumber>/<version>#<bom-ref>) and lists their purls; OpenVEX and CSAF name them by purl.
    """
    from mamori import vex
    from mamori.portfolio.vexout import release_vex
    from mamori.store import open_store

    _choice(fmt, vex.FORMATS, "--format")
    lg = _choice(lang, LANGS, "--lang") or current_lang()
    tlp = _choice(tlp.upper(), vex.TLP_LABELS, "--tlp")
    with open_store(db) as store:
        made = release_vex(store, product, release, fmt, author=author, lang=lg)
    options = vex.WriteOptions(spec_version=spec_version, namespace=namespace, lang=lg, tlp=tlp)
    vex.write(made.document, output, fmt, options)
    from mamori.triage.texts import text

    for warning in made.warning_texts(current_lang()):  # stderr: the person's language
        typer.echo(visible(_("warning: {warning}").format(warning=warning)), err=True)
    shown = text(
        "exported", lg, output=output, fmt=fmt, count=made.statements, product=product, release=release
    )
    typer.echo(visible(shown), err=True)


def _record_dict(r: Any) -> dict[str, Any]:
    out = {
        "product": r.product,
        "release": r.release,
        "component": r.component_purl,
        "vulnerability": r.vulnerability,
        "status": r.status,
        "justification": r.justification,
        "responses": list(r.responses),
        "detail": r.detail,
        "who": r.who,
        "at": r.at,
        "version": r.version,
        "origin": r.origin,
        "source": r.source,
    }
    if r.change:
        out["change"] = r.change
    return out


def _record_line(r: Any) -> str:
    from mamori.i18n import _, current_lang
    from mamori.triage.texts import change_label

    extra = [x for x in (r.justification, ",".join(r.responses), r.detail) if x]
    tail = f" ({'; '.join(extra)})" if extra else ""
    change = f" {change_label(r.change, current_lang())}" if r.change else ""
    origin = f" [VEX: {r.source}]" if r.origin == "vex" else ""
    return _("{record}: {status}{tail} — v{version}{change} by {who} at {at}{origin}").format(
        record=f"{r.product} {r.release} {r.component_purl} {r.vulnerability}",
        status=r.status,
        tail=tail,
        version=r.version,
        change=change,
        who=r.who,
        at=r.at,
        origin=origin,
    )


def _echo_json(data: Any) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))

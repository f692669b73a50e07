"""``mamori bundle keygen|create|verify|import|trust``: signed supplier release bundles (thin wiring over
:mod:`mamori.bundle`). Exit codes: 0 ok, 1 verification failed (nothing imported) or, for ``import``, stored
but the supplier's agreed terms not met, 2 unreadable or bad input, 3 ``import`` stored but matching failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, current_lang, set_lang

app = typer.Typer(
    help="Supplier release bundles: SBOM, VEX, CSAF, declaration and label page in one signed file.",
    no_args_is_help=True,
)

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
LANG_OPTION = typer.Option(None, "--lang", help=f"Language of the text output: en or ja ({DEFAULT_NOTE}).")
FORMAT_OPTION = typer.Option("table", "--format", help="table or json.")
PUBLIC_KEYS = typer.Option(
    [], "--key", help="A trusted public key (PEM); repeatable. Default: the keys pinned for the supplier."
)


def _language(lang: str | None) -> str:
    if lang is None:
        return current_lang()
    if lang not in ("en", "ja"):
        raise InputError(None, _("--lang: expected en or ja, got {lang!r}").format(lang=lang))
    set_lang(lang)  # type: ignore[arg-type]
    return lang


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise InputError(
            None,
            _("--format: expected one of {formats}, got {output_format!r}").format(
                formats="table, json", output_format=value
            ),
        )
    return value


def _place(value: str) -> tuple[str, str]:
    product, sep, release = value.rpartition("@")
    if not sep or not product.strip() or not release.strip():
        raise InputError(None, _("{value}: expected PRODUCT@RELEASE").format(value=repr(value)))
    return product.strip(), release.strip()


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _keys(paths: list[Path]) -> list[Any]:
    from mamori.bundle.signing import load_public

    return [load_public(p) for p in paths]


@app.command("keygen")
def keygen(
    output: Path = typer.Option(
        ..., "-o", "--output", help="The private key (PEM); the public key goes to <name>.pub."
    ),
    kind: str = typer.Option("ed25519", "--type", help="ed25519 (default) or ecdsa-p256."),
    lang: str | None = LANG_OPTION,
) -> None:
    """Make a signing key pair for bundles (the private key is written readable by you only)."""
    from mamori.bundle.signing import write_key_pair

    _language(lang)
    private, public, keyid = write_key_pair(output, kind)
    typer.echo(visible(_("private key: {path}").format(path=private)))
    typer.echo(visible(_("public key: {path} (give it to your customers)").format(path=public)))
    typer.echo(visible(_("key id: {keyid}").format(keyid=keyid)))


@app.command("create")
def create(
    release: str = typer.Argument(..., metavar="PRODUCT@RELEASE", help="The stored release to bundle."),
    output: Path = typer.Option(..., "-o", "--output", help="The bundle file to write (.zip)."),
    key: Path = typer.Option(..., "--key", help="Your private signing key (PEM, ed25519 or ECDSA P-256)."),
    supplier: str | None = typer.Option(
        None, "--supplier", help="Supplier name (default: the product's supplier)."
    ),
    assessment: list[str] = typer.Option(
        [], "--assessment", help="Assessment whose declaration (and JC-STAR label page) goes in; repeatable."
    ),
    approver: str | None = typer.Option(
        None, "--approver", help="\"name, title\" of the declaration's approver (default: the assessment's)."
    ),
    date: str | None = typer.Option(
        None,
        "--date",
        help="Date of the declaration (default: the assessment's declaration date, else today).",
    ),
    namespace: str | None = typer.Option(
        None,
        "--namespace",
        help="CSAF publisher namespace (https URL), needed when the release has advisories.",
    ),
    release_date: str | None = typer.Option(
        None,
        "--release-date",
        help="Date of the release (YYYY-MM-DD; default: the SBOM's timestamp, else the day the release was stored).",
    ),
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Write the signed bundle of a release: SBOM, VEX, CSAF advisories, declaration, label page, manifest."""
    from mamori.bundle.create import create_bundle
    from mamori.bundle.signing import load_signer
    from mamori.compliance.assessment import parse_date
    from mamori.fileio import write_bytes_atomic
    from mamori.store import open_store

    _language(lang)
    product, version = _place(release)
    signer = load_signer(key)
    day = parse_date(date, "--date") if date else None
    released_on = parse_date(release_date, "--release-date") if release_date else None
    with open_store(db) as store:
        made = create_bundle(
            store,
            product,
            version,
            signer,
            supplier=supplier,
            assessments=assessment,
            approver=approver,
            date=day,
            namespace=namespace,
            released_on=released_on,
        )
    write_bytes_atomic(output, made.data)
    typer.echo(
        visible(
            _("{output}: bundle of {product} {release}, {count} parts, signed by key {keyid}").format(
                output=output,
                product=product,
                release=version,
                count=len(made.manifest["parts"]),
                keyid=made.key_id,
            )
        )
    )
    if made.manifest.get("release_date"):
        typer.echo(
            visible(
                _("release date: {date} ({source})").format(
                    date=made.manifest["release_date"], source=made.manifest["release_date_source"]
                )
            )
        )
    else:
        typer.echo(_("release date: not known (timing terms will be for a person to confirm)"))
    for part in made.manifest["parts"]:
        typer.echo(visible(f"  {part['name']}  {part['sha256']}"))


def _print_verified(result: Any) -> None:
    typer.echo(
        visible(
            _("{file}: {supplier} — {product} {release}").format(
                file=result.path, supplier=result.supplier, product=result.product, release=result.release
            )
        )
    )
    for part in result.parts():
        typer.echo(visible(f"  {part.get('name')}  {part.get('kind')}  {part.get('sha256')}"))
    for failure in result.failures:
        typer.echo(
            visible(_("FAILED {member}: {problem}").format(member=failure.member, problem=failure.problem))
        )
    if result.ok:
        typer.echo(
            visible(
                _("verified: signed by trusted key {keyid}, every part matches").format(keyid=result.key_id)
            )
        )
    else:
        typer.echo(visible(_("verification failed: {count} problem(s)").format(count=len(result.failures))))


@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The bundle (.zip)."),
    key: list[Path] = PUBLIC_KEYS,
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Check a supplier's bundle: bounded read, signature by a trusted key, every part's SHA-256 (exit 1 on failure)."""
    from mamori.bundle.verify import verify_bundle

    _language(lang)
    fmt = _format(output_format)
    keys = _keys(key)
    if keys:
        result = verify_bundle(file, keys)
    else:
        from mamori.bundle.importer import pinned_keys
        from mamori.store import open_store

        with open_store(db) as store:
            result = verify_bundle(file, pinned=lambda supplier: pinned_keys(store, supplier))
    if fmt == "json":
        _echo_json(result.as_dict())
    else:
        _print_verified(result)
    if not result.ok:
        raise typer.Exit(1)


def _change_lines(diff: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    components = diff.get("components")
    if components is not None:
        for c in components.get("added", []):
            lines.append(
                _("component added: {name} {version}").format(name=c["name"], version=c["version"] or "")
            )
        for c in components.get("removed", []):
            lines.append(
                _("component removed: {name} {version}").format(name=c["name"], version=c["version"] or "")
            )
        for c in components.get("version_changed", []):
            lines.append(
                _("component changed: {name} {before} → {after}").format(
                    name=c["name"], before=c["before"], after=c["after"]
                )
            )
        for kind in ("license_changed", "supplier_changed", "hash_changed"):
            for c in components.get(kind, []):
                lines.append(
                    _("component {name} {version}: {what} changed").format(
                        name=c["name"], version=c["version"] or "", what=kind.removesuffix("_changed")
                    )
                )
    findings = diff.get("findings", "absent")
    if findings is None:
        lines.append(_("findings: not compared (a release was not matched)"))
    elif isinstance(findings, dict):
        for f in findings["new"]:
            lines.append(_("new finding: {finding}").format(finding=f.replace("|", " in ")))
        for f in findings["resolved"]:
            lines.append(_("resolved finding: {finding}").format(finding=f.replace("|", " in ")))
    for d in diff.get("declarations", []):
        if d.get("new"):
            lines.append(_("declaration {framework}: new in this bundle").format(framework=d["framework"]))
            continue
        for item in d.get("status_changed", []):
            lines.append(
                _("declaration {framework} {id}: {before} → {after}").format(
                    framework=d["framework"], id=item["id"], before=item["before"], after=item["after"]
                )
            )
        for name in ("date", "valid_until", "next_review"):
            if name in d:
                lines.append(
                    _("declaration {framework} {what}: {before} → {after}").format(
                        framework=d["framework"], what=name, before=d[name]["before"], after=d[name]["after"]
                    )
                )
    return lines


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="The bundle (.zip)."),
    key: list[Path] = PUBLIC_KEYS,
    no_match: bool = typer.Option(False, "--no-match", help="Store only; match the release later."),
    by: str | None = typer.Option(
        None, "--by", help="Who imports it (default $MAMORI_USER or the login name)."
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        help="Write the check against the supplier's agreed terms (.xlsx or .md) to send back to them.",
    ),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Verify a supplier's bundle, store its parts under the supplier's product and release in one
    transaction, report what differs from the previous bundle and check it against the terms agreed with the
    supplier. Exit 0 stored (terms met, or none agreed); 1 verification failed (nothing stored) or stored
    but the agreed terms are not met; 2 bad input (nothing stored); 3 stored but matching failed."""
    from mamori.bundle.importer import BundleRefused, import_bundle
    from mamori.bundle.terms import check_bundle
    from mamori.contract.check import write_report
    from mamori.store import open_store

    _language(lang)
    fmt = _format(output_format)
    keys = _keys(key)
    if report is not None:
        _check_report(report)
    with open_store(db) as store:
        try:
            done = import_bundle(store, file, keys, who=by, match=not no_match)
        except BundleRefused as refused:
            if fmt == "json":
                _echo_json({**refused.verified.as_dict(), "imported": False})
            else:
                _print_verified(refused.verified)
                typer.echo(_("nothing was imported"))
            raise typer.Exit(1) from None
        assert done.verified is not None
        terms = check_bundle(store, done.verified)
    if report is not None and terms.results is not None:
        write_report(report, terms.supplier, terms.results, terms.files)
    code = terms.exit_code or (3 if done.match_error else 0)
    if fmt == "json":
        _echo_json({**done.as_dict(), "contract": terms.as_dict()})
        raise typer.Exit(code)
    _print_import(done)
    _print_terms(terms, report)
    if done.match_error:
        typer.echo(
            visible(
                _("matching failed, the import is stored; findings are not known: {problem}").format(
                    problem=done.match_error
                )
            ),
            err=True,
        )
    raise typer.Exit(code)


def _check_report(path: Path) -> None:
    """Refuse a report path that cannot be written before anything is stored."""
    import os
    import stat

    from mamori.fileio import check_folder, not_regular

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(path, str(exc.strerror or exc)) from None
    if mode is not None and not stat.S_ISREG(mode):
        raise not_regular(path, mode)
    check_folder(path.parent if str(path.parent) else Path("."))
    if path.suffix.lower() not in (".xlsx", ".md"):
        raise InputError(path, _("the report is written as .xlsx or .md"))


def _print_terms(terms: Any, report: Path | None) -> None:
    from mamori.contract.messages import text

    language = current_lang()
    if terms.results is None:
        typer.echo(visible(_("contract: no agreed terms for {supplier}").format(supplier=terms.supplier)))
        if report is not None:
            typer.echo(_("no contract report written: there are no agreed terms"))
        return
    tally = terms.as_dict()["counts"]
    typer.echo(
        visible(
            _("contract with {supplier}: {gap} gaps, {confirm} to confirm, {met} met").format(
                supplier=terms.supplier, **tally
            )
        )
    )
    for r in terms.results:
        if r.status in ("gap", "confirm"):
            reason = f" ({r.reason[language]})" if r.reason else ""
            typer.echo(
                visible(
                    f"  {text('status', r.status, language)}: {r.item} {r.title[language]}"
                    f" / {text('param', r.term, language)}: {r.agreed[language]} → {r.found[language]}{reason}"
                )
            )
    if report is not None:
        typer.echo(visible(_("contract report: {path}").format(path=report)))


def _print_import(done: Any) -> None:
    typer.echo(
        visible(
            _("imported {product} {release} from {supplier}: SBOM revision {revision}, {count} parts").format(
                product=done.product,
                release=done.release,
                supplier=done.supplier,
                revision=done.sbom_revision,
                count=len(done.parts),
            )
        )
    )
    if done.previous is None:
        typer.echo(_("first bundle of this product: nothing to compare with"))
        return
    typer.echo(
        visible(_("compared with the bundle of release {release}:").format(release=done.previous["release"]))
    )
    lines = _change_lines(done.diff)
    for line in lines:
        typer.echo(visible(f"  {line}"))
    if not lines:
        typer.echo(_("  no differences"))


@app.command("trust")
def trust(
    supplier: str = typer.Argument(..., help="The supplier name, as its bundles give it."),
    key: Path = typer.Option(..., "--key", help="The supplier's public key (PEM)."),
    by: str | None = typer.Option(None, "--by", help="Who pins it (default $MAMORI_USER or the login name)."),
    db: str | None = DB_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Pin a supplier's public key: its bundles then verify without --key."""
    from mamori.bundle.importer import pin_key
    from mamori.bundle.signing import load_public
    from mamori.store import open_store
    from mamori.triage.records import default_who

    _language(lang)
    public = load_public(key)
    with open_store(db) as store:
        added = pin_key(store, supplier, public, by or default_who())
    message = (
        _("pinned key {keyid} for {supplier}")
        if added
        else _("key {keyid} was already pinned for {supplier}")
    )
    typer.echo(visible(message.format(keyid=public.keyid, supplier=supplier.strip())))

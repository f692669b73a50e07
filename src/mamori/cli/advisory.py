"""``mamori advisory validate|publish`` and ``mamori csaf check``: CSAF 2.0 documents and providers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from mamori.cli.main import ERROR_LINE
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _

app = typer.Typer(
    help="Security advisories: draft CSAF 2.0 advisories and CVE records from PSIRT cases, validate and publish them.",
    no_args_is_help=True,
)
csaf_app = typer.Typer(
    help="CSAF providers and suppliers' advisories: check a provider, subscribe and pull, apply advisories to the inventory.",
    no_args_is_help=True,
)
MAX_SHOWN = 20  # findings of one kind printed before "... and N more"


@app.command("validate")
def validate_cmd(
    files: list[Path] = typer.Argument(..., help="CSAF 2.0 documents (JSON)."),
    fmt: str = typer.Option("text", "--format", help="Output format: text or json."),
) -> None:
    """Check CSAF 2.0 documents: the JSON schema with its formats and every mandatory test of section 6.1;
    the optional tests of section 6.2 are warnings.

    Exit 0 when every file is valid (warnings or not), 1 when one is not (each failed test is listed), 2 when one cannot be read.
    The text is in Japanese or English (MAMORI_LANG, else the locale); --format json keeps the English messages.
    """
    from mamori.advisory.publish import MAX_DOCUMENT_BYTES, parse, validate
    from mamori.fileio import read_bytes

    if fmt not in ("text", "json"):
        raise InputError(None, _("--format must be text or json"))
    worst, out = 0, {}
    for path in files:
        try:
            data = parse(read_bytes(path, MAX_DOCUMENT_BYTES), path)
        except InputError as exc:
            typer.echo(_(ERROR_LINE).format(message=visible(str(exc))), err=True)
            worst = 2
            continue
        result = validate(data, optional=True, lang="en" if fmt == "json" else None)  # JSON: English
        out[str(path)] = {"valid": result.valid, "errors": result.errors, "warnings": result.warnings}
        if not result.valid:
            worst = max(worst, 1)
        if fmt == "text":
            verdict = _("valid") if result.valid else _("invalid")
            typer.echo(visible(_("{file}: {verdict} CSAF 2.0").format(file=path, verdict=verdict)))
            for problem in result.errors:
                typer.echo(visible(f"  {problem}"))
            for warning in result.warnings:
                typer.echo(visible("  " + _("warning: {warning}").format(warning=warning)))
    if fmt == "json":
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    raise typer.Exit(worst)


@app.command("publish")
def publish_cmd(
    files: list[Path] = typer.Argument(..., help="CSAF 2.0 documents to publish."),
    provider: Path = typer.Option(..., "--provider", help="The provider directory (created when absent)."),
    key: Path | None = typer.Option(
        None, "--key", help="OpenPGP secret key file: sign every document (.asc) and list the public key."
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="The URL the directory is served at (default: from the existing metadata, else the publisher "
        "namespace + /.well-known/csaf).",
    ),
) -> None:
    """Publish CSAF documents as a CSAF 2.0 provider directory (section 7): TLP folders with year folders,
    index.txt, changes.csv, a ROLIE feed per TLP label, .sha256/.sha512, .asc signatures and
    provider-metadata.json. Publishing again updates the lists; every file is replaced atomically.

    A document that is not valid CSAF or has no TLP label is rejected alone (exit 1; exit 2 when one cannot
    be read at all); the others are published.
    """
    from mamori.advisory.publish import publish
    from mamori.advisory.signing import load_signing_key

    signing = load_signing_key(key) if key is not None else None
    result = publish(files, provider, key=signing, base_url=base_url)
    for file, problem in result.rejected:
        typer.echo(_(ERROR_LINE).format(message=visible(f"{file}: {problem}")), err=True)
    for path in result.published:
        typer.echo(visible(_("published {path}").format(path=path)))
    if signing is not None:
        typer.echo(visible(_("signed with key {fingerprint}").format(fingerprint=signing.fingerprint)))
    raise typer.Exit(2 if result.unreadable else 1 if result.rejected else 0)


@csaf_app.command("check")
def check_cmd(
    target: str = typer.Argument(
        ...,
        help="A provider directory, or the http(s) URL of its provider-metadata.json, a folder or a feed.",
    ),
    key: list[Path] = typer.Option(
        [],
        "--key",
        help="OpenPGP public key file(s): signatures must verify with these (or the listed keys).",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="Directory mode: the URL the directory is served at (links under it are local).",
    ),
    fmt: str = typer.Option("text", "--format", help="Output format: text or json."),
    show_all: bool = typer.Option(
        False, "--all", help=f"List every finding (default: {MAX_SHOWN} of each kind)."
    ),
) -> None:
    """Check a CSAF provider against CSAF 2.0 section 7.1 (like BSI's csaf_checker): file names, year
    folders, index.txt, changes.csv, ROLIE feeds, hashes, signatures, provider metadata.

    Exit 0 when every applicable requirement holds, 1 when one does not (each finding names the file and the
    requirement), 2 when the target cannot be read.
    """
    from mamori.advisory.provider_check import check_provider
    from mamori.advisory.signing import load_public_keys

    if fmt not in ("text", "json"):
        raise InputError(None, _("--format must be text or json"))
    certs = [c for path in key for c in load_public_keys(path)] if key else None
    started = time.perf_counter()
    report = check_provider(target, keys=certs, base_url=base_url)
    seconds = time.perf_counter() - started
    if fmt == "json":
        summary = [{"requirement": r, "kind": k, "count": n} for r, k, n in _summary(report)]
        findings = [
            {
                "requirement": f.requirement,
                "kind": f.kind,
                "where": f.where,
                "message": f.message,
                "level": f.level,
            }
            for f in report.findings
        ]
        body = {
            "target": target,
            "ok": report.ok,
            "documents": report.documents,
            "seconds": round(seconds, 2),
        }
        body |= {"summary": summary, "findings": findings, "notes": report.notes}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        shown: dict[tuple[str, str], int] = {}
        for f in report.findings:
            n = shown[(f.requirement, f.kind)] = shown.get((f.requirement, f.kind), 0) + 1
            if show_all or n <= MAX_SHOWN:
                typer.echo(visible(str(f)))
        for (requirement, kind), n in shown.items():
            if not show_all and n > MAX_SHOWN:
                typer.echo(
                    visible(
                        _("... and {count} more {kind} ({requirement})").format(
                            count=n - MAX_SHOWN, kind=kind, requirement=requirement
                        )
                    )
                )
        for note in report.notes:
            typer.echo(visible(note))
        for requirement, kind, n in _summary(report):
            typer.echo(
                visible(
                    _("{requirement} {kind}: {count}").format(requirement=requirement, kind=kind, count=n)
                )
            )
        verdict = _("conformant") if report.ok else _("not conformant")
        typer.echo(
            visible(
                _("{target}: {verdict} ({documents} documents, {failures} failures, {seconds:.1f} s)").format(
                    target=target,
                    verdict=verdict,
                    documents=report.documents,
                    failures=len(report.failures),
                    seconds=seconds,
                )
            )
        )
    raise typer.Exit(0 if report.ok else 1)


def _summary(report: object) -> list[tuple[str, str, int]]:
    from mamori.advisory.provider_check import iter_summary

    return list(iter_summary(report))  # type: ignore[arg-type]


def _register_drafts() -> None:
    from mamori.cli.advisory_draft import register_drafts

    register_drafts(app)


def _register_apply() -> None:
    from mamori.cli.csaf_apply import register_apply

    register_apply(csaf_app)


_register_drafts()
_register_apply()


def _register_subscriptions() -> None:
    from mamori.cli.csaf_subscribe import register_subscriptions

    register_subscriptions(csaf_app)


_register_subscriptions()

"""Advisories drafted from a PSIRT case: ``mamori advisory new`` (CSAF 2.0 security advisory, or VEX with
``--vex``; Japanese or English) and ``mamori advisory cve`` (CVE JSON 5 record for a CNA).

:func:`register_drafts` adds both commands to an ``advisory`` Typer group; :data:`app` is such a group with
only these two (the one the command tree uses until the group is shared with the publishing commands).
A draft that fails its checks (CSAF: the schema and the mandatory tests of section 6.1; CVE: the CVE record
schema) is not written: each problem on its own line and exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mamori.display import visible

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)


def advisory_new(
    case: str = typer.Option(..., "--case", help="The case key, e.g. PSIRT-2026-0001."),
    output: Path = typer.Option(..., "-o", "--output", help="The CSAF JSON file to write."),
    lang: str | None = typer.Option(
        None, "--lang", help="ja or en (default: the case's language; another one is a translation)."
    ),
    vex: bool = typer.Option(False, "--vex", help="A csaf_vex document instead of a security advisory."),
    publisher: str = typer.Option(
        ..., "--publisher", envvar="MAMORI_CSAF_PUBLISHER", help="The publisher (vendor) name."
    ),
    namespace: str = typer.Option(
        ..., "--namespace", envvar="MAMORI_CSAF_NAMESPACE", help="The publisher's namespace URL."
    ),
    tlp: str = typer.Option("WHITE", "--tlp", help="TLP label: WHITE, GREEN, AMBER or RED."),
    status: str | None = typer.Option(
        None, "--status", help="Tracking status draft, interim or final (recorded with --revision)."
    ),
    revision: str | None = typer.Option(
        None, "--revision", help="Record a new revision of the advisory with this summary."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Draft a CSAF 2.0 advisory from a PSIRT case."""
    from mamori.advisory.csaf_draft import check_csaf, draft_csaf
    from mamori.fileio import write_bytes_atomic
    from mamori.psirt.cases import add_revision
    from mamori.store import open_store

    with open_store(db) as store:
        if revision is not None:
            add_revision(store, case, status or "draft", revision)
        doc = draft_csaf(
            store, case, publisher=publisher, namespace=namespace, lang=lang, vex=vex, tlp=tlp, status=status
        )
    problems = check_csaf(doc)
    if problems:
        for p in problems:
            typer.echo(visible(f"{output}: {p}"), err=True)
        raise typer.Exit(1)
    write_bytes_atomic(output, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def advisory_cve(
    case: str = typer.Option(..., "--case", help="The case key, e.g. PSIRT-2026-0001."),
    output: Path = typer.Option(..., "-o", "--output", help="The CVE JSON 5 file to write."),
    org_id: str = typer.Option(
        ..., "--org-id", envvar="MAMORI_CNA_ORG_ID", help="The CNA's organisation UUID."
    ),
    short_name: str = typer.Option(
        ..., "--short-name", envvar="MAMORI_CNA_SHORT_NAME", help="The CNA's short name."
    ),
    vendor: str = typer.Option(
        ..., "--vendor", envvar="MAMORI_CSAF_PUBLISHER", help="The vendor of the products named."
    ),
    reference: list[str] | None = typer.Option(None, "--reference", help="A reference URL (repeatable)."),
    db: str | None = DB_OPTION,
) -> None:
    """Draft a CVE JSON 5 record from a PSIRT case, checked against the CVE record schema."""
    from mamori.advisory.cve_record import cve_problems, draft_cve
    from mamori.fileio import write_bytes_atomic
    from mamori.store import open_store

    with open_store(db) as store:
        record = draft_cve(
            store, case, org_id=org_id, short_name=short_name, vendor=vendor, references=list(reference or [])
        )
    problems = cve_problems(record)
    if problems:
        for p in problems:
            typer.echo(visible(f"{output}: {p}"), err=True)
        raise typer.Exit(1)
    write_bytes_atomic(output, (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def register_drafts(target: typer.Typer) -> None:
    """Add ``new`` and ``cve`` to the ``advisory`` group ``target``."""
    target.command("new")(advisory_new)
    target.command("cve")(advisory_cve)

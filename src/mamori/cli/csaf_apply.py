"""``mamori csaf apply FILE... [--supplier NAME]``: suppliers' CSAF advisories applied to the whole inventory
(:mod:`mamori.portfolio.csafin`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import LANGS, N_, _, current_lang, translate

RULE_LABELS = {
    "purl": N_("purl"),
    "cpe": N_("CPE"),
    "hash": N_("file hash"),
    "name_version": N_("name and version"),
    "range": N_("name and version range"),
    "name": N_("name (every release)"),
    "relationship": N_("relationship"),
}
LISTS = {
    "unmatched": N_("Product entries that match nothing in the inventory: {count}"),
    "out_of_range": N_("Product entries naming a product of the inventory, none of its releases: {count}"),
    "unparsed": N_("Product entries with a version range that is not vers: (not evaluated): {count}"),
    "without_purl": N_("Components matched that have no purl to record them under: {count}"),
    "conflicting": N_(
        "Releases or components two statements give different statuses (the first kept): {count}"
    ),
    "not_restated": N_("Records of an earlier revision this one no longer makes (kept): {count}"),
}


def register_apply(app: typer.Typer) -> None:
    app.command("apply")(apply_cmd)


def apply_cmd(
    files: list[Path] = typer.Argument(..., help="CSAF 2.0 advisories (JSON) of your suppliers."),
    supplier: str | None = typer.Option(
        None,
        "--supplier",
        help="The supplier (as your products name it) the advisories come from, when the advisory's vendor "
        "is spelled otherwise or missing.",
    ),
    fmt: str = typer.Option("text", "--format", help="Output format: text or json."),
    lang: str | None = typer.Option(None, "--lang", help="Language of the table: en or ja."),
    db: str | None = typer.Option(
        None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
    ),
) -> None:
    """Apply suppliers' CSAF advisories (security advisories and VEX) to every product and release of the
    portfolio: their statuses become triage records naming the supplier and the advisory.

    Products are matched by purl, CPE or file hash against the components of every release's SBOM, by
    vendor, product name and version (or vers: range) against your products and releases, and through
    relationships. Per advisory the report counts what matched by which rule, the statuses applied and the
    product entries that matched nothing. A statement breaking the VEX rules is rejected alone (exit 1);
    applying an advisory again changes nothing; a newer revision updates the records of the older one.
    """
    from mamori.fileio import read_bytes
    from mamori.portfolio.csafin import apply_advisory, inventory
    from mamori.sbom.cyclonedx.read_json import parse_json
    from mamori.store import open_store

    if fmt not in ("text", "json"):
        raise InputError(None, _("--format: expected text or json, got {fmt!r}").format(fmt=fmt))
    if lang is not None and lang not in LANGS:
        raise InputError(None, _("--lang: expected en or ja, got {lang!r}").format(lang=lang))
    lg = lang or current_lang()
    documents: list[tuple[Path, Any]] = []
    for path in files:
        obj = parse_json(read_bytes(path), path)
        if not isinstance(obj, dict) or not isinstance(obj.get("document"), dict):
            raise InputError(path, _("not a CSAF document (no document object)"))
        documents.append((path, obj))
    done = []
    with open_store(db) as store:
        releases = inventory(store)
        for path, obj in documents:
            try:
                done.append(apply_advisory(store, obj, supplier, path, releases))
            except InputError as exc:
                raise InputError(path, exc.problem) from None
    if fmt == "json":
        typer.echo(json.dumps([d.as_dict() for d in done], ensure_ascii=False, indent=2))
    else:
        for d in done:
            for line in table(d.as_dict(), lg):
                typer.echo(visible(line))
    rejected = False
    for d in done:
        for r in d.rejected:
            rejected = True
            message = translate(N_("statement {index} ({vulnerability}) rejected: {problem}"), lg).format(
                index=r["statement"], vulnerability=r["vulnerability"], problem=r["problem"]
            )
            typer.echo(visible(f"{d.file}: {message}"), err=True)
    if rejected:
        raise typer.Exit(1)


def table(d: dict[str, Any], lang: str) -> list[str]:
    """One advisory's report as lines of text in ``lang``."""

    def t(msgid: str) -> str:
        return translate(msgid, lang)

    lines = [
        t(
            N_(
                "{advisory} version {version} ({category}) by {publisher}: {vulnerabilities} vulnerabilities, "
                "{statements} statements, {products} product entries"
            )
        ).format(
            advisory=d["advisory"],
            version=d["version"],
            category=d["category"] or "?",
            publisher=d["publisher"] + (f" <{d['namespace']}>" if d["namespace"] else ""),
            vulnerabilities=d["vulnerabilities"],
            statements=d["statements"],
            products=d["products"],
        )
    ]
    heads = (t(N_("Matched by")), t(N_("Releases")), t(N_("Components")))
    rows = [
        (t(RULE_LABELS.get(rule, rule)), str(n["releases"]), str(n["components"]))
        for rule, n in d["matched"].items()
    ]
    if rows:
        width = max(_width(x) for x in [heads[0], *(r[0] for r in rows)])
        for row in (heads, *rows):
            lines.append(f"  {_pad(row[0], width)}  {row[1]:>8}  {row[2]:>10}")
    else:
        lines.append("  " + t(N_("Nothing in the inventory matched.")))
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(d["statuses"].items())) or "-"
    lines.append("  " + t(N_("Statuses applied (records): {statuses}")).format(statuses=statuses))
    lines.append(
        "  "
        + t(
            N_(
                "Records: {records} ({created} created, {updated} updated, {unchanged} unchanged, "
                "{older} older than stored)"
            )
        ).format(**{k: d[k] for k in ("records", "created", "updated", "unchanged", "older")})
    )
    for kind, msgid in LISTS.items():
        if d[kind]:
            lines.append("  " + t(msgid).format(count=d[kind]))
            lines.extend(f"    {x}" for x in d[f"{kind}_examples"])
    return lines


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))

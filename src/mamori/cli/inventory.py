"""The deployed inventory: ``mamori inventory add|list|show|update|retire|support|import|export|priorities``
(thin wiring over mamori.inventory)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, choose_lang

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")
SYSTEM = typer.Option(None, "--system", help="The system or line the release runs in.")
ENVIRONMENT = typer.Option(None, "--environment", help="Notes on the environment.")
EXPOSURE = typer.Option(None, "--exposure", help="SSVC system exposure: small, controlled or open.")
MISSION = typer.Option(
    None, "--mission-impact", help="SSVC mission impact: degraded, crippled, mef_failure or mission_failure."
)
SAFETY = typer.Option(None, "--safety-impact", help="SSVC safety impact: negligible or significant.")
NETWORK = typer.Option(None, "--network", help="Network placement (e.g. DMZ, OT segment, isolated).")
OWNER = typer.Option(None, "--owner", help="The owner's contact.")
SINCE = typer.Option(None, "--since", help="Deployed since (YYYY-MM-DD).")
EOS = typer.Option(None, "--end-of-support", help="This deployment's end of support (YYYY-MM-DD).")

app = typer.Typer(
    help="Deployed inventory: which supplier releases run where, and what to patch first.",
    no_args_is_help=True,
)


def _store(db: str | None) -> Any:
    from mamori.store import open_store

    return open_store(db)


def _format(value: str, allowed: tuple[str, ...] = ("text", "json")) -> str:
    if value not in allowed:
        raise InputError(None, _("--format is one of {formats}").format(formats=", ".join(allowed)))
    return value


def _fields(**given: Any) -> dict[str, Any]:
    names = {"exposure": "system_exposure", "since": "deployed_since"}
    return {names.get(k, k): v for k, v in given.items() if v is not None}


def _show(d: Any) -> None:
    data = d.as_dict()
    lines = [
        f"#{d.id}  {d.product} {d.release}  @ {d.site}" + (f" / {d.system}" if d.system else ""),
        _("status: {status}").format(status=d.status),
    ]
    labels = (
        ("system_exposure", _("system exposure")),
        ("mission_impact", _("mission impact")),
        ("safety_impact", _("safety impact")),
        ("network", _("network placement")),
        ("environment", _("environment")),
        ("owner", _("owner")),
        ("deployed_since", _("deployed since")),
        ("support_ends", _("end of support")),
        ("support_state", _("support state")),
    )
    for key, label in labels:
        if data.get(key):
            lines.append(f"{label}: {data[key]}")
    typer.echo("\n".join(visible(line) for line in lines))


def _emit(d: Any, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(d.as_dict(), ensure_ascii=False, indent=2))
    else:
        _show(d)


@app.command("add")
def inventory_add(
    product: str = typer.Argument(..., help="The stored product (`mamori product add`)."),
    release: str = typer.Argument(..., help="The stored release (`mamori release add`)."),
    site: str = typer.Option(..., "--site", help="Where it runs (site, plant, data centre)."),
    system: str | None = SYSTEM,
    environment: str | None = ENVIRONMENT,
    exposure: str | None = EXPOSURE,
    mission_impact: str | None = MISSION,
    safety_impact: str | None = SAFETY,
    network: str | None = NETWORK,
    owner: str | None = OWNER,
    since: str | None = SINCE,
    end_of_support: str | None = EOS,
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record a deployment of a product release."""
    from mamori.inventory.deployments import add_deployment

    fmt = _format(fmt)
    fields = _fields(
        site=site,
        system=system,
        environment=environment,
        exposure=exposure,
        mission_impact=mission_impact,
        safety_impact=safety_impact,
        network=network,
        owner=owner,
        since=since,
        end_of_support=end_of_support,
    )
    with _store(db) as store:
        _emit(add_deployment(store, product, release, **fields), fmt)


@app.command("list")
def inventory_list(
    site: str | None = typer.Option(None, "--site", help="Only this site."),
    product: str | None = typer.Option(None, "--product", help="Only this product."),
    status: str = typer.Option("active", "--status", help="active, retired or all."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """List deployments."""
    from mamori.inventory.deployments import list_deployments

    fmt = _format(fmt)
    with _store(db) as store:
        found = list_deployments(
            store, site=site, product=product, status=None if status == "all" else status
        )
    if fmt == "json":
        typer.echo(json.dumps([d.as_dict() for d in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo(_("No deployments."))
        return
    for d in found:
        data = d.as_dict()
        flag = {"ended": _("SUPPORT ENDED"), "soon": _("support ends soon")}.get(
            data["support_state"] or "", ""
        )
        typer.echo(
            visible(
                f"#{d.id}  {d.site}  {d.system or '-'}  {d.product} {d.release}  "
                f"{d.system_exposure or '?'}/{d.mission_impact or '?'}  {d.status}"
                + (f"  {flag} {d.support_ends}" if flag else "")
            )
        )


@app.command("show")
def inventory_show(
    deployment: int = typer.Argument(..., help="The deployment's id (`mamori inventory list`)."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Show one deployment."""
    from mamori.inventory.deployments import get_deployment

    fmt = _format(fmt)
    with _store(db) as store:
        _emit(get_deployment(store, deployment), fmt)


@app.command("update")
def inventory_update(
    deployment: int = typer.Argument(..., help="The deployment's id."),
    site: str | None = typer.Option(None, "--site", help="Where it runs."),
    system: str | None = SYSTEM,
    environment: str | None = ENVIRONMENT,
    exposure: str | None = EXPOSURE,
    mission_impact: str | None = MISSION,
    safety_impact: str | None = SAFETY,
    network: str | None = NETWORK,
    owner: str | None = OWNER,
    since: str | None = SINCE,
    end_of_support: str | None = EOS,
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Change a deployment (an option given as "" clears the field)."""
    from mamori.inventory.deployments import update_deployment

    fmt = _format(fmt)
    fields = _fields(
        site=site,
        system=system,
        environment=environment,
        exposure=exposure,
        mission_impact=mission_impact,
        safety_impact=safety_impact,
        network=network,
        owner=owner,
        since=since,
        end_of_support=end_of_support,
    )
    with _store(db) as store:
        _emit(update_deployment(store, deployment, **fields), fmt)


@app.command("retire")
def inventory_retire(
    deployment: int = typer.Argument(..., help="The deployment's id."),
    db: str | None = DB_OPTION,
) -> None:
    """Mark a deployment retired (it leaves the patch list)."""
    from mamori.inventory.deployments import retire_deployment

    with _store(db) as store:
        d = retire_deployment(store, deployment)
    typer.echo(_("Deployment {id} retired at {at}.").format(id=d.id, at=d.retired_at))


@app.command("support")
def inventory_support(
    product: str = typer.Argument(..., help="The stored product."),
    release: str = typer.Argument(..., help="The stored release."),
    end_of_support: str = typer.Argument(
        ..., help="The supplier's end of support (YYYY-MM-DD), or - to clear."
    ),
    source: str | None = typer.Option(None, "--source", help="Where the date was announced."),
    db: str | None = DB_OPTION,
) -> None:
    """Set the supplier's end-of-support date of a release (every deployment of it)."""
    from mamori.inventory.deployments import set_release_support

    with _store(db) as store:
        day = set_release_support(
            store, product, release, None if end_of_support == "-" else end_of_support, source=source
        )
    typer.echo(
        visible(
            _("{product} {release}: end of support {date}").format(
                product=product, release=release, date=day or "-"
            )
        )
    )


@app.command("import")
def inventory_import(
    file: Path = typer.Argument(
        ..., help="Asset list (.csv or .xlsx) with product, release, site … columns."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Add the deployments of an asset list; a bad row is rejected alone (exit 1), the others are added."""
    from mamori.inventory.transfer import import_file

    with _store(db) as store:
        report = import_file(store, file)
    for problem in report.rejected:
        sys.stderr.write(visible(problem) + "\n")
    typer.echo(
        _("{rows} rows read: {added} deployments added, {rejected} rejected.").format(
            rows=report.rows, added=len(report.added), rejected=len(report.rejected)
        )
    )
    if report.rejected:
        raise typer.Exit(1)


@app.command("export")
def inventory_export(
    output: Path = typer.Option(..., "-o", "--output", help="The .csv or .xlsx file to write."),
    fmt: str | None = typer.Option(
        None, "--format", help="csv or xlsx (default: the file's suffix, else csv)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Write every deployment (active and retired) as CSV or XLSX; no cell is ever a formula."""
    from mamori.inventory.transfer import export_file

    with _store(db) as store:
        count = export_file(store, output, fmt)
    typer.echo(_("{count} deployments written to {path}").format(count=count, path=visible(output)))


def _problem(p: dict[str, Any]) -> str:
    code = p["code"]
    place = f"{p.get('product', '')} {p.get('release', '')}".strip()
    texts = {
        "no_deployments": _("no active deployment is recorded (`mamori inventory add` or `import`)"),
        "no_knowledge": _("the knowledge base holds no vulnerability data (`mamori db import` or `db sync`)"),
        "knowledge_old": _("the knowledge base was last updated {days} days ago (more than {max} days)"),
        "no_sbom": _("{place}: the release has no SBOM: its findings are unknown"),
        "not_matched": _("{place}: the release's SBOM was never matched (`mamori portfolio rematch`)"),
        "match_stale": _(
            "{place}: matched before the latest knowledge-base import (`mamori portfolio rematch --changed-only`)"
        ),
    }
    return texts.get(code, code).format(place=place, days=p.get("age_days"), max=p.get("max_age_days"))


def _table(data: dict[str, Any]) -> None:
    lines: list[str] = []
    lines.append(
        _(
            "Patch priorities (SSVC deployer tree, each deployment's own context): {n} findings across {d} deployments"
        ).format(n=data["summary"]["findings"], d=data["deployments"])
    )
    for item in data["items"]:
        v = item["vulnerability"]
        c = item["component"]
        epss = f"{v['epss'] * 100:.1f}%" if v["epss"] is not None else "-"
        eos = {"ended": _("SUPPORT ENDED"), "soon": _("support ends soon")}.get(
            item["support_state"] or "", ""
        )
        lines.append(
            f"{item['rank']:>4}. {item['ssvc']['outcome_name']} ({item['ssvc']['outcome']})  {v['id']}"
            + ("  KEV" if v["kev"] else "")
            + f"  EPSS {epss}  CVSS {v['score'] if v['score'] is not None else '-'}"
        )
        lines.append(
            "      "
            + _("{site} / {system}: {product} {release}, {component}").format(
                site=item["site"],
                system=item["system"] or "-",
                product=item["product"],
                release=item["release"],
                component=f"{c['name']}@{c['version']}" if c["version"] else c["name"],
            )
            + (f"  [{eos} {item['support_ends']}]" if eos else "")
        )
        lines.append("      " + _("why: {path}").format(path=item["ssvc"]["path"]))
        if item["fixed_versions"]:
            lines.append(
                "      " + _("fixed in: {versions}").format(versions=", ".join(item["fixed_versions"]))
            )
    if data["end_of_support"]:
        lines.append("")
        lines.append(_("End of support (passed or within 90 days):"))
        for s in data["end_of_support"]:
            state = _("ended") if s["support_state"] == "ended" else _("ends soon")
            lines.append(
                f"  #{s['deployment']} {s['site']} {s['product']} {s['release']}: {s['support_ends']} ({state})"
            )
    lines.append("")
    kb = data["coverage"]["knowledge"]
    lines.append(
        _(
            "Knowledge base: latest import {at} ({days} days old); KEV entries {kev}, EPSS scores {epss}"
        ).format(
            at=kb["latest_import"] or "-",
            days=kb["age_days"] if kb["age_days"] is not None else "-",
            kev=kb["kev_entries"],
            epss=kb["epss_scores"],
        )
    )
    for r in data["coverage"]["releases"]:
        lines.append(
            "  "
            + _("{product} {release}: SBOM {sbom}, {components} components, matched {at}").format(
                product=r["product"],
                release=r["release"],
                sbom=_("yes") if r["sbom"] else _("no"),
                components=r["components"],
                at=r["matched_at"] or "-",
            )
        )
    typer.echo("\n".join(visible(line) for line in lines))


def _csv(data: dict[str, Any]) -> bytes:
    from mamori import cells

    rows: list[list[Any]] = [
        [
            "rank",
            "outcome",
            "kev",
            "epss",
            "cvss",
            "vulnerability",
            "site",
            "system",
            "product",
            "release",
            "component",
            "version",
            "purl",
            "fixed_versions",
            "support_ends",
            "support_state",
            "path",
        ]
    ]
    for i in data["items"]:
        v, c = i["vulnerability"], i["component"]
        rows.append(
            [
                i["rank"],
                i["ssvc"]["outcome"],
                v["kev"],
                v["epss"],
                v["score"],
                v["id"],
                i["site"],
                i["system"],
                i["product"],
                i["release"],
                c["name"],
                c["version"],
                c["purl"],
                " ".join(i["fixed_versions"]),
                i["support_ends"],
                i["support_state"],
                i["ssvc"]["path"],
            ]
        )
    return cells.csv_bytes(rows)


@app.command("priorities")
def inventory_priorities(
    site: str | None = typer.Option(None, "--site", help="Only this site's deployments."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write to this file instead of the screen."
    ),
    max_age: float = typer.Option(
        7.0, "--max-age", help="Knowledge base older than this many days: cannot judge."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help=f"Language of the text output: en or ja ({DEFAULT_NOTE})."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """What to patch first: every open finding of every deployed release, ranked by the SSVC deployer tree
    with each deployment's own exposure and mission impact. Exit 3 when something could not be checked."""
    from mamori.fileio import write_bytes_atomic
    from mamori.inventory.priorities import priorities

    fmt = _format(fmt, ("table", "json", "csv"))
    language = choose_lang(lang)
    if not 0 < max_age <= 3650:
        raise InputError(None, _("--max-age must be above 0 and at most 3650"))
    with _store(db) as store:
        data = priorities(store, site=site, lang=language, max_age_days=max_age)
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    elif fmt == "csv":
        body = _csv(data)
    else:
        body = b""
    if output is not None:
        if fmt == "table":
            raise InputError(None, _("-o needs --format json or csv"))
        write_bytes_atomic(output, body)
    elif fmt == "table":
        _table(data)
    else:
        sys.stdout.write(body.decode("utf-8"))
    for p in data["problems"]:
        sys.stderr.write("mamori: " + _("cannot judge") + ": " + visible(_problem(p)) + "\n")
    if not data["can_judge"]:
        raise typer.Exit(3)

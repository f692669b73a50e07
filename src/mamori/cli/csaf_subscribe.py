"""``mamori csaf subscribe|pull|list``: subscriptions to suppliers' CSAF 2.0 providers (thin wiring over
mamori.advisory.subscribe and mamori.advisory.pull)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
FORMAT_OPTION = typer.Option("text", "--format", help="Output format: text or json.")


def _store(db: str | None) -> Any:
    from mamori.store import open_store

    return open_store(db)


def _format(fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise InputError(None, _("--format must be text or json"))


def subscribe_cmd(
    target: str = typer.Argument(
        ...,
        help="The https URL of a provider-metadata.json, or the supplier's domain (discovery per CSAF 2.0 7.3).",
    ),
    key: list[Path] = typer.Option(
        [], "--key", help="OpenPGP public key file(s) to pin: only they make a signature valid."
    ),
    team: str | None = typer.Option(
        None,
        "--team",
        help="Subscribe for this team of the team server: the keys are the team's own (no other team trusts them).",
    ),
    db: str | None = DB_OPTION,
    fmt: str = FORMAT_OPTION,
) -> None:
    """Subscribe to a supplier's CSAF advisories: find its provider-metadata.json (the URL given; else
    /.well-known/csaf/, security.txt CSAF: lines, csaf.data.security.DOMAIN), check it against the provider
    schema, pin the keys given and store the subscription. Plain http is refused except on loopback addresses.
    """
    from mamori.advisory.subscribe import subscribe

    _format(fmt)
    with _store(db) as store:
        team_id = None
        if team is not None:
            from mamori import accounts

            found = accounts.get_team(store, team.strip())
            if found is None:
                raise InputError(None, _("--team: no team {name!r}").format(name=team))
            team_id = found.id
        sub = subscribe(store, target, key, team_id=team_id)
    pinned = sub.keys if team_id is None else sub.team_keys.get(team_id, [])
    if fmt == "json":
        data = sub.as_dict()
        if team_id is not None:
            data = {**data, "team": team.strip(), "keys": pinned}  # type: ignore[union-attr]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(
        visible(
            _("subscription {id}: {publisher} ({url}, found by {how})").format(
                id=sub.id, publisher=sub.publisher, url=sub.metadata_url, how=sub.found_by
            )
        )
    )
    for fpr in pinned:
        typer.echo(visible(_("  pinned key {fingerprint}").format(fingerprint=fpr)))
    if not pinned:
        typer.echo(_("  no key pinned: signatures will be shown as not verifiable"))


def pull_cmd(
    subscription: int | None = typer.Option(None, "--subscription", help="Pull only this subscription id."),
    no_apply: bool = typer.Option(
        False, "--no-apply", help="Only import into the knowledge base; do not apply to the inventory."
    ),
    db: str | None = DB_OPTION,
    fmt: str = FORMAT_OPTION,
) -> None:
    """Pull what changed at each subscribed provider (ROLIE feeds or index.txt/changes.csv): check each new or
    updated advisory's hash, signature (pinned keys) and validity, import its vulnerabilities into the
    knowledge base (source csaf:<publisher namespace>) and, unless --no-apply, apply it to the inventory as
    mamori csaf apply does (the subscription's publisher as supplier). Each bad advisory is rejected alone.

    Exit 0 when everything was imported, 1 when an advisory was rejected (or could not be applied), 3 when a provider or file could not be
    reached (what was not reached is not judged).
    """
    from mamori.advisory.pull import pull

    _format(fmt)
    with _store(db) as store:
        reports = pull(store, subscription, apply=not no_apply)
    if fmt == "json":
        typer.echo(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        if not reports:
            typer.echo(_("no CSAF subscriptions: add one with mamori csaf subscribe"))
        for r in reports:
            typer.echo(
                visible(
                    _(
                        "subscription {id} ({publisher}): {new} new, {updated} updated, {unchanged} unchanged, "
                        "{rejected} rejected, {failed} not reached ({fetched} advisories downloaded)"
                    ).format(
                        id=r.subscription.id,
                        publisher=r.subscription.publisher,
                        new=r.new,
                        updated=r.updated,
                        unchanged=r.unchanged,
                        rejected=len(r.rejected),
                        failed=len(r.failed),
                        fetched=r.fetched,
                    )
                )
            )
            for state, n in sorted(r.signatures.items()):
                typer.echo(visible(_("  signature {state}: {count}").format(state=_state(state), count=n)))
            for url, reason in r.rejected:
                typer.echo(visible(_("  rejected {url}: {reason}").format(url=url, reason=reason)))
            for url, reason in r.failed:
                typer.echo(visible(_("  not reached {url}: {reason}").format(url=url, reason=reason)))
            for d in r.deviations.values():
                typer.echo(
                    visible(
                        _("  deviation {kind} ({count}x), e.g. {where}: {message}").format(
                            kind=d.kind, count=d.count, where=d.where, message=d.message
                        )
                    )
                )
            _apply_lines(r)
    rejected = any(r.rejected or r.apply_rejected for r in reports)
    raise typer.Exit(3 if any(r.failed for r in reports) else 1 if rejected else 0)


def _apply_lines(r: Any) -> None:
    """What applying the pulled advisories to the inventory did."""
    if r.apply_skipped:
        typer.echo(_("  not applied to the inventory (--no-apply)"))
        return
    totals = r.apply_totals()
    if r.inventory_empty:
        typer.echo(_("  not applied: the inventory has no releases (mamori csaf apply can apply them later)"))
        return
    typer.echo(
        _(
            "  applied to the inventory: {advisories} advisories, {records} triage records "
            "({created} created, {updated} updated, {unchanged} unchanged), {unmatched} product entries "
            "matched nothing, {rejected} statements rejected"
        ).format(**totals)
    )
    for url, reason in r.apply_rejected:
        typer.echo(visible(_("  not applied {url}: {reason}").format(url=url, reason=reason)))


def _state(state: str) -> str:
    return {
        "valid": _("valid (pinned key)"),
        "not-verifiable": _("not verifiable (no key pinned)"),
        "missing": _("missing"),
        "failed": _("signature failed (no pinned key made it)"),
    }.get(state, state)


def list_cmd(db: str | None = DB_OPTION, fmt: str = FORMAT_OPTION) -> None:
    """List the CSAF subscriptions: provider, last pull, counts, pinned keys and deviations met."""
    from mamori import accounts
    from mamori.advisory.subscribe import list_subscriptions

    _format(fmt)
    with _store(db) as store:
        subs = list_subscriptions(store)
        names = {t.id: t.name for t in accounts.list_teams(store)} if any(s.team_keys for s in subs) else {}
    if fmt == "json":
        typer.echo(json.dumps([s.as_dict() for s in subs], ensure_ascii=False, indent=2))
        return
    if not subs:
        typer.echo(_("no CSAF subscriptions"))
    for s in subs:
        typer.echo(
            visible(
                _("{id}: {publisher} {url} (found by {how}), last pull {last}").format(
                    id=s.id,
                    publisher=s.publisher,
                    url=s.metadata_url,
                    how=s.found_by,
                    last=s.last_pull or _("never"),
                )
            )
        )
        if s.counts:
            typer.echo(
                visible(
                    _("  {new} new, {updated} updated, {unchanged} unchanged, {rejected} rejected").format(
                        new=s.counts.get("new", 0),
                        updated=s.counts.get("updated", 0),
                        unchanged=s.counts.get("unchanged", 0),
                        rejected=s.counts.get("rejected", 0),
                    )
                )
            )
        keys = ", ".join(s.keys) if s.keys else _("none (signatures not verifiable)")
        typer.echo(visible(_("  pinned keys: {keys}").format(keys=keys)))
        for team_id, fprs in sorted(s.team_keys.items()):
            typer.echo(
                visible(
                    _("  pinned keys of team {team}: {keys}").format(
                        team=names.get(team_id, team_id), keys=", ".join(fprs)
                    )
                )
            )
        for d in s.deviations:
            typer.echo(
                visible(
                    _("  deviation {kind} ({count}x), e.g. {where}: {message}").format(
                        kind=d.get("kind"),
                        count=d.get("count"),
                        where=d.get("where"),
                        message=d.get("message"),
                    )
                )
            )


def register_subscriptions(app: typer.Typer) -> None:
    app.command("subscribe")(subscribe_cmd)
    app.command("pull")(pull_cmd)
    app.command("list")(list_cmd)

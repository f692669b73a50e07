"""Notifications: ``mamori notify add|list|test|remove|log|run``.

Subscriptions belong to a team and cover the products the team owns (``mamori team product``). The
webhook secret is read from ``--secret`` or, kept out of the process list, from the first line of stdin
(``--secret-stdin``); it is never printed again. SMTP settings for e-mail: ``MAMORI_SMTP_HOST``, ``_PORT``,
``_USER``, ``_PASSWORD``, ``_FROM``, ``_SECURITY`` or ``[notify.smtp]`` in the user's ``mamori.toml``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")

app = typer.Typer(
    help="Notifications to teams: webhook, Slack, Microsoft Teams, e-mail.", no_args_is_help=True
)


def _format(value: str) -> str:
    if value not in ("text", "json"):
        raise InputError(None, _("--format is text or json"))
    return value


def _store(db: str | None):  # type: ignore[no-untyped-def]
    from mamori.store import open_store

    return open_store(db)


@app.command("add")
def notify_add(
    channel: str = typer.Argument(..., help="webhook, slack, teams or email."),
    target: str = typer.Argument(..., help="The URL (webhook, Slack, Teams) or the e-mail address."),
    team: str = typer.Option(..., "--team", help="The team the subscription belongs to."),
    secret: str | None = typer.Option(
        None, "--secret", help="Webhook only: the HMAC-SHA256 signing secret (16 characters or more)."
    ),
    secret_stdin: bool = typer.Option(
        False, "--secret-stdin", help="Webhook only: read the signing secret from the first line of stdin."
    ),
    product: list[str] | None = typer.Option(
        None, "--product", help="Only this product of the team (repeatable; default: all of them)."
    ),
    min_severity: str | None = typer.Option(
        None, "--min-severity", help="Only findings this severe or worse: critical, high, medium, low, none."
    ),
    ssvc: list[str] | None = typer.Option(
        None,
        "--ssvc",
        help="Only these SSVC outcomes (repeatable or comma-separated), e.g. immediate,out_of_cycle.",
    ),
    kev_only: bool = typer.Option(False, "--kev-only", help="Only vulnerabilities in CISA KEV."),
    event: list[str] | None = typer.Option(
        None,
        "--event",
        help=(
            "Only these events (repeatable): new_finding, kev_added, epss_rise, ssvc_change, "
            "sbom_quality_drop, policy_violation, supplier_document, review_due, case_overdue, deployed_kev, end_of_support."
        ),
    ),
    digest: bool = typer.Option(False, "--digest", help="One message a day with the day's events."),
    lang: str = typer.Option("en", "--lang", help="Language of the messages: ja or en."),
    db: str | None = DB_OPTION,
) -> None:
    """Subscribe a team to notifications on a channel."""
    from mamori.notify import add_subscription

    if secret is not None and secret_stdin:
        raise InputError(None, _("give --secret or --secret-stdin, not both"))
    if secret_stdin:
        secret = sys.stdin.readline(1024).rstrip("\r\n") or None
        if secret is None:
            raise InputError("<stdin>", _("no secret on the first line"))
    with _store(db) as store:
        sub = add_subscription(
            store,
            team,
            channel,
            target,
            secret=secret,
            products=product,
            min_severity=min_severity,
            ssvc_outcomes=ssvc,
            kev_only=kev_only,
            events=event,
            mode="digest" if digest else "immediate",
            lang=lang,
        )
    typer.echo(
        visible(
            _("subscription {id} added: {channel} to {target} for team {team}").format(
                id=sub.id, channel=sub.channel, target=sub.shown_target(), team=sub.team
            )
        )
    )


@app.command("list")
def notify_list(
    team: str | None = typer.Option(None, "--team", help="Only this team's subscriptions."),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """List the subscriptions (secrets are not shown)."""
    from mamori.notify import list_subscriptions

    output_format = _format(output_format)
    with _store(db) as store:
        subs = list_subscriptions(store, team)
    rows = [s.as_dict() for s in subs]
    if output_format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        filters = []
        if r["products"]:
            filters.append("product=" + ",".join(r["products"]))
        if r["min_severity"]:
            filters.append(f"severity>={r['min_severity']}")
        if r["ssvc_outcomes"]:
            filters.append("ssvc=" + ",".join(r["ssvc_outcomes"]))
        if r["kev_only"]:
            filters.append("kev")
        if r["events"]:
            filters.append("event=" + ",".join(r["events"]))
        signed = " signed" if r["signed"] else ""
        typer.echo(
            visible(
                f"{r['id']}  {r['team']}  {r['channel']}{signed}  {r['target']}  {r['mode']}  {r['lang']}"
                + (f"  {' '.join(filters)}" if filters else "")
            )
        )


@app.command("test")
def notify_test(
    subscription: int = typer.Argument(..., help="The subscription's id (`mamori notify list`)."),
    db: str | None = DB_OPTION,
) -> None:
    """Send a test message to a subscription now (exit 1 when it was not delivered)."""
    from mamori.notify import send_test

    with _store(db) as store:
        outcome = send_test(store, subscription)
    if outcome.ok:
        typer.echo(_("test message sent"))
        return
    detail = outcome.error_class or ""
    if outcome.code is not None:
        detail = f"{detail} {outcome.code}".strip()
    typer.echo(visible(_("test message not delivered: {reason}").format(reason=detail)), err=True)
    raise typer.Exit(1)


@app.command("remove")
def notify_remove(
    subscription: int = typer.Argument(..., help="The subscription's id."),
    db: str | None = DB_OPTION,
) -> None:
    """Remove a subscription (its delivery log stays)."""
    from mamori.notify import remove_subscription

    with _store(db) as store:
        sub = remove_subscription(store, subscription)
    typer.echo(_("subscription {id} removed").format(id=sub.id))


@app.command("log")
def notify_log(
    subscription: int | None = typer.Option(None, "--subscription", help="Only this subscription's tries."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000, help="The newest N tries."),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """The delivery log: every try to send, newest first (when, channel, status, code, error class)."""
    from mamori.notify import delivery_log

    output_format = _format(output_format)
    with _store(db) as store:
        rows = delivery_log(store, subscription, limit)
    if output_format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        kind = "test" if r["test"] else ("digest" if r["digest"] else "event")
        typer.echo(
            f"{r['at']}  {r['subscription']}  {r['channel']}  {r['status']}  {r['code'] or '-'}  "
            f"{r['error_class'] or '-'}  {kind}:{r['events']}"
        )


@app.command("run")
def notify_run(
    baseline: bool = typer.Option(
        False, "--baseline", help="Record what the store holds now without notifying (the first run)."
    ),
    epss_rise: float = typer.Option(0.1, "--epss-rise", help="EPSS rise (probability, 0-1) worth an event."),
    role: str = typer.Option("supplier", "--role", help="SSVC tree of the outcomes: supplier or user."),
    deliver: bool = typer.Option(True, "--deliver/--no-deliver", help="Send what is due after computing."),
    policy: Path | None = typer.Option(
        None,
        "--policy",
        help="Triage policy whose fail rules make policy_violation events (docs/triage-policy.md).",
    ),
    review_days: int = typer.Option(
        90, "--review-days", help="Announce a review or label validity end this many days ahead."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Compute the events since the last run and send what is due."""
    from mamori.notify import compute_events, deliver_pending

    if not 0.0 < epss_rise <= 1.0:
        raise InputError(None, _("--epss-rise must be above 0 and at most 1"))
    if role not in ("supplier", "user"):
        raise InputError(None, _("--role must be supplier or user"))
    if not 0 <= review_days <= 3650:
        raise InputError(None, _("--review-days must be between 0 and 3650"))
    rules = None
    if policy is not None:
        from mamori.triage.policy import load_policy

        rules = load_policy(policy)
    with _store(db) as store:
        computed = compute_events(
            store, epss_rise=epss_rise, role=role, baseline=baseline, policy=rules, review_days=review_days
        )
        events, deliveries = len(computed.events), computed.deliveries
        if not baseline:
            from mamori.inventory.events import notify_inventory

            deployed = notify_inventory(store)  # deployed_kev, end_of_support
            events, deliveries = events + len(deployed.events), deliveries + deployed.deliveries
        typer.echo(
            _("{events} new events, {deliveries} deliveries queued").format(
                events=events, deliveries=deliveries
            )
        )
        if deliver and not baseline:
            report = deliver_pending(store)
            typer.echo(
                _("{sent} delivered in {messages} messages, {retrying} to retry, {failed} failed").format(
                    sent=report.sent, messages=report.messages, retrying=report.retrying, failed=report.failed
                )
            )

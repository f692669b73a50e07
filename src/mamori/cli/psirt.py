"""PSIRT cases: ``mamori psirt case new|list|show|update|close``, ``mamori psirt timers``, ``mamori psirt
overdue``, ``mamori psirt metrics`` and ``mamori psirt security-txt`` (thin wiring over mamori.psirt)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import _, current_lang

DB_OPTION = typer.Option(
    None, "--db", help="Database: SQLite path or URL; default $MAMORI_DB or the user data dir."
)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")

app = typer.Typer(help="PSIRT cases: intake, triage, timers, metrics and security.txt.", no_args_is_help=True)
case_app = typer.Typer(help="A case per reported vulnerability.", no_args_is_help=True)
app.add_typer(case_app, name="case")


def _store(db: str | None) -> Any:
    from mamori.store import open_store

    return open_store(db)


def _format(value: str, allowed: tuple[str, ...] = ("text", "json")) -> str:
    if value not in allowed:
        raise InputError(None, _("--format is one of {formats}").format(formats=", ".join(allowed)))
    return value


def _place(value: str) -> tuple[str, str]:
    product, sep, release = value.rpartition("@")
    if not sep or not product.strip() or not release.strip():
        raise InputError(None, _("{value}: expected PRODUCT@RELEASE").format(value=repr(value)))
    return product.strip(), release.strip()


def _texts(lang: str, **values: str | None) -> dict[str, dict[str, str | None]]:
    given = {k: v for k, v in values.items() if v is not None}
    return {lang: given} if given else {}


def _show(case: Any) -> None:
    from mamori.psirt.workflow import workflow

    lang = current_lang()
    wf = workflow()
    lines = [
        f"{case.key}  {case.title}",
        _("state: {state}").format(state=wf.label(case.state, lang)),
        _("channel: {channel}").format(channel=wf.channels[case.channel].get(lang, case.channel))
        + (f" ({case.channel_ref})" if case.channel_ref else ""),
        _("received: {at}").format(at=case.received_at),
    ]
    if case.reporter_name or case.reporter_contact:
        lines.append(
            _("reporter: {name} {contact} (credit: {credit})").format(
                name=case.reporter_name or "-", contact=case.reporter_contact or "", credit=case.credit
            )
        )
    for label, value in (
        (_("coordinator"), case.coordinator),
        (_("embargo until"), case.embargo_until),
        ("CVE", case.cve_id),
        ("CWE", case.cwe),
        (_("component"), case.component),
        (_("affected range"), case.affected_range),
        (_("fixed version"), case.fixed_version),
        ("CVSS v3.1", case.cvss_v3),
        ("CVSS v4.0", case.cvss_v4),
        (_("SSVC outcome"), case.ssvc_outcome),
        (_("duplicate of"), case.duplicate_of),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if case.products:
        lines.append(_("affected releases:"))
        for p in case.products:
            lines.append(f"  {p.product}@{p.release}  {p.status}  ({p.source}, {p.set_by})")
    if case.events:
        lines.append(_("history:"))
        for e in case.events:
            move = f"{e.from_state or ''} -> {e.to_state}" if e.to_state else e.kind
            lines.append(f"  {e.at}  {e.who}  {move}" + (f"  {e.note}" if e.note else ""))
    for line in lines:
        typer.echo(visible(line))


def _emit(case: Any, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(case.as_dict(), ensure_ascii=False, indent=2))
    else:
        _show(case)


@case_app.command("new")
def case_new(
    title: str | None = typer.Option(None, "--title", help="A short title of the vulnerability."),
    channel: str | None = typer.Option(
        None,
        "--channel",
        help="How it came: api, web, email or coordinator (default api; from --eml: email).",
    ),
    eml: Path | None = typer.Option(
        None, "--eml", help="Open the case from an e-mail file (.eml): subject, sender, date, body."
    ),
    reporter: str | None = typer.Option(None, "--reporter", help="The reporter's name."),
    contact: str | None = typer.Option(None, "--contact", help="How to reach the reporter."),
    credit: str = typer.Option("named", "--credit", help="Credit preference: named, anonymous or none."),
    coordinator: str | None = typer.Option(None, "--coordinator", help="The coordinator, e.g. JPCERT/CC."),
    channel_ref: str | None = typer.Option(
        None, "--channel-ref", help="The channel's own reference (coordinator case number, Message-ID)."
    ),
    embargo: str | None = typer.Option(None, "--embargo", help="Embargo date (YYYY-MM-DD)."),
    cve: str | None = typer.Option(None, "--cve", help="The CVE ID, when assigned."),
    component: str | None = typer.Option(None, "--component", help="The component: a purl without version."),
    vers: str | None = typer.Option(None, "--range", help="Affected versions as a vers range."),
    fixed_version: str | None = typer.Option(None, "--fixed-version", help="The first fixed version."),
    cwe: str | None = typer.Option(None, "--cwe", help="The weakness, e.g. CWE-79."),
    cvss3: str | None = typer.Option(None, "--cvss3", help="CVSS v3.1 vector."),
    cvss4: str | None = typer.Option(None, "--cvss4", help="CVSS v4.0 vector."),
    fix_url: str | None = typer.Option(None, "--fix-url", help="Where the fix is published (https URL)."),
    description: str | None = typer.Option(None, "--description", help="Description of the vulnerability."),
    workaround: str | None = typer.Option(None, "--workaround", help="A workaround."),
    mitigation: str | None = typer.Option(None, "--mitigation", help="A mitigation."),
    impact: str | None = typer.Option(None, "--impact", help="What an attacker can achieve."),
    lang: str = typer.Option("en", "--lang", help="Language of the texts given: en or ja."),
    team: str | None = typer.Option(None, "--team", help="The team handling the case."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Open a case (state received); the affected releases are computed when a component is given."""
    from mamori.psirt.cases import compute_affected, new_case

    fmt = _format(fmt)
    received = None
    if eml is not None:
        from mamori.psirt.eml import read_eml

        report = read_eml(eml)
        title = title or report.title
        channel = channel or report.channel
        reporter = reporter or report.reporter_name
        contact = contact or report.reporter_contact
        coordinator = coordinator or report.coordinator
        channel_ref = channel_ref or report.channel_ref
        description = description or report.body or None
        received = report.received_at
        if cve is None and len(report.cves) == 1:
            cve = report.cves[0]
    with _store(db) as store:
        case = new_case(
            store,
            title=title or "",
            channel=channel or "api",
            team=team,
            lang=lang,
            reporter_name=reporter,
            reporter_contact=contact,
            credit=credit,
            channel_ref=channel_ref,
            coordinator=coordinator,
            embargo_until=embargo,
            cve_id=cve,
            component=component,
            affected_range=vers,
            fixed_version=fixed_version,
            cwe=cwe,
            cvss_v3=cvss3,
            cvss_v4=cvss4,
            fix_url=fix_url,
            texts=_texts(
                lang, description=description, workaround=workaround, mitigation=mitigation, impact=impact
            ),
            received_at=received,
        )
        if case.component:
            case = compute_affected(store, case.key)
        _emit(case, fmt)


@case_app.command("list")
def case_list(
    state: str | None = typer.Option(None, "--state", help="Only cases in this state."),
    team: str | None = typer.Option(None, "--team", help="Only this team's cases."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """List cases, oldest first, with the overdue ones marked."""
    from mamori.psirt.cases import list_cases
    from mamori.psirt.timers import overdue

    fmt = _format(fmt)
    with _store(db) as store:
        found = list_cases(store, state=state, team=team)
        late = {o.case.key: o for o in overdue(store, team=team)}
    if fmt == "json":
        out = []
        for c in found:
            d = c.as_dict()
            d.pop("history")
            d["overdue"] = late[c.key].as_dict() if c.key in late else None
            out.append(d)
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo(_("no cases"))
    for c in found:
        mark = (
            "  "
            + _("OVERDUE {timer} by {days} day(s)").format(
                timer=late[c.key].timer, days=late[c.key].days_over
            )
            if c.key in late
            else ""
        )
        typer.echo(visible(f"{c.key}  {c.state:<15} {c.ssvc_outcome or '-':<12} {c.title}{mark}"))


@case_app.command("show")
def case_show(
    key: str = typer.Argument(..., help="The case key, e.g. PSIRT-2026-0001."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Show a case with its history and affected releases."""
    from mamori.psirt.cases import get_case

    fmt = _format(fmt)
    with _store(db) as store:
        _emit(get_case(store, key), fmt)


@case_app.command("update")
def case_update(
    key: str = typer.Argument(..., help="The case key, e.g. PSIRT-2026-0001."),
    state: str | None = typer.Option(
        None,
        "--state",
        help="Move to acknowledged, triaged, fix_in_progress, fix_released, disclosed, closed, rejected or duplicate.",
    ),
    note: str | None = typer.Option(
        None, "--note", help="Why: recorded with the change (triage: the evidence)."
    ),
    ssvc: list[str] | None = typer.Option(
        None, "--ssvc", help="SSVC supplier tree input POINT=VALUE (repeatable), needed to triage."
    ),
    duplicate_of: str | None = typer.Option(None, "--duplicate-of", help="The case this one duplicates."),
    affected: list[str] | None = typer.Option(
        None, "--affected", help="PRODUCT@RELEASE is affected (repeatable)."
    ),
    fixed: list[str] | None = typer.Option(None, "--fixed", help="PRODUCT@RELEASE is fixed (repeatable)."),
    not_affected: list[str] | None = typer.Option(
        None, "--not-affected", help="PRODUCT@RELEASE is not affected (repeatable)."
    ),
    remove: list[str] | None = typer.Option(
        None, "--remove", help="Take PRODUCT@RELEASE off the case (repeatable)."
    ),
    recompute: bool = typer.Option(
        False, "--recompute", help="Compute the affected releases from the portfolio again."
    ),
    title: str | None = typer.Option(None, "--title", help="New title."),
    reporter: str | None = typer.Option(None, "--reporter", help="The reporter's name."),
    contact: str | None = typer.Option(None, "--contact", help="How to reach the reporter."),
    credit: str | None = typer.Option(None, "--credit", help="Credit preference: named, anonymous or none."),
    coordinator: str | None = typer.Option(None, "--coordinator", help="The coordinator."),
    embargo: str | None = typer.Option(None, "--embargo", help="Embargo date (YYYY-MM-DD)."),
    cve: str | None = typer.Option(None, "--cve", help="The CVE ID."),
    component: str | None = typer.Option(None, "--component", help="The component: a purl without version."),
    vers: str | None = typer.Option(None, "--range", help="Affected versions as a vers range."),
    fixed_version: str | None = typer.Option(None, "--fixed-version", help="The first fixed version."),
    cwe: str | None = typer.Option(None, "--cwe", help="The weakness, e.g. CWE-79."),
    cvss3: str | None = typer.Option(None, "--cvss3", help="CVSS v3.1 vector."),
    cvss4: str | None = typer.Option(None, "--cvss4", help="CVSS v4.0 vector."),
    fix_url: str | None = typer.Option(None, "--fix-url", help="Where the fix is published (https URL)."),
    team: str | None = typer.Option(None, "--team", help="The team handling the case."),
    description: str | None = typer.Option(None, "--description", help="Description (in --lang)."),
    workaround: str | None = typer.Option(None, "--workaround", help="A workaround (in --lang)."),
    mitigation: str | None = typer.Option(None, "--mitigation", help="A mitigation (in --lang)."),
    impact: str | None = typer.Option(None, "--impact", help="What an attacker can achieve (in --lang)."),
    text_title: str | None = typer.Option(None, "--translated-title", help="The title in --lang."),
    lang: str = typer.Option("en", "--lang", help="Language of the texts given: en or ja."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Edit a case, set its affected releases or move it to another state (refused when not allowed)."""
    from mamori.psirt import cases
    from mamori.triage.ssvc import parse_assignments

    fmt = _format(fmt)
    values = {
        name: value
        for name, value in {
            "title": title,
            "reporter_name": reporter,
            "reporter_contact": contact,
            "credit": credit,
            "coordinator": coordinator,
            "embargo_until": embargo,
            "cve_id": cve,
            "component": component,
            "affected_range": vers,
            "fixed_version": fixed_version,
            "cwe": cwe,
            "cvss_v3": cvss3,
            "cvss_v4": cvss4,
            "fix_url": fix_url,
            "team": team,
        }.items()
        if value is not None
    }
    texts = _texts(
        lang,
        title=text_title,
        description=description,
        workaround=workaround,
        mitigation=mitigation,
        impact=impact,
    )
    places = [
        *((p, "known_affected") for p in affected or []),
        *((p, "fixed") for p in fixed or []),
        *((p, "known_not_affected") for p in not_affected or []),
        *((p, None) for p in remove or []),
    ]
    parsed = [(_place(p), status) for p, status in places]
    assignments = parse_assignments(list(ssvc or []))
    with _store(db) as store:
        case = cases.get_case(store, key)
        if values or texts:
            case = cases.update_case(
                store, case.key, values=values, texts=texts, note=None if state else note
            )
        if recompute:
            case = cases.compute_affected(store, case.key)
        for (product, release), status in parsed:
            case = cases.set_product(store, case.key, product, release, status)
        if state is not None:
            case = cases.transition(
                store, case.key, state, note=note, ssvc=assignments or None, duplicate_of=duplicate_of
            )
        elif assignments:
            raise InputError(None, _("--ssvc goes with --state triaged"))
        _emit(case, fmt)


@case_app.command("close")
def case_close(
    key: str = typer.Argument(..., help="The case key, e.g. PSIRT-2026-0001."),
    as_: str = typer.Option("closed", "--as", help="closed, rejected (not a vulnerability) or duplicate."),
    note: str | None = typer.Option(None, "--note", help="Why: recorded with the change."),
    duplicate_of: str | None = typer.Option(None, "--duplicate-of", help="The case this one duplicates."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Close a case: closed, rejected or duplicate."""
    from mamori.psirt.cases import transition

    fmt = _format(fmt)
    if as_ not in ("closed", "rejected", "duplicate"):
        raise InputError(None, _("--as is closed, rejected or duplicate"))
    with _store(db) as store:
        _emit(transition(store, key, as_, note=note, duplicate_of=duplicate_of), fmt)


@app.command("timers")
def timers_cmd(
    team: str | None = typer.Option(None, "--team", help="The team (default: every team)."),
    set_: list[str] | None = typer.Option(None, "--set", help="TIMER=DAYS (repeatable), e.g. triage=10."),
    reset: list[str] | None = typer.Option(None, "--reset", help="Back to the default: TIMER (repeatable)."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Show or set the timers in days: acknowledge, triage, fix by SSVC outcome."""
    from mamori.psirt.timers import set_timer, timers_for

    fmt = _format(fmt)
    changes: list[tuple[str, int | None]] = []
    for item in set_ or []:
        name, sep, days = item.partition("=")
        if not sep or not days.strip().isdigit():
            raise InputError(None, _("expected TIMER=DAYS, got {item}").format(item=repr(item)))
        changes.append((name.strip(), int(days)))
    changes += [(name.strip(), None) for name in reset or []]
    with _store(db) as store:
        for name, days in changes:
            set_timer(store, team, name, days)
        current = timers_for(store, team)
    if fmt == "json":
        typer.echo(json.dumps({"team": team, "timers": current}, indent=2))
        return
    for name, days in current.items():
        typer.echo(visible(_("{timer}: {days} day(s)").format(timer=name, days=days)))


@app.command("overdue")
def overdue_cmd(
    team: str | None = typer.Option(None, "--team", help="Only this team's cases."),
    notify: bool = typer.Option(False, "--notify", help="Record a case_overdue notification for each."),
    fmt: str = FORMAT_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """List the open cases past a timer (exit code 1 when there is one)."""
    from mamori.psirt.timers import notify_overdue, overdue

    fmt = _format(fmt)
    with _store(db) as store:
        late = overdue(store, team=team)
        recorded = notify_overdue(store) if notify else None
    if fmt == "json":
        out: dict[str, Any] = {"overdue": [o.as_dict() for o in late]}
        if recorded is not None:
            out["events"] = len(recorded.events)
            out["deliveries"] = recorded.deliveries
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if not late:
            typer.echo(_("no case is overdue"))
        for o in late:
            typer.echo(
                visible(
                    _("{case} ({state}): {timer} was due {due}, {days} day(s) ago").format(
                        case=o.case.key,
                        state=o.case.state,
                        timer=o.timer,
                        due=o.as_dict()["due"],
                        days=o.days_over,
                    )
                )
            )
        if recorded is not None:
            typer.echo(
                _("{events} notification event(s) recorded, {deliveries} delivery(ies) queued").format(
                    events=len(recorded.events), deliveries=recorded.deliveries
                )
            )
    if late:
        raise typer.Exit(1)


@app.command("metrics")
def metrics_cmd(
    team: str | None = typer.Option(None, "--team", help="Only this team's cases."),
    fmt: str = typer.Option("json", "--format", help="json or csv."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
    db: str | None = DB_OPTION,
) -> None:
    """FIRST PSIRT metrics from the case history: times, counts, SLA adherence."""
    from mamori.fileio import write_bytes_atomic
    from mamori.psirt.metrics import metrics, metrics_csv

    fmt = _format(fmt, ("json", "csv"))
    with _store(db) as store:
        m = metrics(store, team=team)
    data = metrics_csv(m) if fmt == "csv" else (json.dumps(m, ensure_ascii=False, indent=2) + "\n").encode()
    if output is None:
        typer.echo(data.decode("utf-8-sig"), nl=False)
    else:
        write_bytes_atomic(output, data)


@app.command("security-txt")
def security_txt_cmd(
    domain: str = typer.Option(..., "--domain", help="The team's domain, e.g. example.com."),
    contact: list[str] = typer.Option(..., "--contact", help="mailto:, https: or tel: URI (repeatable)."),
    expires: str | None = typer.Option(
        None, "--expires", help="Expiry date (YYYY-MM-DD; default: a year ahead)."
    ),
    csaf: str | None = typer.Option(
        None, "--csaf", help="URL of provider-metadata.json (default: on the domain's .well-known/csaf/)."
    ),
    encryption: list[str] | None = typer.Option(
        None, "--encryption", help="URL of the OpenPGP key (repeatable)."
    ),
    policy: str | None = typer.Option(None, "--policy", help="URL of the disclosure policy."),
    acknowledgments: str | None = typer.Option(None, "--acknowledgments", help="URL of the thanks page."),
    languages: str = typer.Option("ja, en", "--languages", help="Preferred languages, comma-separated."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
) -> None:
    """security.txt (RFC 9116) for the team's domain, with the CSAF: line."""
    from mamori.fileio import write_bytes_atomic
    from mamori.psirt.cases import check_date
    from mamori.psirt.securitytxt import security_txt

    when = None
    if expires is not None:
        day = check_date(expires, "--expires")
        assert day is not None
        when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    text = security_txt(
        domain,
        contact,
        expires=when,
        csaf=csaf,
        encryption=encryption or (),
        policy=policy,
        acknowledgments=acknowledgments,
        languages=[x.strip() for x in languages.split(",") if x.strip()],
    )
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_bytes_atomic(output, text.encode("utf-8"))

"""The words of a notification, in Japanese or English (gettext: the msgids are English).

Text from inputs (component names, versions, product names come from SBOMs and users) is shown with
control characters made visible and is never interpreted as markup: plain text for e-mail and Teams,
Slack's three special characters escaped for Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mamori.display import visible
from mamori.i18n import N_, Lang, translate
from mamori.notify.events import Event

TITLES = {
    "new_finding": N_("New finding: {vuln} in {component} ({product} {release})"),
    "kev_added": N_("Now in CISA KEV: {vuln} in {component} ({product} {release})"),
    "epss_rise": N_("EPSS rose from {before} to {after}: {vuln} in {component} ({product} {release})"),
    "ssvc_change": N_(
        "SSVC outcome changed from {before} to {after}: {vuln} in {component} ({product} {release})"
    ),
    "sbom_quality_drop": N_(
        "SBOM quality dropped from {before} to {after} (NTIA score): {product} {release} after {previous}"
    ),
    "policy_violation": N_("Policy rule {rule} violated: {vuln} in {component} ({product} {release})"),
    "supplier_document": N_("VEX received from {author}: {product} {release} ({records} statements)"),
    "review_due": N_("Review due on {due}: self-assessment #{assessment} ({framework}, {organization})"),
    "case_overdue": N_("PSIRT case {case} is overdue: {timer} was due {due} ({state})"),
    "deployed_kev": N_("Deployed release has a KEV vulnerability: {vuln} in {product} {release} at {sites}"),
    "end_of_support": N_("End of support {support_ends}: {product} {release} at {site}"),
}
ADVISORY_TITLE = N_("CSAF advisory received from {author}: {product} {release} ({records} statements)")
KIND_NAMES = {
    "new_finding": N_("new finding"),
    "kev_added": N_("added to KEV"),
    "epss_rise": N_("EPSS rise"),
    "ssvc_change": N_("SSVC outcome change"),
    "sbom_quality_drop": N_("SBOM quality drop"),
    "policy_violation": N_("policy violation"),
    "supplier_document": N_("supplier VEX received"),
    "review_due": N_("review due"),
    "case_overdue": N_("overdue PSIRT case"),
    "deployed_kev": N_("KEV in a deployed release"),
    "end_of_support": N_("end of support of a deployment"),
}
WHAT_DUE = {
    "valid_until": N_("the JC-STAR label's validity ends"),
    "review": N_("the declaration's next review"),
}


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


def _t(message: str, lang: Lang) -> str:
    return translate(message, lang)


def _component(event: Event) -> str:
    c = event.payload.get("component") or {}
    name, version = c.get("name") or "?", c.get("version")
    return f"{name}@{version}" if version else name


def _pct(value: object) -> str:
    return f"{float(value) * 100:.1f}%" if isinstance(value, (int, float)) else "-"


def title(event: Event, lang: Lang) -> str:
    p = event.payload
    fields = {
        "vuln": event.vuln_id or "",
        "component": _component(event),
        "product": event.product or "",
        "release": event.release or "",
        "before": "",
        "after": "",
        "previous": p.get("previous_release") or "",
        "case": p.get("case") or "",
        "timer": p.get("timer") or "",
        "due": p.get("due") or "",
        "state": p.get("state") or "",
    }
    if event.kind == "epss_rise":
        fields.update(before=_pct(p.get("epss_before")), after=_pct(p.get("epss")))
    elif event.kind == "ssvc_change":
        fields.update(before=p.get("ssvc_outcome_before") or "", after=event.ssvc_outcome or "")
    elif event.kind == "sbom_quality_drop":
        fields.update(before=str(p.get("score_before")), after=str(p.get("score")))
    fields.update(
        rule=str(p.get("rule") or ""),
        author=str(p.get("author") or ""),
        records=str(p.get("records") or 0),
        due=str(p.get("due") or ""),
        assessment=str(p.get("assessment") or ""),
        framework=str(p.get("framework") or ""),
        organization=str(p.get("organization") or ""),
        sites=", ".join(map(str, p.get("sites") or [])),
        site=str(p.get("site") or ""),
        support_ends=str(p.get("support_ends") or ""),
    )
    template = TITLES.get(event.kind, N_("Event {kind}"))
    if event.kind == "supplier_document" and str(p.get("source") or "").startswith("CSAF "):
        template = ADVISORY_TITLE  # mamori csaf apply: an advisory, VEX or not
    return visible(_t(template, lang).format(kind=event.kind, **fields))


def details(event: Event, lang: Lang) -> list[str]:
    """The lines under an event's title."""
    p = event.payload
    lines: list[str] = []
    if event.kind == "policy_violation":
        reasons = p.get("reasons_ja" if lang == "ja" else "reasons") or []
        lines.append(
            _t(N_("Rule {rule} of {policy}: {reasons}"), lang).format(
                rule=p.get("rule") or "", policy=p.get("policy") or "", reasons="; ".join(map(str, reasons))
            )
        )
    elif event.kind == "supplier_document":
        shown = ", ".join(f"{k} {v}" for k, v in sorted((p.get("statuses") or {}).items()))
        lines.append(_t(N_("Document: {source}"), lang).format(source=p.get("source") or ""))
        lines.append(_t(N_("Statements by status: {counts}"), lang).format(counts=shown or "-"))
        lines.append(_t(N_("Newest statement: {at}"), lang).format(at=p.get("latest") or "-"))
    elif event.kind == "review_due":
        what = WHAT_DUE.get(str(p.get("what")), N_("review"))
        left = p.get("days_left")
        lines.append(_t(what, lang) + f": {p.get('due')}")
        if isinstance(left, int) and left < 0:
            lines.append(_t(N_("Overdue by {days} days"), lang).format(days=-left))
        elif isinstance(left, int):
            lines.append(_t(N_("{days} days left"), lang).format(days=left))
        lines.append(_t(N_("Scope: {scope}"), lang).format(scope=p.get("scope") or ""))
    elif event.kind == "end_of_support":
        left = p.get("days_left")
        if isinstance(left, int) and left <= 0:
            lines.append(_t(N_("Support ended {days} days ago"), lang).format(days=-left))
        elif isinstance(left, int):
            lines.append(_t(N_("{days} days left"), lang).format(days=left))
        lines.append(
            _t(N_("Deployment {id}: {site} {system}"), lang).format(
                id=p.get("deployment") or "", site=p.get("site") or "", system=p.get("system") or ""
            )
        )
    elif event.kind == "deployed_kev":
        lines.append(
            _t(N_("Deployed at: {sites}"), lang).format(sites=", ".join(map(str, p.get("sites") or [])))
        )
    if event.vuln_id is not None:
        score = p.get("score")
        lines.append(
            _t(N_("Severity: {rating} (CVSS {score})"), lang).format(
                rating=event.severity or "unknown", score=score if score is not None else "-"
            )
        )
        if event.ssvc_outcome:
            lines.append(
                _t(N_("SSVC outcome: {outcome} ({name})"), lang).format(
                    outcome=event.ssvc_outcome, name=p.get("ssvc_outcome_name") or ""
                )
            )
        if p.get("priority") is not None:
            lines.append(_t(N_("Priority score: {score} (0-20)"), lang).format(score=p["priority"]))
        lines.append(
            _t(N_("In CISA KEV: {answer}"), lang).format(
                answer=_t(N_("yes"), lang) if event.kev else _t(N_("no"), lang)
            )
        )
        lines.append(_t(N_("EPSS: {epss}"), lang).format(epss=_pct(p.get("epss"))))
        if p.get("fixed_versions"):
            lines.append(_t(N_("Fixed in: {versions}"), lang).format(versions=", ".join(p["fixed_versions"])))
        if p.get("first_seen"):
            lines.append(_t(N_("First seen: {at}"), lang).format(at=p["first_seen"]))
        purl = (p.get("component") or {}).get("purl")
        if purl:
            lines.append(f"purl: {purl}")
    if event.kind == "case_overdue":
        lines.append(
            _t(N_("Case: {case} {title}"), lang).format(case=p.get("case") or "", title=p.get("title") or "")
        )
        lines.append(_t(N_("Days past due: {days}"), lang).format(days=p.get("days_over", "-")))
    return [visible(line) for line in lines]


def one(event: Event, lang: Lang) -> Message:
    """The message of one event."""
    head = title(event, lang)
    body = "\n".join([head, "", *details(event, lang), "", _footer(lang)])
    return Message(_t(N_("[mamori] {title}"), lang).format(title=head), body)


def digest(events: Sequence[Event], team: str, lang: Lang) -> Message:
    """One message for several events, grouped by kind."""
    subject = _t(N_("[mamori] Notifications for team {team}: {count}"), lang).format(
        count=len(events), team=visible(team)
    )
    lines: list[str] = [subject, ""]
    for kind in TITLES:
        group = [e for e in events if e.kind == kind]
        if not group:
            continue
        lines.append(f"## {_t(KIND_NAMES[kind], lang)} ({len(group)})")
        for event in group:
            lines.append(f"- {title(event, lang)}")
            lines.extend(f"    {line}" for line in details(event, lang))
        lines.append("")
    lines.append(_footer(lang))
    return Message(subject, "\n".join(lines))


def test_message(team: str, lang: Lang) -> Message:
    head = _t(N_("Test notification from mamori for team {team}"), lang).format(team=visible(team))
    return Message(_t(N_("[mamori] {title}"), lang).format(title=head), "\n".join([head, "", _footer(lang)]))


def _footer(lang: Lang) -> str:
    return _t(N_("Sent by mamori. `mamori notify list` shows the subscriptions."), lang)


def slack_escape(text: str) -> str:
    """Slack's control characters as Slack asks (&, <, >): the text is shown, not interpreted."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""PSIRT cases on real-format data: a case opened from e-mails (a coordinator's ISO-2022-JP message under the
Information Security Early Warning Partnership, a researcher's message with an attachment), the state machine
with its recorded history and refused transitions, affected releases computed from a portfolio of real SBOMs
(dropwizard 1.3.15 ships jackson-databind 2.9.10, keycloak 10.0.2 ships 2.10.1), timers with ``case_overdue``
notifications delivered to a webhook on loopback, metrics (JSON and formula-neutralised CSV) and security.txt.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori import accounts
from mamori.errors import InputError
from mamori.notify import add_subscription, deliver_pending
from mamori.portfolio.archive import add_product, store_sbom
from mamori.psirt import cases
from mamori.psirt.eml import read_eml
from mamori.psirt.metrics import metrics, metrics_csv
from mamori.psirt.securitytxt import parse_security_txt, security_txt
from mamori.psirt.timers import notify_overdue, overdue, set_timer, timers_for
from mamori.store import Store, open_store
from mamori.store.throwaway import throwaway_postgres
from notify_support import SECRET, Receiver, receiver

__all__ = ["receiver"]  # fixture

FIXTURES = Path(__file__).parent / "fixtures" / "psirt"
SBOMS = SHARED_DATA / "sbom" / "cyclonedx"
PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
SSVC = {
    "exploitation": "public_poc",
    "utility": "efficient",
    "technical_impact": "total",
    "public_safety_impact": "minimal",
}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with open_store(tmp_path / "psirt.db") as s:
            yield s
        return
    assert PG_URL is not None
    with throwaway_postgres(PG_URL, prefix="mamori_psirt") as url, open_store(url) as s:
        yield s


def portfolio(store: Store) -> None:
    if not SBOMS.is_dir():
        pytest.skip("../shared/data is absent")
    add_product(store, "dropwizard", "Example Corp")
    add_product(store, "keycloak", "Example Corp")
    store_sbom(store, "dropwizard", "1.3.15", SBOMS / "dropwizard-1.3.15" / "bom.json", who="tester")
    store_sbom(store, "keycloak", "10.0.2", SBOMS / "keycloak-10.0.2" / "bom.json", who="tester")


def jackson_case(store: Store, **extra: object) -> cases.Case:
    values: dict = {
        "title": "Unsafe deserialization in the bundled jackson-databind",
        "channel": "coordinator",
        "coordinator": "JPCERT/CC",
        "reporter_name": "Taro Yamada",
        "cve_id": "CVE-2020-10672",
        "component": f"{JACKSON}@2.9.10?type=jar",
        "affected_range": "vers:maven/>=2.9.0|<2.9.10.4",
        "fixed_version": "2.9.10.4",
        "cwe": "CWE-502",
        "cvss_v3": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "cvss_v4": "CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "fix_url": "https://github.com/FasterXML/jackson-databind/issues/2659",
        "texts": {
            "en": {
                "description": "A gadget class lets crafted JSON run code when default typing is enabled.",
                "workaround": "Disable default typing.",
            },
            "ja": {
                "title": "同梱の jackson-databind における安全でないデシリアライゼーション",
                "description": "デフォルト型付けが有効な場合、細工された JSON でコードが実行される。",
            },
        },
        "who": "alice",
        "received_at": T0,
        "now": T0,
    }
    values.update(extra)
    return cases.new_case(store, **values)


# -- e-mail intake ---------------------------------------------------------------------------------------
def test_a_coordinators_email_becomes_a_coordinator_case(store: Store) -> None:
    report = read_eml(FIXTURES / "jpcert-jvnvu.eml")
    assert report.channel == "coordinator" and report.coordinator == "JPCERT/CC"
    assert report.coordinator_ref == "JVNVU#98765432"
    assert report.reporter_name is None and report.reporter_contact == "vultures@jpcert.or.jp"
    assert report.received_at == T0
    assert report.cves == ["CVE-2020-10672"]
    assert "早期警戒パートナーシップ" in report.body and "<script>" not in report.body
    case = cases.new_case(
        store,
        title=report.title,
        channel=report.channel,
        coordinator=report.coordinator,
        channel_ref=report.channel_ref,
        reporter_contact=report.reporter_contact,
        received_at=report.received_at,
        lang="ja",
        texts={"ja": {"description": report.body}},
        who="alice",
    )
    assert case.key == "PSIRT-2026-0001" and case.state == "received"
    assert case.channel_ref == "JVNVU#98765432" and case.received_at == "2026-11-02T01:30:00Z"
    assert [(e.kind, e.to_state, e.who, e.at) for e in case.events] == [
        ("opened", "received", "alice", "2026-11-02T01:30:00Z")
    ]


def test_a_researchers_email_is_an_email_case_and_bad_files_are_refused(tmp_path: Path) -> None:
    report = read_eml(FIXTURES / "researcher-xss.eml")
    assert (report.channel, report.reporter_name, report.reporter_contact) == (
        "email",
        "Sato, Hanako",
        "hanako.sato@researcher.example",
    )
    assert report.channel_ref == "<a1b2c3@researcher.example>" and "onerror" not in report.body
    json_file = tmp_path / "not-mail.eml"
    json_file.write_text('{"a": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"not-mail\.eml: not an e-mail message"):
        read_eml(json_file)
    fifo = tmp_path / "fifo.eml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"fifo\.eml"):
        read_eml(fifo)


# -- state machine ----------------------------------------------------------------------------------------
def test_the_whole_way_with_who_and_when(store: Store) -> None:
    case = jackson_case(store)
    steps = [
        ("acknowledged", {}, "bob"),
        ("triaged", {"ssvc": SSVC, "note": "PoC published; RCE"}, "bob"),
        ("fix_in_progress", {}, "carol"),
        ("fix_released", {}, "carol"),
        ("disclosed", {}, "alice"),
        ("closed", {}, "alice"),
    ]
    for n, (state, extra, who) in enumerate(steps, 1):
        case = cases.transition(store, case.key, state, who=who, now=T0 + timedelta(days=n), **extra)
    assert case.state == "closed" and case.ssvc_outcome == "out_of_cycle"
    assert case.ssvc["evidence"] == "PoC published; RCE"
    assert {(s["point"], s["value"]) for s in case.ssvc["path"]} >= set(SSVC.items())
    moves = [(e.from_state, e.to_state, e.who, e.at) for e in case.events if e.kind == "transition"]
    assert moves == [
        ("received", "acknowledged", "bob", "2026-11-03T01:30:00Z"),
        ("acknowledged", "triaged", "bob", "2026-11-04T01:30:00Z"),
        ("triaged", "fix_in_progress", "carol", "2026-11-05T01:30:00Z"),
        ("fix_in_progress", "fix_released", "carol", "2026-11-06T01:30:00Z"),
        ("fix_released", "disclosed", "alice", "2026-11-07T01:30:00Z"),
        ("disclosed", "closed", "alice", "2026-11-08T01:30:00Z"),
    ]


def test_refused_transitions(store: Store) -> None:
    case = jackson_case(store)
    other = jackson_case(store, title="The same report again")
    with pytest.raises(InputError, match=r"is received: it cannot move to triaged \(allowed: acknowledged"):
        cases.transition(store, case.key, "triaged", ssvc=SSVC, note="x")
    with pytest.raises(InputError, match="not 'fix_done'"):
        cases.transition(store, case.key, "fix_done")
    cases.transition(store, case.key, "acknowledged")
    with pytest.raises(InputError, match="triage needs the SSVC"):
        cases.transition(store, case.key, "triaged")
    with pytest.raises(InputError, match="evidence"):
        cases.transition(store, case.key, "triaged", ssvc=SSVC)
    with pytest.raises(InputError):
        cases.transition(store, case.key, "triaged", ssvc={**SSVC, "exploitation": "rumoured"}, note="x")
    with pytest.raises(InputError, match="names the case it duplicates"):
        cases.transition(store, other.key, "duplicate")
    with pytest.raises(InputError, match="cannot duplicate itself"):
        cases.transition(store, other.key, "duplicate", duplicate_of=other.key)
    with pytest.raises(InputError, match="no case 'PSIRT-2026-9999'"):
        cases.transition(store, other.key, "duplicate", duplicate_of="PSIRT-2026-9999")
    dup = cases.transition(store, other.key, "duplicate", duplicate_of=case.key.lower())
    assert dup.duplicate_of == case.key
    with pytest.raises(InputError, match="none: the case is finished"):
        cases.transition(store, other.key, "acknowledged")
    rejected = cases.transition(store, case.key, "rejected", note="works as designed")
    assert rejected.state == "rejected"
    # nothing of a refused transition was written
    assert [e.to_state for e in cases.get_case(store, case.key).events if e.kind == "transition"] == [
        "acknowledged",
        "rejected",
    ]


def test_bad_values_are_refused_before_anything_is_written(store: Store) -> None:
    for bad in (
        {"cve_id": "CVE-20-1"},
        {"cwe": "XSS"},
        {"cvss_v3": "CVSS:3.1/AV:N"},
        {"cvss_v4": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        {"component": "jackson-databind"},
        {"affected_range": ">=2.9.0"},
        {"embargo_until": "next week"},
        {"fix_url": "javascript:alert(1)"},
        {"channel": "fax"},
        {"channel": "coordinator", "coordinator": None},
    ):
        with pytest.raises(InputError):
            jackson_case(store, **bad)
    assert cases.list_cases(store) == []


# -- affected releases ------------------------------------------------------------------------------------
def test_affected_releases_from_the_portfolio_and_a_persons_edit(store: Store) -> None:
    portfolio(store)
    case = jackson_case(store)
    assert case.component == JACKSON  # the version and qualifiers of the purl given are dropped
    case = cases.compute_affected(store, case.key, who="alice")
    assert [(p.product, p.release, p.status, p.source, p.component_version) for p in case.products] == [
        ("dropwizard", "1.3.15", "known_affected", "computed", "2.9.10")
    ]
    # keycloak's 2.10.1 is outside the range; widen it and keycloak comes in
    cases.update_case(store, case.key, values={"affected_range": "vers:maven/>=2.9.0|<2.10.2"}, who="alice")
    case = cases.compute_affected(store, case.key, who="alice")
    assert {(p.product, p.component_version) for p in case.products} == {
        ("dropwizard", "2.9.10"),
        ("keycloak", "2.10.1"),
    }
    # a person says keycloak is not affected (the class is not on its class path): recomputing keeps it
    cases.set_product(store, case.key, "keycloak", "10.0.2", "known_not_affected", who="bob")
    case = cases.compute_affected(store, case.key, who="alice")
    assert {(p.product, p.status, p.source, p.set_by) for p in case.products} == {
        ("dropwizard", "known_affected", "computed", "alice"),
        ("keycloak", "known_not_affected", "person", "bob"),
    }
    edits = [e.note for e in case.events if e.kind == "edit"]
    assert (
        any(n.startswith("affected_range") for n in edits) and "keycloak@10.0.2: known_not_affected" in edits
    )


# -- timers and notifications -----------------------------------------------------------------------------
def test_timers_per_team_overdue_and_notifications(store: Store, receiver: Receiver) -> None:
    portfolio(store)
    accounts.create_team(store, "psirt")
    accounts.assign_product(store, "psirt", "dropwizard")
    add_subscription(store, "psirt", "webhook", receiver.url, secret=SECRET, events=["case_overdue"])
    assert timers_for(store, "psirt")["acknowledge"] == 3
    set_timer(store, None, "acknowledge", 5)
    set_timer(store, "psirt", "fix_out_of_cycle", 20)
    assert (
        timers_for(store, "psirt")["acknowledge"] == 5
        and timers_for(store, "psirt")["fix_out_of_cycle"] == 20
    )
    assert timers_for(store, "other")["fix_out_of_cycle"] == 30
    with pytest.raises(InputError, match="unknown timer"):
        set_timer(store, "psirt", "fix_soon", 3)
    with pytest.raises(InputError, match="1 to 3650 days"):
        set_timer(store, "psirt", "triage", 0)
    case = jackson_case(store, team="psirt")
    cases.compute_affected(store, case.key)
    assert overdue(store, now=T0 + timedelta(days=4)) == []
    late = overdue(store, now=T0 + timedelta(days=6))
    assert [(o.case.key, o.timer, o.days_over) for o in late] == [(case.key, "acknowledge", 1)]
    cases.transition(store, case.key, "acknowledged", now=T0 + timedelta(days=1))
    cases.transition(store, case.key, "triaged", ssvc=SSVC, note="PoC", now=T0 + timedelta(days=2))
    at = T0 + timedelta(days=25)
    late = overdue(store, now=at)
    assert [(o.timer, o.days, o.days_over) for o in late] == [("fix_out_of_cycle", 20, 3)]
    first = notify_overdue(store, now=at)
    assert [(e.kind, e.product, e.release) for e in first.events] == [
        ("case_overdue", "dropwizard", "1.3.15")
    ]
    assert first.deliveries == 1
    assert notify_overdue(store, now=at + timedelta(hours=1)).events == []  # once per timer and due date
    report = deliver_pending(store, now=at)
    assert report.sent == 1
    sent = json.loads(receiver.requests[0].body)
    assert sent["events"][0]["kind"] == "case_overdue"
    assert sent["events"][0]["detail"]["case"] == case.key
    cases.transition(store, case.key, "fix_in_progress", now=at)
    cases.transition(store, case.key, "fix_released", now=at + timedelta(days=1))
    assert overdue(store, now=at + timedelta(days=100)) == []


# -- metrics ------------------------------------------------------------------------------------------------
def test_metrics_from_the_history(store: Store) -> None:
    a = jackson_case(store)
    cases.transition(store, a.key, "acknowledged", now=T0 + timedelta(days=2))
    cases.transition(store, a.key, "triaged", ssvc=SSVC, note="PoC", now=T0 + timedelta(days=6))
    cases.transition(store, a.key, "fix_in_progress", now=T0 + timedelta(days=7))
    cases.transition(store, a.key, "fix_released", now=T0 + timedelta(days=46))  # 40 days after triage: late
    b = jackson_case(store, title='=HYPERLINK("http://evil.example","x")', channel="web", coordinator=None)
    cases.transition(store, b.key, "acknowledged", now=T0 + timedelta(days=10))  # 10 > 3 days: late
    cases.transition(store, b.key, "rejected", now=T0 + timedelta(days=11))
    m = metrics(store, now=T0 + timedelta(days=60))
    assert m["cases"] == 2
    assert m["counts"]["by_channel"] == {"catalog": "2.5-M4", "coordinator": 1, "web": 1}
    assert m["counts"]["by_state"]["fix_released"] == 1 and m["counts"]["by_state"]["rejected"] == 1
    assert m["counts"]["by_ssvc_outcome"]["out_of_cycle"] == 1
    assert m["counts"]["by_cwe"] == {"catalog": "4.4-M3", "CWE-502": 1}  # the rejected one does not count
    assert m["durations"]["days_to_acknowledge"] | {} == {
        "catalog": None,
        "to": "acknowledged",
        "count": 2,
        "median": 6.0,
        "mean": 6.0,
        "max": 10.0,
    }
    assert m["durations"]["days_to_triage"]["median"] == 6.0 and m["durations"]["days_to_fix"]["max"] == 46.0
    assert m["sla"]["acknowledge"] | {} == {
        "catalog": "2.5-M6",
        "met": 1,
        "missed": 1,
        "overdue": 0,
        "running": 0,
        "rate": 0.5,
    }
    assert m["sla"]["fix"]["missed"] == 1 and m["reported_vs_confirmed"]["confirmed"] == 1
    rows = list(csv.reader(io.StringIO(metrics_csv(m).decode("utf-8-sig"))))
    assert rows[0] == ["metric", "catalog", "key", "value"]
    titles = {r[2]: r[3] for r in rows if r[0] == "case_title"}
    assert titles[b.key] == "'" + '=HYPERLINK("http://evil.example","x")'


# -- security.txt ---------------------------------------------------------------------------------------------
def test_security_txt() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    text = security_txt(
        "Example.co.jp",
        ["mailto:psirt@example.co.jp", "https://example.co.jp/psirt/report"],
        encryption=["https://example.co.jp/psirt/pgp.asc"],
        policy="https://example.co.jp/psirt/policy",
        now=now,
    )
    fields = parse_security_txt(text)
    assert fields["contact"] == ["mailto:psirt@example.co.jp", "https://example.co.jp/psirt/report"]
    assert fields["expires"] == ["2027-12-07T00:00:00Z"]
    assert fields["csaf"] == ["https://example.co.jp/.well-known/csaf/provider-metadata.json"]
    assert fields["canonical"] == ["https://example.co.jp/.well-known/security.txt"]
    assert fields["preferred-languages"] == ["ja, en"]
    with pytest.raises(InputError, match="single-line"):
        security_txt("example.co.jp", ["mailto:a@example.co.jp\nCSAF: https://evil.example/x"], now=now)
    with pytest.raises(InputError, match="less than a year"):
        security_txt("example.co.jp", ["mailto:a@example.co.jp"], expires=now + timedelta(days=400), now=now)
    with pytest.raises(InputError, match="must start with"):
        security_txt("example.co.jp", ["a@example.co.jp"], now=now)
    with pytest.raises(InputError, match="not a domain"):
        security_txt("exa mple", ["mailto:a@example.co.jp"], now=now)

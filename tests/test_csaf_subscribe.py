"""Subscriptions to suppliers' CSAF providers (``mamori csaf subscribe|pull|list``), on loopback servers.

* A provider mamori published and signed: discovery through /.well-known/csaf and through security.txt;
  pull with the pinned key imports every advisory (signatures valid) into the knowledge base; after one
  advisory changes, the next pull downloads exactly that one; a changed byte is a hash failure; a key that
  did not sign is a signature failure (each advisory rejected alone); plain http to another host is refused
  with one line and exit 2.
* A conformant copy of a subset of CISA's real tree (folder-relative index and changes, ROLIE links on the
  loopback host): every advisory imported with its CVEs, "not verifiable" (CISA's key is not in the data);
  the same subset as CISA publishes it (paths from the repository root, ROLIE links to GitHub) is pulled
  all the same, with both deviations reported.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA

MAMORI = str(Path(sys.executable).with_name("mamori"))
CSAF = SHARED_DATA / "csaf"
EXAMPLES = CSAF / "examples" / "csaf"
CISA = CSAF / "cisa"
WHITE = ["bsi-2022-0001.json", "rhsa-2019_1862.json", "rhsa-2021_5186.json", "rhsa-2022_0011.json"]
SUBSET = 60
GITHUB = "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/"

pytestmark = pytest.mark.shared


@pytest.fixture(autouse=True)
def _shared() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/data/csaf is absent")


def mamori(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=600, env=env, check=False)


FAILING: set[str] = set()  # paths the servers answer with 503 (a provider that fails now and then)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path in FAILING:
            self.send_error(503)
            return
        super().do_GET()


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A loopback HTTP server serving ``folder``; yields its base URL (without the final slash)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pgp = pytest.importorskip("pysequoia")
    folder = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("psirt", "other"):
        tsk = pgp.Tsk.generate(f"{name} <{name}@example.com>")
        (folder / f"{name}.sec.asc").write_text(str(tsk), encoding="ascii")
        (folder / f"{name}.pub.asc").write_text(str(tsk.extract_certificate()), encoding="ascii")
        out[name] = folder / name
    return out


def _store(path: Path | str) -> Any:
    from mamori.store import open_store

    return open_store(str(path))


def _publish(files: list[Path], provider: Path, key: Path, base: str) -> None:
    from mamori.advisory.publish import publish
    from mamori.advisory.signing import load_signing_key

    result = publish(files, provider, key=load_signing_key(f"{key}.sec.asc"), base_url=base)
    assert not result.rejected and len(result.published) == len(files)


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> Iterator[tuple[str, Path]]:
    """A web root with a signed provider at /.well-known/csaf; yields (base URL, provider folder)."""
    root = tmp_path / "www"
    root.mkdir()
    with serving(root) as base:
        provider = root / ".well-known" / "csaf"
        _publish([EXAMPLES / n for n in WHITE], provider, keys["psirt"], f"{base}/.well-known/csaf")
        yield base, provider


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a throw-away PostgreSQL database (MAMORI_TEST_PG_URL)."""
    if request.param == "sqlite":
        yield str(tmp_path / "kb.sqlite")
        return
    server = os.environ.get("MAMORI_TEST_PG_URL")
    if not server:
        pytest.skip("MAMORI_TEST_PG_URL not set")
    from mamori.store.throwaway import throwaway_postgres

    with throwaway_postgres(server) as url:
        yield url


def _bump(path: Path, target: Path) -> None:
    """An updated revision of the advisory ``path`` (version 2, a later current_release_date)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tracking = data["document"]["tracking"]
    tracking["version"] = "2"
    tracking["current_release_date"] = "2026-12-01T00:00:00.000Z"
    tracking["revision_history"].append(
        {"date": "2026-12-01T00:00:00.000Z", "number": "2", "summary": "Update"}
    )
    target.write_text(json.dumps(data), encoding="utf-8")


def test_subscribe_and_incremental_pull_of_a_signed_provider(
    site: tuple[str, Path], keys: dict[str, Path], tmp_path: Path, db: str
) -> None:
    from mamori.advisory.pull import pull
    from mamori.advisory.subscribe import advisories, list_subscriptions, subscribe

    base, provider = site
    host = base.removeprefix("http://")
    with _store(db) as store:
        sub = subscribe(store, host, [Path(f"{keys['psirt']}.pub.asc")])
        assert sub.found_by == "well-known"
        assert sub.metadata_url == f"{base}/.well-known/csaf/provider-metadata.json"
        assert len(sub.keys) == 1 and len(sub.keys[0]) == 40
        (report,) = pull(store)
        assert (report.new, report.updated, report.unchanged, report.rejected, report.failed) == (
            4,
            0,
            0,
            [],
            [],
        )
        assert report.fetched == 4 and dict(report.signatures) == {"valid": 4}
        assert report.deviations == {}
        pulled = advisories(store)[sub.id]
        assert sorted(a.tracking_id for a in pulled) == sorted(
            json.loads((EXAMPLES / n).read_text(encoding="utf-8"))["document"]["tracking"]["id"]
            for n in WHITE
        )
        assert all(a.signature == "valid" and a.document["document"]["csaf_version"] == "2.0" for a in pulled)
        # the vulnerabilities are in the knowledge base, the publisher's namespace their source and provider
        rhsa = json.loads((EXAMPLES / "rhsa-2022_0011.json").read_text(encoding="utf-8"))
        cve = rhsa["vulnerabilities"][0]["cve"]
        found = store.lookup(cve)
        assert found is not None
        assert found.vulnerability.source_names == ["csaf:https://www.redhat.com"]
        sources = store.status()["sources"]
        assert sources["csaf:https://www.redhat.com"]["records"] >= 3, sources
        assert sources["csaf:https://www.bsi.bund.de"]["records"] >= 1, sources
        assert sources["csaf:https://www.redhat.com"]["origin"] == sub.metadata_url
        assert "csaf" not in sources
        assert any(
            p.provider == "csaf:https://www.redhat.com" for p in found.vulnerability.affected_products
        ), found.vulnerability.affected_products[:2]

        # nothing changed: the lists say so and no advisory is downloaded
        (again,) = pull(store)
        assert (again.new, again.updated, again.fetched, again.rejected) == (0, 0, 0, [])
        # the watermarks lost (a pull that could not finish keeps them back): listed again, still not downloaded
        from sqlalchemy import update

        from mamori.advisory.subscription_tables import SubscriptionRow

        with store.engine.begin() as conn:
            conn.execute(update(SubscriptionRow).values(watermarks="{}"))
        (relisted,) = pull(store)
        assert (relisted.fetched, relisted.unchanged, relisted.new, relisted.updated) == (0, 4, 0, 0)

        # one advisory updated at the provider: exactly that one is downloaded
        changed = tmp_path / "bsi-2022-0001.json"
        _bump(EXAMPLES / "bsi-2022-0001.json", changed)
        _publish([changed], provider, keys["psirt"], f"{base}/.well-known/csaf")
        (third,) = pull(store)
        assert (third.fetched, third.updated, third.new, third.rejected) == (1, 1, 0, [])
        (listed,) = list_subscriptions(store)
        assert listed.last_pull is not None and listed.counts["updated"] == 1
        assert [a.version for a in advisories(store, sub.id)[sub.id] if a.tracking_id.startswith("BSI")] == [
            "2"
        ]


def test_discovery_through_security_txt(tmp_path: Path, keys: dict[str, Path]) -> None:
    from mamori.advisory.subscribe import Client, discover

    root = tmp_path / "www"
    root.mkdir()
    with serving(root) as base:
        _publish([EXAMPLES / WHITE[0]], root / "advisories", keys["psirt"], f"{base}/advisories")
        (root / ".well-known").mkdir()
        (root / ".well-known" / "security.txt").write_text(
            f"Contact: mailto:psirt@example.com\ncsaf: {base}/advisories/provider-metadata.json\n",
            encoding="utf-8",
        )
        with Client() as client:
            found = discover(base.removeprefix("http://"), client)
        assert (found.found_by, found.metadata_url) == (
            "security.txt",
            f"{base}/advisories/provider-metadata.json",
        )
        assert found.tried[0] == f"{base}/.well-known/csaf/provider-metadata.json"


def test_tampered_byte_and_wrong_key_are_rejected_alone(
    site: tuple[str, Path], keys: dict[str, Path], tmp_path: Path
) -> None:
    from mamori.advisory.pull import pull
    from mamori.advisory.subscribe import subscribe

    base, provider = site
    victim = next(provider.glob("white/*/rhsa-2021_5186.json"))
    raw = victim.read_bytes()
    victim.write_bytes(raw.replace(b"Red Hat", b"Red Hct", 1))
    metadata = f"{base}/.well-known/csaf/provider-metadata.json"
    with _store(tmp_path / "a.sqlite") as store:
        sub = subscribe(store, metadata, [Path(f"{keys['psirt']}.pub.asc")])
        assert sub.found_by == "url"
        (report,) = pull(store)
        assert report.new == 3
        assert [(u.rsplit("/", 1)[1], r) for u, r in report.rejected] == [
            ("rhsa-2021_5186.json", "the sha256 hash does not match the document")
        ]
    victim.write_bytes(raw)
    with _store(tmp_path / "b.sqlite") as store:
        subscribe(store, metadata, [Path(f"{keys['other']}.pub.asc")])
        (report,) = pull(store)
        assert report.new == 0 and len(report.rejected) == 4
        assert {r for _u, r in report.rejected} == {"the signature was not made by a pinned key"}
    # a hash file that cannot be downloaded: that advisory is not imported (not reached), the others are
    path = "/" + victim.relative_to(provider.parent.parent).as_posix()
    FAILING.update({f"{path}.sha256", f"{path}.sha512"})
    try:
        with _store(tmp_path / "d.sqlite") as store:
            subscribe(store, metadata, [Path(f"{keys['psirt']}.pub.asc")])
            (report,) = pull(store)
            assert report.new == 3 and report.rejected == []
            assert [(u.rsplit("/", 1)[1], "HTTP 503" in r) for u, r in report.failed] == [
                ("rhsa-2021_5186.json.sha256", True)
            ], report.failed
            FAILING.clear()
            (report,) = pull(store)  # the watermark stayed back: the advisory comes now
            assert (report.new, report.fetched, report.unchanged, report.failed) == (1, 1, 3, [])
    finally:
        FAILING.clear()
    with _store(tmp_path / "c.sqlite") as store:  # no key pinned: imported, shown as not verifiable
        subscribe(store, metadata)
        (report,) = pull(store)
        assert report.new == 4 and dict(report.signatures) == {"not-verifiable": 4}


def test_cli_refuses_plain_http_and_reports(
    site: tuple[str, Path], keys: dict[str, Path], tmp_path: Path
) -> None:
    db = str(tmp_path / "cli.sqlite")
    done = mamori(
        "csaf", "subscribe", "http://example.com/.well-known/csaf/provider-metadata.json", "--db", db
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "plain http" in done.stderr, done.stderr
    base, _provider = site
    done = mamori(
        "csaf", "subscribe", base.removeprefix("http://"), "--key", f"{keys['psirt']}.pub.asc", "--db", db
    )
    assert done.returncode == 0, done.stderr
    assert "found by well-known" in done.stdout and "pinned key" in done.stdout
    done = mamori("csaf", "pull", "--db", db, "--format", "json")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    assert (report["new"], report["rejected"], report["signatures"]) == (4, [], {"valid": 4})
    # no release in the inventory: nothing applied, and the report says why
    assert report["apply"]["inventory_empty"] is True and report["apply"]["advisories"] == 0
    done = mamori("csaf", "list", "--db", db)
    assert done.returncode == 0 and "4 new, 0 updated" in done.stdout and "pinned keys: " in done.stdout


# ---------------------------------------------------------------- CISA's real tree


def cisa_subset(target: Path, base: str, count: int = SUBSET, conformant: bool = True) -> list[str]:
    """The newest ``count`` advisories of CISA's OT folder under ``target`` (files linked, not copied) with
    index.txt, changes.csv, the ROLIE feed and a provider-metadata.json; ``conformant``: paths relative to the
    folder and feed links on ``base`` (else as CISA publishes them). Returns the tracking ids."""
    source = CISA / "OT" / "white"
    folder = target / "OT" / "white"
    folder.mkdir(parents=True)
    rows = list(csv.reader((source / "changes.csv").read_text(encoding="utf-8").splitlines()))
    rows = rows[:count] if count else rows
    prefix = "csaf_files/OT/white/"
    for path, _when in rows:
        rel = path.removeprefix(prefix)
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", ".sha512", ".asc"):
            (folder / f"{rel}{suffix}").symlink_to(source / f"{rel}{suffix}")
    shown = (lambda p: p.removeprefix(prefix)) if conformant else (lambda p: p)
    (folder / "index.txt").write_text("".join(f"{shown(p)}\n" for p, _w in rows), encoding="utf-8")
    (folder / "changes.csv").write_text("".join(f"{shown(p)},{w}\n" for p, w in rows), encoding="utf-8")
    feed = json.loads((source / "cisa-csaf-ot-feed-tlp-white.json").read_text(encoding="utf-8"))
    wanted = {f"{GITHUB}OT/white/{p.removeprefix(prefix)}" for p, _w in rows}
    entries = [e for e in feed["feed"]["entry"] if e["content"]["src"] in wanted]
    feed["feed"]["entry"] = entries
    text = json.dumps(feed)
    if conformant:
        text = text.replace(GITHUB, f"{base}/")
    (folder / "cisa-csaf-ot-feed-tlp-white.json").write_text(text, encoding="utf-8")
    metadata = {
        "canonical_url": f"{base}/provider-metadata.json",
        "distributions": [
            {"directory_url": f"{base}/OT/white/"},
            {
                "rolie": {
                    "feeds": [
                        {"tlp_label": "WHITE", "url": f"{base}/OT/white/cisa-csaf-ot-feed-tlp-white.json"}
                    ]
                }
            },
        ],
        "last_updated": "2024-10-24T19:23:12.425Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": {"category": "coordinator", "name": "CISA", "namespace": "https://www.cisa.gov/"},
        "role": "csaf_trusted_provider",
    }
    (target / "provider-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return [e["id"] for e in entries]


@pytest.fixture
def cisa() -> None:
    if not (CISA / "OT" / "white" / "changes.csv").is_file():
        pytest.skip("CISA's CSAF tree is absent")


@pytest.mark.usefixtures("cisa")
@pytest.mark.parametrize("conformant", [True, False])
def test_pull_of_cisa_subset(tmp_path: Path, conformant: bool) -> None:
    from mamori.advisory.pull import pull
    from mamori.advisory.subscribe import advisories, subscribe

    served = tmp_path / "served"
    served.mkdir()
    with serving(served) as base, _store(tmp_path / "kb.sqlite") as store:
        ids = cisa_subset(served, base, conformant=conformant)
        sub = subscribe(store, f"{base}/provider-metadata.json")
        (report,) = pull(store)
        assert report.failed == [] and report.rejected == [], (report.failed[:3], report.rejected[:3])
        assert report.new == SUBSET and report.fetched == SUBSET
        assert dict(report.signatures) == {"not-verifiable": SUBSET}
        kinds = {k: d.count for k, d in report.deviations.items()}
        if conformant:
            assert kinds == {}
        else:  # every index and changes line, every feed link of every entry (self, signature, hash)
            assert kinds == {"index-path-not-relative": SUBSET, "rolie-foreign-link": 3 * len(ids)}
        pulled = advisories(store, sub.id)[sub.id]
        assert sorted(a.tracking_id for a in pulled) == sorted(ids)
        first = pulled[0].document
        cve = next(v["cve"] for v in first["vulnerabilities"] if "cve" in v)
        found = store.lookup(cve)
        assert found is not None and "csaf:https://www.cisa.gov" in found.vulnerability.source_names
        assert any(s.provider == "csaf:https://www.cisa.gov" for s in found.vulnerability.severities)


def test_fast_schema_check_agrees_with_jsonschema() -> None:
    """The pull's jsonschema-rs check gives jsonschema's verdict: on valid documents and on each kind of break
    (a wrong date-time, a wrong URI, a missing required field, a wrong type, a value outside its enum)."""
    import copy

    from mamori.advisory.pull import _fast_schema
    from mamori.vex.schemas import _csaf_validator, _problems

    fast = _fast_schema()
    if fast is None:
        pytest.skip("jsonschema-rs or csaf-lib is not installed")
    reference = _csaf_validator(None)
    base = json.loads((EXAMPLES / "rhsa-2021_5186.json").read_text(encoding="utf-8"))
    breaks = {
        "date-time": lambda d: d["document"]["tracking"].__setitem__("current_release_date", "2021-13-40"),
        "uri": lambda d: d["document"]["publisher"].__setitem__("namespace", "not a uri"),
        "required": lambda d: d["document"].pop("title"),
        "type": lambda d: d["document"]["tracking"].__setitem__("version", 2),
        "enum": lambda d: d["document"]["distribution"]["tlp"].__setitem__("label", "PURPLE"),
    }
    cases = [json.loads((EXAMPLES / n).read_text(encoding="utf-8")) for n in WHITE]
    for change in breaks.values():
        broken = copy.deepcopy(base)
        change(broken)
        cases.append(broken)
    verdicts = [(fast.is_valid(d), not _problems(reference, d)) for d in cases]
    assert verdicts == [(True, True)] * len(WHITE) + [(False, False)] * len(breaks)


def test_pinned_keys_are_each_teams_own(site: tuple[str, Path], keys: dict[str, Path], db: str) -> None:
    """Two teams subscribe to the same provider: one pins its right key, the other a wrong one. One download
    per advisory; the first sees every advisory verified, the second "signature failed" for every one — the
    first team's key makes nothing trusted for it. The second team then pins the right key too: the next pull checks again for it only."""
    from mamori import accounts
    from mamori.advisory.pull import pull
    from mamori.advisory.subscribe import advisory_list, list_subscriptions, pinned_certs, subscribe

    base, _provider = site
    host = base.removeprefix("http://")
    with _store(db) as store:
        for team in ("right", "wrong"):
            accounts.create_team(store, team)
        right, wrong = (accounts.get_team(store, n).id for n in ("right", "wrong"))
        sub = subscribe(store, host, [Path(f"{keys['psirt']}.pub.asc")], team_id=right)
        again = subscribe(store, host, [Path(f"{keys['other']}.pub.asc")], team_id=wrong)
        assert again.id == sub.id and again.keys == []  # one subscription; no key of the command line
        assert again.team_keys[right] != again.team_keys[wrong]
        assert len(pinned_certs(store, sub.id, right)) == 1 and pinned_certs(store, sub.id) == []
        (report,) = pull(store)
        assert report.fetched == 4 and report.rejected == [] and report.new == 4  # downloaded once
        assert {a["signature"] for a in advisory_list(store, sub.id, right)} == {"valid"}
        assert {a["signature"] for a in advisory_list(store, sub.id, wrong)} == {"failed"}
        assert len(advisory_list(store, sub.id)) == 4

        # a team that pins a key later has the advisories checked again for it at the next pull
        subscribe(store, host, [Path(f"{keys['psirt']}.pub.asc")], team_id=wrong)
        assert {a["signature"] for a in advisory_list(store, sub.id, wrong)} == {"unchecked"}
        (later,) = pull(store)
        assert later.fetched == 4 and later.rejected == []
        assert {a["signature"] for a in advisory_list(store, sub.id, wrong)} == {"valid"}
        assert {a["signature"] for a in advisory_list(store, sub.id, right)} == {"valid"}
        (listed,) = list_subscriptions(store)
        assert sorted(listed.team_keys) == [right, wrong] and len(listed.team_keys[wrong]) == 2


def test_every_team_refusing_rejects_the_advisory(
    site: tuple[str, Path], keys: dict[str, Path], tmp_path: Path
) -> None:
    from mamori import accounts
    from mamori.advisory.pull import pull
    from mamori.advisory.subscribe import advisory_list, subscribe

    base, _provider = site
    with _store(tmp_path / "kb.db") as store:
        accounts.create_team(store, "wrong")
        team = accounts.get_team(store, "wrong").id
        sub = subscribe(store, base.removeprefix("http://"), [Path(f"{keys['other']}.pub.asc")], team_id=team)
        (report,) = pull(store)
        assert report.new == 0 and len(report.rejected) == 4
        assert {reason for _url, reason in report.rejected} == {"the signature was not made by a pinned key"}
        assert advisory_list(store, sub.id, team) == []


def test_csaf_subscribe_team_option(site: tuple[str, Path], keys: dict[str, Path], tmp_path: Path) -> None:
    from mamori import accounts

    base, _provider = site
    db = str(tmp_path / "kb.db")
    with _store(db) as store:
        accounts.create_team(store, "buyers")
    host = base.removeprefix("http://")
    run = mamori("csaf", "subscribe", host, "--key", f"{keys['psirt']}.pub.asc", "--team", "buyers",
                 "--db", db, "--format", "json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["team"] == "buyers" and len(out["keys"]) == 1
    listed = mamori("csaf", "list", "--db", db)
    assert (
        "pinned keys: none" in listed.stdout
        and "pinned keys of team buyers: " + out["keys"][0] in listed.stdout
    )
    bad = mamori("csaf", "subscribe", host, "--team", "nobody", "--db", db)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "nobody" in bad.stderr


def test_applying_leaves_out_the_products_of_a_team_whose_keys_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori import accounts
    from mamori.advisory import pull as pulling
    from mamori.advisory.subscribe import Subscription
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.portfolio import csafin
    from mamori.portfolio.archive import add_product, store_sbom

    seen: list[list[str]] = []

    def fake_apply(store: Any, data: Any, supplier: Any, url: Any, releases: Any) -> Any:
        seen.append(sorted(r.product for r in releases))
        raise pulling.InputError(None, "stop")

    monkeypatch.setattr(csafin, "apply_advisory", fake_apply)
    with _store(tmp_path / "kb.db") as store:
        for team, product in (("right", "ours"), ("wrong", "theirs")):
            accounts.create_team(store, team)
            add_product(store, product)
            store_sbom(store, product, "1.0", demo_data() / DEMO_SBOM)
            accounts.assign_product(store, team, product)
        add_product(store, "nobodys")
        store_sbom(store, "nobodys", "1.0", demo_data() / DEMO_SBOM)
        right, wrong = (accounts.get_team(store, n).id for n in ("right", "wrong"))
        sub = Subscription(1, "u", "g", "url", "P", "https://p", "t", None, {}, [], {})
        report = pulling.PullReport(sub)
        applier = pulling._Applier(store, sub, report)
        applier("a", {}, pulling.Signature("valid", {right: "valid", wrong: "failed"}))
        applier("b", {}, pulling.Signature("valid", {right: "valid", wrong: "valid"}))
        applier("c", {}, None)
    assert seen == [["nobodys", "ours"], ["nobodys", "ours", "theirs"], ["nobodys", "ours", "theirs"]]

"""The native API of suppliers' CSAF subscriptions (/api/mamori/v1/csaf/subscriptions) per role, against a
loopback CSAF provider publishing real CSAF 2.0 examples signed with a key the test makes: a security manager
subscribes a team pinning the key, pulls now (a background job) and sees each advisory's signature state; an
auditor and a developer read only; a customer sees nothing; another team's subscription answers 404 to every
route; leaving a subscription another team shares keeps it for that team. Changes are in the audit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA
from mamori import accounts
from mamori.accounts.roles import ROLE_NAMES
from server_support import BACKENDS, backend_store, live, signin

API = "/api/mamori/v1"
EXAMPLES = SHARED_DATA / "csaf" / "examples" / "csaf"
WHITE = ["bsi-2022-0001.json", "rhsa-2019_1862.json"]
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A web root with a signed provider at /.well-known/csaf on loopback."""
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/data/csaf is absent")
    pgp = pytest.importorskip("pysequoia")
    from mamori.advisory.publish import publish
    from mamori.advisory.signing import load_signing_key
    from test_csaf_subscribe import serving

    tsk = pgp.Tsk.generate("psirt <psirt@example.com>")
    root = tmp_path_factory.mktemp("www")
    secret = tmp_path_factory.mktemp("key") / "psirt.sec.asc"
    secret.write_text(str(tsk), encoding="ascii")
    key = load_signing_key(secret)
    with serving(root) as base:
        folder = root / ".well-known" / "csaf"
        done = publish([EXAMPLES / n for n in WHITE], folder, key=key, base_url=f"{base}/.well-known/csaf")
        assert not done.rejected and len(done.published) == len(WHITE)
        yield {"base": base, "key": str(tsk.extract_certificate()), "host": base.split("//")[1]}


@pytest.fixture(params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path: Path, provider: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    from mamori.advisory.subscribe import link_team, subscribe

    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs", "ops"):
            accounts.create_team(store, team)
        theirs = subscribe(store, f"{provider['base']}/.well-known/csaf/provider-metadata.json")
        link_team(store, theirs.id, accounts.get_team(store, "theirs").id)
        keys = {
            role: accounts.create_api_key(store, "mine", role)[1] for role in ROLE_NAMES if role != "admin"
        }
        keys["admin"] = accounts.create_api_key(store, "ops", "admin")[1]
        keys["their_sm"] = accounts.create_api_key(store, "theirs", "security_manager")[1]
        accounts.create_user(store, "sm", PASSWORD, "mine", "security_manager")
        accounts.create_user(store, "buyer", PASSWORD, "mine", "customer")
        with live(store) as server:
            clients = {who: server.client(headers={"X-Api-Key": key}) for who, key in keys.items()}
            yield {
                "store": store,
                "clients": clients,
                "theirs": theirs.id,
                "provider": provider,
                "server": server,
            }
            for client in clients.values():
                client.close()


def _wait_pulled(client: Any, sid: int) -> dict[str, Any]:
    for _ in range(600):
        got = client.get(f"{API}/csaf/subscriptions/{sid}").json()
        if got["last_pull"]:
            return got
        time.sleep(0.1)
    raise AssertionError("the pull did not finish in 60 s")


def test_a_security_manager_subscribes_pulls_and_leaves(site: dict[str, Any]) -> None:
    sm, auditor, dev = (site["clients"][r] for r in ("security_manager", "auditor", "developer"))
    provider = site["provider"]
    made = sm.post(f"{API}/csaf/subscriptions", json={"target": provider["host"], "keys": [provider["key"]]})
    assert made.status_code == 201, made.text
    sub = made.json()
    # the other team's name is not shown
    assert sub["found_by"] == "url" and sub["teams"] == ["mine"] and len(sub["keys"]) == 1
    assert sub["publisher"] and sub["last_pull"] is None
    # the provider "theirs" subscribed to is the same: the team is added, their subscription is shared
    assert sub["id"] == site["theirs"]

    queued = sm.post(f"{API}/csaf/subscriptions/{sub['id']}/pull")
    assert queued.status_code == 200 and queued.json()["job"]
    pulled = _wait_pulled(auditor, sub["id"])
    assert pulled["counts"]["new"] == len(WHITE) and pulled["counts"]["rejected"] == 0
    advisories = dev.get(f"{API}/csaf/subscriptions/{sub['id']}/advisories").json()
    assert len(advisories) == len(WHITE)
    assert {a["signature"] for a in advisories} == {"valid"}
    assert all(len(a["sha256"]) == 64 and a["tracking_id"] for a in advisories)
    # keys are each team's own: "theirs" pinned none, then a wrong one — our key makes nothing valid for it
    their_sm = site["clients"]["their_sm"]
    theirs_url = f"{API}/csaf/subscriptions/{sub['id']}/advisories"
    assert {a["signature"] for a in their_sm.get(theirs_url).json()} == {"not-verifiable"}
    wrong = __import__("pysequoia").Tsk.generate("x <x@example.com>").extract_certificate()
    again = their_sm.post(
        f"{API}/csaf/subscriptions", json={"target": provider["host"], "keys": [str(wrong)]}
    )
    assert again.status_code == 201 and again.json()["id"] == sub["id"]
    assert again.json()["keys"] != sub["keys"] and len(again.json()["keys"]) == 1  # only its own key shown
    assert {a["signature"] for a in their_sm.get(theirs_url).json()} == {"unchecked"}
    before = pulled["last_pull"]
    assert their_sm.post(f"{API}/csaf/subscriptions/{sub['id']}/pull").status_code == 200
    for _ in range(600):
        if auditor.get(f"{API}/csaf/subscriptions/{sub['id']}").json()["last_pull"] != before:
            break
        time.sleep(0.1)
    assert {a["signature"] for a in their_sm.get(theirs_url).json()} == {"failed"}
    assert {a["signature"] for a in dev.get(theirs_url).json()} == {"valid"}
    assert sm.get(f"{API}/csaf/subscriptions/{sub['id']}").json()["keys"] == sub["keys"]

    # readers may not change
    assert auditor.post(f"{API}/csaf/subscriptions/{sub['id']}/pull").status_code == 403
    assert dev.delete(f"{API}/csaf/subscriptions/{sub['id']}").status_code == 403
    assert dev.post(f"{API}/csaf/subscriptions", json={"target": provider["host"]}).status_code == 403
    # a bad target is one 422, nothing stored
    bad = sm.post(f"{API}/csaf/subscriptions", json={"target": "http://example.com/provider-metadata.json"})
    assert bad.status_code == 422 and "plain http" in bad.text
    assert len(sm.get(f"{API}/csaf/subscriptions").json()) == 1

    # leaving keeps it for the other team
    left = sm.delete(f"{API}/csaf/subscriptions/{sub['id']}")
    assert left.status_code == 200 and left.json() == {"id": sub["id"], "removed": False}
    assert sm.get(f"{API}/csaf/subscriptions").json() == []
    assert sm.get(f"{API}/csaf/subscriptions/{sub['id']}").status_code == 404
    theirs = site["clients"]["their_sm"].get(f"{API}/csaf/subscriptions").json()
    assert [s["id"] for s in theirs] == [sub["id"]] and theirs[0]["teams"] == ["theirs"]
    # the last team leaving removes it with its advisories
    gone = site["clients"]["their_sm"].delete(f"{API}/csaf/subscriptions/{sub['id']}")
    assert gone.status_code == 200 and gone.json()["removed"] is True
    assert site["clients"]["admin"].get(f"{API}/csaf/subscriptions").json() == []

    actions = [e.action for e in accounts.list_audit(site["store"], limit=50)]
    for action in ("supplier.subscribe", "supplier.pull", "supplier.unsubscribe"):
        assert action in actions


def test_another_teams_subscription_is_not_found(site: dict[str, Any]) -> None:
    sid = site["theirs"]
    for role in ("security_manager", "auditor", "developer"):
        client = site["clients"][role]
        assert client.get(f"{API}/csaf/subscriptions").json() == []
        assert client.get(f"{API}/csaf/subscriptions/{sid}").status_code == 404
        assert client.get(f"{API}/csaf/subscriptions/{sid}/advisories").status_code == 404
    sm = site["clients"]["security_manager"]
    assert sm.post(f"{API}/csaf/subscriptions/{sid}/pull").status_code == 404
    assert sm.delete(f"{API}/csaf/subscriptions/{sid}").status_code == 404
    assert site["clients"]["their_sm"].get(f"{API}/csaf/subscriptions/{sid}").status_code == 200
    assert [s["id"] for s in site["clients"]["admin"].get(f"{API}/csaf/subscriptions").json()] == [sid]
    customer = site["clients"]["customer"]
    assert customer.get(f"{API}/csaf/subscriptions").status_code == 403
    assert customer.get(f"{API}/csaf/subscriptions/{sid}").status_code == 403
    # a team the principal does not manage is refused
    made = sm.post(f"{API}/csaf/subscriptions", json={"target": site["provider"]["host"], "team": "theirs"})
    assert made.status_code == 422


def test_the_server_reaches_no_internal_address_unless_allowed(
    site: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the operator's allow-list (the tests allow loopback), a subscription to a provider on the
    server's own network is refused in one 422 and a pull of one stored earlier reaches nothing; allowed
    again, both work."""
    monkeypatch.delenv("MAMORI_NOTIFY_ALLOW_NETWORKS")
    sm, provider = site["clients"]["security_manager"], site["provider"]
    # a provider not stored yet (127.0.0.2 is loopback too; the test's server does not listen there, so only
    # the guard's refusal names the allow-list)
    port = provider["host"].rsplit(":", 1)[1]
    target = f"http://127.0.0.2:{port}/.well-known/csaf/provider-metadata.json"
    refused = sm.post(f"{API}/csaf/subscriptions", json={"target": target})
    assert refused.status_code == 422 and "MAMORI_NOTIFY_ALLOW_NETWORKS" in refused.text, refused.text
    assert sm.get(f"{API}/csaf/subscriptions").json() == []
    their_sm, sid = site["clients"]["their_sm"], site["theirs"]
    assert their_sm.post(f"{API}/csaf/subscriptions/{sid}/pull").status_code == 200
    pulled = _wait_pulled(their_sm, sid)
    assert (
        pulled["counts"]["fetched"] == 0 and pulled["counts"]["new"] == 0 and pulled["counts"]["failed"] >= 1
    )
    monkeypatch.setenv("MAMORI_NOTIFY_ALLOW_NETWORKS", "127.0.0.0/8,::1/128")
    elsewhere = sm.post(f"{API}/csaf/subscriptions", json={"target": target})
    assert elsewhere.status_code == 422 and "MAMORI_NOTIFY_ALLOW_NETWORKS" not in elsewhere.text
    assert their_sm.post(f"{API}/csaf/subscriptions/{sid}/pull").status_code == 200
    for _ in range(600):
        again = their_sm.get(f"{API}/csaf/subscriptions/{sid}").json()
        if again["last_pull"] != pulled["last_pull"] and again["counts"]["new"] == len(WHITE):
            break
        time.sleep(0.1)
    assert again["counts"]["new"] == len(WHITE), again["counts"]


CERN = SHARED_DATA / "sbom" / "cyclonedx" / "cern-lhc-vdm-editor-e564943" / "bom.json"
TERMS = "items:\n  TX-01: {formats: cyclonedx}\n  TX-03: {minimum_elements: ntia}\n"


def test_contract_terms_belong_to_the_team_and_check_an_sbom(site: dict[str, Any]) -> None:
    if not CERN.is_file():
        pytest.skip("../shared/data/sbom is absent")
    sm, auditor, dev, their_sm = (
        site["clients"][r] for r in ("security_manager", "auditor", "developer", "their_sm")
    )
    yaml = {"Content-Type": "application/yaml"}
    assert dev.put(f"{API}/contracts/ACME", content=TERMS, headers=yaml).status_code == 403
    bad = sm.put(f"{API}/contracts/ACME", content="items:\n  TX-01: {formats: swid}\n", headers=yaml)
    assert bad.status_code == 422 and "cyclonedx / spdx" in bad.text
    assert sm.put(f"{API}/contracts/ACME", content=b"x" * ((1 << 20) + 1), headers=yaml).status_code == 413
    put = sm.put(f"{API}/contracts/ACME", content=TERMS, headers=yaml)
    assert put.status_code == 200, put.text
    assert put.json()["terms"]["items"] == {
        "TX-01": {"formats": {"cyclonedx": []}},
        "TX-03": {"minimum_elements": "ntia"},
    }
    # the other team names the same supplier with its own terms (JSON): neither sees the other's
    theirs = their_sm.put(f"{API}/contracts/ACME", json={"items": {"TX-01": {"formats": "spdx"}}})
    assert theirs.status_code == 200, theirs.text
    assert auditor.get(f"{API}/contracts/ACME").json()["terms"]["items"]["TX-01"] == {
        "formats": {"cyclonedx": []}
    }
    assert [c["team"] for c in auditor.get(f"{API}/contracts").json()] == ["mine"]
    assert auditor.get(f"{API}/contracts/ACME", params={"team": "theirs"}).status_code == 404
    assert {c["team"] for c in site["clients"]["admin"].get(f"{API}/contracts").json()} == {"mine", "theirs"}
    assert site["clients"]["customer"].get(f"{API}/contracts/ACME").status_code == 403

    checked = dev.post(f"{API}/contracts/ACME/check", content=CERN.read_bytes())
    assert checked.status_code == 200, checked.text
    by = {r["item"]: r for r in checked.json()["results"] if r["status"] != "not_agreed"}
    assert by["TX-01"]["status"] == "met" and by["TX-03"]["status"] == "gap"
    assert checked.json()["exit_code"] == 1
    # the other team's terms ask for SPDX: the same SBOM has a gap there
    other = their_sm.post(f"{API}/contracts/ACME/check", content=CERN.read_bytes()).json()
    assert [r["status"] for r in other["results"] if r["item"] == "TX-01"] == ["gap"]
    assert dev.post(f"{API}/contracts/ACME/check", content=b"not an sbom").status_code == 422
    assert dev.post(f"{API}/contracts/NOBODY/check", content=CERN.read_bytes()).status_code == 404
    assert "supplier.terms" in [e.action for e in accounts.list_audit(site["store"], limit=50)]


def _bundle(tmp_path: Path) -> tuple[bytes, bytes]:
    """A release bundle of the demo SBOM signed by a new ed25519 key; (bundle, public key PEM)."""
    from mamori.bundle import create_bundle
    from mamori.bundle.signing import generate, load_signer
    from mamori.demo import DEMO_SBOM, demo_data
    from mamori.portfolio.archive import add_product, store_sbom
    from mamori.store import open_store

    private, public = generate("ed25519")
    (tmp_path / "supplier.key").write_bytes(private)
    with open_store(tmp_path / "supplier.db") as s:
        add_product(s, "zz-shop", "Example Corp")
        store_sbom(s, "zz-shop", "2.1.0", demo_data() / DEMO_SBOM)
        made = create_bundle(s, "zz-shop", "2.1.0", load_signer(tmp_path / "supplier.key"))
    return made.data, public


def _wait_job(client: Any, url: str) -> dict[str, Any]:
    for _ in range(600):
        got = client.get(url)
        assert got.status_code == 200, got.text
        if got.json()["state"] in ("done", "failed"):
            return got.json()
        time.sleep(0.1)
    raise AssertionError("the bundle job did not end in 60 s")


def test_a_received_bundle_is_a_job_verified_imported_and_the_teams(
    site: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    sm, auditor, dev, their_sm = (
        site["clients"][r] for r in ("security_manager", "auditor", "developer", "their_sm")
    )
    data, public = _bundle(tmp_path)
    files = {"file": ("b.zip", data, "application/zip"), "key": ("k.pem", public, "application/x-pem-file")}
    assert dev.post(f"{API}/bundles", files=files).status_code == 403
    from mamori.bundle.create import zip_bytes
    from mamori.bundle.signing import generate

    other = generate("ed25519")[1]
    bad = sm.post(f"{API}/bundles", files={**files, "key": ("k.pem", other, "application/x-pem-file")})
    assert bad.status_code == 202, bad.text
    failed = _wait_job(auditor, bad.json()["status_url"])
    assert failed["state"] == "failed" and "no signature verifies with a trusted key" in failed["error"]
    assert failed["report"]["ok"] is False and failed["report"]["verification"]["failures"]
    # a tampered part: the job fails naming the part, and nothing is stored
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    name = next(n for n in members if n.startswith("sbom/original/"))
    members[name] = members[name].replace(b"commons-text", b"commons-texx", 1)
    tampered = sm.post(
        f"{API}/bundles", files={**files, "file": ("t.zip", zip_bytes(members), "application/zip")}
    )
    got = _wait_job(sm, tampered.json()["status_url"])
    assert got["state"] == "failed"
    assert got["error"] == f"bundle.zip: {name}: its SHA-256 differs from the signed statement"
    assert auditor.get(f"{API}/bundles").json() == []

    made = sm.post(f"{API}/bundles", files=files)
    assert made.status_code == 202, made.text
    queued = made.json()
    assert queued["state"] in ("queued", "running", "done") and queued["duplicate"] is False
    assert queued["status_url"] == f"{API}/bundles/jobs/{queued['job']}"
    got = _wait_job(auditor, queued["status_url"])
    assert got["state"] == "done" and got["error"] is None, got
    report = got["report"]
    assert report["ok"] and (report["product"], report["release"], report["supplier"]) == (
        "zz-shop",
        "2.1.0",
        "Example Corp",
    )
    assert report["previous"] is None and report["sbom_revision"] >= 1
    assert report["contract"]["terms"] is False  # no terms agreed with Example Corp
    # the same bundle again: the same job, one import
    again = sm.post(f"{API}/bundles", files=files)
    assert again.status_code == 202 and again.json()["job"] == queued["job"] and again.json()["duplicate"]
    listed = auditor.get(f"{API}/bundles").json()
    assert [(b["product"], b["release"]) for b in listed] == [("zz-shop", "2.1.0")]
    # the product is now the team's: the other team sees no bundle nor job and may not import into it
    assert their_sm.get(f"{API}/bundles").json() == []
    assert their_sm.get(queued["status_url"]).status_code == 404
    refused = their_sm.post(f"{API}/bundles", files=files)
    assert refused.status_code == 202 and refused.json()["job"] != queued["job"]
    theirs = _wait_job(their_sm, refused.json()["status_url"])
    assert theirs["state"] == "failed" and "not one of your team" in theirs["error"]
    assert sm.get(refused.json()["status_url"]).status_code == 404
    assert "supplier.bundle" in [e.action for e in accounts.list_audit(site["store"], limit=50)]
    # the upload is bounded: past the limit, 413 and nothing kept
    monkeypatch.setenv("MAMORI_MAX_UPLOAD_BYTES", "1000")
    assert sm.post(f"{API}/bundles", files=files).status_code == 413
    assert len(auditor.get(f"{API}/bundles").json()) == 1
    assert sm.post(f"{API}/bundles", files={"file": ("b.zip", b"x", "application/zip"),
                                            "key": ("k.pem", b"not a key", "text/plain")}).status_code == 422  # fmt: skip


def test_the_suppliers_page_shows_the_teams_own_in_both_languages(
    site: dict[str, Any], tmp_path: Path
) -> None:
    sm = site["clients"]["security_manager"]
    made = sm.post(f"{API}/csaf/subscriptions", json={"target": site["provider"]["host"]})
    assert made.status_code == 201
    yaml = {"Content-Type": "application/yaml"}
    assert sm.put(f"{API}/contracts/ACME", content=TERMS, headers=yaml).status_code == 200
    assert (
        site["clients"]["their_sm"]
        .put(f"{API}/contracts/zz-their-supplier", content=TERMS, headers=yaml)
        .status_code
        == 200
    )
    browser = site["server"].client()
    assert signin(browser, "sm", PASSWORD).status_code == 303
    page = browser.get("/suppliers", params={"lang": "en"})
    assert page.status_code == 200
    assert 'href="/suppliers"' in page.text and "CSAF subscriptions" in page.text
    assert made.json()["metadata_url"] in page.text and "ACME" in page.text and "never" in page.text
    assert "zz-their-supplier" not in page.text and "theirs" not in page.text
    ja = browser.get("/suppliers", params={"lang": "ja"})
    assert "CSAF の購読" in ja.text and "契約条件" in ja.text
    customer = site["server"].client()
    assert signin(customer, "buyer", PASSWORD).status_code == 303
    assert customer.get("/suppliers").status_code == 403
    assert 'href="/suppliers"' not in customer.get("/").text

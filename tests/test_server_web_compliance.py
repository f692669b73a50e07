"""The compliance pages of the web interface (mamori.server.web_compliance) over httpx against the real
application served by uvicorn: a security manager makes an assessment, answers an item, uploads evidence,
reads the gaps and the roadmap, makes, downloads and publishes the declaration, opens the label page;
a form without the CSRF token is refused; another team's user gets 404; input text shows escaped; the
pages exist in Japanese and English."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.compliance.repository import Assessments
from server_support import BACKENDS, backend_store, live, signin

PASSWORD = "a long enough pass phrase 42"
EVIL = "<script>window.pwned=1</script> K.K."


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("alpha", "beta"):
            accounts.create_team(store, team)
        accounts.create_user(store, "alice", PASSWORD, "alpha", "security_manager")
        accounts.create_user(store, "dave", PASSWORD, "alpha", "auditor")
        accounts.create_user(store, "carl", PASSWORD, "alpha", "customer")
        accounts.create_user(store, "bob", PASSWORD, "beta", "security_manager")
        with live(store, evidence_dir=str(tmp_path / "evidence")) as server:
            yield {"url": server.url, "store": store, "evidence": tmp_path / "evidence"}


@contextlib.contextmanager
def client(site: dict[str, Any], name: str, lang: str = "en") -> Iterator[httpx.Client]:
    headers = {"Accept": "text/html", "Accept-Language": lang}
    with httpx.Client(base_url=site["url"], timeout=60, headers=headers) as c:
        assert signin(c, name, PASSWORD).status_code == 303
        yield c


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_answer_evidence_gaps_roadmap_declaration(site: dict[str, Any]) -> None:
    store = site["store"]
    with client(site, "alice") as c:
        listing = c.get("/compliance")
        assert listing.status_code == 200 and '<a href="/compliance">Compliance</a>' in listing.text
        token = _csrf(listing.text)
        form = {"framework": "jcstar1", "organization": EVIL, "scope": "router 2.0", "roles": ["developer"]}
        assert c.post("/compliance", data=form).status_code == 403  # no CSRF token
        made = c.post("/compliance", data={**form, "team": "alpha", "csrf_token": token})
        assert made.status_code == 303
        aid = int(made.headers["location"].rsplit("/", 1)[1])
        page = c.get(f"/compliance/{aid}")
        assert page.status_code == 200
        assert (
            "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page.text and "<script>window" not in page.text
        )
        item = re.search(r'<tr id="item-([^"]+)">', page.text)
        assert item
        item_id = item.group(1)
        form_page = c.get(f"/compliance/{aid}/items/{item_id}")
        assert 'id="answer"' in form_page.text and 'enctype="multipart/form-data"' in form_page.text
        # a not-applicable answer without a note is refused, with the reason on the page
        refused = c.post(
            f"/compliance/{aid}/items/{item_id}", data={"status": "not_applicable", "csrf_token": token}
        )
        assert refused.status_code == 400 and "Not accepted" in refused.text
        saved = c.post(
            f"/compliance/{aid}/items/{item_id}",
            data={
                "status": "implemented",
                "note": "tested",
                "owner": "Hanako",
                "due": "2027-01-31",
                "csrf_token": token,
            },
        )
        assert saved.status_code == 303
        shown = c.get(saved.headers["location"])
        assert f"The answer to {item_id} was saved." in shown.text
        answer = Assessments(store).get(aid).answer(item_id)
        assert (answer.status, answer.reason, answer.owner, answer.due) == (
            "implemented",
            "tested",
            "Hanako",
            "2027-01-31",
        )
        # evidence: kept, its hash recorded and shown
        content = b"penetration test report\n"
        uploaded = c.post(
            f"/compliance/{aid}/items/{item_id}/evidence",
            data={"csrf_token": token, "note": "by an outside firm"},
            files={"file": ("report.txt", content, "text/plain")},
        )
        assert uploaded.status_code == 303
        item_page = c.get(uploaded.headers["location"]).text
        assert hashlib.sha256(content).hexdigest() in item_page and "report.txt" in item_page
        assert [p.read_bytes() for p in site["evidence"].rglob("report.txt")] == [content]
        empty = c.post(
            f"/compliance/{aid}/items/{item_id}/evidence",
            data={"csrf_token": token},
            files={"file": ("e.txt", b"", "text/plain")},
        )
        assert empty.status_code == 422 and "Choose an evidence file" in empty.text
        # gaps and roadmap
        from mamori.compliance.gaps import analyse

        expected = analyse(Assessments(store).get(aid))
        gaps = c.get(f"/compliance/{aid}/gaps")
        assert gaps.status_code == 200
        assert f"Open items ({len(expected.gaps)}, mandatory first)" in gaps.text and len(expected.gaps) > 5
        assert gaps.text[gaps.text.index('id="gaps"') :].count('<li><a href="/compliance/') == len(
            expected.gaps
        )
        roadmap = c.get(f"/compliance/{aid}/roadmap")
        base = len(Assessments(store).get(aid).items())
        assert roadmap.status_code == 200 and f"Covered: 1 of {base} items" in roadmap.text
        # declaration: made, downloaded (PDF, JSON), published
        decl = c.get(f"/compliance/{aid}/declaration")
        assert "No declaration has been made yet." in decl.text and 'id="declare"' in decl.text
        no = c.post(f"/compliance/{aid}/declaration", data={"approver": "Yamada, CEO", "csrf_token": token})
        assert no.status_code == 400 and "unanswered" in no.text
        yes = c.post(
            f"/compliance/{aid}/declaration",
            data={
                "approver": "Yamada Taro, CEO",
                "date": "2026-12-01",
                "allow_unanswered": "yes",
                "csrf_token": token,
            },
        )
        assert yes.status_code == 303
        decl = c.get(yes.headers["location"]).text
        assert "The declaration was made." in decl and "Yamada Taro, CEO" in decl
        pdf = c.get(f"/compliance/{aid}/declaration/download", params={"format": "pdf", "lang": "ja"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        doc = json.loads(c.get(f"/compliance/{aid}/declaration/download", params={"format": "json"}).content)
        assert doc["date"] == "2026-12-01" and doc["organization"] == EVIL
        with client(site, "carl") as customer:
            assert customer.get(f"/compliance/{aid}/declaration").status_code == 404
        published = c.post(f"/compliance/{aid}/declaration/publish", data={"csrf_token": token})
        assert published.status_code == 303
        assert "The declaration was published to customers." in c.get(published.headers["location"]).text
        label = c.get(f"/compliance/{aid}/label")
        assert label.status_code == 200 and "label information page" in label.text
    with client(site, "carl") as customer:
        listed = customer.get("/compliance").text
        assert f"#{aid}" in listed and f'href="/compliance/{aid}"' not in listed
        assert (
            customer.get(f"/compliance/{aid}/declaration/download", params={"format": "pdf"}).status_code
            == 200
        )
        assert customer.get(f"/compliance/{aid}").status_code == 403
    with client(site, "dave", "ja") as auditor:
        page = auditor.get(f"/compliance/{aid}")
        assert page.status_code == 200 and "項目と回答" in page.text and "実施済" in page.text
        assert 'id="answer"' not in auditor.get(f"/compliance/{aid}/items/{item_id}").text
        token = _csrf(page.text)
        assert (
            auditor.post(f"/compliance/{aid}/items/{item_id}", data={"csrf_token": token}).status_code == 403
        )
    with client(site, "bob") as other:
        assert "window.pwned" not in other.get("/compliance").text
        for path in ("", "/gaps", "/roadmap", "/declaration", f"/items/{item_id}", "/label"):
            assert other.get(f"/compliance/{aid}{path}").status_code == 404, path
        token = _csrf(other.get("/compliance").text)
        assert other.post(f"/compliance/{aid}/items/{item_id}", data={"csrf_token": token}).status_code == 404
    actions = {(e.actor, e.action) for e in accounts.list_audit(store, limit=100)}
    for action in (
        "assessment.create",
        "assessment.answer",
        "assessment.evidence",
        "assessment.declare",
        "assessment.publish",
    ):
        assert ("alice", action) in actions, action

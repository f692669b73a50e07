"""The native API over real HTTP: products (list, create, show), releases, components with licences and
purls, the NTIA minimum elements, the SBOM in every format mamori writes, the upload list; another
team's product, release or upload answers 404 whatever the role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori import accounts
from mamori.sbom import WRITE_FORMATS, detect_format
from server_api_support import SECRET, World, items, kb, knowledge_template, world

__all__ = ["kb", "knowledge_template", "world"]

V1 = "/api/mamori/v1"


def test_products_create_list_show_and_their_releases(world: World) -> None:
    with world.client("developer") as dev, world.client("other") as other, world.client("auditor") as aud:
        listed = dev.get(f"{V1}/products").json()
        assert [p["name"] for p in listed] == ["web"]
        created = dev.post(f"{V1}/products", json={"name": "mobile", "supplier": "Example K.K."})
        assert created.status_code == 201, created.text
        mobile = created.json()
        assert (
            mobile["name"] == "mobile"
            and mobile["releases"] == []
            and mobile["created_by"].startswith("mamori_")
        )
        # the developer's team owns it: its members see it, the other team does not
        assert sorted(p["name"] for p in dev.get(f"{V1}/products").json()) == ["mobile", "web"]
        assert [p["name"] for p in other.get(f"{V1}/products").json()] == [SECRET]
        assert other.get(f"{V1}/products/{mobile['id']}").status_code == 404
        assert dev.post(f"{V1}/products", json={"name": "mobile"}).status_code == 409
        assert dev.post(f"{V1}/products", json={"name": ""}).status_code == 422
        assert aud.post(f"{V1}/products", json={"name": "x"}).status_code == 403  # no product.write
        releases = dev.get(f"{V1}/products/{world.web}/releases").json()
        assert [(r["id"], r["version"]) for r in releases] == [(world.web_release, "1.0")]
        assert releases[0]["open_findings"] > 0
        assert other.get(f"{V1}/products/{world.web}/releases").status_code == 404
    lines = accounts.list_audit(world.store, action="product.create")
    assert len(lines) == 1 and lines[0].target == f"product:{mobile['id']}"
    assert lines[0].actor_kind == "apikey" and lines[0].remote_addr == "127.0.0.1"


def test_a_release_with_its_sbom_provenance_counts_and_ntia_score(world: World) -> None:
    with world.client("auditor") as client:
        got = client.get(f"{V1}/releases/{world.web_release}")
        assert got.status_code == 200, got.text
        body = got.json()
    assert body["product"] == "web" and body["version"] == "1.0" and body["supplier"] == "Example K.K."
    assert body["sbom"]["format"] == "cyclonedx-json" and body["sbom"]["components"] == 3
    assert body["summary"]["components"] == 3 and body["summary"]["open_findings"] > 0
    ntia = body["ntia"]
    # the test SBOM names no supplier: NTIA's minimum elements are not all there
    assert ntia["passed"] is False and 0 <= ntia["score"] < 100 and "supplier" in json.dumps(ntia["elements"])
    assert "original" in body["sbom_formats"] and set(WRITE_FORMATS) <= set(body["sbom_formats"])


def test_components_with_licences_purls_and_open_findings(world: World, tmp_path: Path) -> None:
    from mamori.model.sbom import Component, Contact, Document
    from mamori.portfolio import uploads
    from mamori.sbom import write

    doc = Document(
        name="lic",
        components=[
            Component(
                "django",
                "1.11.0",
                purl="pkg:pypi/django@1.11.0",
                bom_ref="a",
                license_declared="BSD-3-Clause",
                supplier=Contact("Django Software Foundation"),
            ),
            Component(
                "requests",
                "2.31.0",
                purl="pkg:pypi/requests@2.31.0",
                bom_ref="b",
                license_concluded="Apache-2.0",
            ),
        ],
    )
    path = tmp_path / "lic.cdx.json"
    write(doc, path)
    token = uploads.submit_upload(world.store, path.read_bytes(), "lic.json", "web", "2.0", True, "t")
    status = uploads.process_upload(world.store, token)
    assert status is not None and status.state == "done"
    with world.client("developer") as client:
        got = items(client.get(f"{V1}/releases/{status.release_id}/components"))
        assert [(c["name"], c["licenses"]) for c in got] == [
            ("django", "BSD-3-Clause"),
            ("requests", "Apache-2.0"),
        ]
        assert got[0]["open_findings"] > 0 and got[1]["open_findings"] == 0
        assert (
            got[0]["supplier"] == "Django Software Foundation" and got[0]["purl"] == "pkg:pypi/django@1.11.0"
        )
        page = client.get(
            f"{V1}/releases/{status.release_id}/components", params={"limit": 1, "offset": 1}
        ).json()
        assert page["total"] == 2 and [c["name"] for c in page["items"]] == ["requests"]
        only = items(client.get(f"{V1}/releases/{status.release_id}/components", params={"q": "REQ"}))
        assert [c["name"] for c in only] == ["requests"]
        assert (
            client.get(f"{V1}/releases/{status.release_id}/components", params={"limit": 501}).status_code
            == 422
        )


@pytest.mark.parametrize("fmt", ["original", *WRITE_FORMATS])
def test_the_sbom_downloads_in_every_format_mamori_writes(world: World, fmt: str) -> None:
    from mamori.portfolio.vexin import release_sbom

    with world.client("customer") as customer:
        assert customer.get(f"{V1}/releases/{world.web_release}/sbom").status_code == 403
    with world.client("developer") as client:
        got = client.get(f"{V1}/releases/{world.web_release}/sbom", params={"format": fmt})
    assert got.status_code == 200, got.text
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="web-1.0.')
    name = disposition.split('"')[1]
    detected = detect_format(got.content, Path(name))
    assert detected == ("cyclonedx-json" if fmt == "original" else fmt)
    # what was downloaded reads back to the same components
    from mamori.portfolio.archive import parse_sbom

    _fmt, doc = parse_sbom(got.content, Path(name))
    stored = release_sbom(world.store, "web", "1.0")
    assert sorted(c.purl or "" for c in doc.all_components()) == sorted(
        c.purl or "" for c in stored.all_components()
    )


def test_another_teams_release_and_sbom_answer_404_and_bad_formats_400(world: World) -> None:
    with world.client("security_manager") as client:
        for path in ("", "/components", "/sbom", "/findings", "/triage", "/vex"):
            got = client.get(f"{V1}/releases/{world.secret_release}{path}")
            assert got.status_code == 404 and SECRET not in got.text, path
            assert client.get(f"{V1}/releases/987654{path}").status_code == 404
        assert (
            client.get(f"{V1}/releases/{world.web_release}/sbom", params={"format": "pdf"}).status_code == 400
        )
    with world.client("admin") as admin:
        assert admin.get(f"{V1}/releases/{world.secret_release}").json()["product"] == SECRET


def test_the_upload_list_shows_the_teams_uploads_only(world: World) -> None:
    with world.client("developer") as dev, world.client("other") as other, world.client("admin") as admin:
        mine = dev.get(f"{V1}/uploads").json()
        assert mine["total"] == 1 and [u["product"] for u in mine["items"]] == ["web"]
        first = mine["items"][0]
        assert (
            first["state"] == "done"
            and first["processing"] is False
            and first["release_id"] == world.web_release
        )
        assert first["project_uuid"] and first["components"] == 3
        assert dev.get(f"{V1}/uploads/{first['token']}").json()["token"] == first["token"]
        assert other.get(f"{V1}/uploads/{first['token']}").status_code == 404
        assert [u["product"] for u in other.get(f"{V1}/uploads").json()["items"]] == [SECRET]
        assert admin.get(f"{V1}/uploads").json()["total"] == 2
        assert admin.get(f"{V1}/uploads", params={"state": "failed"}).json()["total"] == 0
        assert dev.get(f"{V1}/uploads", params={"product_id": world.secret}).status_code == 404
        assert dev.get(f"{V1}/uploads", params={"state": "bogus"}).status_code == 422


def test_hostile_component_names_come_back_inert(world: World, tmp_path: Path) -> None:
    """A component named like a spreadsheet formula or markup: JSON escapes it, the CSV and XLSX downloads
    do not run it."""
    from mamori.model.sbom import Component, Document
    from mamori.portfolio import uploads
    from mamori.sbom import write

    formula = '=HYPERLINK("http://evil.example","x")'
    doc = Document(
        name="hostile",
        components=[
            Component(formula, "1", purl="pkg:generic/evil@1", bom_ref="a"),
            Component("<script>alert(1)</script>\u001b[31m", "2", purl="pkg:generic/markup@2", bom_ref="b"),
        ],
    )
    path = tmp_path / "hostile.cdx.json"
    write(doc, path)
    token = uploads.submit_upload(world.store, path.read_bytes(), "h.json", "web", "6.6", True, "t")
    status = uploads.process_upload(world.store, token)
    assert status is not None and status.state == "done", status
    with world.client("developer") as client:
        listed = client.get(f"{V1}/releases/{status.release_id}/components")
        assert listed.headers["content-type"] == "application/json"
        assert "\\u001b" in listed.text and "\u001b" not in listed.text
        assert {c["name"] for c in listed.json()["items"]} == {formula, "<script>alert(1)</script>\u001b[31m"}
        csv = client.get(f"{V1}/releases/{status.release_id}/sbom", params={"format": "spdx-lite-csv"})
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert "'" + formula.replace('"', '""') in text or "'" + formula in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text

"""The inventory pages as forms, per role: a team's security manager records a deployment of one of its
releases, changes it (a field left empty is cleared), retires it, downloads the asset list as CSV and XLSX
(its team's deployments only, no cell a formula) and uploads one (a formula cell or another team's product
is refused, row by row); a refused form shows again with the problem in the page's language and the values
given, as text. Every change is in the audit log. An auditor reads the pages without a form and its posts
are refused; a developer sees nothing; another team's deployment and release answer as ones that do not
exist."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.demo import DEMO_SBOM, demo_data
from mamori.inventory.deployments import add_deployment, get_deployment, list_deployments
from mamori.portfolio import store_sbom
from mamori.portfolio.archive import add_product
from server_support import BACKENDS, backend_store, csrf_of, live, signin

PASSWORD = "correct horse battery staple"
FORMS = ('id="new-deployment"', 'id="edit-deployment"', 'id="retire-deployment"', 'id="import"')


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store(request.param, tmp_path) as store:
        for team in ("mine", "theirs"):
            accounts.create_team(store, team)
        releases = {}
        for product, team in (("ours", "mine"), ("zz-their-product", "theirs")):
            add_product(store, product, who="test")
            accounts.assign_product(store, team, product)
            releases[product] = store_sbom(store, product, "1.0", demo_data() / DEMO_SBOM, who="t").release_id
        theirs = add_deployment(store, "zz-their-product", "1.0", site="zz-their-site")
        for name, role in (("sm", "security_manager"), ("aud", "auditor"), ("dev", "developer")):
            accounts.create_user(store, name, PASSWORD, "mine", role)
        with live(store) as server:
            yield {"store": store, "server": server, "releases": releases, "theirs": theirs.id}


def _client(site: dict[str, Any], name: str) -> httpx.Client:
    client = site["server"].client()
    assert signin(client, name, PASSWORD).status_code == 303
    return client


def _post(client: httpx.Client, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf_of(client)}, **kwargs)


def _message(page: httpx.Response) -> str:
    found = re.search(r'<p class="message"[^>]*>([^<]*)</p>', page.text)
    assert found, page.text[:2000]
    return found.group(1)


def test_record_change_and_retire_from_the_forms(site: dict[str, Any]) -> None:
    store, ours = site["store"], site["releases"]["ours"]
    sm = _client(site, "sm")
    listed = sm.get("/inventory")
    assert all(form in listed.text for form in FORMS if "edit" not in form and "retire" not in form)
    assert f'<option value="{ours}"' in listed.text
    assert f'<option value="{site["releases"]["zz-their-product"]}"' not in listed.text  # not offered

    # refused: the problems in Japanese, the values shown again as text
    bad = _post(
        sm,
        "/inventory?lang=ja",
        {
            "release": str(ours),
            "site": "",
            "system": "<b>line 3</b>",
            "system_exposure": "wide",
            "end_of_support": "2027-02-30",
        },
    )
    assert bad.status_code == 400
    assert _message(bad) == (
        "受け付けられませんでした: 拠点を入力してください; システムの露出: 選択肢にない値です; "
        "サポート終了日: 日付は YYYY-MM-DD で入力してください"
    )
    assert 'value="&lt;b&gt;line 3&lt;/b&gt;"' in bad.text and "<b>line 3" not in bad.text
    assert list_deployments(store, product="ours") == []
    # another team's release, or none, is refused alike: nothing recorded
    for release in (str(site["releases"]["zz-their-product"]), "987654", "x"):
        refused = _post(sm, "/inventory?lang=en", {"release": release, "site": "Tokyo"})
        assert refused.status_code == 400
        assert _message(refused) == "Not accepted: choose a release of a product you may change"
    assert [d.site for d in list_deployments(store, status=None)] == ["zz-their-site"]
    # without the session's CSRF token: refused
    assert sm.post("/inventory", data={"release": str(ours), "site": "Tokyo"}).status_code == 403

    made = _post(
        sm,
        "/inventory",
        {
            "release": str(ours),
            "site": "<script>alert(1)</script>",
            "system": "portal",
            "system_exposure": "open",
            "mission_impact": "mef_support_crippled",
            "owner": "ops@example.jp",
            "deployed_since": "2025-04-01",
            "end_of_support": "",
        },
    )
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    deployment_id = int(path.rsplit("/", 1)[1])
    page = sm.get(made.headers["location"])
    assert _message(page) == "The deployment was recorded."
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    d = get_deployment(store, deployment_id)
    assert (d.product, d.release, d.site, d.system_exposure, d.mission_impact, d.owner, d.deployed_since) == (
        "ours",
        "1.0",
        "<script>alert(1)</script>",
        "open",
        "mef_support_crippled",
        "ops@example.jp",
        "2025-04-01",
    )

    fields = {
        "site": "Tokyo DC",
        "system": "portal",
        "system_exposure": "small",
        "mission_impact": "mef_support_crippled",
        "owner": "",
        "deployed_since": "2025-04-01",
        "end_of_support": "2020-01-01",
        "environment": "",
        "network": "",
        "safety_impact": "",
    }
    edited = _post(sm, f"{path}/edit", fields)
    assert edited.status_code == 303 and edited.headers["location"].endswith("done=edited")
    d = get_deployment(store, deployment_id)
    assert (d.site, d.system_exposure, d.owner, d.end_of_support) == ("Tokyo DC", "small", None, "2020-01-01")
    same = _post(sm, f"{path}/edit", fields)
    assert same.headers["location"].endswith("done=unchanged")
    wrong = _post(sm, f"{path}/edit?lang=ja", {**fields, "site": " ", "deployed_since": "yesterday"})
    assert wrong.status_code == 400
    assert "拠点を入力してください" in _message(wrong) and "導入日" in _message(wrong)
    assert 'value="yesterday"' in wrong.text
    assert get_deployment(store, deployment_id).site == "Tokyo DC"

    retired = _post(sm, f"{path}/retire", {})
    assert retired.status_code == 303 and retired.headers["location"].endswith("done=retired")
    assert get_deployment(store, deployment_id).status == "retired"
    after = sm.get(path)
    assert 'id="retire-deployment"' not in after.text and 'id="edit-deployment"' in after.text

    lines = [
        (a.action, a.target, a.detail)
        for a in accounts.list_audit(store)
        if a.action.startswith("inventory.")
    ]
    assert sorted(lines, key=str) == sorted(
        [
            ("inventory.add", f"deployment:{deployment_id}", {"site": "<script>alert(1)</script>"}),
            (
                "inventory.update",
                f"deployment:{deployment_id}",
                {"fields": ["end_of_support", "owner", "site", "system_exposure"]},
            ),
            ("inventory.retire", f"deployment:{deployment_id}", None),
        ],
        key=str,
    )
    # another team's deployment: as one that does not exist
    theirs = site["theirs"]
    assert sm.get(f"/inventory/{theirs}").status_code == 404
    for action in ("edit", "retire"):
        assert _post(sm, f"/inventory/{theirs}/{action}", fields).status_code == 404
        assert _post(sm, f"/inventory/987654/{action}", fields).status_code == 404
    assert get_deployment(store, theirs).site == "zz-their-site"
    assert get_deployment(store, theirs).status == "active"
    sm.close()


def test_a_read_only_role_sees_no_form_and_may_not_post(site: dict[str, Any]) -> None:
    store = site["store"]
    ours = add_deployment(store, "ours", "1.0", site="Osaka", who="t")
    auditor = _client(site, "aud")
    for path in ("/inventory", f"/inventory/{ours.id}", "/inventory/priorities"):
        page = auditor.get(path)
        assert page.status_code == 200 and ("Osaka" in page.text or path.endswith("priorities"))
        assert not any(form in page.text for form in FORMS), path
    assert auditor.get("/inventory/export").status_code == 200
    for path, data in (
        ("/inventory", {"release": str(site["releases"]["ours"]), "site": "x"}),
        (f"/inventory/{ours.id}/edit", {"site": "x"}),
        (f"/inventory/{ours.id}/retire", {}),
    ):
        assert _post(auditor, path, data).status_code == 403, path
    files = {"file": ("a.csv", b"product,release,site\nours,1.0,x\n", "text/csv")}
    assert _post(auditor, "/inventory/import", {}, files=files).status_code == 403
    developer = _client(site, "dev")
    assert developer.get("/inventory").status_code == 403
    assert developer.get("/inventory/export").status_code == 403
    assert _post(developer, f"/inventory/{ours.id}/retire", {}).status_code == 403
    assert [(d.site, d.status) for d in list_deployments(store, product="ours", status=None)] == [
        ("Osaka", "active")
    ]
    assert not [a for a in accounts.list_audit(store) if a.action.startswith("inventory.")]
    auditor.close()
    developer.close()


def test_the_asset_list_as_a_file(site: dict[str, Any]) -> None:
    from openpyxl import load_workbook

    store = site["store"]
    add_deployment(store, "ours", "1.0", site='=HYPERLINK("http://x")', owner="@a", who="t")
    sm = _client(site, "sm")
    got = sm.get("/inventory/export?format=csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "product", "release", "site"]
    assert [r[1:4] for r in rows[1:]] == [["ours", "1.0", '\'=HYPERLINK("http://x")']]  # not a formula
    assert "zz-their" not in got.text
    book = sm.get("/inventory/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    cell = sheet.cell(row=2, column=4)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert sheet.max_row == 2

    upload = (
        "製品,バージョン,拠点,システムの露出\n"
        "ours,1.0,Nagoya,controlled\n"
        "ours,1.0,=1+1,open\n"
        "zz-their-product,1.0,Kobe,open\n"
        "no-such-product,1.0,Kobe,open\n"
        "ours,1.0,Sendai,wide\n"
    ).encode()
    files = {"file": ("assets <1>.csv", upload, "text/csv")}
    done = _post(sm, "/inventory/import?lang=ja", {}, files=files)
    assert done.status_code == 200
    message = _message(done)
    assert message.startswith("assets &lt;1&gt;.csv: 1 件を追加、4 行を取り込みませんでした。")
    assert "row 3: a formula (=1+1)" in message
    # another team's product is refused as a product that does not exist
    assert "row 4: no product &#39;zz-their-product&#39;: add it with" in message
    assert "row 5: no product &#39;no-such-product&#39;: add it with" in message
    assert "row 6: system_exposure" in message
    assert sorted(d.site for d in list_deployments(store, status=None)) == [
        '=HYPERLINK("http://x")',
        "Nagoya",
        "zz-their-site",
    ]
    line = next(a for a in accounts.list_audit(store) if a.action == "inventory.import")
    assert line.detail["file"] == "assets <1>.csv" and line.detail["rejected"] == 4
    for name, data, status in (
        ("list.txt", b"product,release,site\n", 400),
        ("big.csv", b"x" * (5 * 1024 * 1024 + 1), 413),
        ("empty.csv", b"", 400),
    ):
        refused = _post(sm, "/inventory/import?lang=en", {}, files={"file": (name, data, "text/csv")})
        assert refused.status_code == status, (name, refused.status_code)
        assert _message(refused).startswith(f"{name} was not imported: ")
    sm.close()

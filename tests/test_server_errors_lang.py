"""Errors of the native API (/api/mamori/v1) and of the web UI's JSON answers follow the request's language
(``?lang=``, the signed-in user's remembered language, the language cookie, ``Accept-Language``) and carry
a stable ``code``; the Dependency-Track-compatible endpoints (/api/v1) keep Dependency-Track's English
shapes. Served by uvicorn on loopback over a SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori import accounts
from mamori.portfolio import add_product
from mamori.server.errors import CODES
from server_support import backend_store, csrf_of, live, signin

PASSWORD = "a long enough pass phrase 42"
JA = {"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"}
PRODUCTS = "/api/mamori/v1/products"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with backend_store("sqlite", tmp_path) as store:
        accounts.create_team(store, "psirt")
        add_product(store, "web")
        accounts.assign_product(store, "psirt", "web")
        keys = {
            "admin": accounts.create_api_key(store, "psirt", "admin")[1],
            "auditor": accounts.create_api_key(store, "psirt", "auditor")[1],
        }
        accounts.create_user(store, "hanako", PASSWORD, "psirt", "security_manager")
        with live(store, max_body_bytes=4096) as server:
            yield {"url": server.url, "keys": keys, "store": store}


def _get(served: dict[str, Any], path: str, key: str | None = "admin", **kw: Any) -> httpx.Response:
    headers = {**kw.pop("headers", {})}
    if key is not None:
        headers["X-Api-Key"] = served["keys"][key]
    return httpx.get(served["url"] + path, headers=headers, timeout=30, **kw)


def test_the_detail_follows_the_request_language_and_the_code_stays(served: dict[str, Any]) -> None:
    english = _get(served, f"{PRODUCTS}/999999")
    assert english.status_code == 404 and english.json() == {"detail": "not found", "code": "not_found"}
    japanese = _get(served, f"{PRODUCTS}/999999", headers=JA)
    assert japanese.status_code == 404 and japanese.json() == {
        "detail": "見つかりません",
        "code": "not_found",
    }
    assert _get(served, f"{PRODUCTS}/999999", params={"lang": "ja"}).json()["detail"] == "見つかりません"
    # ?lang= wins over Accept-Language
    asked = _get(served, f"{PRODUCTS}/999999", params={"lang": "en"}, headers=JA)
    assert asked.json() == {"detail": "not found", "code": "not_found"}
    unauthenticated = _get(served, PRODUCTS, key=None, headers=JA)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {"detail": "認証が必要です", "code": "unauthenticated"}
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    forbidden = httpx.post(
        served["url"] + PRODUCTS,
        json={"name": "new"},
        headers={**JA, "X-Api-Key": served["keys"]["auditor"]},
        timeout=30,
    )
    assert forbidden.status_code == 403 and forbidden.json() == {
        "detail": "権限がありません",
        "code": "forbidden",
    }
    taken = httpx.post(
        served["url"] + PRODUCTS, json={"name": "web"}, headers={**JA, "X-Api-Key": served["keys"]["admin"]}
    )
    assert taken.status_code == 409
    assert taken.json() == {"detail": "この名前の製品はすでにあります", "code": "product_exists"}


def test_an_error_with_values(served: dict[str, Any], tmp_path: Path) -> None:
    from mamori.portfolio import store_sbom
    from mamori.portfolio.uploads import find_release
    from portfolio_support import sbom_file

    store_sbom(served["store"], "web", "1.0", sbom_file(tmp_path / "s.cdx.json", ["pkg:pypi/django@1.11.0"]))
    release = find_release(served["store"], "web", "1.0")[1]
    path = f"/api/mamori/v1/releases/{release}/sbom"
    english = _get(served, path, params={"format": "pdf"})
    assert english.status_code == 400 and english.json()["code"] == "bad_format"
    assert english.json()["detail"].startswith("format: one of original, ")
    japanese = _get(served, path, params={"format": "pdf", "lang": "ja"})
    assert japanese.json()["code"] == "bad_format"
    assert japanese.json()["detail"].startswith("format は次のいずれかです: original, ")


def test_validation_errors_keep_their_list_and_gain_a_code(served: dict[str, Any]) -> None:
    bad = _get(served, PRODUCTS + "/not-a-number", headers=JA)
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "invalid_request" and isinstance(body["detail"], list) and body["detail"][0]["loc"]


def test_the_signed_in_users_remembered_language(served: dict[str, Any]) -> None:
    store = served["store"]
    user = next(u for u, _grants in accounts.list_users(store) if u.name == "hanako")
    accounts.set_user_lang(store, user.id, "ja")
    with httpx.Client(base_url=served["url"], timeout=30) as browser:
        assert signin(browser, "hanako", PASSWORD).status_code == 303
        browser.cookies.delete("mamori_lang")  # not the cookie: the user's own setting
        assert "mamori_lang" not in browser.cookies
        missing = browser.get(f"{PRODUCTS}/999999")
        assert missing.json() == {"detail": "見つかりません", "code": "not_found"}
        # Accept-Language does not override the user's choice; ?lang= does
        assert browser.get(f"{PRODUCTS}/999999", headers={"Accept-Language": "en"}).json()["detail"] == (
            "見つかりません"
        )
        assert browser.get(f"{PRODUCTS}/999999", params={"lang": "en"}).json()["detail"] == "not found"
        # a cookie session's unsafe request without its CSRF token (the cookie's language: set at sign-in)
        browser.cookies.set("mamori_lang", "ja")
        refused = browser.post(PRODUCTS, json={"name": "x"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "CSRF トークンがないか、正しくありません", "code": "csrf_token"}
        made = browser.post(PRODUCTS, json={"name": "x"}, headers={"X-CSRF-Token": csrf_of(browser)})
        assert made.status_code == 201


def test_the_web_uis_json_errors_and_the_body_limit(served: dict[str, Any]) -> None:
    key = {"X-Api-Key": served["keys"]["admin"]}
    url = served["url"]
    bad_lang = httpx.post(f"{url}/lang", data={"lang": "fr"}, headers={**JA, **key})
    assert bad_lang.status_code == 400 and bad_lang.json() == {
        "detail": "lang は ja か en です",
        "code": "bad_lang",
    }
    not_browser = httpx.post(f"{url}/signout", headers={**JA, **key})
    assert not_browser.status_code == 400
    assert not_browser.json() == {
        "detail": "ブラウザーのセッションではありません",
        "code": "not_browser_session",
    }
    big = httpx.post(f"{url}{PRODUCTS}", content=b"x" * 8000, headers={**JA, **key})
    assert big.status_code == 413
    assert big.json() == {"detail": "リクエストの本文が大きすぎます", "code": "too_large"}
    english = httpx.post(f"{url}{PRODUCTS}", content=b"x" * 8000, headers=key)
    assert english.json() == {"detail": "request body too large", "code": "too_large"}


def test_dependency_track_paths_keep_their_english_shapes(served: dict[str, Any]) -> None:
    url = served["url"]
    no_key = httpx.get(f"{url}/api/v1/project", headers=JA)
    assert no_key.status_code == 401 and no_key.json() == {"detail": "authentication required"}
    unknown = _get(served, "/api/v1/project/00000000-0000-0000-0000-000000000000", headers=JA)
    assert unknown.status_code == 404 and unknown.text == "The project could not be found."
    big = httpx.put(
        f"{url}/api/v1/bom", content=b"x" * 8000, headers={**JA, "X-Api-Key": served["keys"]["admin"]}
    )
    assert big.status_code == 413 and big.json() == {"detail": "request body too large"}
    wrong = _get(served, "/api/v1/project/lookup", headers=JA)  # name and version missing
    assert wrong.status_code == 422 and "code" not in wrong.json()


def test_every_code_has_japanese() -> None:
    from mamori.i18n import translate

    assert len(set(CODES.values())) == len(CODES)
    for english in CODES:
        japanese = translate(english, "ja")
        assert japanese != english and japanese.strip(), english

"""The team server over real HTTP (uvicorn on a loopback port): sign-in and sign-out, cookie attributes,
session rotation and expiry, CSRF, lockout with one uniform answer, API keys, security headers, the body
limit, errors without internals, the page language, input text rendered inert, OpenAPI 3.1."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mamori import accounts
from mamori.accounts import LockoutPolicy
from mamori.server.app import create_app
from mamori.server.middleware import CSP
from mamori.server.settings import ServerSettings
from mamori.store import Store
from server_support import BACKENDS, backend_store, csrf_of, live, signin, signin_token

PASSWORD = "correct horse battery staple"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with backend_store(request.param, tmp_path) as opened:
        accounts.create_team(opened, "psirt")
        accounts.create_user(opened, "alice", PASSWORD, "psirt", "security_manager")
        yield opened


def _message(page: str) -> str:
    found = re.search(r'<p class="message" role="alert">(.*?)</p>', page, re.S)
    assert found, page
    return found.group(1)


def test_sign_in_sets_a_safe_session_cookie_rotates_it_and_sign_out_ends_it(store: Store) -> None:
    with live(store) as server, server.client() as client:
        assert client.get("/").status_code == 303
        response = signin(client, "alice", PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("mamori_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on loopback
        first = client.cookies.get("mamori_session")
        me = client.get("/api/mamori/v1/me").json()
        assert me["name"] == "alice" and me["kind"] == "user"
        assert me["memberships"] == [
            {"team": "psirt", "role": "security_manager", "all_products": False, "products": []}
        ]
        assert "triage.write" in me["permissions"] and "admin.users" not in me["permissions"]

        assert signin(client, "alice", PASSWORD).status_code == 303
        second = client.cookies.get("mamori_session")
        assert second != first
        stale = httpx.get(server.url + "/api/mamori/v1/me", cookies={"mamori_session": first})
        assert stale.status_code == 401  # the id presented at sign-in ended

        token = csrf_of(client)
        assert client.post("/signout", data={"csrf_token": token}).status_code == 303
        assert client.get("/api/mamori/v1/me").status_code == 401
        assert (
            httpx.get(server.url + "/api/mamori/v1/me", cookies={"mamori_session": second}).status_code == 401
        )
    actions = [e.action for e in accounts.list_audit(store)]
    assert actions[:3] == ["signout", "signin.success", "signin.success"]


def test_the_cookie_is_secure_when_the_server_says_so(store: Store) -> None:
    with live(store, secure_cookies=True) as server, server.client() as client:
        page = client.get("/signin")
        signin_cookie = page.headers["set-cookie"]
        assert signin_cookie.startswith("mamori_signin=") and "Secure" in signin_cookie
        token = signin_cookie.split(";")[0].split("=", 1)[1]
        response = httpx.post(
            server.url + "/signin",
            data={"name": "alice", "password": PASSWORD, "csrf_token": token},
            headers={"Cookie": f"mamori_signin={token}"},
        )
        assert response.status_code == 303
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("mamori_session="))
        assert "Secure" in cookie


def test_unsafe_requests_of_a_cookie_session_need_the_csrf_token_and_api_keys_do_not(store: Store) -> None:
    _key, plaintext = accounts.create_api_key(store, "psirt", "auditor")
    with live(store) as server, server.client() as client:
        signin(client, "alice", PASSWORD)
        assert client.post("/signout").status_code == 403
        assert client.post("/signout", data={"csrf_token": "wrong"}).status_code == 403
        assert client.post("/lang", data={"lang": "ja"}).status_code == 403
        assert (
            client.post("/lang", data={"lang": "ja"}, headers={"X-CSRF-Token": "x" * 43}).status_code == 403
        )
        assert client.get("/api/mamori/v1/me").status_code == 200  # still signed in
        token = csrf_of(client)
        switched = client.post("/lang", data={"lang": "ja"}, headers={"X-CSRF-Token": token})
        assert switched.status_code == 303
        assert client.get("/api/mamori/v1/me").json()["lang"] == "ja"
        assert '<html lang="ja">' in client.get("/").text
        # the sign-in form is protected by its own token (double submit)
        fresh = server.client()
        signin_token(fresh)
        refused = fresh.post("/signin", data={"name": "alice", "password": PASSWORD, "csrf_token": "forged"})
        assert refused.status_code == 400 and "mamori_session" not in fresh.cookies
        # an API key is not a browser: no CSRF token
        keyed = httpx.post(server.url + "/lang", data={"lang": "en"}, headers={"X-Api-Key": plaintext})
        assert keyed.status_code == 303


def test_a_failed_sign_in_answers_the_same_whatever_failed_and_locks_the_account(store: Store) -> None:
    policy = LockoutPolicy(account_failures=3, address_failures=50, window_seconds=600, lock_seconds=600)
    with live(store, lockout=policy) as server, server.client() as client:
        unknown = signin(client, "nobody", PASSWORD)
        wrong = signin(client, "alice", "not the password")
        assert unknown.status_code == wrong.status_code == 401
        assert _message(unknown.text) == _message(wrong.text)
        signin(client, "alice", "not the password")
        signin(client, "alice", "not the password")
        locked = signin(client, "alice", PASSWORD)
        assert locked.status_code == 401 and _message(locked.text) == _message(wrong.text)
        assert "mamori_session" not in client.cookies
    reasons = [e.detail["reason"] for e in accounts.list_audit(store, action="signin.failure") if e.detail]
    assert reasons == ["locked", "wrong_password", "wrong_password", "wrong_password", "unknown"]


def test_sessions_expire_when_idle(store: Store) -> None:
    with live(store, session_idle_seconds=1) as server, server.client() as client:
        signin(client, "alice", PASSWORD)
        assert client.get("/api/mamori/v1/me").status_code == 200
        time.sleep(1.3)
        assert client.get("/api/mamori/v1/me").status_code == 401
        assert client.get("/", headers={"Accept": "text/html"}).headers["location"] == "/signin"


def test_api_keys_in_either_header_and_revoked_keys_refused(store: Store) -> None:
    key, plaintext = accounts.create_api_key(store, "psirt", "developer", name="ci")
    with live(store) as server:
        by_header = httpx.get(server.url + "/api/mamori/v1/me", headers={"X-Api-Key": plaintext})
        by_bearer = httpx.get(
            server.url + "/api/mamori/v1/me", headers={"Authorization": f"Bearer {plaintext}"}
        )
        assert by_header.status_code == by_bearer.status_code == 200
        assert by_header.json()["kind"] == "apikey" and by_header.json()["name"] == "mamori_" + key.prefix
        accounts.revoke_api_key(store, key.id)
        refused = httpx.get(server.url + "/api/mamori/v1/me", headers={"X-Api-Key": plaintext})
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        assert (
            httpx.get(server.url + "/api/mamori/v1/me", headers={"X-Api-Key": "mamori_guess"}).status_code
            == 401
        )


def test_security_headers_body_limit_and_errors_without_internals(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(ServerSettings(max_body_bytes=1000), store)

    @app.get("/api/mamori/v1/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("internal detail sk-secret-value")

    from server_support import LiveServer

    with LiveServer(app) as server, server.client() as client:
        page = client.get("/signin")
        for name, value in (
            ("content-security-policy", CSP),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ):
            assert page.headers[name] == value
        assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        assert "<script" not in page.text

        big = client.post(
            "/signin",
            content=b"a=" + b"x" * 2000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert big.status_code == 413

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"x" * 200

        chunked = client.post(
            "/signin", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert chunked.status_code == 413

        with caplog.at_level(logging.ERROR, logger="mamori.server"):
            failed = client.get("/api/mamori/v1/boom")
        assert failed.status_code == 500
        assert failed.json() == {"detail": "internal server error", "code": "internal"}
        assert "sk-secret-value" not in failed.text and "Traceback" not in failed.text
        assert any("RuntimeError" in r.getMessage() for r in caplog.records)
        # uvicorn closes the connection of a request that raised: a new one
        html = httpx.get(server.url + "/missing-page", headers={"Accept": "text/html"})
        assert html.status_code == 404 and "Not found." in html.text


def test_page_language_and_input_text_rendered_inert(store: Store) -> None:
    accounts.create_user(store, '<script>alert("x")</script>', PASSWORD, "psirt", "auditor")
    with live(store) as server, server.client() as client:
        ja = client.get("/signin", headers={"Accept-Language": "fr, ja;q=0.9, en;q=0.8"})
        assert '<html lang="ja">' in ja.text and "サインイン" in ja.text
        en = client.get("/signin", headers={"Accept-Language": "en-US,en;q=0.9,ja;q=0.5"})
        assert '<html lang="en">' in en.text and "User name" in en.text
        chosen = client.get("/signin?lang=ja", headers={"Accept-Language": "en"})
        assert "サインイン" in chosen.text and client.cookies.get("mamori_lang") == "ja"
        assert '<html lang="ja">' in client.get("/signin", headers={"Accept-Language": "en"}).text

        assert signin(client, '<script>alert("x")</script>', PASSWORD).status_code == 303
        home = client.get("/")
        assert "<script>" not in home.text and "&lt;script&gt;alert(" in home.text


def test_the_openapi_document(store: Store) -> None:
    with live(store) as server:
        document = httpx.get(server.url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {
        "/api/mamori/v1/me",
        "/api/mamori/v1/teams",
        "/api/mamori/v1/audit",
        "/api/mamori/v1/products",
    } <= set(document["paths"])
    assert not any(p.startswith(("/signin", "/auth")) for p in document["paths"])

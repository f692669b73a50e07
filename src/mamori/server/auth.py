"""Sign-in (password, OpenID Connect), sign-out, the language switch, and the start page.

- The sign-in form carries a CSRF token that must equal the ``mamori_signin`` cookie (double submit: there is
  no session yet); a signed-in form carries its session's token (checked by
  :func:`mamori.server.security.optional_principal` on every unsafe request).
- A failed sign-in answers the same whatever failed (unknown user, wrong password, locked account, throttled
  address); the reason is logged and audited.
- A successful sign-in makes a new session (the id presented before, if any, ends): HttpOnly, SameSite=Lax,
  Secure over https.
- OpenID Connect: authorization code flow with PKCE (S256), state and nonce kept server-side for ten minutes,
  the provider's metadata from discovery, the ID token's signature (the provider's JWKS), issuer, audience,
  expiry and nonce checked; the groups claim gives teams and roles (:class:`~mamori.server.settings.OidcSettings`).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori import accounts
from mamori.display import visible
from mamori.server.security import (
    SESSION_COOKIE,
    Principal,
    current_principal,
    get_store,
    optional_principal,
    remote_addr,
)
from mamori.server.settings import OidcSettings, ServerSettings
from mamori.server.web import LANG_COOKIE, page_lang, render, text
from mamori.store import Store

log = logging.getLogger("mamori.server.auth")
router = APIRouter(include_in_schema=False)

SIGNIN_COOKIE = "mamori_signin"
METADATA_SECONDS = 3600
HTTP_TIMEOUT = 10.0
RESPONSE_LIMIT = 1024 * 1024


def _settings(request: Request) -> ServerSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def secure(request: Request) -> bool:
    setting = _settings(request).secure_cookies
    return request.url.scheme == "https" if setting is None else setting


def safe_next(value: object) -> str:
    """Where to go after signing in: a path on this server only (never another site)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value[:2000]


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure(request), path="/"
    )


def _signin_page(
    request: Request, lang: str, status: int = 200, message: str | None = None, name: str = "", nxt: str = "/"
) -> Response:
    token = secrets.token_urlsafe(32)
    oidc = _settings(request).oidc
    response = render(
        request,
        "signin.html",
        lang,
        status_code=status,
        csrf_token=token,
        message=message,
        name=name,
        next=nxt,
        oidc_label=oidc.label if oidc else None,
    )
    response.set_cookie(
        SIGNIN_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/", max_age=3600
    )
    return response


@router.get("/")
async def home(request: Request, principal: Principal | None = Depends(optional_principal)) -> Response:
    if principal is None:
        return RedirectResponse("/signin", 303)
    return render(request, "home.html", page_lang(request, principal.lang), principal=principal)


@router.get("/signin")
async def signin_form(request: Request) -> Response:
    """The sign-in form (also when signed in: signing in again, as someone else or not, ends the session)."""
    nxt = safe_next(request.query_params.get("next"))
    message = text(page_lang(request), "signin", "signed_out") if request.query_params.get("out") else None
    return _signin_page(request, page_lang(request), message=message, nxt=nxt)


@router.post("/signin")
async def signin_submit(request: Request, store: Store = Depends(get_store)) -> Response:
    form = await request.form()
    lang = page_lang(request)
    name = str(form.get("name") or "")[:200]
    password = str(form.get("password") or "")[:1024]
    nxt = safe_next(form.get("next"))
    given, expected = form.get("csrf_token"), request.cookies.get(SIGNIN_COOKIE)
    if (
        not isinstance(given, str)
        or not expected
        or not secrets.compare_digest(given.encode(), expected.encode())
    ):
        return _signin_page(request, lang, 400, text(lang, "signin", "expired"), name, nxt)
    addr = remote_addr(request)
    result = await run_in_threadpool(
        accounts.verify_password, store, name, password, addr, _settings(request).lockout
    )
    if not result.ok or result.user is None:
        log.info("sign-in refused for %s from %s: %s", visible(name), addr, result.reason)
        return _signin_page(request, lang, 401, text(lang, "signin", "failed"), name, nxt)
    return await _signed_in(request, store, result.user.id, result.user.lang, nxt)


async def _signed_in(
    request: Request, store: Store, user_id: int, user_lang: str | None, nxt: str
) -> Response:
    token, _csrf = await run_in_threadpool(
        accounts.create_session,
        store,
        user_id,
        _settings(request).session_absolute_seconds,
        remote_addr(request),
        request.cookies.get(SESSION_COOKIE),
    )
    response = RedirectResponse(nxt, 303)
    set_session_cookie(request, response, token)
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    if user_lang in ("ja", "en"):
        response.set_cookie(LANG_COOKIE, user_lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


@router.post("/signout")
async def signout(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if principal.kind != "user" or not token:
        raise HTTPException(400, "not a browser session")
    await run_in_threadpool(accounts.delete_session, store, token)
    await run_in_threadpool(
        accounts.record_audit,
        store,
        principal.actor,
        "signout",
        f"user:{principal.name}",
        None,
        remote_addr(request),
    )
    response = RedirectResponse("/signin?out=1", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
async def switch_language(
    request: Request, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    form = await request.form()
    lang = form.get("lang")
    if lang not in ("ja", "en"):
        raise HTTPException(400, "lang is ja or en")
    if principal.kind == "user":
        await run_in_threadpool(accounts.set_user_lang, store, principal.id, str(lang))
    response = RedirectResponse(safe_next(form.get("next")), 303)  # back to the page it was switched on
    response.set_cookie(LANG_COOKIE, str(lang), max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


# -- OpenID Connect ------------------------------------------------------------------------------------
async def _get_json(url: str) -> dict[str, Any]:
    import httpx

    async with (
        httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client,
        client.stream("GET", url, headers={"Accept": "application/json"}) as response,
    ):
        response.raise_for_status()
        body = b""
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > RESPONSE_LIMIT:
                raise ValueError(f"{url}: answer larger than {RESPONSE_LIMIT} bytes")
    import json

    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError(f"{url}: not a JSON object")
    return data


async def provider_metadata(request: Request, oidc: OidcSettings) -> dict[str, Any]:
    """The provider's discovery document (cached for an hour), checked to name the configured issuer."""
    cache = request.app.state.oidc_cache
    found = cache.get("metadata")
    if found and found[0] > time.monotonic():
        return found[1]  # type: ignore[no-any-return]
    url = oidc.issuer.rstrip("/") + "/.well-known/openid-configuration"
    metadata = await _get_json(url)
    if metadata.get("issuer") != oidc.issuer:
        raise ValueError(f"{url}: issuer {metadata.get('issuer')!r} is not the configured {oidc.issuer!r}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise ValueError(f"{url}: no {key}")
    cache["metadata"] = (time.monotonic() + METADATA_SECONDS, metadata)
    return metadata


def _client(oidc: OidcSettings) -> Any:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client(
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        scope=oidc.scopes,
        redirect_uri=oidc.redirect_url,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
    )


def _oidc(request: Request) -> OidcSettings:
    oidc = _settings(request).oidc
    if oidc is None:
        raise HTTPException(404, "not found")
    return oidc


@router.get("/auth/oidc/login")
async def oidc_login(request: Request, store: Store = Depends(get_store)) -> Response:
    oidc = _oidc(request)
    try:
        metadata = await provider_metadata(request, oidc)
    except Exception as exc:
        log.warning("OpenID Connect discovery failed: %s", exc)
        return _signin_page(
            request, page_lang(request), 502, text(page_lang(request), "signin", "oidc_failed")
        )
    state, verifier, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_urlsafe(32)
    await run_in_threadpool(accounts.save_oidc_state, store, state, verifier, nonce)
    async with _client(oidc) as client:
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
    return RedirectResponse(url, 303)


def _validate_id_token(id_token: str, jwks: dict[str, Any], oidc: OidcSettings, nonce: str) -> dict[str, Any]:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    token = jwt.decode(id_token, keys, algorithms=["RS256", "PS256", "ES256", "EdDSA"])
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": oidc.issuer},
        aud={"essential": True, "value": oidc.client_id},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    registry.validate(token.claims)
    return dict(token.claims)


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request, store: Store = Depends(get_store)) -> Response:
    oidc = _oidc(request)
    lang = page_lang(request)
    addr = remote_addr(request)
    state = request.query_params.get("state") or ""
    code = request.query_params.get("code") or ""
    pending = await run_in_threadpool(accounts.pop_oidc_state, store, state)
    if pending is None or not code:
        log.info("OpenID Connect callback refused from %s: unknown state or no code", addr)
        return _signin_page(request, lang, 400, text(lang, "signin", "oidc_failed"))
    verifier, nonce = pending
    try:
        metadata = await provider_metadata(request, oidc)
        async with _client(oidc) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=verifier, grant_type="authorization_code"
            )
            claims = _validate_id_token(token["id_token"], await _get_json(metadata["jwks_uri"]), oidc, nonce)
            groups = claims.get(oidc.groups_claim)
            if groups is None and isinstance(metadata.get("userinfo_endpoint"), str):
                info = (await client.get(metadata["userinfo_endpoint"])).json()
                if isinstance(info, dict) and info.get("sub") == claims["sub"]:
                    groups = info.get(oidc.groups_claim)
                    claims.setdefault(oidc.username_claim, info.get(oidc.username_claim))
    except Exception as exc:
        log.warning("OpenID Connect sign-in failed from %s: %s", addr, type(exc).__name__)
        await run_in_threadpool(
            accounts.record_audit,
            store,
            accounts.Actor("anonymous", "oidc"),
            "signin.failure",
            None,
            {"method": "oidc", "reason": type(exc).__name__},
            addr,
        )
        return _signin_page(request, lang, 401, text(lang, "signin", "oidc_failed"))
    names = {str(g) for g in groups} if isinstance(groups, list) else set()
    grants = [(g.team, g.role) for g in oidc.grants if g.group in names]
    username = claims.get(oidc.username_claim) or claims.get("email") or claims["sub"]
    if not grants:
        await run_in_threadpool(
            accounts.record_audit,
            store,
            accounts.Actor("anonymous", str(username)[:200]),
            "signin.failure",
            None,
            {"method": "oidc", "reason": "no mapped group"},
            addr,
        )
        return _signin_page(request, lang, 403, text(lang, "signin", "oidc_no_access"))
    user = await run_in_threadpool(
        accounts.sync_oidc_user, store, oidc.issuer, str(claims["sub"]), str(username), grants, addr
    )
    if user.disabled:
        return _signin_page(request, lang, 403, text(lang, "signin", "oidc_no_access"))
    return await _signed_in(request, store, user.id, user.lang, "/")

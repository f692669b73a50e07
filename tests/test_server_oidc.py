"""OpenID Connect sign-in end to end against a real OpenID provider on loopback: node ``oidc-provider`` (npm),
installed on first use into ``~/.cache/mamori/peers/oidc-provider`` under a file lock (skips without node and
npm, or with MAMORI_PEERS=0). The browser is an HTTP client that fills in the provider's login and consent
forms; the provider's groups claim gives the team and role."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from mamori import accounts
from mamori.server.app import create_app
from mamori.server.settings import OidcGroupGrant, OidcSettings, ServerSettings
from mamori.store import Store, open_store
from server_support import LiveServer

PACKAGE = "oidc-provider@9.13.3"
CACHE = Path.home() / ".cache" / "mamori" / "peers" / "oidc-provider"
CLIENT_ID, CLIENT_SECRET = "mamori-test", "a-client-secret-for-the-test-only"
PROVIDER = """
import Provider from 'oidc-provider'
const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2)
const people = {
  taro: { sub: 'taro', preferred_username: 'taro', email: 'taro@example.jp', groups: ['psirt-group', 'unknown-group'] },
  hanako: { sub: 'hanako', preferred_username: 'hanako', groups: ['marketing'] },
}
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
              grant_types: ['authorization_code'], response_types: ['code'] }],
  claims: { openid: ['sub'], profile: ['preferred_username', 'groups'], email: ['email'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['only-for-this-test'] },
  features: { devInteractions: { enabled: true } },
  findAccount: async (ctx, id) => (people[id] ? { accountId: id, claims: async () => people[id] } : undefined),
})
provider.on('server_error', (ctx, err) => console.error(err))
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'))
"""


def _provider_module() -> Path | None:
    module = CACHE / "node_modules" / "oidc-provider"
    npm, node = shutil.which("npm"), shutil.which("node")
    if (module / "package.json").exists():
        return module
    if os.environ.get("MAMORI_PEERS") == "0" or not (npm and node):
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (module / "package.json").exists():
            subprocess.run(
                [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", PACKAGE],
                check=False,
                capture_output=True,
                timeout=600,
            )
    return module if (module / "package.json").exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def provider(redirect_uri: str, work: Path) -> Iterator[str]:
    if _provider_module() is None:
        pytest.skip("node oidc-provider not available (needs node and npm)")
    script = CACHE / "mamori-test-provider.mjs"  # beside node_modules, so that the import resolves
    script.write_text(PROVIDER, encoding="utf-8")
    port = _free_port()
    log = (work / "provider.log").open("w")
    process = subprocess.Popen(
        [str(shutil.which("node")), str(script), str(port), CLIENT_ID, CLIENT_SECRET, redirect_uri],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.strip() == "ready", (work / "provider.log").read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action, page.text[:2000]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    return urljoin(str(page.url), action.group(1)), fields


def _browse(client: httpx.Client, start: str, login: str, stop_at: str) -> httpx.Response:
    """Follow redirects and fill the provider's login and consent forms until a URL under ``stop_at``."""
    response = client.get(start)
    for _ in range(20):
        if response.status_code in (302, 303) and "location" in response.headers:
            response = client.get(urljoin(str(response.url), response.headers["location"]))
            continue
        if str(response.url).startswith(stop_at):
            return response
        action, fields = _form(response)
        if fields.get("prompt") == "login":
            fields.update({"login": login, "password": "any"})
        response = client.post(action, data=fields)
    raise AssertionError("the sign-in did not come back")


def _store(tmp_path: Path) -> Store:
    store = open_store(str(tmp_path / "oidc.db"))
    accounts.create_team(store, "psirt")
    return store


def test_sign_in_through_openid_connect_with_pkce_and_groups_mapped_to_a_team(tmp_path: Path) -> None:
    if _provider_module() is None:
        pytest.skip("node oidc-provider not available (needs node and npm)")
    store = _store(tmp_path)
    app = create_app(ServerSettings(), store)
    with LiveServer(app) as server:
        callback = server.url + "/auth/oidc/callback"
        with provider(callback, tmp_path) as issuer:
            oidc = OidcSettings(
                issuer=issuer,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                redirect_url=callback,
                grants=(OidcGroupGrant("psirt-group", "psirt", "security_manager"),),
                label="Test IdP",
            )
            app.state.settings = dataclasses.replace(app.state.settings, oidc=oidc)
            with httpx.Client(timeout=30) as browser:
                page = browser.get(server.url + "/signin")
                assert "Sign in with Test IdP" in page.text
                first = browser.get(server.url + "/auth/oidc/login")
                assert first.status_code == 303
                query = parse_qs(urlsplit(first.headers["location"]).query)
                assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
                assert query["nonce"][0] and query["state"][0] and query["client_id"] == [CLIENT_ID]

                done = _browse(browser, server.url + "/auth/oidc/login", "taro", server.url + "/")
                assert done.status_code == 200 and "taro" in done.text
                me = browser.get(server.url + "/api/mamori/v1/me").json()
                assert me["name"] == "taro"
                assert me["memberships"] == [
                    {"team": "psirt", "role": "security_manager", "all_products": False, "products": []}
                ]
                # the code and state were used once: replaying the callback is refused
                replay = browser.get(callback + "?" + urlsplit(str(first.headers["location"])).query)
                assert replay.status_code == 400

            with httpx.Client(timeout=30) as stranger:
                refused = _browse(stranger, server.url + "/auth/oidc/login", "hanako", callback)
                assert refused.status_code == 403 and "no access to mamori" in refused.text
                assert "mamori_session" not in stranger.cookies

            forged = httpx.get(callback + "?code=abc&state=never-issued")
            assert forged.status_code == 400
    user = accounts.find_user(store, "taro")
    assert user is not None and not user.local
    success = accounts.list_audit(store, action="signin.success")
    assert success[0].detail == {"method": "oidc", "memberships": ["psirt:security_manager"]}
    failure = accounts.list_audit(store, action="signin.failure")
    assert failure[0].detail == {"method": "oidc", "reason": "no mapped group"}
    store.close()

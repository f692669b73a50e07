"""``mamori serve`` as a person runs it: ``--demo`` prints the address and a one-time admin password and
serves the demo product; a non-loopback address needs TLS or ``--behind-proxy``; the other commands do not
import the server's packages."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server_support import signin

MAMORI = [str(Path(sys.executable).with_name("mamori"))]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"XDG_DATA_HOME": str(tmp_path / "data"), "MAMORI_LANG": "en", "PYTHONUNBUFFERED": "1"})
    env.pop("MAMORI_DB", None)
    return env


def test_serve_demo_prints_the_address_and_a_one_time_password_and_serves_the_demo(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    process = subprocess.Popen(
        [*MAMORI, "serve", "--demo", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", first)
        password = re.search(r"one-time password: (\S+)", second)
        assert url and password, first + second
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url.group(1) + "signin", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.2)
        with httpx.Client(base_url=url.group(1).rstrip("/"), timeout=30) as client:
            assert signin(client, "admin", password.group(1)).status_code == 303
            products = client.get("/api/mamori/v1/products").json()
            assert [(p["name"], [r["version"] for r in p["releases"]]) for p in products] == [
                ("shop-portal", ["2.1.0"])
            ]
            assert client.get("/api/mamori/v1/me").json()["memberships"][0]["role"] == "admin"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    # a second start gives a new password; the first no longer signs in
    from mamori import accounts
    from mamori.server.demo import prepare_demo
    from mamori.store import open_store

    with open_store(str(db)) as store:
        again = prepare_demo(store)
        assert again.password != password.group(1)
        assert not accounts.verify_password(store, "admin", password.group(1)).ok
        assert accounts.verify_password(store, "admin", again.password).ok


def test_a_non_loopback_address_needs_tls_or_a_proxy(tmp_path: Path) -> None:
    done = subprocess.run(
        [*MAMORI, "serve", "--host", "0.0.0.0", "--db", str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not a loopback address" in done.stderr
    half = subprocess.run(
        [*MAMORI, "serve", "--tls-cert", "c.pem", "--db", str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert half.returncode == 2 and "--tls-cert and --tls-key go together" in half.stderr


def test_other_commands_do_not_import_the_server() -> None:
    code = (
        "import sys\n"
        "from mamori.cli.main import main\n"
        "try:\n"
        "    main(['db', 'status', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "main(['apikey', '--help'])\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'argon2', 'authlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_the_openid_connect_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.cli.serve import read_oidc
    from mamori.errors import InputError

    good = tmp_path / "oidc.yaml"
    good.write_text(
        "issuer: https://idp.example.jp\nclient_id: mamori\nclient_secret_env: MAMORI_TEST_OIDC_SECRET\n"
        "redirect_url: https://mamori.example.jp/auth/oidc/callback\nlabel: 社内 SSO\n"
        "grants:\n  - {group: psirt, team: psirt, role: security_manager}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MAMORI_TEST_OIDC_SECRET", "from-the-environment")
    settings = read_oidc(good)
    assert settings.client_secret == "from-the-environment" and settings.label == "社内 SSO"
    assert [(g.group, g.team, g.role) for g in settings.grants] == [("psirt", "psirt", "security_manager")]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "issuer: https://idp.example.jp\nclient_id: x\nredirect_url: y\ngrants: [{group: a, team: b, role: root}]\n"
    )
    with pytest.raises(InputError, match="role of: admin"):
        read_oidc(bad)
    lacking = tmp_path / "lacking.yaml"
    lacking.write_text("client_id: x\n")
    with pytest.raises(InputError, match="lack issuer, redirect_url"):
        read_oidc(lacking)
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_oidc(tmp_path)

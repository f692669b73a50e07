"""The team server serves a CSAF provider directory under /.well-known/csaf/: OASIS example advisories are
published into it with ``mamori advisory publish`` (signed, base URL the server's), and ``mamori csaf
check`` run against the served provider-metadata.json over loopback finds every applicable requirement of
section 7.1 met with the team's key. Each file has its media type; a path with ``..``, a hidden name, a
symbolic link (to a file outside, or a folder), a FIFO, a folder and a file of another kind answer 404.
``mamori serve --csaf-provider`` refuses a path that is not a folder in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import SHARED_DATA
from mamori.store import open_store
from server_support import live

MAMORI = str(Path(sys.executable).with_name("mamori"))
EXAMPLES = SHARED_DATA / "csaf" / "examples" / "csaf"
WHITE = ["bsi-2022-0001.json", "rhsa-2019_1862.json"]


def mamori(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": "en", "HOME": "/nonexistent"}
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=600, env=env, check=False)


def test_the_served_provider_passes_the_check(tmp_path: Path) -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/data/csaf is absent")
    pgp = pytest.importorskip("pysequoia")
    tsk = pgp.Tsk.generate("PSIRT <psirt@example.com>")
    secret, public = tmp_path / "psirt.sec.asc", tmp_path / "psirt.pub.asc"
    secret.write_text(str(tsk), encoding="ascii")
    public.write_text(str(tsk.extract_certificate()), encoding="ascii")
    provider = tmp_path / "provider"
    provider.mkdir()
    outside = tmp_path / "secret.json"
    outside.write_text('{"secret": "zz-outside"}', encoding="utf-8")
    with open_store(tmp_path / "m.db") as store, live(store, csaf_provider=str(provider)) as server:
        base = server.url + "/.well-known/csaf"
        published = mamori(
            "advisory", "publish", *(str(EXAMPLES / n) for n in WHITE), "--provider", str(provider),
            "--key", str(secret), "--base-url", base,
        )  # fmt: skip
        assert published.returncode == 0, published.stderr
        checked = mamori(
            "csaf", "check", f"{base}/provider-metadata.json", "--key", str(public), "--format", "json"
        )
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr
        report = json.loads(checked.stdout)
        assert report["ok"] and report["documents"] == len(WHITE) and report["findings"] == []

        client = server.client()
        documents = sorted(p.relative_to(provider).as_posix() for p in (provider / "white").glob("*/*.json"))
        assert len(documents) == len(WHITE)
        expected = {
            "provider-metadata.json": "application/json",
            "white/index.txt": "text/plain; charset=utf-8",
            "white/changes.csv": "text/csv; charset=utf-8",
            documents[0]: "application/json",
            documents[0] + ".sha256": "text/plain; charset=utf-8",
            documents[0] + ".sha512": "text/plain; charset=utf-8",
            documents[0] + ".asc": "application/pgp-signature",
        }
        feeds = [p.relative_to(provider).as_posix() for p in (provider / "white").glob("*.json")]
        assert feeds and all("feed" in f for f in feeds)
        expected[feeds[0]] = "application/json"
        keys = [p.relative_to(provider).as_posix() for p in (provider / "openpgp").glob("*.asc")]
        assert keys
        expected[keys[0]] = "application/pgp-keys"
        for rel, media in expected.items():
            answer = client.get(f"/.well-known/csaf/{rel}")
            assert answer.status_code == 200, rel
            assert answer.headers["content-type"] == media, rel
            assert answer.content == (provider / rel).read_bytes(), rel
        head = client.head(f"/.well-known/csaf/{documents[0]}")
        assert (
            head.status_code == 200
            and int(head.headers["content-length"]) == (provider / documents[0]).stat().st_size
        )

        (provider / "white" / "evil.json").symlink_to(outside)
        (provider / "linked").symlink_to(tmp_path)
        (provider / "notes.html").write_text("<script>alert(1)</script>", encoding="utf-8")
        (provider / ".hidden.json").write_text("{}", encoding="utf-8")
        os.mkfifo(provider / "white" / "fifo.json")
        refused = [
            "white/evil.json",
            "linked/secret.json",
            "linked/provider/provider-metadata.json",
            "notes.html",
            ".hidden.json",
            "white/fifo.json",
            "white",
            "white/",
            "%2e%2e/secret.json",
            "white/%2e%2e/%2e%2e/secret.json",
            "white/..%2f..%2fsecret.json",
        ]
        for rel in refused:
            answer = httpx.get(f"{base}/{rel}", headers={"accept": "application/json"})
            assert answer.status_code == 404, (rel, answer.status_code)
            assert "zz-outside" not in answer.text
        raw = httpx.Client(base_url=server.url)
        request = raw.build_request("GET", server.url)
        request.url = request.url.copy_with(raw_path=b"/.well-known/csaf/../secret.json")
        answer = raw.send(request)
        assert answer.status_code == 404 and "zz-outside" not in answer.text
        raw.close()
        client.close()

    # without a provider folder the path answers nothing
    with open_store(tmp_path / "n.db") as store, live(store) as server:
        assert httpx.get(server.url + "/.well-known/csaf/provider-metadata.json").status_code == 404


def test_serve_refuses_a_provider_that_is_not_a_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "file.json"
    a_file.write_text("{}", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    for target in (a_file, tmp_path / "absent", link):
        run = mamori("serve", "--db", str(tmp_path / "m.db"), "--csaf-provider", str(target), "--port", "0")
        assert run.returncode == 2
        assert run.stderr.strip().splitlines() == [f"mamori: error: {target}: not a folder"]

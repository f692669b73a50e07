"""The CSAF provider folder of ``mamori serve`` from ``mamori.toml`` (``[serve]`` ``csaf-provider``): a
relative path is read from the file's folder and the folder is served under /.well-known/csaf/; the same
checks as ``--csaf-provider`` (a file, an absent path or a symbolic link is one error line, exit 2); the
option wins over ``MAMORI_CSAF_PROVIDER``, which wins over the file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

MAMORI = str(Path(sys.executable).with_name("mamori"))


def _env(home: Path, **more: str) -> dict[str, str]:
    return {
        "PATH": str(Path(sys.executable).parent),
        "MAMORI_LANG": "en",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        **more,
    }


def _serve(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAMORI, "serve", "--db", str(cwd / "m.db"), "--port", "0", *args],
        capture_output=True, text=True, timeout=120, env=_env(cwd, **env), cwd=cwd, check=False,
    )  # fmt: skip


def _project(tmp_path: Path, value: str) -> Path:
    project = tmp_path / "project"
    (project / "provider").mkdir(parents=True)
    (project / "a-file").write_text("{}", encoding="utf-8")
    (project / "link").symlink_to(project / "provider")
    (project / "mamori.toml").write_text(f'[serve]\ncsaf-provider = "{value}"\n', encoding="utf-8")
    return project


def test_the_file_key_is_checked_like_the_option(tmp_path: Path) -> None:
    for value in ("a-file", "absent", "link"):
        project = _project(tmp_path / value, value)
        run = _serve(project)
        assert run.returncode == 2, run.stdout + run.stderr
        assert run.stderr.strip().splitlines() == [f"mamori: error: {project / value}: not a folder"]


def test_option_then_environment_then_file(tmp_path: Path) -> None:
    project = _project(tmp_path, "a-file")
    other = tmp_path / "other-file"
    other.write_text("{}", encoding="utf-8")
    # the environment wins over the file, the option over both
    run = _serve(project, MAMORI_CSAF_PROVIDER=str(other))
    assert run.returncode == 2 and run.stderr.strip() == f"mamori: error: {other}: not a folder"
    run = _serve(project, "--csaf-provider", "absent", MAMORI_CSAF_PROVIDER=str(other))
    assert run.returncode == 2 and run.stderr.strip() == "mamori: error: absent: not a folder"


def _get(url: str) -> httpx.Response:
    """``url`` once the server listens (it prints its address just before)."""
    for _ in range(300):
        try:
            return httpx.get(url, timeout=30)
        except httpx.ConnectError:
            time.sleep(0.1)
    raise AssertionError(f"{url}: the server did not start")


def test_the_folder_from_the_file_is_served(tmp_path: Path) -> None:
    project = _project(tmp_path, "provider")
    metadata = {"canonical_url": "https://psirt.example.com/.well-known/csaf/provider-metadata.json"}
    (project / "provider" / "provider-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"  # the path is read from the file's folder, not the current one
    elsewhere.mkdir()
    (elsewhere / "mamori.toml").write_text(
        f'[serve]\ncsaf-provider = "{project / "provider"}"\n', encoding="utf-8"
    )
    for cwd, config in ((project, project / "mamori.toml"), (elsewhere, elsewhere / "mamori.toml")):
        server = subprocess.Popen(
            [MAMORI, "serve", "--db", str(tmp_path / "m.db"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(cwd), cwd=cwd,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            first = server.stdout.readline()
            assert first.startswith("mamori server: http://127.0.0.1:"), (config, first)
            url = first.split()[2]
            answer = _get(url + ".well-known/csaf/provider-metadata.json")
            assert answer.status_code == 200 and answer.json() == metadata
        finally:
            server.terminate()
            server.wait(timeout=30)

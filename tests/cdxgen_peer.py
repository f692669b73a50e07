"""cdxgen (npm ``@cyclonedx/cdxgen``) as a peer for comparison tests, always run with the network off.

Where it comes from: ``$MAMORI_CDXGEN`` (the path of a cdxgen executable), else ``cdxgen`` on PATH,
else — only when ``MAMORI_PEERS=1`` — ``~/.cache/mamori/peers/cdxgen``, installed there with npm
on first use.
Otherwise ``cdxgen_or_skip`` skips, so the default suite needs neither cdxgen nor a network.

Network off: cdxgen runs inside ``unshare -n`` (a namespace without network) where the machine allows
it, and always with ``--no-install-deps``, ``FETCH_LICENSE=false`` and
``CDXGEN_FETCH_PKG_METADATA=false`` so it reads only the files it is given.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CDXGEN_PACKAGE = "@cyclonedx/cdxgen@12.8.4"
CACHE = Path.home() / ".cache" / "mamori" / "peers" / "cdxgen"


def _install() -> str | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    binary = CACHE / "node_modules" / ".bin" / "cdxgen"
    with open(CACHE.with_name("cdxgen.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test processes install it once
        if not binary.exists():
            subprocess.run(
                [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", CDXGEN_PACKAGE],
                check=False,
                capture_output=True,
                timeout=900,
            )
    return str(binary) if binary.exists() else None


@cache
def cdxgen_binary() -> str | None:
    given = os.environ.get("MAMORI_CDXGEN")
    if given:
        return given if Path(given).exists() else None
    found = shutil.which("cdxgen")
    if found:
        return found
    if os.environ.get("MAMORI_PEERS") != "1":
        return None  # the default suite stays offline and fast
    cached = CACHE / "node_modules" / ".bin" / "cdxgen"
    return str(cached) if cached.exists() else _install()


def cdxgen_or_skip() -> str:
    binary = cdxgen_binary()
    if binary is None:
        pytest.skip("cdxgen not installed (set MAMORI_CDXGEN, put cdxgen on PATH, or MAMORI_PEERS=1)")
    return binary


@cache
def _offline_prefix() -> tuple[str, ...]:
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return (unshare, "-n") if probe.returncode == 0 else ()


def offline_command(binary: str, folder: Path, out: Path, project_type: str = "js") -> list[str]:
    """The command line that runs cdxgen on ``folder`` without network, writing ``out``."""
    return [
        *_offline_prefix(),
        binary,
        "-t",
        project_type,
        "--no-install-deps",
        "--no-babel",
        "--no-validate",
        "-o",
        str(out),
        str(folder),
    ]


def offline_env() -> dict[str, str]:
    return dict(
        os.environ, FETCH_LICENSE="false", CDXGEN_FETCH_PKG_METADATA="false", CDXGEN_TELEMETRY="false"
    )


def run_cdxgen(binary: str, folder: Path, out: Path, project_type: str = "js") -> dict[str, Any]:
    """cdxgen's CycloneDX JSON for ``folder``."""
    done = subprocess.run(
        offline_command(binary, folder, out, project_type),
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not out.exists():
        raise AssertionError(f"cdxgen wrote nothing (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def purls_without_qualifiers(bom: dict[str, Any]) -> set[str]:
    return {c["purl"].split("?")[0] for c in bom.get("components", []) if c.get("purl")}

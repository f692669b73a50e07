"""Helpers for the tests of the Trivy/Grype/OSV-Scanner conventions of ``mamori scan`` (severity filter,
exit codes, quiet, ignore file, configuration, lockfiles, completion): the installed ``mamori`` run as a
subprocess in a clean environment, and a knowledge base of the bundled demo set plus three OSV records
written here so that every severity and findings without a fix occur."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

MAMORI = Path(sys.executable).with_name("mamori")
DEMO = Path(str(resources.files("mamori") / "data" / "demo"))
DEMO_SBOM = DEMO / "shop-portal-2.1.0.cdx.json"

# (id, ecosystem, package, introduced, fixed or None, CVSS vector or None)
EXTRA = [
    (
        "TEST-2026-0001",
        "npm",
        "minimist",
        "0",
        None,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
    ),  # medium
    (
        "TEST-2026-0002",
        "PyPI",
        "certifi",
        "0",
        "2099.1.1",
        "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
    ),  # low
    ("TEST-2026-0003", "PyPI", "django", "0", None, None),  # unknown severity, no fix
]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a run: no MAMORI_* variable of the caller, HOME and the user config directory
    in ``home`` (so no real user configuration takes part), English."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAMORI_", "XDG_", "_MAMORI"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        COLUMNS="200",
    )
    env.pop("SHELL", None)
    env.update(extra)
    return env


def run(
    *args: str | Path, home: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAMORI), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or home,
        env=clean_env(home, **(env or {})),
        timeout=300,
        check=False,
    )


def osv_record(
    vid: str, ecosystem: str, name: str, introduced: str, fixed: str | None, vector: str | None
) -> dict:
    events: list[dict[str, str]] = [{"introduced": introduced}]
    if fixed:
        events.append({"fixed": fixed})
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-01-01T00:00:00Z",
        "summary": f"test record for {name}",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }
    if vector:
        record["severity"] = [{"type": "CVSS_V3", "score": vector}]
    return record


def build_kb(folder: Path, home: Path) -> Path:
    """A knowledge base of the demo OSV and KEV set plus :data:`EXTRA`, the OSV part imported as a whole
    feed (as ``mamori db import --complete`` does)."""
    osv = folder / "osv"
    osv.mkdir(parents=True)
    for path in (DEMO / "osv").glob("*.json"):
        shutil.copy(path, osv / path.name)
    for row in EXTRA:
        (osv / f"{row[0]}.json").write_text(json.dumps(osv_record(*row)), encoding="utf-8")
    db = folder / "kb.db"
    done = run("db", "import", osv, "--source", "osv", "--complete", "--db", db, home=home)
    assert done.returncode == 0, done.stderr
    done = run("db", "import", DEMO / "kev", "--source", "kev", "--db", db, home=home)
    assert done.returncode == 0, done.stderr
    return db


def scan_json(
    *args: str | Path, home: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, dict, str]:
    """``mamori scan … -f json`` (stdout): exit code, the report, stderr."""
    done = run("scan", *args, "-f", "json", home=home, cwd=cwd, env=env)
    data = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, data, done.stderr


def found(data: dict) -> set[tuple[str, str]]:
    """(vulnerability id, component purl) of every finding of a JSON report."""
    return {(f["vulnerability"]["id"], f["component"]["purl"]) for f in data.get("findings", [])}


def rating(finding: dict) -> str:
    severity = finding["vulnerability"].get("severity")
    return severity["rating"] if severity else "unknown"

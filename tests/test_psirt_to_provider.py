"""A PSIRT case from the report to a published, signed and checked advisory, through the installed
``mamori`` only: a coordinator's e-mail opens the case, it moves through every state to ``disclosed``,
the CSAF advisory drafted from it validates, is published into a provider directory signed with the
team's OpenPGP key, and ``mamori csaf check`` finds every applicable requirement met with that key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MAMORI = str(Path(sys.executable).with_name("mamori"))
FIXTURES = Path(__file__).parent / "fixtures" / "psirt"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
SSVC = (
    "exploitation=public_poc",
    "utility=efficient",
    "technical_impact=total",
    "public_safety_impact=minimal",
)


def _run(*args: str, db: Path, user: str = "alice") -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "HOME": "/nonexistent", "MAMORI_DB": str(db)}
    env |= {"MAMORI_USER": user, "MAMORI_LANG": "en"}
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=600, env=env, check=False)


def test_a_reported_case_ends_as_a_published_signed_checked_advisory(tmp_path: Path) -> None:
    pgp = pytest.importorskip("pysequoia")
    tsk = pgp.Tsk.generate("PSIRT <psirt@example.co.jp>")
    secret, public = tmp_path / "psirt.sec.asc", tmp_path / "psirt.pub.asc"
    secret.write_text(str(tsk), encoding="ascii")
    public.write_text(str(tsk.extract_certificate()), encoding="ascii")
    db = tmp_path / "m.db"

    new = _run(
        "psirt", "case", "new", "--eml", str(FIXTURES / "jpcert-jvnvu.eml"), "--lang", "ja",
        "--component", JACKSON, "--range", "vers:maven/>=2.9.0|<2.9.10.4", "--format", "json", db=db,
    )  # fmt: skip
    assert new.returncode == 0, new.stderr
    key = json.loads(new.stdout)["key"]
    steps = (
        ("acknowledged", "--description", "A crafted JSON runs code.", "--lang", "en",
         "--translated-title", "Unsafe deserialization in jackson-databind"),
        ("triaged", *(a for point in SSVC for a in ("--ssvc", point)), "--note", "public PoC, total impact"),
        ("fix_in_progress", "--fixed-version", "2.9.10.4", "--cwe", "CWE-502",
         "--cvss3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        ("fix_released", "--fix-url", "https://psirt.example.co.jp/fix/2.9.10.4"),
        ("disclosed",),
    )  # fmt: skip
    for state, *extra in steps:
        moved = _run("psirt", "case", "update", key, "--state", state, *extra, db=db)
        assert moved.returncode == 0, (state, moved.stderr)
    shown = _run("psirt", "case", "show", key, "--format", "json", db=db)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "disclosed"

    advisory = tmp_path / "advisory.json"
    made = _run(
        "advisory", "new", "--case", key, "-o", str(advisory), "--publisher", "Example Corp",
        "--namespace", "https://psirt.example.co.jp", "--lang", "en", db=db,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    valid = _run("advisory", "validate", str(advisory), db=db)
    assert valid.returncode == 0, valid.stdout + valid.stderr

    provider = tmp_path / "provider"
    published = _run(
        "advisory", "publish", str(advisory), "--provider", str(provider), "--key", str(secret), db=db
    )
    assert published.returncode == 0, published.stderr
    documents = [
        p for p in provider.rglob("*.json") if p.name != "provider-metadata.json" and "feed" not in p.name
    ]
    assert len(documents) == 1
    for suffix in (".sha256", ".sha512", ".asc"):
        assert Path(f"{documents[0]}{suffix}").is_file()

    checked = _run("csaf", "check", str(provider), "--key", str(public), "--format", "json", db=db)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr
    # the same directory with one changed byte in the advisory: the check fails, naming that file
    data = documents[0].read_bytes()
    documents[0].write_bytes(data.replace(b"jackson", b"jacksoN", 1))
    broken = _run("csaf", "check", str(provider), "--key", str(public), db=db)
    assert broken.returncode == 1 and documents[0].name in broken.stdout

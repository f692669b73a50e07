"""Shared helpers for the assessment tests: a fresh store per test and the CLI run in-process."""

from __future__ import annotations

from pathlib import Path

from mamori.cli.main import main
from mamori.compliance.repository import Assessments
from mamori.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
DEMO_SBOM = REPO / "src" / "mamori" / "data" / "demo" / "shop-portal-2.1.0.cdx.json"


def book_at(path: Path) -> tuple[Store, Assessments]:
    store = open_store(path)
    return store, Assessments(store)


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """Run ``mamori ARGV`` in-process; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def new_assessment(capsys, db: str, framework: str, org: str, roles: str, scope: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """``mamori assess new`` with the usual options (English messages)."""
    argv = ["assess", "new", "--framework", framework, "--org", org, "--roles", roles, "--scope", scope]
    return run(capsys, *argv, "--db", db, "--lang", "en")

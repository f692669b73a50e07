"""``mamori demo``: the main job on bundled data, no network."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    out: Path = typer.Option(Path("mamori-demo"), "--out", help="Folder for the demo outputs."),
    db: str | None = typer.Option(
        None, "--db", help="Demo database (default: demo.db in the user data dir)."
    ),
    lang: str = typer.Option("en", "--lang", help="en or ja."),
) -> None:
    """Run mamori on the bundled demo product and demo vulnerability set (no network)."""
    from rich.console import Console

    from mamori.demo import DEMO_LABEL, run_demo

    console = Console()
    result = run_demo(out, db)
    ja = lang == "ja"
    console.print(f"[bold]{DEMO_LABEL['ja' if ja else 'en']}[/bold]")
    verdict = ("合格" if ja else "pass") if result.ntia_pass else ("不合格" if ja else "fail")
    console.print(
        f"SBOM: {result.sbom_path} — {result.components} "
        + ("コンポーネント" if ja else "components")
        + f", NTIA {verdict}, score {result.score}/100"
    )
    loaded = ", ".join(f"{k} {v}" for k, v in result.loaded.items()) or (
        "読込済み" if ja else "already loaded"
    )
    console.print(("脆弱性DB: " if ja else "Vulnerability DB: ") + f"{result.database} ({loaded})")
    for fmt, path in result.outputs.items():
        console.print(f"  {fmt:16} {path}")

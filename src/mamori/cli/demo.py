"""``mamori demo``: the main job on bundled data, no network."""

from __future__ import annotations

from pathlib import Path

import typer

from mamori.i18n import DEFAULT_NOTE, choose_lang


def demo(
    out: Path = typer.Option(Path("mamori-demo"), "--out", help="Folder for the demo outputs."),
    db: str | None = typer.Option(
        None, "--db", help="Demo database, holding the demo set only (default: demo.db in the user data dir)."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help=f"en or ja, the report's first language; it has both ({DEFAULT_NOTE})."
    ),
) -> None:
    """Run mamori on the bundled demo product and demo vulnerability set (no network)."""
    from rich.console import Console
    from rich.text import Text

    from mamori.demo import DEMO_LABEL, run_demo
    from mamori.display import visible
    from mamori.report.messages import text
    from mamori.report.rows import counts_line, coverage_line

    lang = choose_lang(lang)
    console = Console()
    result = run_demo(out, db, lang)
    ja = lang == "ja"
    console.print(f"[bold]{DEMO_LABEL['ja' if ja else 'en']}[/bold]")
    verdict = ("合格" if ja else "pass") if result.ntia_pass else ("不合格" if ja else "fail")
    console.print(
        f"SBOM: {visible(result.sbom_path)} — {result.components} "
        + ("コンポーネント" if ja else "components")
        + f", NTIA {verdict}, {'スコア' if ja else 'score'} {result.score}/100",
        markup=False,
    )
    loaded = ", ".join(f"{k} {v}" for k, v in result.loaded.items()) or (
        "読込済み" if ja else "already loaded"
    )
    database = visible(f"{result.database} ({loaded})")
    console.print(("脆弱性DB: " if ja else "Vulnerability DB: ") + database, markup=False)
    for fmt, path in result.outputs.items():
        console.print(f"  {fmt:16} {visible(path)}", highlight=False, markup=False)
    if result.scan is not None:
        scan = result.scan
        counts = scan.by_rating()
        console.print(
            counts_line(scan, lang)
            + " — "
            + ", ".join(f"{text(lang, 'ratings', r)} {n}" for r, n in counts.items() if n)
            + f", KEV {sum(1 for f in scan.findings if f.vulnerability.kev is not None)}",
            soft_wrap=True,
        )
        console.print(visible(coverage_line(scan, lang)), markup=False, highlight=False, soft_wrap=True)
    label = "HTMLレポート" if ja else "HTML report"
    console.print(
        Text.assemble((f"{label}:", "bold"), f" {visible(result.report.resolve())}"),
        highlight=False,
        soft_wrap=True,
    )

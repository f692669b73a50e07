"""``mamori scan TARGET``: match an SBOM (or a folder, turned into one) against the knowledge base."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import typer

from mamori.cli.options import choice as _choice
from mamori.cli.options import print_read_warnings
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, choose_lang

FORMATS = ("table", "json", "sarif", "cyclonedx-vdr", "csv", "xlsx", "html")
FAIL_ON = ("low", "medium", "high", "critical", "kev")
EPILOG = (
    "Exit codes: 0 clean; 1 the gate fired (--fail-on, or a fail rule of --policy); 2 bad input or usage; "
    "3 cannot judge: the knowledge base is empty, a complete feed the scan used is older than --max-age, "
    "or components were not evaluated (no complete feed of their ecosystem, no version, a version that "
    "cannot be compared …), unless --allow-partial (then the same warning, and 0 or 1). "
    "When the gate fires on a partial result, 1 wins. Every report shows the coverage and the data age."
)


def scan(
    target: Path = typer.Argument(
        ...,
        help="An SBOM in any format mamori reads, a lockfile or manifest `mamori sbom generate` reads "
        "(package-lock.json, poetry.lock, go.mod …), or a project folder.",
    ),
    output_format: str = typer.Option("table", "--format", "-f", help=" | ".join(FORMATS)),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 when a finding reaches this severity: low | medium | high | critical | kev.",
    ),
    lang: str | None = typer.Option(
        None, "--lang", help=f"Language of the report: en or ja ({DEFAULT_NOTE})."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Knowledge base: SQLite path or URL; default $MAMORI_DB or the user data dir."
    ),
    role: str = typer.Option(
        "user", "--role", help="SSVC tree per finding: user (deployer) or developer (supplier)."
    ),
    skill: str = typer.Option("low", "--skill", help="low or high: what --set may change (docs/triage.md)."),
    context: Path | None = typer.Option(
        None, "--context", help="Triage context per product (docs/triage-context.md)."
    ),
    set_values: list[str] = typer.Option([], "--set", help="SSVC POINT=VALUE for every finding, repeatable."),
    vex_files: list[Path] = typer.Option(
        [], "--vex", help="VEX file, repeatable: findings get its status; not_affected/fixed leave the gate."
    ),
    policy: Path | None = typer.Option(
        None, "--policy", help="Policy YAML (docs/triage-policy.md): exit 1 when a fail rule fires."
    ),
    max_age: str = typer.Option(
        "7d",
        "--max-age",
        metavar="AGE",
        help="A complete feed older than this is stale (exit 3): e.g. 7d, 36h, 2w; 0 = no age check.",
    ),
    allow_partial: bool = typer.Option(
        False,
        "--allow-partial",
        help="Accept a partial result (empty or stale knowledge base, components not evaluated): warn, exit 0 or 1.",
    ),
    purl2cpe_weak: bool = typer.Option(
        False,
        "--purl2cpe-weak",
        help="Also match through weak purl2cpe links (the CPE product does not plausibly name the package,"
        " docs/purl2cpe.md); their findings have confidence weak.",
    ),
    product: str | None = typer.Option(
        None,
        "--product",
        help="The product this SBOM is (default: the stored product named like its root component): "
        "its triage context and the release's triage records apply.",
    ),
    release: str | None = typer.Option(
        None, "--release", help="The product's release (default: the root component's version)."
    ),
) -> None:
    """Find known vulnerabilities in an SBOM's components (offline, against the local knowledge base).

    Every finding gets one status (open, under investigation, affected, not affected, fixed) from the
    release's triage records (`mamori triage record`, `mamori vex import`) and --vex files; not affected
    and fixed findings stay in the report, marked, and trip neither --fail-on nor a policy.

    A folder or lockfile is read as `sbom generate` reads it; SARIF then points at the declaring line.

    A flaw in one field of an SBOM is a warning (stderr, JSON "warnings"); only a non-SBOM exits 2.
    """
    from rich.console import Console

    from mamori.display import visible
    from mamori.fileio import write_bytes_atomic
    from mamori.match import Matcher
    from mamori.portfolio.context import release_triage
    from mamori.report import render
    from mamori.report.messages import text
    from mamori.report.table import print_result
    from mamori.scan.coverage import parse_max_age
    from mamori.scan.run import load_target, scan_document
    from mamori.store import open_store
    from mamori.triage.integrate import triage_scan

    _choice(output_format, FORMATS, "--format")
    _choice(fail_on, FAIL_ON, "--fail-on")
    lang = choose_lang(lang)
    oldest = parse_max_age(max_age)
    if output_format == "xlsx" and output is None:
        raise InputError(None, _("--format xlsx writes a binary file: give it with -o FILE"))
    if output_format == "html" and importlib.util.find_spec("mamori.report.html") is None:
        raise InputError(None, _("--format html: this report is not available in this version of mamori yet"))
    if not target.exists():
        raise InputError(target, _("file not found"))
    with open_store(db) as store:
        matcher = Matcher(store, weak_links=purl2cpe_weak)
        doc, fmt = load_target(target)
        print_read_warnings(doc.warnings, lang)
        result = scan_document(
            doc, store, target=str(target), sbom_format=fmt, matcher=matcher, max_age=oldest
        )
        root = doc.root
        stored = release_triage(
            store, product, release, root.name if root else None, root.version if root else None
        )
        triaged = triage_scan(
            result,
            matcher.knowledge,
            role=role,
            skill=skill,
            context_path=context,
            assignments=set_values,
            vex_paths=vex_files,
            policy_path=policy,
            components=doc.all_components(),
            root=doc.root,
            lang=lang,
            product=stored.product or product,
            release=stored.release,
            records=stored.records,
            stored_context=stored.context,
            doc=doc,
        )
    err = Console(stderr=True)
    if triaged.worst_case and not (output is None and output_format == "table"):
        err.print(
            visible(f"mamori: {triaged.worst_case}"),
            style="yellow",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if output is None and output_format == "table":
        print_result(result, Console(), lang)
    else:
        data = render(output_format, result, lang)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            write_bytes_atomic(output, data)
            err.print(visible(text(lang, "text", "written", path=output)), highlight=False, markup=False)
    for notice in triaged.notices:
        err.print(visible(f"mamori: {notice}"), style="yellow", highlight=False, markup=False, soft_wrap=True)
    for violation in triaged.violations:
        err.print(
            visible(violation.message(lang)),
            style="red" if violation.action == "fail" else "yellow",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    gate = bool(fail_on and result.reaches(fail_on))
    if gate:
        err.print(text(lang, "text", "fail", level=fail_on), style="red")
    problems = "; ".join(p.text(lang) for p in result.problems())
    judged = allow_partial or gate or triaged.failed
    if problems:
        line = text(lang, "text", "partial" if judged else "cannot_judge", problems=problems)
        err.print(
            visible(f"mamori: {line}"),
            style="yellow" if judged else "red",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if gate or triaged.failed:
        raise typer.Exit(1)
    if problems and not allow_partial:
        raise typer.Exit(3)

"""``mamori scan TARGET``: match an SBOM (or a folder, turned into one) against the knowledge base."""

import gc
import importlib.util
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mamori.cli.options import choice as _choice
from mamori.cli.options import print_read_warnings
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, choose_lang

if TYPE_CHECKING:
    from mamori.scan.result import ScanResult
    from mamori.triage.ignorefile import IgnoreFile

FORMATS = ("table", "json", "sarif", "cyclonedx-vdr", "csv", "xlsx", "html")
FAIL_ON = ("low", "medium", "high", "critical", "kev")
EPILOG = (
    "Exit codes: 0 clean; 1 the gate fired (--fail-on, or a fail rule of --policy); 2 bad input or usage; "
    "3 cannot judge: the knowledge base is empty, a complete feed the scan used is older than --max-age, "
    "or components were not evaluated (no complete feed of their ecosystem, no version, a version that "
    "cannot be compared …), unless --allow-partial (then the same warning, and 0 or 1). "
    "When the gate fires on a partial result, 1 wins. Every report shows the coverage and the data age. "
    "--exit-code N replaces the 1 of the gate (alone, without --fail-on, any finding left in the gate "
    "fires it). Options also come from MAMORI_* variables and mamori.toml (docs/config.md)."
)
# exit codes --exit-code may not take: they keep their meaning (bad input, cannot judge)
RESERVED_EXITS = (2, 3)


def scan(
    target: Path = typer.Argument(
        ...,
        help="An SBOM in any format mamori reads, a lockfile or manifest `mamori sbom generate` reads "
        "(package-lock.json, poetry.lock, go.mod …), or a project folder.",
    ),
    output_format: str = typer.Option(
        "table", "--format", "-f", envvar="MAMORI_FORMAT", help=" | ".join(FORMATS)
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        envvar="MAMORI_FAIL_ON",
        help="Exit 1 when a finding reaches this severity: low | medium | high | critical | kev (any case).",
    ),
    severity: str | None = typer.Option(
        None,
        "--severity",
        "-s",
        envvar="MAMORI_SEVERITY",
        metavar="LIST",
        help="Report only findings of these severities, comma-separated, any case (e.g. CRITICAL,high): "
        "critical, high, medium, low, none, unknown. The gate sees only these; the hidden ones are counted.",
    ),
    ignore_unfixed: bool = typer.Option(
        False,
        "--ignore-unfixed",
        envvar="MAMORI_IGNORE_UNFIXED",
        help="Hide findings with no fixed version; the summary and the JSON say how many.",
    ),
    top: int = typer.Option(
        20,
        "--top",
        envvar="MAMORI_TOP",
        metavar="N",
        min=0,
        help="Table: after the summary, list the N most urgent findings (in the gate first, most severe "
        "first) and say how many more there are; 0: the summary only.",
    ),
    show_all: bool = typer.Option(
        False,
        "--all",
        envvar="MAMORI_ALL",
        help="Table: list every finding, not only the --top N (-o FILE always writes every finding).",
    ),
    exit_code: int | None = typer.Option(
        None,
        "--exit-code",
        envvar="MAMORI_EXIT_CODE",
        metavar="N",
        help="Exit N when the gate fires (default 1; 0: report only). Without --fail-on or --policy, "
        "any finding left in the gate fires it. 2 and 3 keep their meaning and are refused.",
    ),
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        envvar="MAMORI_QUIET",
        help="No notices, warnings or summary lines on stderr; the report is printed, errors still are.",
    ),
    ignorefile: Path | None = typer.Option(
        None,
        "--ignorefile",
        envvar="MAMORI_IGNOREFILE",
        help="Ignore file (docs/scan.md; default: .mamoriignore or .mamoriignore.yaml in "
        "the scanned folder, else in the current directory).",
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
        envvar="MAMORI_MAX_AGE",
        metavar="AGE",
        help="A complete feed older than this is stale (exit 3): e.g. 7d, 36h, 2w; 0 = no age check.",
    ),
    allow_partial: bool = typer.Option(
        False,
        "--allow-partial",
        envvar="MAMORI_ALLOW_PARTIAL",
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
    from mamori.sbom.gc_pause import gc_paused

    # the modules a scan uses, imported with the cyclic collector paused and then kept out of it (frozen):
    # their classes and functions live as long as the process, so collections would find nothing to free
    with gc_paused():
        from mamori.cli.main import keep_until_exit
        from mamori.display import ErrLines, visible
        from mamori.fileio import atomic_writer
        from mamori.match import Matcher
        from mamori.portfolio.context import release_triage
        from mamori.report import write as write_report
        from mamori.report.messages import text
        from mamori.scan.coverage import parse_max_age
        from mamori.scan.filters import apply_filters, parse_severities
        from mamori.scan.run import load_target, scan_document
        from mamori.store import open_store
        from mamori.triage import ignorefile as ignore_mod
        from mamori.triage.integrate import triage_scan

        gc.freeze()

    _choice(output_format, FORMATS, "--format")
    fail_on = _choice(fail_on.strip().lower() if fail_on is not None else None, FAIL_ON, "--fail-on")
    severities = parse_severities(severity)
    if exit_code is not None and (exit_code in RESERVED_EXITS or not 0 <= exit_code <= 125):
        raise InputError(
            None,
            _("--exit-code: expected 0, 1 or 4 to 125 (2 and 3 keep their meaning), got {code}").format(
                code=exit_code
            ),
        )
    lang = choose_lang(lang)
    oldest = parse_max_age(max_age)
    if output_format == "xlsx" and output is None:
        raise InputError(None, _("--format xlsx writes a binary file: give it with -o FILE"))
    if output_format == "html" and importlib.util.find_spec("mamori.report.html") is None:
        raise InputError(None, _("--format html: this report is not available in this version of mamori yet"))
    if not target.exists():
        raise InputError(target, _("file not found"))
    ignore_path = ignorefile or ignore_mod.find(project_folders(target))
    ignored = ignore_mod.load(ignore_path) if ignore_path is not None else None
    today = ignore_mod.today_utc()
    # the cyclic collector finds nothing in a scan's few hundred thousand live objects: paused meanwhile
    with gc_paused(), open_store(db) as store:
        matcher = Matcher(store, weak_links=purl2cpe_weak)
        doc, fmt = load_target(target)
        if not quiet:
            print_read_warnings(doc.warnings, lang)
        result = scan_document(
            doc, store, target=str(target), sbom_format=fmt, matcher=matcher, max_age=oldest
        )
        apply_filters(result, severities, ignore_unfixed)
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
            records=[*stored.records, *(ignored.records(today) if ignored is not None else ())],
            stored_context=stored.context,
            doc=doc,
        )
        # what the scan built lives until the command ends: kept out of the collector, whose first pass
        # after the pause would walk all of it (and the one at exit again), about 0.3 s on 5,000 components
        gc.freeze()
    # and it is not freed object by object when the command returns, nor when the process ends
    keep_until_exit(result, triaged, doc, matcher, stored, ignored)
    if ignored is not None:
        record_ignorefile(result, ignored, today, len(stored.records))
    err = ErrLines(quiet=quiet)
    if triaged.worst_case and not (output is None and output_format == "table"):
        err.print(visible(f"mamori: {triaged.worst_case}"), style="yellow")
    for line in filter_lines(result, ignored, today):
        err.print(visible(f"mamori: {line}"), style="yellow")
    if output is None and output_format == "table":
        from rich.console import Console

        from mamori.report.table import print_result

        with gc_paused():
            print_result(result, Console(), lang, None if show_all else top)
    else:
        if output is None:
            with gc_paused():
                write_report(output_format, result, sys.stdout.buffer, lang)
            sys.stdout.flush()
        else:
            with gc_paused(), atomic_writer(output) as fh:
                write_report(output_format, result, fh, lang)
            err.print(visible(text(lang, "text", "written", path=output)))
    for notice in triaged.notices:
        err.print(visible(f"mamori: {notice}"), style="yellow")
    for violation in triaged.violations:
        err.print(visible(violation.message(lang)), style="red" if violation.action == "fail" else "yellow")
    gate_code = 1 if exit_code is None else exit_code
    if fail_on:
        gate = result.reaches(fail_on)
    else:  # --exit-code alone (Trivy): any finding left in the gate fires it
        gate = exit_code is not None and policy is None and any(not f.out_of_gate for f in result.findings)
    gate = gate and gate_code != 0
    if gate and fail_on:
        err.print(text(lang, "text", "fail", level=fail_on), style="red")
    elif gate:
        err.print(_("findings reported (--exit-code {code})").format(code=gate_code), style="red")
    problems = "; ".join(p.text(lang) for p in result.problems())
    judged = allow_partial or gate or (triaged.failed and gate_code != 0)
    if problems:
        line = text(lang, "text", "partial" if judged else "cannot_judge", problems=problems)
        (err if judged else ErrLines()).print(visible(f"mamori: {line}"), style="yellow" if judged else "red")
    if gate or (triaged.failed and gate_code != 0):
        raise typer.Exit(gate_code)
    if problems and not allow_partial:
        raise typer.Exit(3)


def project_folders(target: Path) -> list[Path]:
    """Where a scan looks for the project's files (ignore file): the scanned folder (or the folder of
    the scanned file), then the current directory."""
    folder = target if target.is_dir() else target.parent
    out = [folder]
    if folder.resolve() != Path.cwd().resolve():
        out.append(Path.cwd())
    return out


def record_ignorefile(result: "ScanResult", ignored: "IgnoreFile", today: date, stored_records: int) -> None:
    """What the ignore file did, in the result's triage block (JSON, SARIF and HTML show it): the file,
    its entries, how many findings it suppressed, and the expired entries that no longer apply."""
    from mamori.triage.state import IGNORED

    triage = result.triage if result.triage is not None else {}
    suppressed = sum(
        1
        for f in result.findings
        if f.state is not None and f.state.origin is not None and f.state.origin.kind == IGNORED
    )
    triage["records"] = stored_records
    triage["ignorefile"] = {
        "path": str(ignored.path),
        "entries": len(ignored.entries),
        "active": len(ignored.active(today)),
        "suppressed": suppressed,
        "expired": [e.as_dict() for e in ignored.expired(today)],
    }
    result.triage = triage


def filter_lines(result: "ScanResult", ignored: "IgnoreFile | None", today: date) -> list[str]:
    """The summary lines of --severity, --ignore-unfixed and the ignore file (stderr; not with -q)."""
    lines = []
    filters = result.filters
    if filters:
        if filters["severity"] is not None:
            lines.append(
                _("{count} findings hidden by --severity {severity}").format(
                    count=filters["hidden_by_severity"], severity=",".join(filters["severity"])
                )
            )
        if filters["ignore_unfixed"]:
            lines.append(
                _("{count} findings without a fixed version hidden by --ignore-unfixed").format(
                    count=filters["hidden_unfixed"]
                )
            )
    if ignored is not None:
        info = (result.triage or {}).get("ignorefile") or {}
        name = ignored.path
        lines.append(
            _("{count} findings suppressed by {path} (status not_affected, kept in the report)").format(
                count=info.get("suppressed", 0), path=name
            )
        )
        for e in ignored.expired(today):
            lines.append(
                _("{path}:{line}: the entry for {id} expired on {date}: it no longer applies").format(
                    path=name,
                    line=e.where or e.line,
                    id=e.id,
                    date=e.expires.isoformat() if e.expires else "?",
                )
            )
    return lines

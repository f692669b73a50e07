"""``mamori db ...``: the vulnerability knowledge base (import, sync, status, show)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import typer

from mamori.cli.options import choice as _choice
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, Lang, choose_lang, gettext

app = typer.Typer(
    help="Vulnerability knowledge base: import, sync, snapshot, status, show.", no_args_is_help=True
)

DB_HELP = (
    "Database: a SQLite file path or a URL (postgresql+psycopg://…); default $MAMORI_DB or the user data dir."
    " A new or empty one becomes a mamori store; another program's database is refused (docs/store.md)."
)
SOURCE_HELP = "osv | nvd | cve5 | jvn | kev | epss | purl2cpe (detected when omitted)."
DB_OPTION = typer.Option(None, "--db", help=DB_HELP)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")
LANG_OPTION = typer.Option(None, "--lang", help=f"Language of the text output: en or ja ({DEFAULT_NOTE}).")


def _check_output(output_format: str, lang: str | None) -> Lang:
    """Check ``--format``; the language to use."""
    _choice(output_format, ("text", "json"), "--format")
    return choose_lang(lang)


def _echo_problems(lang: str, rejected: Iterable[object], failed: Iterable[object]) -> None:
    """Each rejected record and each failed file on stderr, one line each."""
    from mamori.vulndb.messages import text

    for item in rejected:
        typer.echo(visible(f"{text(lang, 'import', 'rejected')}: {_line(item, lang)}"), err=True)
    for item in failed:
        typer.echo(visible(f"{text(lang, 'import', 'failed')}: {_line(item, lang)}"), err=True)


def _line(item: object, lang: str) -> str:
    """A rejected record or failed file in ``lang`` where it has a Japanese reason."""
    line = getattr(item, "line", None)
    return line(lang) if callable(line) else str(item)


WARNINGS_SHOWN = 10  # malformed upstream lines listed in the text output (all are counted)
WARNINGS_LISTED = 100  # ... and in the JSON output


def _echo_warnings(lang: str, warnings: list[Any]) -> None:
    """The first malformed upstream lines on stderr, then how many there were in all."""
    from mamori.vulndb.messages import text

    if not warnings:
        return
    for item in warnings[:WARNINGS_SHOWN]:
        typer.echo(visible(f"{text(lang, 'import', 'warning')}: {item}"), err=True)
    if len(warnings) > WARNINGS_SHOWN:
        typer.echo(text(lang, "import", "warnings_more", count=len(warnings) - WARNINGS_SHOWN), err=True)
    typer.echo(text(lang, "import", "warnings_count", count=len(warnings)))


def _links_json(links: Any) -> dict[str, Any]:
    return {"strong": links.strong, "weak": links.weak, "rules": links.rules, "weak_examples": links.examples}


def _echo_links(lang: str, links: Any) -> None:
    """purl2cpe links kept strong and weak, with a few weak ones and why."""
    from mamori.vulndb.messages import text

    if not links.strong and not links.weak:
        return
    typer.echo(text(lang, "import", "links", strong=links.strong, weak=links.weak))
    for example in links.examples:
        reason = text(lang, "link_rules", example["rule"])
        line = text(lang, "import", "weak_example", purl=example["purl"], cpe=example["cpe"], reason=reason)
        typer.echo(visible(line))


def _echo_json(data: object) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


BATCH_OPTION = typer.Option(
    2000,
    "--batch",
    min=1,
    help="Records per commit at most; the first commits hold fewer (500, then twice as many). Each commit is a checkpoint.",
)
EXIT_NOTE = (
    "Exit code 0: all imported (malformed lines of upstream purl2cpe data are warnings); 1: imported,"
    " but some records or files were skipped (listed); 2: error (a --db that is not a usable mamori store"
    " too); 3: the connection to the database was lost (rerun to resume); 130, 143: interrupted."
)


TIMEOUT_OPTION = typer.Option(
    60.0,
    "--timeout",
    min=1,
    metavar="SECONDS",
    help="Downloads: connect and read timeout (the longest silence).",
)
DEADLINE_OPTION = typer.Option(
    None,
    "--deadline",
    min=1,
    metavar="SECONDS",
    help="Downloads: the longest one attempt may take, headers and body (default per source, 2 to 30 min).",
)
RETRY_WAIT_OPTION = typer.Option(
    300.0,
    "--max-retry-wait",
    min=0,
    metavar="SECONDS",
    help="Downloads: the longest Retry-After honoured; a server asking for more is given up at once.",
)


def _fetcher(
    console: Any,
    lang: str,
    timeout: float,
    deadline: float | None,
    retry_wait: float,
    max_bytes: dict[str, int],
    total: float | None = None,
) -> Any:
    """The downloader of `db import URL` and `db sync`, with the bounds the options set."""
    from mamori.vulndb.online.http import Fetcher, RetryPolicy

    return Fetcher(
        retry=RetryPolicy(max_wait=retry_wait),
        timeout=timeout,
        deadline=deadline,
        total=total,
        max_bytes=max_bytes,
        on_retry=_retry_note(console, lang),
        lang=lang,
    )


def _max_downloads(values: list[str], lang: str) -> dict[str, int]:
    """``--max-download NAME=BYTES`` values by source name."""
    from mamori.vulndb.messages import text
    from mamori.vulndb.online.http import DOWNLOAD_NAMES

    names = [n for n in DOWNLOAD_NAMES if n != "url"]
    limits = {}
    for value in values:
        name, _, size = value.partition("=")
        if name not in names or not size.isdigit() or int(size) < 1:
            raise InputError(
                None, text(lang, "sync", "bad_max_download", names=", ".join(names), value=value)
            )
        limits[name] = int(size)
    return limits


def _maybe_terminal() -> bool:
    """Whether stderr may be a terminal that shows a progress bar: a terminal, or one rich is told to
    assume (``FORCE_TERMINAL``, ``TTY_INTERACTIVE``). When not, a local import needs no console and
    does not import rich (about 40 ms of every such process)."""
    import os
    import sys

    if os.environ.get("FORCE_TERMINAL") or os.environ.get("TTY_INTERACTIVE"):
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _progress_bar(console: Any, label: str, disabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[records]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=True, disable=disabled)


@app.command("import", epilog=EXIT_NOTE)
def import_(
    path: str = typer.Argument(
        ..., metavar="PATH|URL", help="A file, a directory, a zip (e.g. OSV's all.zip) or an http(s) URL."
    ),
    source: str | None = typer.Option(None, "--source", help=SOURCE_HELP),
    db: str | None = DB_OPTION,
    batch: int = BATCH_OPTION,
    complete: bool = typer.Option(
        False,
        "--complete",
        help="The input is a whole feed (a mirror): it covers every ecosystem (or CPE) its records carry, so "
        "scans judge components of those scopes. An OSV export named all.zip is complete without it.",
    ),
    max_download: int | None = typer.Option(
        None,
        "--max-download",
        min=1,
        metavar="BYTES",
        help="URL: the largest download accepted (default 1 GiB, at most the input size limit).",
    ),
    timeout: float = TIMEOUT_OPTION,
    deadline: float | None = DEADLINE_OPTION,
    max_retry_wait: float = RETRY_WAIT_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Import vulnerability data, committed in batches: a rerun of an interrupted import resumes;
    bad records and files are reported and skipped. Loose records cover their ecosystems only in part:
    `mamori scan` does not evaluate components of an ecosystem no complete feed covers."""
    from mamori.vulndb import SOURCES
    from mamori.vulndb.coverage import claimed_by, import_claims
    from mamori.vulndb.messages import text
    from mamori.vulndb.sources import is_url

    lang = _check_output(output_format, lang)
    if source is not None:
        _choice(source, SOURCES, "--source")
    remote = is_url(path)
    if remote:  # the downloader (httpx) is imported only for a URL: a tenth of a local import's start-up
        from mamori.vulndb.online.http import check_url

        check_url(path, lang)
    claims = import_claims(path, source, complete)
    if not remote and not Path(path).exists():
        raise InputError(path, gettext("file not found"))
    ahead = None
    if not remote:  # the workers parse the first documents while the store's modules load and it opens
        from mamori.vulndb.parallel import read_ahead

        ahead = read_ahead(path, source)
    try:
        from mamori.store import open_store
        from mamori.vulndb import import_path
        from mamori.vulndb.importer import Progress as ImportProgress

        store = open_store(db)
    except BaseException:
        if ahead is not None:
            ahead.close()
        raise
    console: Any = None  # what the bar and the downloader write to; JSON from a file needs neither
    if remote or (output_format != "json" and _maybe_terminal()):
        from rich.console import Console

        console = Console(stderr=True)
    # no bar to show (JSON, or not a terminal): no progress calls at all (one per file otherwise)
    shown = output_format != "json" and console is not None and console.is_terminal
    bar = _progress_bar(console, text(lang, "import", "progress"), False) if shown else None
    try:
        with bar if bar is not None else contextlib.nullcontext():
            report: Callable[[ImportProgress], None] | None = None
            if bar is not None:
                task = bar.add_task("import", total=None, records=0)
                label = text(lang, "import", "records")

                def shown_progress(p: ImportProgress) -> None:
                    records = f"{p.records} {label}"
                    bar.update(task, completed=p.files_done, total=p.files_total, records=records)

                report = shown_progress

            if remote:
                limits = {"url": max_download} if max_download else {}
                from mamori.vulndb.online.urls import import_url

                with _fetcher(console, lang, timeout, deadline, max_retry_wait, limits) as fetcher:
                    summary = import_url(
                        store, path, fetcher, source=source, progress=report, batch=batch, complete=claims
                    )
            else:
                summary = import_path(
                    store, path, source=source, progress=report, batch=batch, complete=claims, ahead=ahead
                )
        coverage = store.coverage(records=False)  # the import reports scopes, not how many records each holds
    finally:
        if ahead is not None:
            ahead.close()
        store.close()
    from mamori.cli.main import keep_until_exit

    # the process then ends without the interpreter freeing every module and object one by one (the
    # store is closed, the workers have ended): a few percent of an import of a few thousand records
    keep_until_exit(summary, coverage)
    made_complete = claimed_by(coverage, summary.origin)
    partial = sorted(
        (str(r["source"]), str(r["scope"]))
        for r in coverage
        if not r["complete"] and r.get("partial_origin") == summary.origin
    )
    if output_format == "json":
        _echo_json(
            {
                "origin": summary.origin,
                "database": store.display_url,
                "files": summary.files,
                "seconds": round(summary.seconds, 3),
                "resumed": summary.resumed,
                "batches": summary.batches,
                "sources": summary.sources,
                "skipped": summary.skipped,
                "rejected": [str(r) for r in summary.rejected],
                "failed": [str(r) for r in summary.failed],
                "coverage": {
                    "complete": [{"source": s, "scope": c} for s, c in made_complete],
                    "partial": [{"source": s, "scope": c} for s, c in partial],
                },
                "warnings": [str(r) for r in summary.warnings[:WARNINGS_LISTED]],
                "purl2cpe": _links_json(summary.links),
            }
        )
    else:
        if summary.resumed:
            typer.echo(text(lang, "import", "resumed", count=summary.resumed))
        for name, counts in summary.sources.items():
            typer.echo(
                text(
                    lang,
                    "import",
                    "summary",
                    source=name,
                    read=counts.read,
                    new=counts.new,
                    updated=counts.updated,
                    unchanged=counts.unchanged,
                    withdrawn=counts.withdrawn,
                    rejected=counts.rejected,
                )
            )
        if summary.skipped:
            typer.echo(text(lang, "import", "skipped", count=len(summary.skipped)))
        _echo_links(lang, summary.links)
        _echo_warnings(lang, summary.warnings)
        _echo_problems(lang, summary.rejected, summary.failed)
        if summary.failed:
            typer.echo(text(lang, "import", "failed_count", count=len(summary.failed)))
        if made_complete:
            scopes = ", ".join(f"{s} {c}" for s, c in made_complete)
            typer.echo(visible(text(lang, "import", "complete", scopes=scopes)))
        if partial:
            scopes = ", ".join(f"{s} {c}" for s, c in partial)
            typer.echo(visible(text(lang, "import", "partial", scopes=scopes)))
        typer.echo(
            visible(
                text(
                    lang,
                    "import",
                    "done",
                    files=summary.files,
                    seconds=summary.seconds,
                    database=store.display_url,
                )
            )
        )
    if not summary.complete:
        raise typer.Exit(1)


def _base_urls(values: list[str]) -> dict[str, str]:
    names = ("nvd", "jvn", "kev", "epss", "epss-api", "osv", "osv-api", "purl2cpe")
    urls = {}
    for value in values:
        name, _, where = value.partition("=")
        if name not in names or not where.startswith(("http://", "https://")):
            expected = gettext("NAME=http(s)://… with NAME one of {names}").format(names=", ".join(names))
            raise InputError(
                None,
                gettext("--url: expected {expected}, got {value!r}").format(expected=expected, value=value),
            )
        urls[name] = where
    return urls


def _retry_note(console: Any, lang: str) -> Any:
    from mamori.vulndb.messages import text

    def note(url: str, reason: str, seconds: float) -> None:
        line = f"{url}: {text(lang, 'sync', 'retry', seconds=seconds, reason=reason)}"
        console.print(visible(line), markup=False, highlight=False)

    return note


SCOPED_SOURCES = ("nvd", "jvn", "osv")  # sources whose feeds make coverage complete


def _claims_text(claims: Iterable[Any]) -> str:
    """``osv PyPI, npm; nvd cpe``: the scopes each source's claims recorded as complete."""
    by_source: dict[str, list[str]] = {}
    for claim in claims:
        scopes = by_source.setdefault(claim.source, [])
        scopes += [s for s in claim.scopes or () if s not in scopes]
    return "; ".join(f"{source} {', '.join(scopes)}" for source, scopes in by_source.items())


@app.command(epilog=EXIT_NOTE)
def sync(
    source: list[str] = typer.Option(
        [],
        "--source",
        help="kev | epss | nvd | jvn | osv | purl2cpe (repeatable; default: all six, every OSV ecosystem).",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="DATE",
        help="NVD and JVN: changes since this day (YYYY-MM-DD), not since the last sync.",
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", help="NVD API key (else $MAMORI_NVD_API_KEY): 50 instead of 5 requests per 30 s."
    ),
    ecosystem: list[str] = typer.Option(
        [],
        "--ecosystem",
        help="OSV exports (all.zip) to fetch, e.g. PyPI (repeatable; default: every ecosystem OSV lists).",
    ),
    purl: list[str] = typer.Option([], "--purl", help="OSV: look these packages up with querybatch instead."),
    cve: list[str] = typer.Option(
        [], "--cve", help="EPSS: ask the API for these CVEs instead of the daily CSV."
    ),
    jvn_lang: str = typer.Option("ja", "--jvn-lang", help="MyJVN language: ja or en."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Download KEV, EPSS, OSV exports and purl2cpe even if unchanged; NVD and JVN: a full run again.",
    ),
    url: list[str] = typer.Option(
        [],
        "--url",
        metavar="NAME=URL",
        help="Base URL of a service: nvd, jvn, kev, epss, epss-api, osv, osv-api, purl2cpe (else $MAMORI_*_URL).",
    ),
    max_download: list[str] = typer.Option(
        [],
        "--max-download",
        metavar="NAME=BYTES",
        help="The largest download accepted from a service (NAME as for --url; defaults sized from the real feeds).",
    ),
    timeout: float = TIMEOUT_OPTION,
    deadline: float | None = DEADLINE_OPTION,
    max_retry_wait: float = RETRY_WAIT_OPTION,
    total_deadline: float = typer.Option(
        43200.0,
        "--total-deadline",
        min=1,
        metavar="SECONDS",
        help="The longest the whole sync may take (default 12 h); the sources not done by then stop.",
    ),
    db: str | None = DB_OPTION,
    batch: int = BATCH_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Fetch the online sources and import them: every source when none is chosen; incremental from the
    last sync, resumable after an interruption (progress, then one line per source)."""
    from datetime import date

    from rich.console import Console

    from mamori.store import open_store
    from mamori.vulndb.importer import Progress as ImportProgress
    from mamori.vulndb.messages import text
    from mamori.vulndb.online import SYNC_SOURCES, SyncOptions, sync_source
    from mamori.vulndb.online.plan import Reporter

    lang = _check_output(output_format, lang)
    sources = source or list(SYNC_SOURCES)
    for name in sources:
        _choice(name, SYNC_SOURCES, "--source")
    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        raise InputError(
            None, gettext("--since: expected a date YYYY-MM-DD, got {since!r}").format(since=since)
        ) from None
    options = SyncOptions(
        since=day,
        api_key=api_key,
        ecosystems=ecosystem,
        purls=purl,
        cves=cve,
        jvn_lang=_choice(jvn_lang, ("ja", "en"), "--jvn-lang"),
        force=force,
        batch=batch,
        urls=_base_urls(url),
    )
    limits = _max_downloads(max_download, lang)
    console = Console(stderr=True)
    quiet = output_format == "json" or not console.is_terminal
    results = []
    store = open_store(db)
    try:
        fetcher = _fetcher(console, lang, timeout, deadline, max_retry_wait, limits, total_deadline)
        with fetcher:
            for name in sources:
                with _progress_bar(console, text(lang, "sync", "progress", source=name), quiet) as bar:
                    task = bar.add_task(name, total=None, records="")
                    done = {"records": 0, "base": 0}

                    def expect(records: int, bar: Any = bar, task: Any = task) -> None:
                        current = bar.tasks[0].total or 0
                        bar.update(task, total=current + records)

                    def report(p: ImportProgress, bar: Any = bar, task: Any = task, done: Any = done) -> None:
                        if p.records < done["records"]:  # a new step started counting from zero
                            done["base"] += done["records"]
                        done["records"] = p.records
                        bar.update(task, completed=done["base"] + p.records, records=visible(p.current[-60:]))

                    def note(message: str) -> None:
                        console.print(visible(f"{text(lang, 'sync', 'note')}: {message}"), markup=False)

                    reporter = Reporter(expect=expect, note=note)
                    results.append(sync_source(store, name, fetcher, options, reporter, report))
    finally:
        store.close()
    if output_format == "json":
        _echo_json(
            {
                "database": store.display_url,
                "sources": {
                    r.source: {
                        "steps": r.steps,
                        "files": r.files,
                        "counts": r.counts,
                        "rejected": [str(x) for x in r.rejected],
                        "failed": [str(x) for x in r.failed],
                        "warnings": [str(x) for x in r.warnings[:WARNINGS_LISTED]],
                        "error": r.error,
                        "seconds": round(r.seconds, 3),
                        "not_modified": r.not_modified,
                        "resumed": r.resumed,
                        "complete": [{"source": c.source, "scopes": list(c.scopes or ())} for c in r.claims],
                    }
                    for r in results
                },
            }
        )
    else:
        sep = text(lang, "sync", "separator")
        for r in results:
            c = r.counts
            parts = [
                text(
                    lang,
                    "sync",
                    "summary",
                    source=r.source,
                    steps=r.steps,
                    read=c.read,
                    new=c.new,
                    updated=c.updated,
                    unchanged=c.unchanged,
                    rejected=c.rejected,
                ),
                text(lang, "sync", "timing", seconds=r.seconds),
            ]
            if r.not_modified:
                parts.append(text(lang, "sync", "not_modified", count=r.not_modified))
            if r.resumed:
                parts.append(text(lang, "import", "resumed", count=r.resumed))
            if r.claims:
                parts.append(text(lang, "sync", "claimed", scopes=_claims_text(r.claims)))
            elif r.source in SCOPED_SOURCES:
                parts.append(text(lang, "sync", "claimed_none"))
            typer.echo(visible(sep.join(parts)))
            _echo_warnings(lang, r.warnings)
            _echo_problems(lang, r.rejected, r.failed)
            if r.error:
                typer.echo(visible(text(lang, "sync", "failed", source=r.source, error=r.error)), err=True)
    if not all(r.complete for r in results):
        raise typer.Exit(1)


@app.command()
def status(
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Records per source, last update per source, database size, and coverage per source and scope
    (complete feed or partial, when, data age, records)."""
    from mamori.store import open_store
    from mamori.vulndb.show_text import status_lines, with_ages

    lang = _check_output(output_format, lang)
    with open_store(db) as store:
        result = with_ages(store.status())
    if output_format == "json":
        _echo_json(result)
    else:
        typer.echo("\n".join(status_lines(result, lang)))


@app.command()
def show(
    identifier: str = typer.Argument(
        ..., metavar="ID", help="Any id or alias: CVE, GHSA, PYSEC, GO, JVNDB, JVN# …"
    ),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """The merged vulnerability record under any of its ids, with KEV, EPSS and SSVC."""
    from mamori.store import open_store
    from mamori.vulndb.messages import text
    from mamori.vulndb.show_text import show_lines

    lang = _check_output(output_format, lang)
    with open_store(db) as store:
        found = store.lookup(identifier)
    if found is None:
        raise InputError(None, f"{identifier}: {text(lang, 'show', 'not_found')}")
    if output_format == "json":
        data = orjson.loads(orjson.dumps(found.vulnerability))
        data["also"] = found.also
        _echo_json(data)
    else:
        typer.echo("\n".join(show_lines(found.vulnerability, lang, found.also)))


# ------------------------------------------------------------------------------------------ snapshots

snapshot_app = typer.Typer(
    help="The knowledge base in one compressed file (with FILE.sha256), to cache in CI or move between stores.",
    no_args_is_help=True,
)
app.add_typer(snapshot_app, name="snapshot")
SNAPSHOT_NOTE = (
    "A snapshot holds the vulnerability data, the coverage and each source's sync state; never your own "
    "assessments, triage records or portfolio. Exit code 0: done; 2: refused or error (nothing written)."
)


def _snapshot_lines(lang: str, manifest: dict[str, Any]) -> list[str]:
    from mamori.vulndb.messages import text

    unknown = text(lang, "snapshot", "unknown")
    lines = []
    for source, facts in manifest["sources"].items():
        lines.append(
            "  "
            + text(
                lang,
                "snapshot",
                "source",
                source=visible(source),
                records=facts.get("records", 0),
                updated_at=visible(facts.get("updated_at") or unknown),
                newest=visible(facts.get("newest") or unknown),
            )
        )
    by_source: dict[str, list[str]] = {}
    for row in manifest["coverage"]:
        if row["complete"]:
            by_source.setdefault(visible(row["source"]), []).append(visible(row["scope"]))
    scopes = "; ".join(f"{k} {', '.join(v)}" for k, v in by_source.items()) or text(lang, "snapshot", "none")
    lines.append("  " + text(lang, "snapshot", "coverage", scopes=scopes))
    return lines


def _snapshot_json(info: Any, store_url: str) -> dict[str, Any]:
    from mamori.store.snapshot import sidecar_path

    manifest = info.manifest
    return {
        "path": str(info.path),
        "sidecar": str(sidecar_path(info.path)),
        "database": store_url,
        "size": info.size,
        "sha256": info.sha256,
        "verified": info.verified,
        "seconds": round(info.seconds, 3),
        "rows": info.rows,
        "replaced": info.previous,
        "mamori_version": manifest["mamori_version"],
        "schema_revision": manifest["schema_revision"],
        "created_at": manifest["created_at"],
        "sources": manifest["sources"],
        "coverage": manifest["coverage"],
        "tables": {
            t["name"]: {"rows": t["rows"], "bytes": t["bytes"], "sha256": t["sha256"]}
            for t in manifest["tables"]
        },
    }


def _table_progress(console: Any, label: str, quiet: bool) -> tuple[Any, Any]:
    bar = _progress_bar(console, label, quiet)
    task = bar.add_task("snapshot", total=None, records="")

    def report(table: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, records=table)

    return bar, report


@snapshot_app.command("export", epilog=SNAPSHOT_NOTE)
def snapshot_export(
    file: Path = typer.Argument(..., metavar="FILE", help="The snapshot to write, e.g. mamori-kb.zip."),
    level: int = typer.Option(6, "--level", min=1, max=9, help="Deflate level: 1 is fastest, 9 smallest."),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Write the knowledge base to FILE (a zip: manifest.json and one table a member) and its SHA-256 to
    FILE.sha256, from one consistent read; written to a temporary file and renamed."""
    from rich.console import Console

    from mamori.store import open_store
    from mamori.store.snapshot import export_snapshot, sidecar_path
    from mamori.vulndb.messages import text

    lang = _check_output(output_format, lang)
    console = Console(stderr=True)
    bar, report = _table_progress(console, "snapshot", output_format == "json" or not console.is_terminal)
    with open_store(db) as store, bar:
        info = export_snapshot(store, file, progress=report, level=level)
    if output_format == "json":
        _echo_json(_snapshot_json(info, store.display_url))
        return
    typer.echo(
        text(
            lang,
            "snapshot",
            "written",
            path=visible(file),
            size=info.size,
            rows=info.rows,
            seconds=info.seconds,
            database=store.display_url,
        )
    )
    typer.echo(
        "  " + text(lang, "snapshot", "checksum", sha256=info.sha256, sidecar=visible(sidecar_path(file)))
    )
    typer.echo("\n".join(_snapshot_lines(lang, info.manifest)))


@snapshot_app.command("import", epilog=SNAPSHOT_NOTE)
def snapshot_import(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="A snapshot written by `mamori db snapshot export`."
    ),
    sha256: str | None = typer.Option(
        None, "--sha256", metavar="HEX", help="The SHA-256 FILE must have (else FILE.sha256 when present)."
    ),
    max_size: int | None = typer.Option(
        None,
        "--max-size",
        min=1,
        metavar="BYTES",
        help="Largest file and decompressed tables accepted (else $MAMORI_SNAPSHOT_MAX_BYTES, else 16 GiB).",
    ),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str | None = LANG_OPTION,
) -> None:
    """Replace the knowledge base with FILE in one transaction, after checking its SHA-256 (FILE.sha256 or
    --sha256), every member's SHA-256 and size, and its schema revision; refused with nothing written
    when anything does not match. Coverage and data dates travel with it."""
    from rich.console import Console

    from mamori.store import open_store
    from mamori.store.snapshot import import_snapshot, sidecar_path
    from mamori.vulndb.messages import text

    lang = _check_output(output_format, lang)
    console = Console(stderr=True)
    bar, report = _table_progress(console, "snapshot", output_format == "json" or not console.is_terminal)
    with open_store(db) as store, bar:
        info = import_snapshot(store, file, sha256=sha256, max_bytes=max_size, progress=report)
    if output_format == "json":
        _echo_json(_snapshot_json(info, store.display_url))
        return
    manifest = info.manifest
    typer.echo(
        text(
            lang,
            "snapshot",
            "imported",
            path=visible(file),
            created_at=visible(manifest["created_at"]),
            version=visible(manifest["mamori_version"]),
            rows=info.rows,
            seconds=info.seconds,
            database=store.display_url,
        )
    )
    key = {"sidecar": "verified_sidecar", "option": "verified_option"}.get(info.verified, "verified_manifest")
    typer.echo("  " + text(lang, "snapshot", key, sidecar=visible(sidecar_path(file).name)))
    typer.echo("\n".join(_snapshot_lines(lang, manifest)))

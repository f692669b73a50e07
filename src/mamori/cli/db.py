"""``mamori db ...``: the vulnerability knowledge base (import, sync, status, show)."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from mamori.errors import InputError

app = typer.Typer(help="Vulnerability knowledge base: import, sync, status, show.", no_args_is_help=True)

DB_HELP = (
    "Database: a SQLite file path or a URL (postgresql+psycopg://…); default $MAMORI_DB or the user data dir."
)
SOURCE_HELP = "osv | nvd | cve5 | jvn | kev | epss | purl2cpe (detected when omitted)."
DB_OPTION = typer.Option(None, "--db", help=DB_HELP)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")
LANG_OPTION = typer.Option("en", "--lang", help="Language of the text output: en or ja.")


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(None, f"{option}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _check_output(output_format: str, lang: str) -> None:
    _choice(output_format, ("text", "json"), "--format")
    _choice(lang, ("en", "ja"), "--lang")


def _echo_json(data: object) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="A file, a directory or a zip (e.g. OSV's all.zip)."),
    source: str | None = typer.Option(None, "--source", help=SOURCE_HELP),
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Import vulnerability data; one transaction: a bad file imports nothing."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from mamori.store import open_store
    from mamori.vulndb import SOURCES, import_path
    from mamori.vulndb.importer import Progress as ImportProgress
    from mamori.vulndb.messages import text

    _check_output(output_format, lang)
    if source is not None:
        _choice(source, SOURCES, "--source")
    if not path.exists():
        raise InputError(path, "file not found")
    store = open_store(db)
    console = Console(stderr=True)
    columns = (
        TextColumn(text(lang, "import", "progress")),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[records]} " + text(lang, "import", "records")),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(
            *columns,
            console=console,
            transient=True,
            disable=output_format == "json" or not console.is_terminal,
        ) as bar:
            task = bar.add_task("import", total=None, records=0)

            def report(p: ImportProgress) -> None:
                bar.update(task, completed=p.files_done, total=p.files_total, records=p.records)

            summary = import_path(store, path, source=source, progress=report)
    finally:
        store.close()
    if output_format == "json":
        _echo_json(
            {
                "origin": summary.origin,
                "database": store.display_url,
                "files": summary.files,
                "seconds": round(summary.seconds, 3),
                "sources": summary.sources,
                "skipped": summary.skipped,
                "rejected": [str(r) for r in summary.rejected],
            }
        )
        return
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
    for rejected in summary.rejected:
        typer.echo(f"{text(lang, 'import', 'rejected')}: {rejected}", err=True)
    typer.echo(
        text(lang, "import", "done", files=summary.files, seconds=summary.seconds, database=store.display_url)
    )


@app.command()
def status(
    db: str | None = DB_OPTION,
    output_format: str = FORMAT_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Records per source, last update per source, database size."""
    from mamori.store import open_store
    from mamori.vulndb.show_text import status_lines

    _check_output(output_format, lang)
    with open_store(db) as store:
        result = store.status()
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
    lang: str = LANG_OPTION,
) -> None:
    """The merged vulnerability record under any of its ids, with KEV, EPSS and SSVC."""
    from mamori.store import open_store
    from mamori.vulndb.messages import text
    from mamori.vulndb.show_text import show_lines

    _check_output(output_format, lang)
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

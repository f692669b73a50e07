"""``mamori sbom ...``: convert, check, diff, merge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamori import sbom
from mamori.cli.options import choice as _choice
from mamori.cli.options import print_read_warnings
from mamori.display import visible
from mamori.errors import InputError
from mamori.i18n import DEFAULT_NOTE, _, choose_lang, gettext

app = typer.Typer(help="Read, convert, check, compare and merge SBOMs.", no_args_is_help=True)


def parse_columns(spec: str | None) -> dict[str, str]:
    """``supplier=仕入先,name=部品名`` → {"supplier": "仕入先", "name": "部品名"}."""
    mapping: dict[str, str] = {}
    if not spec:
        return mapping
    for part in spec.split(","):
        if not part.strip():
            continue
        field, sep, header = part.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise InputError(
                None, gettext("--columns: expected FIELD=HEADER, got {part!r}").format(part=part)
            )
        mapping[field.strip()] = header.strip()
    return mapping


# options of every command that reads SBOMs (convert, check, diff, merge); defined once
Columns = Annotated[
    str | None,
    typer.Option(
        "--columns", help="Spreadsheet input: header map, e.g. name=部品名,version=版,supplier=仕入先"
    ),
]
Sheet = Annotated[
    str | None,
    typer.Option("--sheet", help="Spreadsheet input: the sheet to read, by name or 1-based number."),
]
InputFormat = Annotated[
    str | None,
    typer.Option(
        "--from", help="Force the input format instead of detecting it: " + "|".join(sbom.READ_FORMATS)
    ),
]


def _read_detected(
    path: Path,
    columns: str | None = None,
    fmt: str | None = None,
    sheet: str | None = None,
    *,
    strict: bool = False,
    lang: str | None = None,
) -> tuple[sbom.Document, str]:
    """Read an SBOM (once) and say which format it was read as; the read's warnings go to stderr."""
    from mamori.sbom.formats import read_detected

    options = sbom.ReadOptions(columns=parse_columns(columns), sheet=sheet, strict=strict)
    doc, detected = read_detected(path, fmt=fmt, options=options)
    print_read_warnings(doc.warnings, lang or choose_lang(None))
    return doc, detected


def read_input(
    path: Path,
    columns: str | None = None,
    fmt: str | None = None,
    sheet: str | None = None,
    *,
    strict: bool = False,
    lang: str | None = None,
) -> sbom.Document:
    return _read_detected(path, columns, fmt, sheet, strict=strict, lang=lang)[0]


STRICT_HELP = (
    "Refuse the input on the first flaw in a field (a licence that is no SPDX expression, a value the "
    "spec does not allow, a purl or CPE that does not parse, a bad date) instead of warning about it "
    "on stderr and converting the rest."
)


@app.command()
def convert(
    source: Path = typer.Argument(..., help="Input SBOM in any format mamori reads."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file; written atomically."),
    to: str | None = typer.Option(None, "--to", help="Output format: " + "|".join(sbom.WRITE_FORMATS)),
    spec_version: str | None = typer.Option(
        None, "--spec-version", help="CycloneDX 1.4, 1.5 or 1.6 (default)."
    ),
    columns: Columns = None,
    sheet: Sheet = None,
    input_format: InputFormat = None,
    strict: bool = typer.Option(False, "--strict", help=STRICT_HELP),
    lang: str | None = typer.Option(
        None, "--lang", help=f"Language of the warnings: en or ja ({DEFAULT_NOTE})."
    ),
) -> None:
    """Convert an SBOM between CycloneDX, SPDX and SPDX Lite.

    Lenient by default: a flaw in one field is a warning naming the component, the rest is converted.

    --strict refuses the file on the first flaw instead (exit 2); a missing version is never refused.
    """
    doc = read_input(source, columns, input_format, sheet, strict=strict, lang=choose_lang(lang))
    fmt = sbom.write(doc, output, to, spec_version)
    count = sum(1 for _component in doc.all_components())
    typer.echo(
        visible(_("{output} ({format}, {count} components)").format(output=output, format=fmt, count=count))
    )


# ---------------------------------------------------------------- check, diff, merge

_LANG_HELP = f"Language of the text output: en or ja ({DEFAULT_NOTE})."


def _echo_json(obj: object) -> None:
    import orjson

    typer.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode())


@app.command()
def check(
    source: Path = typer.Argument(..., help="SBOM to check (any format mamori reads)."),
    profile: str = typer.Option("ntia", "--profile", help="ntia (NTIA minimum elements) or spdx-lite."),
    output_format: str = typer.Option("text", "--format", help="text or json."),
    columns: Columns = None,
    sheet: Sheet = None,
    lang: str | None = typer.Option(None, "--lang", help=_LANG_HELP),
    input_format: InputFormat = None,
) -> None:
    """Check NTIA minimum elements (or SPDX Lite fields) and score the SBOM; exit 1 when it fails."""
    from rich.console import Console

    from mamori.sbom.check import check_document, load_profile
    from mamori.sbom.report_text import render_check

    _choice(output_format, ("text", "json"), "--format")
    lang = choose_lang(lang)
    load_profile(profile)  # unknown profile: one-line error before reading
    doc, fmt = _read_detected(source, columns, input_format, sheet, lang=lang)
    report = check_document(doc, profile, file=str(source), fmt=fmt)
    if output_format == "json":
        _echo_json(report.to_json())
    else:
        render_check(report, Console(), lang)
    if not report.passed:
        raise typer.Exit(1)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="The earlier SBOM (A)."),
    new: Path = typer.Argument(..., help="The later SBOM (B)."),
    output_format: str = typer.Option("text", "--format", help="text or json."),
    lang: str | None = typer.Option(None, "--lang", help=_LANG_HELP),
    columns: Columns = None,
    sheet: Sheet = None,
    input_format: InputFormat = None,
) -> None:
    """Added, removed, version/licence/supplier/hash changes between two SBOMs."""
    from rich.console import Console

    from mamori.sbom.diff import diff_documents
    from mamori.sbom.report_text import render_diff

    _choice(output_format, ("text", "json"), "--format")
    lang = choose_lang(lang)
    a, b = (read_input(path, columns, input_format, sheet, lang=lang) for path in (old, new))
    report = diff_documents(a, b, a_name=str(old), b_name=str(new))
    if output_format == "json":
        _echo_json(report.to_json())
    else:
        render_diff(report, Console(), lang)


@app.command()
def merge(
    sources: list[Path] = typer.Argument(..., help="Supplier SBOMs to gather under one product root."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file; written atomically."),
    root_name: str | None = typer.Option(
        None, "--root-name", help="Product name (default: output file name)."
    ),
    root_version: str | None = typer.Option(None, "--root-version", help="Product version."),
    to: str | None = typer.Option(None, "--to", help="Output format: " + "|".join(sbom.WRITE_FORMATS)),
    spec_version: str | None = typer.Option(
        None, "--spec-version", help="CycloneDX 1.4, 1.5 or 1.6 (default)."
    ),
    lang: str | None = typer.Option(None, "--lang", help=_LANG_HELP),
    columns: Columns = None,
    sheet: Sheet = None,
    input_format: InputFormat = None,
) -> None:
    """Merge SBOMs under a new product root: duplicates by purl united, bom-ref collisions renamed."""
    from mamori.sbom.merge import merge_documents
    from mamori.sbom.messages import text

    lang = choose_lang(lang)
    inputs = [(str(path), read_input(path, columns, input_format, sheet, lang=lang)) for path in sources]
    name = root_name or output.name.split(".")[0] or "product"
    result = merge_documents(inputs, root_name=name, root_version=root_version)
    fmt = sbom.write(result.document, output, to, spec_version)
    typer.echo(
        text(
            lang,
            "ui",
            "merged",
            out=visible(output),
            fmt=fmt,
            components=result.components,
            inputs=result.inputs,
            duplicates=result.duplicates,
            renamed=result.renamed,
        )
    )


# ---------------------------------------------------------------- generate


@app.command()
def generate(
    path: Path = typer.Argument(
        ..., help="Project folder (walked for lockfiles and manifests) or one lockfile."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output file (default: stdout)."),
    output_format: str | None = typer.Option(
        None,
        "--format",
        help="Output format: " + "|".join(sbom.WRITE_FORMATS) + " (default: from -o, else cyclonedx-json).",
    ),
    spec_version: str | None = typer.Option(
        None, "--spec-version", help="CycloneDX 1.4, 1.5 or 1.6 (default)."
    ),
    name: str | None = typer.Option(None, "--name", help="Product name of the root component."),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Product version of the root component (default: the manifest's, else what git describe "
        "--tags --always gives, read from the repository's files: git is never run; docs/generate.md).",
    ),
    supplier: str | None = typer.Option(
        None, "--supplier", help='Supplier and SBOM author, e.g. "Example KK <psirt@example.jp>".'
    ),
    exclude_dev: bool = typer.Option(False, "--exclude-dev", help="Leave out development-only dependencies."),
    rootfs: Path | None = typer.Option(
        None,
        "--rootfs",
        help="Also read OS package databases under this root (dpkg, apk, RPM SQLite); each package's "
        "source package goes in its purl's upstream qualifier (docs/generate.md).",
    ),
    python_env: Path | None = typer.Option(
        None, "--python-env", help="Also read an installed Python environment (venv or site-packages)."
    ),
    author: str | None = typer.Option(
        None,
        "--author",
        help='Author of the SBOM data, e.g. "Taro Yamada <taro@example.jp>" (default: the author key '
        "of the sbom.generate table of mamori.toml, else --supplier; docs/generate.md).",
    ),
    author_from_git: bool = typer.Option(
        False, "--author-from-git", help="Take the SBOM author from the git user.name/user.email of PATH."
    ),
    include_tests: bool = typer.Option(
        False, "--include-tests", help="Also read test-fixture folders (fixtures, __fixtures__, testdata …)."
    ),
    exclude: list[str] = typer.Option(
        [],
        "--exclude",
        "--skip-dirs",
        help="Skip folders or files matching this glob (path relative to PATH, or name); repeatable.",
    ),
    no_default_excludes: bool = typer.Option(
        False,
        "--no-default-excludes",
        help="Read test fixtures and example projects too (skipped by default; docs/generate.md).",
    ),
) -> None:
    """Make an SBOM from lockfiles, manifests and installed packages.

    Test fixtures and vendored example projects below PATH are skipped by default.
    """
    import sys

    from mamori.sbom.generate import GenerateOptions, notices
    from mamori.sbom.generate import generate as generate_sbom

    fmt = output_format or (sbom.format_from_filename(output) if output else None) or "cyclonedx-json"
    if fmt not in sbom.WRITE_FORMATS:
        raise InputError(
            None,
            gettext("--format: expected one of {allowed}, got {fmt!r}").format(
                allowed=", ".join(sbom.WRITE_FORMATS), fmt=fmt
            ),
        )
    from mamori.sbom.generate.author import configured_author

    options = GenerateOptions(
        name=name,
        version=version,
        supplier=supplier,
        exclude_dev=exclude_dev,
        python_env=python_env,
        rootfs=rootfs,
        author=author if author and author.strip() else (None if author_from_git else configured_author()),
        author_from_git=author_from_git,
        include_tests=include_tests,
        default_excludes=not no_default_excludes,
        exclude=tuple(exclude),
    )
    doc = generate_sbom(path, options)
    for note in notices(doc):
        sys.stderr.write(visible(gettext("mamori: notice: {note}").format(note=note)) + "\n")
    count = sum(1 for _ in doc.all_components())
    if output is None:
        sys.stdout.buffer.write(sbom.dumps(doc, fmt, spec_version))
        sys.stdout.flush()
        sys.stderr.write(gettext("({fmt}, {count} components)").format(fmt=fmt, count=count) + "\n")
    else:
        sbom.write(doc, output, fmt, spec_version)
        typer.echo(
            visible(
                gettext("{output} ({format}, {count} components)").format(
                    output=output, format=fmt, count=count
                )
            )
        )

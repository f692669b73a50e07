"""``mamori sbom ...``: convert, check, diff, merge."""

from __future__ import annotations

from pathlib import Path

import typer

from mamori import sbom
from mamori.errors import InputError

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
            raise InputError(None, f"--columns: expected FIELD=HEADER, got {part!r}")
        mapping[field.strip()] = header.strip()
    return mapping


def read_input(path: Path, columns: str | None = None, fmt: str | None = None) -> sbom.Document:
    return sbom.read(path, fmt=fmt, options=sbom.ReadOptions(columns=parse_columns(columns)))


@app.command()
def convert(
    source: Path = typer.Argument(..., help="Input SBOM in any format mamori reads."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file; written atomically."),
    to: str | None = typer.Option(None, "--to", help="Output format: " + "|".join(sbom.WRITE_FORMATS)),
    spec_version: str | None = typer.Option(None, "--spec-version", help="CycloneDX 1.4, 1.5 or 1.6 (default)."),
    columns: str | None = typer.Option(None, "--columns", help="Spreadsheet header map, e.g. name=部品名,version=版"),
    input_format: str | None = typer.Option(None, "--from", help="Force the input format instead of detecting it."),
) -> None:
    """Convert an SBOM between CycloneDX, SPDX and SPDX Lite."""
    doc = read_input(source, columns, input_format)
    fmt = sbom.write(doc, output, to, spec_version)
    typer.echo(f"{output} ({fmt}, {sum(1 for _ in doc.all_components())} components)")


# ---------------------------------------------------------------- generate


@app.command()
def generate(
    path: Path = typer.Argument(..., help="Project folder (walked for lockfiles and manifests) or one lockfile."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output file (default: stdout)."),
    output_format: str | None = typer.Option(
        None, "--format", help="Output format: " + "|".join(sbom.WRITE_FORMATS) + " (default: from -o, else cyclonedx-json)."
    ),
    spec_version: str | None = typer.Option(None, "--spec-version", help="CycloneDX 1.4, 1.5 or 1.6 (default)."),
    name: str | None = typer.Option(None, "--name", help="Product name of the root component."),
    version: str | None = typer.Option(None, "--version", help="Product version of the root component."),
    supplier: str | None = typer.Option(None, "--supplier", help='Supplier and SBOM author, e.g. "Example KK <psirt@example.jp>".'),
    exclude_dev: bool = typer.Option(False, "--exclude-dev", help="Leave out development-only dependencies."),
    rootfs: Path | None = typer.Option(None, "--rootfs", help="Also read OS package databases under this root."),
    python_env: Path | None = typer.Option(None, "--python-env", help="Also read an installed Python environment (venv or site-packages)."),
) -> None:
    """Make an SBOM from lockfiles, manifests and installed packages."""
    import sys

    from mamori.sbom.generate import GenerateOptions, notices
    from mamori.sbom.generate import generate as generate_sbom

    fmt = output_format or (sbom.format_from_filename(output) if output else None) or "cyclonedx-json"
    if fmt not in sbom.WRITE_FORMATS:
        raise InputError(None, f"--format: expected one of {', '.join(sbom.WRITE_FORMATS)}, got {fmt!r}")
    options = GenerateOptions(name=name, version=version, supplier=supplier, exclude_dev=exclude_dev,
                              python_env=python_env, rootfs=rootfs)
    doc = generate_sbom(path, options)
    for note in notices(doc):
        sys.stderr.write(f"mamori: notice: {note}\n")
    count = sum(1 for _ in doc.all_components())
    if output is None:
        sys.stdout.buffer.write(sbom.dumps(doc, fmt, spec_version))
        sys.stdout.flush()
        sys.stderr.write(f"({fmt}, {count} components)\n")
    else:
        sbom.write(doc, output, fmt, spec_version)
        typer.echo(f"{output} ({fmt}, {count} components)")

"""``mamori catalog ...``: the source texts as catalogs (guideline, SSDF, checklist, JC-STAR ☆1 ...)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Catalogs of the guideline, SSDF, checklist, JC-STAR ☆1 and SBOM models.", no_args_is_help=True)

"""``mamori ssvc ...``: SSVC decision tables as data."""

from __future__ import annotations

import typer

app = typer.Typer(help="SSVC decision points and tables: list them, decide an outcome.", no_args_is_help=True)

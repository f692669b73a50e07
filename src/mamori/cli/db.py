"""``mamori db ...``: the vulnerability knowledge base (import, sync, status, show)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Vulnerability knowledge base: import, sync, status, show.", no_args_is_help=True)

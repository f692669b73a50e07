"""The ``mamori`` command line (typer + rich)."""

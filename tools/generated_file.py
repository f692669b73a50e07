"""What the scripts that write a generated file under src/mamori/data share: write it, or with ``--check``
only say whether the file on disk is current (exit 1 when not)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(target: Path, data: bytes, command: str) -> int:
    """Write ``data`` to ``target``; with ``--check`` on the command line, compare instead and name
    ``command`` (what rewrites the file) when it is out of date."""
    if "--check" in sys.argv[1:]:
        current = target.is_file() and target.read_bytes() == data
        print(f"{target.name}: {'current' if current else f'out of date: run {command}'}")
        return 0 if current else 1
    target.write_bytes(data)
    print(f"{target.name}: {len(data)} bytes")
    return 0

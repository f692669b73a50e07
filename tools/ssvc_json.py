"""Write src/mamori/data/ssvc/catalog.json, the packaged SSVC YAML files as parsed (mamori reads it at
start-up instead of parsing the YAML): run after changing a file under src/mamori/data/ssvc.
``--check`` only says whether it is current (exit 1 when not).

Usage: python tools/ssvc_json.py [--check]
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from mamori.triage import ssvc


def main() -> int:
    base = Path(str(resources.files("mamori") / "data" / "ssvc"))
    target = base / ssvc.PACKED
    data = ssvc.packed(base)
    if "--check" in sys.argv[1:]:
        current = target.is_file() and target.read_bytes() == data
        print(f"{target.name}: {'current' if current else 'out of date: run python tools/ssvc_json.py'}")
        return 0 if current else 1
    target.write_bytes(data)
    print(f"{target.name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

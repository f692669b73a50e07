"""Write src/mamori/data/packed.json, the packaged YAML files as parsed (mamori reads a file from it, without
importing PyYAML, while the file's text is the one packed): run after changing a YAML file under
src/mamori/data (a changed file is parsed from the YAML until then). ``--check`` only says whether it is
current (exit 1 when not).

Usage: python tools/pack_data.py [--check]
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from mamori import packaged


def main() -> int:
    base = Path(str(resources.files("mamori") / "data"))
    target = base / packaged.PACKED
    data = packaged.packed(base)
    if "--check" in sys.argv[1:]:
        current = target.is_file() and target.read_bytes() == data
        print(f"{target.name}: {'current' if current else 'out of date: run python tools/pack_data.py'}")
        return 0 if current else 1
    target.write_bytes(data)
    print(f"{target.name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

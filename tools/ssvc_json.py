"""Write src/mamori/data/ssvc/catalog.json, the packaged SSVC YAML files as parsed (mamori reads it at
start-up instead of parsing the YAML): run after changing a file under src/mamori/data/ssvc.
``--check`` only says whether it is current (exit 1 when not).

Usage: python tools/ssvc_json.py [--check]
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from generated_file import write_or_check

from mamori.triage import ssvc


def main() -> int:
    base = Path(str(resources.files("mamori") / "data" / "ssvc"))
    target = base / ssvc.PACKED
    data = ssvc.packed(base)
    return write_or_check(target, data, "python tools/ssvc_json.py")


if __name__ == "__main__":
    sys.exit(main())

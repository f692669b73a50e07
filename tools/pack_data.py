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

from generated_file import write_or_check

from mamori import packaged


def main() -> int:
    base = Path(str(resources.files("mamori") / "data"))
    target = base / packaged.PACKED
    data = packaged.packed(base)
    return write_or_check(target, data, "python tools/pack_data.py")


if __name__ == "__main__":
    sys.exit(main())

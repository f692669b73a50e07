"""Print ``name==version`` for each named dependency at the lower bound pyproject.toml declares."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

wanted = set(sys.argv[1:])
project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
for text in project["dependencies"]:
    req = Requirement(text)
    if req.name in wanted:
        lows = [s.version for s in req.specifier if s.operator in (">=", "==", "~=")]
        if not lows:
            sys.exit(f"{req.name} has no lower bound in pyproject.toml")
        print(f"{req.name}=={lows[0]}")

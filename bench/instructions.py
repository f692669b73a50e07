"""Instructions a fresh ``mamori`` process executes, counted by valgrind, this checkout against another one.

Wall and CPU time move with the machine's load (other work on the same cores); the number of instructions a
process executes does not, so a change of a few percent shows even on a loaded machine. Each command runs
once per side under ``valgrind --tool=callgrind`` (its total ``Collected`` count: instructions executed by
the process, interpreter start, imports, the work and exit); the two sides run one after the other, command
after command.

Set-up (not counted): the store given with ``--db`` (an import of all the shared data, as ``bench/scan.py``
makes) is copied once per side; SBOMs of 3 and 5,000 components are taken from it as ``bench/scan.py``
takes them. One unmeasured run of each command per side first (``--warm-up``, default 1), outside
valgrind: every Python file compiled into its bytecode cache (``PYTHONDONTWRITEBYTECODE`` left out of the
commands' environment), the stores at the newest schema revision, mamori's compiled data class methods
cached, as an installed mamori runs.

Commands: ``mamori --version``; ``mamori scan SBOM3 --db COPY -f json -o FILE --allow-partial -q`` and its
ratio to ``--version``; with ``--large`` also the 5,000-component scan (about 2 minutes of CPU under
valgrind). The JSON reports of the two sides are compared (everything but ``age_days``).

Usage: .venv/bin/python bench/instructions.py --db STORE [--baseline OTHER_MAMORI] [--large] [--warm-up 1]
Prints one JSON object; not run by pytest. Needs valgrind.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from process_timing import machine
from scan import build_sbom
from startup import _report

COLLECTED = re.compile(rb"Collected\s*:\s*(\d+)")


def instructions(cmd: list[str], env: dict[str, str], tmp: Path) -> int:
    """The instructions ``cmd`` executes under callgrind (its ``Collected`` total)."""
    out = tmp / "callgrind.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    found = COLLECTED.search(done.stderr)
    out.unlink(missing_ok=True)
    if found is None or done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]}: exit {done.returncode}, no instruction count")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an imported store of all the shared data (copied)")
    parser.add_argument("--baseline", help="the mamori executable to compare with")
    parser.add_argument("--large", action="store_true", help="also the 5,000-component scan")
    parser.add_argument("--warm-up", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    sides = {"this": str(Path(sys.executable).with_name("mamori"))}
    if args.baseline:
        sides = {"baseline": args.baseline, **sides}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    at_start = machine()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        dbs = {side: tmp / f"{side}.db" for side in sides}
        for path in dbs.values():
            shutil.copyfile(args.db, path)
        small, large = tmp / "bench-3.cdx.json", tmp / "bench-5000.cdx.json"
        build_sbom(str(dbs["this"]), 3, small)
        kinds: list[tuple[str, Path | None]] = [("version", None), ("scan_3_json", small)]
        if args.large:
            build_sbom(str(dbs["this"]), 5000, large)
            kinds.append(("scan_5000_json", large))
        cmds: dict[str, list[str]] = {}
        outs: dict[str, Path] = {}
        for kind, sbom in kinds:
            for side, mamori in sides.items():
                name = f"{kind}:{side}"
                outs[name] = tmp / f"{kind}-{side}.out"
                report = ["-f", "json", "-o", str(outs[name]), "--allow-partial", "-q"]
                cmds[name] = (
                    [mamori, "--version"]
                    if sbom is None
                    else [mamori, "scan", str(sbom), "--db", str(dbs[side]), *report]
                )
        for _ in range(args.warm_up):
            for cmd in cmds.values():
                subprocess.run(
                    cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
                )
        counts = {name: instructions(cmd, env, tmp) for name, cmd in cmds.items()}
        figures: dict[str, Any] = {}
        for side in sides:
            mine: dict[str, Any] = {kind: counts[f"{kind}:{side}"] for kind, _ in kinds}
            mine["scan_3_over_version"] = round(mine["scan_3_json"] / mine["version"], 3)
            figures[side] = mine
        if "baseline" in sides:
            figures["this_over_baseline"] = {
                kind: round(counts[f"{kind}:this"] / counts[f"{kind}:baseline"], 4) for kind, _ in kinds
            }
            figures["reports_identical"] = {
                kind: _report(outs[f"{kind}:baseline"]) == _report(outs[f"{kind}:this"])
                for kind, sbom in kinds
                if sbom is not None
            }
    print(
        json.dumps(
            {
                "tool": "valgrind --tool=callgrind (Collected: instructions executed)",
                "warm_up_rounds": args.warm_up,
                "sides": sides,
                "figures": figures,
                "machine": {"at_start": at_start, "at_end": machine()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

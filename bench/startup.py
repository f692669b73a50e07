"""Start-up as a user feels it: this checkout's ``mamori`` against another one (``--baseline``, e.g. the
``mamori`` of a checkout of the main branch), whole processes, in the same run.

Set-up (not timed): the store given with ``--db`` (an import of all the shared data, as ``bench/scan.py``
makes) is copied once per side into a temporary folder, so that neither side writes the other's files;
SBOMs of real names and versions are taken from it as ``bench/scan.py`` takes them (3 and 5,000
components).

Whole processes (``bench/process_timing.py``: wall time, CPU time and peak RSS; median, min and max over
``--repeat`` runs, default 5, the same for every command; the commands run in turn, baseline then this
checkout, command after command: version, 3-component scan, 5,000-component scan, then again). One
unmeasured warm-up round first (``--warm-up``, default 1), so that every measured run finds the store,
the SBOMs and the Python files in the OS file cache, and every Python file compiled in its bytecode cache
(``PYTHONDONTWRITEBYTECODE`` is left out of the commands' environment), on both sides alike:
- ``mamori --version`` (start-up only);
- ``mamori scan SBOM3 --db COPY -f json -o FILE --allow-partial`` and the ratio of its median to that of
  ``--version`` (the goal: within 2.5 times), of wall time and of CPU time (user + system, less sensitive
  to other processes' load);
- the same scan of the 5,000-component SBOM.

After the runs the two sides' JSON reports are compared, leaving out only ``age_days`` (the data's age at
the time of the scan): ``reports_identical``.

Usage: .venv/bin/python bench/startup.py --db STORE [--baseline OTHER_MAMORI] [--repeat 5] [--warm-up 1]
(without --baseline only this checkout is measured). Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from process_timing import machine, measure_in_turn, ratio
from scan import build_sbom

VOLATILE = {"age_days"}


def _report(path: Path) -> Any:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(path.read_bytes()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an imported store of all the shared data (copied)")
    parser.add_argument("--baseline", help="the mamori executable to compare with")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warm-up", type=int, default=1)
    args = parser.parse_args()
    sides = {"this": str(Path(sys.executable).with_name("mamori"))}
    if args.baseline:
        sides = {"baseline": args.baseline, **sides}
    at_start = machine()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        dbs = {side: tmp / f"{side}.db" for side in sides}
        for path in dbs.values():
            shutil.copyfile(args.db, path)
        small, large = tmp / "bench-3.cdx.json", tmp / "bench-5000.cdx.json"
        build_sbom(str(dbs["this"]), 3, small)
        made = build_sbom(str(dbs["this"]), 5000, large)
        cmds: dict[str, list[str]] = {}
        outs: dict[str, Path] = {}
        for kind, sbom in (("version", None), ("scan_3_json", small), ("scan_5000_json", large)):
            for side, mamori in sides.items():
                name = f"{kind}:{side}"
                outs[name] = tmp / f"{kind}-{side}.out"
                if sbom is None:
                    cmds[name] = [mamori, "--version"]
                else:
                    report = ["-f", "json", "-o", str(outs[name]), "--allow-partial"]
                    cmds[name] = [mamori, "scan", str(sbom), "--db", str(dbs[side]), *report]
        # the Python files of both sides compiled once (in the warm-up round) and read from their cache, as
        # an installed mamori's are: a PYTHONDONTWRITEBYTECODE in this environment would make every run
        # compile the sources of an editable checkout again
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        runs = measure_in_turn(
            cmds, {n: tmp / f"{n}.stdout" for n in cmds}, args.repeat, args.warm_up, env=env, cpu=True
        )
        figures: dict[str, Any] = {}
        for side in sides:
            mine = {kind: runs[f"{kind}:{side}"] for kind in ("version", "scan_3_json", "scan_5000_json")}
            mine["scan_3_over_version"] = ratio(mine["scan_3_json"], mine["version"])
            mine["scan_3_over_version_cpu"] = ratio(
                mine["scan_3_json"], mine["version"], "cpu_seconds_median"
            )
            figures[side] = mine
        if "baseline" in sides:
            figures["reports_identical"] = {
                kind: _report(outs[f"{kind}:baseline"]) == _report(outs[f"{kind}:this"])
                for kind in ("scan_3_json", "scan_5000_json")
            }
    print(
        json.dumps(
            {
                "repeat": args.repeat,
                "warm_up_rounds": args.warm_up,
                "sbom_5000": made,
                "sides": sides,
                "figures": figures,
                "machine": {"at_start": at_start, "at_end": machine()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

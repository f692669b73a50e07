"""Agreement of ``mamori advisory validate``'s mandatory tests with the OASIS validator test set and with
@secvisogram/csaf-validator-lib, and the time of ``mamori csaf check`` on CISA's provider tree.

    .venv/bin/python bench/csaf_agreement.py [--no-cisa]

Prints one JSON object: per mandatory test file of testcases.json, whether mamori's verdict for the test the
file is named for equals the expected one; per file, whether mamori's set of failing mandatory tests equals
the library's (when node and the library are at hand: tests/csaf_peer.py installs it); then, unless
--no-cisa, ``mamori csaf check`` on ../shared/data/csaf/cisa as a subprocess: wall and CPU seconds (no warm-up;
the files are read from the page cache after the first run) and the count of each deviation.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
SHARED = Path(os.environ.get("MAMORI_SHARED_DATA", ROOT.parent / "shared" / "data"))
TESTS = SHARED / "csaf" / "validator-tests"


def main() -> None:
    from mamori.vex.csaf_checks import mandatory_problems

    out: dict[str, object] = {"loadavg": Path("/proc/loadavg").read_text().split()[:3]}
    cases = []
    for test in json.loads((TESTS / "testcases.json").read_text(encoding="utf-8"))["tests"]:
        if test["group"] == "mandatory":
            for case in [*test.get("failures", []), *test.get("valid", [])]:
                cases.append((test["id"], TESTS / case["name"], case["valid"]))
    mine = {
        path: {p.test for p in mandatory_problems(json.loads(path.read_text(encoding="utf-8")))}
        for _t, path, _v in cases
    }
    agree = sum((test not in mine[path]) == valid for test, path, valid in cases)
    out["testcases"] = {"cases": len(cases), "agree": agree, "disagree": len(cases) - agree}
    from csaf_peer import mandatory_failures, validator_lib

    lib = validator_lib() if shutil.which("node") else None
    if lib is not None:
        files = sorted(set(mine))
        with tempfile.TemporaryDirectory() as work:
            theirs = mandatory_failures(lib, files, Path(work))
        same = [p for p in files if mine[p] == set(theirs[p])]
        lib_agree = sum((test not in theirs[path]) == valid for test, path, valid in cases)
        out["library"] = {
            "files": len(files),
            "same_failing_tests": len(same),
            "differ": sorted(p.name for p in files if p not in same),
            "library_vs_testcases_agree": lib_agree,
        }
    if "--no-cisa" not in sys.argv:
        mamori = str(Path(sys.executable).with_name("mamori"))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [mamori, "csaf", "check", str(SHARED / "csaf" / "cisa"), "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads(done.stdout)
        out["cisa_check"] = {
            "exit": done.returncode,
            "wall_s": round(time.perf_counter() - started, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "documents": report["documents"],
            "deviations": {f"{s['requirement']} {s['kind']}": s["count"] for s in report["summary"]},
        }
        out["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

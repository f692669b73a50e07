"""Start-up cost of the compliance commands, as whole fresh processes.

Prints JSON: the median (and best) wall seconds over the same number of runs (``--runs``, default 3) of

- ``mamori --version`` (the floor: interpreter, CLI set-up),
- ``mamori catalog list`` (reads every installed catalog),
- ``mamori assess answer ID ITEM --status implemented`` (one item),
- ``mamori assess answer ID --from FILE`` with 46 rows, and 46 single ``assess answer`` processes in a row
  (one run of the loop = 46 processes; the loop is repeated ``--runs`` times as well).

Every command runs once before it is measured (warm-up: page cache and byte-code files), in a fresh temporary
store (``XDG_DATA_HOME``/``MAMORI_DB``/``XDG_CACHE_HOME`` under a temporary folder), so no cache of an earlier
run is used. ``--src DIR`` runs another checkout's ``src`` (e.g. the code before a change) with this
interpreter; without it the installed ``mamori`` runs. Bulk answering is skipped when that code has no
``--from``.

    python bench/compliance_start.py [--runs 3] [--src /path/to/checkout/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from process_timing import measure

BULK = 46
ENTRY = "import sys; from mamori.cli.main import run; sys.argv[0] = 'mamori'; sys.exit(run())"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--src", type=Path, default=None, help="run this checkout's src instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(
            XDG_DATA_HOME=str(root / "data"),
            XDG_CACHE_HOME=str(root / "cache"),
            MAMORI_DB=str(root / "data" / "kb.db"),
            MAMORI_LANG="en",
        )
        if args.src is not None:
            os.environ["PYTHONPATH"] = str(args.src.resolve())
        mamori = [sys.executable, "-c", ENTRY]
        out = root / "out.txt"

        def call(*argv: str) -> str:
            done = subprocess.run([*mamori, *argv], capture_output=True, text=True, check=True)
            return done.stdout

        call(
            "assess",
            "new",
            "--framework",
            "checklist",
            "--org",
            "Bench",
            "--roles",
            "developer,supplier",
            "--scope",
            "bench 1",
        )
        aid = "1"
        data = json.loads(call("assess", "show", aid, "--format", "json"))
        items = [item["id"] for item in data["items"]][:BULK]
        has_bulk = "--from" in call("assess", "answer", "--help")

        def timed(argv: list[str]) -> dict[str, object]:
            measure([*mamori, *argv], out, 1)  # warm-up
            return measure([*mamori, *argv], out, args.runs)

        result: dict[str, object] = {
            "runs": args.runs,
            "warm_up": "one unmeasured run of every command; fresh temporary store and cache folder",
            "code": str(args.src) if args.src else "installed",
            "version": timed(["--version"]),
            "catalog_list": timed(["catalog", "list"]),
            "answer_one": timed(["assess", "answer", aid, items[0], "--status", "implemented"]),
        }
        if has_bulk:
            answers = root / "answers.csv"
            answers.write_text(
                "item,status,level,evidence,note\n" + "".join(f"{i},partial,,,bench\n" for i in items),
                encoding="utf-8",
            )
            result[f"answer_bulk_{BULK}"] = timed(["assess", "answer", aid, "--from", str(answers)])
        loops = []
        for _ in range(args.runs):
            start = time.perf_counter()
            for item in items:
                call("assess", "answer", aid, item, "--status", "not_implemented")
            loops.append(time.perf_counter() - start)
        loops.sort()
        result[f"answer_single_x{BULK}"] = {
            "seconds_best": round(loops[0], 3),
            "seconds_median": round(loops[len(loops) // 2], 3),
            "runs": args.runs,
        }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

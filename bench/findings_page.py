"""One findings page through :func:`mamori.server.api_findings.find` (what ``GET /api/mamori/v1/findings``
answers, without HTTP), in process, on an existing store opened read only, for this code and a peer
(``--baseline OTHER/src``, e.g. the previous commit's ``src`` from ``git worktree``).

Each round is a fresh Python process per side (sides alternate A B, B A, ...): the store is opened, the
page asked ``--warmup`` times untimed (the process's memo of the KEV decision and the counts filled, the
database's buffers warm), then ``--requests`` times, each timed: wall and CPU (``time.process_time``, the
process's own; the database's work is in the wall figure only). Per side: median and p95 (nearest rank)
over every timed request of every round. ``identical``: both sides gave the same page (its JSON).
Prints one JSON object with the load average before and after.

``python bench/findings_page.py --db postgresql+psycopg://postgres@127.0.0.1:5432/NAME --baseline B/src
[--offset 0] [--rounds 3] [--requests 10]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
from sqlalchemy import create_engine
from mamori.store.database import Store
from mamori.server import api_findings as af

url, offset, warmup, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
args = {"options": "-c default_transaction_read_only=on"} if url.startswith("postgresql") else {}
store = Store(create_engine(url, connect_args=args, pool_pre_ping=True), url)  # read only, never migrated
ask = lambda: af.find(store, None, None, af.Filters(), "priority", 50, offset, "user")
for _ in range(warmup):
    ask()
calls = []
for _ in range(requests):
    w, c = time.perf_counter(), time.process_time()
    page = ask()
    calls.append((time.perf_counter() - w, time.process_time() - c))
print(json.dumps({"calls": calls, "page": page.model_dump(mode="json")}, sort_keys=True))
"""


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    p95 = ordered[max(0, -(-95 * n // 100) - 1)]
    return {"n": n, "median_ms": round(median * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of an existing store (read only)")
    parser.add_argument("--baseline", type=Path, required=True, help="the peer's src directory")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    sides = {"now": Path(__file__).resolve().parent.parent / "src", "before": args.baseline.resolve()}
    wall: dict[str, list[float]] = {s: [] for s in sides}
    cpu: dict[str, list[float]] = {s: [] for s in sides}
    digests: set[str] = set()
    load = [list(os.getloadavg())]
    for i in range(args.rounds):
        for side in ["before", "now"] if i % 2 == 0 else ["now", "before"]:
            env = dict(os.environ, PYTHONPATH=str(sides[side]))
            argv = [args.db, str(args.offset), str(args.warmup), str(args.requests)]
            out = subprocess.run(
                [sys.executable, "-c", CHILD, *argv], env=env, capture_output=True, text=True, check=True
            ).stdout
            got = json.loads(out)
            wall[side] += [w for w, _c in got["calls"]]
            cpu[side] += [c for _w, c in got["calls"]]
            digests.add(hashlib.sha256(json.dumps(got["page"], sort_keys=True).encode()).hexdigest())
    load.append(list(os.getloadavg()))
    result = {
        "offset": args.offset,
        "wall": {s: stats(v) for s, v in wall.items()},
        "cpu": {s: stats(v) for s, v in cpu.items()},
        "identical": len(digests) == 1,
        "load_average": load,
        "warmup": f"{args.warmup} untimed pages per process first (memo and database buffers warm)",
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

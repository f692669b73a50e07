"""The web portfolio dashboard's rows (``dashboard_rows``, what ``GET /portfolio`` renders), in process, on an
existing store opened read only, for this code and a peer (``--baseline OTHER/src``, e.g. the previous
commit's ``src`` from ``git archive``).

Each run is a fresh Python process per side (sides alternate A B, B A, ...): the store is opened, then the rows
are built twice, the first call cold (nothing remembered in the process), the second warm (what a running
server answers from its memo). Before them, not timed, what the side's server loads at its start
(``mamori.server.app.warm_up``, when the side has it), so that the cold call is a new server's first. Whole-process wall and CPU seconds (the child's rusage) first, then each call's
wall and CPU (``time.process_time``, the process's own; the database's work is in the wall figure only).
``identical``: every run of both sides gave the same rows. Prints one JSON object.

``python bench/dashboard.py --db postgresql+psycopg://postgres@127.0.0.1:5432/mamori_srvperf --baseline B/src``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
from sqlalchemy import create_engine
from mamori.store.database import Store
from mamori.server.security import Principal, grants
from mamori import accounts
from mamori.server.web_pages import dashboard_rows

url, user_id = sys.argv[1], int(sys.argv[2])
args = {"options": "-c default_transaction_read_only=on"} if url.startswith("postgresql") else {}
store = Store(create_engine(url, connect_args=args), url)  # read only, never migrated
user = accounts.find_user(store, user_id=user_id)
root = Principal("user", user.id, user.name, grants(store, accounts.memberships(store, user.id)))
try:  # what the side's server loads at its start, before it takes requests (not timed)
    from mamori.server.app import warm_up
except ImportError:  # code without it loads on the first request
    pass
else:
    warm_up()
calls = []
for _ in range(2):
    w, c = time.perf_counter(), time.process_time()
    rows = dashboard_rows(store, root, "en")
    calls.append((time.perf_counter() - w, time.process_time() - c))
print(json.dumps({"calls": calls, "rows": rows}, sort_keys=True, default=str))
"""


def run(src: Path, db: str, user: int) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(src))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db, str(user)], env=env, capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = json.loads(out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "process_wall": wall,
        "process_cpu": cpu,
        "cold_wall": got["calls"][0][0],
        "cold_cpu": got["calls"][0][1],
        "warm_wall": got["calls"][1][0],
        "warm_cpu": got["calls"][1][1],
        "rows": len(got["rows"]),
        "digest": hashlib.sha256(json.dumps(got["rows"], sort_keys=True).encode()).hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of an existing store (read only)")
    parser.add_argument("--baseline", type=Path, required=True, help="the peer's src directory")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--user", type=int, default=1, help="account id whose dashboard is built")
    args = parser.parse_args()
    sides = {"now": Path(__file__).resolve().parent.parent / "src", "before": args.baseline.resolve()}
    results: dict[str, list[dict[str, object]]] = {"now": [], "before": []}
    loads = [os.getloadavg()[0]]
    for i in range(args.runs):
        order = ["before", "now"] if i % 2 == 0 else ["now", "before"]
        for side in order:
            results[side].append(run(sides[side], args.db, args.user))
            loads.append(os.getloadavg()[0])
    keys = ("process_wall", "process_cpu", "cold_wall", "cold_cpu", "warm_wall", "warm_cpu")
    summary = {
        side: {k: round(statistics.median(float(r[k]) for r in runs), 3) for k in keys}  # type: ignore[arg-type]
        for side, runs in results.items()
    }
    digests = {r["digest"] for runs in results.values() for r in runs}
    print(
        json.dumps(
            {
                "median_seconds": summary,
                "runs": results,
                "rows": results["now"][0]["rows"],
                "identical": len(digests) == 1,
                "loadavg_1min": loads,
                "warmup": "none: each call's first is cold; the second call in the same process is warm",
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()

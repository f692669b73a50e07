"""Cost of notifications on a portfolio of demo releases: computing the events and delivering them.

The bundled demo SBOM (14 components, 13 findings against the demo set) is stored as ``--releases``
releases of one product, each matched; a team owns the product and has one signed webhook subscription
(immediate) and one digest subscription, both to an HTTP receiver on loopback in this process. Prints
JSON with, for each of ``--runs`` fresh stores, the seconds of:

- ``compute``: the first ``compute_events`` (every finding a new event, deliveries queued),
- ``compute_again``: a second one on the unchanged store (adds nothing),
- ``deliver``: ``deliver_pending`` of the immediate subscription (one signed POST per event),
- ``digest``: ``deliver_pending`` when the digest is due (one POST per 200 events),

and the median of each over the runs, with the load average before and after.

    python bench/notify.py [--releases 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _receiver() -> tuple[ThreadingHTTPServer, str, list[int]]:
    sizes: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sizes.append(len(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook", sizes


def one_run(releases: int) -> dict[str, float | int]:
    from mamori import accounts
    from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
    from mamori.notify import add_subscription, compute_events, deliver_pending
    from mamori.notify.deliver import BATCH
    from mamori.portfolio import add_product, match_release, store_sbom
    from mamori.store import open_store

    server, url, sizes = _receiver()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        load_demo_vulnerabilities(db)
        store = open_store(db)
        add_product(store, "shop")
        for i in range(releases):
            stored = store_sbom(store, "shop", f"2.{i}.0", demo_data() / DEMO_SBOM, who="bench")
            match_release(store, stored.sbom_id, stored.previous_sbom_id)
        accounts.create_team(store, "psirt")
        accounts.assign_product(store, "psirt", "shop")
        add_subscription(store, "psirt", "webhook", url, secret="bench-secret-0123456789")
        add_subscription(store, "psirt", "webhook", url + "/digest", mode="digest")
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        computed = compute_events(store, now=now)
        t1 = time.perf_counter()
        again = compute_events(store, now=now)
        t2 = time.perf_counter()
        sent = deliver_pending(store, now=now)
        t3 = time.perf_counter()
        digest = deliver_pending(store, now=now + timedelta(days=1))
        t4 = time.perf_counter()
        store.engine.dispose()
    server.shutdown()
    server.server_close()
    assert (
        not again.events
        and sent.messages == len(computed.events)
        and digest.messages == -(-len(computed.events) // BATCH)
    )
    return {
        "events": len(computed.events),
        "compute": round(t1 - t0, 3),
        "compute_again": round(t2 - t1, 3),
        "deliver": round(t3 - t2, 3),
        "deliver_per_s": round(sent.messages / (t3 - t2), 1),
        "digest": round(t4 - t3, 3),
        "digest_messages": digest.messages,
        "digest_bytes_largest": max(sizes[-digest.messages :]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs = [one_run(args.releases) for _ in range(args.runs)]
    keys = ["compute", "compute_again", "deliver", "deliver_per_s", "digest"]
    print(
        json.dumps(
            {
                "releases": args.releases,
                "events": runs[0]["events"],
                "runs": runs,
                "median": {k: statistics.median(float(r[k]) for r in runs) for k in keys},
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

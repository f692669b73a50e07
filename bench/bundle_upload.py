"""A supplier's release bundle sent to the team server (``POST /api/mamori/v1/bundles``), for this code and a
peer (``--baseline OTHER/src``, e.g. main's ``src`` from ``git archive``).

Each run is a fresh Python process per side (sides alternate A B, B A, ...) over a fresh SQLite store with
a team and a security manager's API key, serving the application in process (``fastapi.testclient``). The
bundle is the signed bundle of a real SBOM (``--sbom``, default the shared dropwizard 1.3.15 CycloneDX) made
once by this code. Figures per run: ``answer`` — the wall seconds until the upload's answer (the peer imports
inside the request; this code answers 202 with a job), ``done`` — until the import is stored (this code:
polling the job's status every 10 ms), and the child's CPU seconds (user+sys, rusage). Median and min over
the runs. Prints one JSON object; no warm-up beyond what each fresh process does.

``python bench/bundle_upload.py --baseline /tmp/main/src --runs 5``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SHARED_SBOM = HERE.parent / "shared" / "data" / "sbom" / "cyclonedx" / "dropwizard-1.3.15" / "bom.json"

CHILD = r"""
import json, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from mamori import accounts
from mamori.server.app import create_app
from mamori.server.settings import ServerSettings
from mamori.store import open_store

folder, bundle, public = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()
store = open_store(folder / "server.db")
accounts.create_team(store, "buyers")
key = accounts.create_api_key(store, "buyers", "security_manager")[1]
files = {"file": ("b.zip", bundle, "application/zip"), "key": ("k.pem", public, "application/x-pem-file")}
with TestClient(create_app(ServerSettings(), store), headers={"X-Api-Key": key}) as client:
    start = time.perf_counter()
    answer = client.post("/api/mamori/v1/bundles", files=files)
    answered = time.perf_counter() - start
    body = answer.json()
    if answer.status_code == 202:
        while True:
            state = client.get(body["status_url"]).json()
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.01)
        ok = state["state"] == "done"
    else:
        ok = bool(body.get("ok"))
    done = time.perf_counter() - start
print(json.dumps({"status": answer.status_code, "answer": answered, "done": done, "ok": ok}))
"""


def _bundle(folder: Path, sbom: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(HERE / "src"))
    from mamori.bundle import create_bundle
    from mamori.bundle.signing import generate, load_signer
    from mamori.portfolio.archive import add_product, store_sbom
    from mamori.store import open_store

    private, public = generate("ed25519")
    (folder / "supplier.key").write_bytes(private)
    (folder / "supplier.pub").write_bytes(public)
    with open_store(folder / "supplier.db") as store:
        add_product(store, "shop", "Example Corp")
        store_sbom(store, "shop", "1.0", sbom)
        made = create_bundle(store, "shop", "1.0", load_signer(folder / "supplier.key"))
    (folder / "bundle.zip").write_bytes(made.data)
    return folder / "bundle.zip", folder / "supplier.pub"


def run(src: Path, bundle: Path, public: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(src), MAMORI_LANG="en")
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, tmp, str(bundle), str(public)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = json.loads(out.strip().splitlines()[-1])
    if not got["ok"]:
        raise SystemExit(f"the import failed: {got}")
    got["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the peer's src directory")
    parser.add_argument("--sbom", type=Path, default=SHARED_SBOM)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sides = {"now": HERE / "src", "before": args.baseline.resolve()}
    with tempfile.TemporaryDirectory(prefix="mamori-bench-bundle-") as tmp:
        bundle, public = _bundle(Path(tmp), args.sbom)
        results: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
        for i in range(args.runs):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for side in order:
                results[side].append(run(sides[side], bundle, public))
        size = bundle.stat().st_size
    summary = {
        side: {
            "status": runs[0]["status"],
            **{
                f"{figure}_{stat}": round(fn([r[figure] for r in runs]), 4)
                for figure in ("answer", "done", "cpu")
                for stat, fn in (("median", statistics.median), ("min", min))
            },
        }
        for side, runs in results.items()
    }
    print(
        json.dumps(
            {
                "sbom": str(args.sbom),
                "bundle_bytes": size,
                "runs": args.runs,
                "statistic": "median and min over runs; fresh process per run, sides alternating",
                "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                "sides": summary,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

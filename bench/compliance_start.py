"""Start-up cost of the compliance commands, as whole fresh processes.

Prints JSON: the median, min and max wall seconds over the same number of runs (``--runs``, default 5) of

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

    python bench/compliance_start.py [--runs 5] [--src /path/to/checkout/src] [--baseline OTHER/src]
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

BULK = 46
sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_timing import summary  # noqa: E402

ENTRY = "import sys; from mamori.cli.main import run; sys.argv[0] = 'mamori'; sys.exit(run())"


def _env(root: Path, src: Path | None) -> dict[str, str]:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "MAMORI_DB": str(root / "data" / "kb.db"),
        "MAMORI_LANG": "en",
    }
    env.pop("PYTHONPATH", None)
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    return env


def _once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _summary(times: list[float]) -> dict[str, object]:
    return {**summary(times), "seconds_best": round(min(times), 3)}  # seconds_best kept for older readers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", type=Path, default=None, help="run this checkout's src instead")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout's src, measured in turn with this code (run for run, same load) for --version, "
        "catalog list and one answer",
    )
    args = parser.parse_args()
    mamori = [sys.executable, "-c", ENTRY]
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        root = Path(tmp)
        codes = {"code": args.src} if args.baseline is None else {"code": args.src, "baseline": args.baseline}
        envs = {name: _env(root / name, src) for name, src in codes.items()}

        def call(env: dict[str, str], *argv: str) -> str:
            done = subprocess.run([*mamori, *argv], capture_output=True, text=True, check=True, env=env)
            return done.stdout

        items: list[str] = []
        for env in envs.values():
            call(env, "assess", "new", "--framework", "checklist", "--org", "Bench", "--roles", "developer,supplier",
                 "--scope", "bench 1")  # fmt: skip
            data = json.loads(call(env, "assess", "show", "1", "--format", "json"))
            items = [item["id"] for item in data["items"]][:BULK]
        aid = "1"
        commands = {
            "version": ["--version"],
            "catalog_list": ["catalog", "list"],
            "answer_one": ["assess", "answer", aid, items[0], "--status", "implemented"],
        }
        result: dict[str, object] = {
            "runs": args.runs,
            "warm_up": "one unmeasured run of every command; fresh temporary store and cache folder",
            "code": {name: str(src) if src else "installed" for name, src in codes.items()},
            "load_average_at_start": os.getloadavg()[0],
            "cpus": os.cpu_count(),
        }
        for key, argv in commands.items():
            times: dict[str, list[float]] = {name: [] for name in envs}
            for env in envs.values():
                _once([*mamori, *argv], env)  # warm-up
            for _ in range(args.runs):
                for name, env in envs.items():  # in turn, so both see the same load
                    times[name].append(_once([*mamori, *argv], env))
            result[key] = {name: _summary(t) for name, t in times.items()}
        env = envs["code"]
        has_bulk = "--from" in call(env, "assess", "answer", "--help")
        if has_bulk:
            answers = root / "answers.csv"
            answers.write_text(
                "item,status,level,evidence,note\n" + "".join(f"{i},partial,,,bench\n" for i in items),
                encoding="utf-8",
            )
            bulk = [*mamori, "assess", "answer", aid, "--from", str(answers)]
            subprocess.run(bulk, env=env, capture_output=True)  # warm-up
            result[f"answer_bulk_{BULK}"] = _summary([_once_any(bulk, env) for _ in range(args.runs)])
        loops = []
        for _ in range(args.runs):
            start = time.perf_counter()
            for item in items:
                call(env, "assess", "answer", aid, item, "--status", "not_implemented")
            loops.append(time.perf_counter() - start)
        result[f"answer_single_x{BULK}"] = _summary(loops)
        result["load_average_at_end"] = os.getloadavg()[0]
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _once_any(cmd: list[str], env: dict[str, str]) -> float:
    """Like :func:`_once`, accepting exit 1 (rows rejected or nothing to change is still a full run)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True)
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr.decode(errors="replace"))
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

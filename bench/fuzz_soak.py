"""Soak the readers and writers with many more fuzz cases than the normal suite runs (issue 13, point 7).

    python bench/fuzz_soak.py                       # hypothesis, the long profile, every reader and writer
    python bench/fuzz_soak.py --examples 2000 --only cyclonedx-json --only kev
    python bench/fuzz_soak.py --atheris 60          # plus atheris (libFuzzer) over each reader, 60 s each
    python bench/fuzz_soak.py --list

Unlike the test files, a failing case does not stop the run: every exception that is not a MamoriError
is recorded by its signature (exception type and the innermost frame in mamori), with one reproducing
input (base64) per signature, and the run goes on. Prints one JSON object: per target the cases run,
the distinct failures and the seconds taken, and the totals. Exit 1 when anything failed.

The targets, seeds and mutators are those of tests/test_fuzz_readers.py and tests/test_fuzz_writers.py
(imported from there), so the soak and the suite test the same properties.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
os.environ.setdefault("MAMORI_FUZZ", "long")
sys.path.insert(0, str(TESTS))
sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/mamori/" in f.filename and "/tests/" not in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = f"{Path(where.filename).name}:{where.lineno} {where.name}" if where else "?"
    return f"{type(exc).__name__} at {place}"


class Target:
    """One reader or writer: ``run(case)`` raises on failure; ``strategy`` draws cases."""

    def __init__(self, name: str, strategy: Any, run: Any, kind: str) -> None:
        self.name, self.strategy, self.run, self.kind = name, strategy, run, kind


def _targets() -> list[Target]:
    from hypothesis import strategies as st

    import test_fuzz_readers as readers
    import test_fuzz_writers as writers
    from conftest import SHARED_DATA
    from fuzz_support import reads_or_refuses

    out = []
    for reader in readers.READERS:
        if reader.shared and not SHARED_DATA.is_dir():
            continue
        strategy = st.one_of(st.binary(max_size=2048), readers._mutations(reader))
        out.append(
            Target(
                reader.name,
                strategy,
                lambda raw, r=reader: reads_or_refuses(r.name, lambda: r.read(raw)),
                "reader",
            )
        )
    for name, (strategy, check) in writers.SOAK_TARGETS.items():
        out.append(Target(name, strategy, check, "writer"))
    return out


def _hypothesis(target: Target, examples: int, seed: int | None) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed

    failures: dict[str, dict[str, Any]] = {}
    count = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def one(case: Any) -> None:
        nonlocal count
        count += 1
        try:
            target.run(case)
        except Exception as exc:
            signature = _signature(exc)
            if signature not in failures:
                raw = case if isinstance(case, bytes) else repr(case).encode("utf-8", "replace")
                failures[signature] = {
                    "message": str(exc).splitlines()[0][:300] if str(exc) else "",
                    "input_base64": base64.b64encode(raw[:20_000]).decode(),
                    "count": 0,
                }
            failures[signature]["count"] += 1

    if seed is not None:
        one = fixed_seed(seed)(one)
    started = time.monotonic()
    try:
        one()
    except Exception as exc:  # the strategy itself failed: report it as a failure of the harness
        failures[f"harness: {_signature(exc)}"] = {"message": str(exc)[:300], "input_base64": "", "count": 1}
    return {
        "kind": target.kind,
        "cases": count,
        "failures": failures,
        "seconds": round(time.monotonic() - started, 1),
    }


# ------------------------------------------------------------------------------------------ atheris


def _atheris_child(name: str) -> None:
    """Run inside a child process: libFuzzer over one reader, seeded with its real files."""
    import atheris

    with atheris.instrument_imports():
        import test_fuzz_readers as readers
    from mamori.errors import MamoriError

    reader = readers.BY_NAME[name]

    def one(data: bytes) -> None:
        with contextlib.suppress(MamoriError):
            reader.read(data)

    atheris.Setup(sys.argv[:1] + sys.argv[sys.argv.index("--") + 1 :], one)
    atheris.Fuzz()


def _atheris(names: list[str], seconds: int) -> dict[str, Any]:
    try:
        import atheris  # noqa: F401
    except ImportError as exc:
        return {"available": False, "why": f"atheris does not import: {exc}"}
    results: dict[str, Any] = {"available": True, "targets": {}}
    for name in names:
        with tempfile.TemporaryDirectory(prefix="mamori-atheris-") as tmp:
            import test_fuzz_readers as readers

            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            for n, seed in enumerate(readers.BY_NAME[name].seeds()):
                (corpus / f"seed-{n}").write_bytes(seed)
            started = time.monotonic()
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--atheris-child",
                    name,
                    "--",
                    f"-max_total_time={seconds}",
                    "-rss_limit_mb=4096",
                    "-timeout=60",
                    f"-artifact_prefix={tmp}/",
                    str(corpus),
                ],
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
            )
            runs = [line for line in proc.stderr.splitlines() if line.startswith("Done ")]
            crash = [line for line in proc.stderr.splitlines() if "Uncaught Python exception" in line]
            tail = [line for line in proc.stderr.splitlines() if line.strip()][-12:]
            results["targets"][name] = {
                "cases": int(runs[-1].split()[1]) if runs else None,
                "failed": proc.returncode != 0,
                "crash": "\n".join(tail) if proc.returncode != 0 else None,
                "uncaught": bool(crash),
                "seconds": round(time.monotonic() - started, 1),
            }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=1000, help="hypothesis cases per target (1000)")
    parser.add_argument("--only", action="append", default=[], help="a target name (repeatable)")
    parser.add_argument("--kind", choices=["reader", "writer"], help="only readers or only writers")
    parser.add_argument("--seed", type=int, help="a fixed hypothesis seed (default: random)")
    parser.add_argument("--atheris", type=int, metavar="SECONDS", help="also run atheris, SECONDS per reader")
    parser.add_argument("--no-hypothesis", action="store_true", help="only atheris")
    parser.add_argument("--list", action="store_true", help="list the targets")
    parser.add_argument("--atheris-child", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.atheris_child:
        _atheris_child(args.atheris_child)
        return 0
    targets = [
        t
        for t in _targets()
        if (not args.only or t.name in args.only) and (args.kind is None or t.kind == args.kind)
    ]
    if args.list:
        print("\n".join(f"{t.kind}\t{t.name}" for t in targets))
        return 0
    started = time.monotonic()
    report: dict[str, Any] = {
        "profile": "mamori-fuzz-long",
        "examples_per_target": args.examples,
        "targets": {},
    }
    if not args.no_hypothesis:
        for target in targets:
            result = _hypothesis(target, args.examples, args.seed)
            report["targets"][target.name] = result
            print(
                f"{target.name}: {result['cases']} cases, {len(result['failures'])} distinct failures, "
                f"{result['seconds']} s",
                file=sys.stderr,
            )
    if args.atheris:
        report["atheris"] = _atheris([t.name for t in targets if t.kind == "reader"], args.atheris)
    results = report["targets"].values()
    report["cases"] = sum(r["cases"] for r in results)
    report["distinct_failures"] = sum(len(r["failures"]) for r in results)
    report["failing_cases"] = sum(f["count"] for r in results for f in r["failures"].values())
    if "atheris" in report and report["atheris"].get("available"):
        ath = report["atheris"]["targets"].values()
        report["atheris_cases"] = sum(a["cases"] or 0 for a in ath)
        report["atheris_failed_targets"] = sum(1 for a in ath if a["failed"])
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    failed = report["distinct_failures"] or report.get("atheris_failed_targets")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

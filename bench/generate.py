"""Benchmark ``mamori sbom generate`` against the peer generators; prints JSON.

    .venv/bin/python bench/generate.py [--python-env VENV] [--repeat 5] [--skip-npm]

Python: an installed environment with at least 150 distributions. Without ``--python-env`` one is
built in a temporary folder by installing ``PYTHON_PACKAGES`` from PyPI with pip (about 180
distributions). Every command runs as a fresh process writing CycloneDX JSON to stdout; wall time
and peak resident memory of that process (``os.wait4``) are taken; median, min and max over the same
``--repeat`` runs for every command; the commands run in turn (A B C A B C ...) so all see the same
load; one unmeasured warm-up run of every command first (it puts the environment's metadata files
and the byte-code of both tools into the page cache for all alike). Ratios are from medians.

1. Like for like (first): ``mamori sbom generate EMPTY_DIR --python-env VENV`` against
   ``cyclonedx-py environment --no-validate VENV``. mamori does not validate its output against the
   CycloneDX schema (it builds it from its own model), so neither side validates here.
2. Validating variant (second, unequal work): ``cyclonedx-py environment VENV`` with its default
   output validation (a JSON-schema check of the whole BOM) against the same mamori run.

``mamori --version`` is timed too: the start-up cost every mamori command pays before it does any
work. The component sets (PEP 503 name, version) of both outputs are compared.

npm: bench/generate_npm.py (a lockfile of 1,829 packages, mamori vs cdxgen with the network off).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from process_timing import machine, measure_in_turn, ratio

PYTHON_PACKAGES = [
    "jupyterlab", "sphinx", "boto3", "django", "fastapi", "flask", "requests", "pandas", "black", "mypy",
    "pytest", "httpx", "sqlalchemy", "alembic", "pydantic", "celery", "scrapy",
]  # fmt: skip
BIN = Path(sys.executable).parent


def component_set(path: Path) -> set[tuple[str, str]]:
    from packaging.utils import canonicalize_name

    bom = json.loads(path.read_bytes())
    return {(canonicalize_name(c["name"]), c.get("version", "")) for c in bom.get("components", [])}


def build_python_env(folder: Path) -> Path:
    env = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PYTHON_PACKAGES], check=True)
    return env


def bench_python(env: Path | None, repeat: int, work: Path) -> dict[str, Any]:
    env = env or build_python_env(work)
    site = next(env.glob("lib/python*/site-packages"))
    distributions = sum(1 for _ in site.glob("*.dist-info"))
    empty = work / "project"
    empty.mkdir(exist_ok=True)
    peer = [str(BIN / "cyclonedx-py"), "environment", str(env), "-o", "-"]
    cmds = {
        "mamori": [str(BIN / "mamori"), "sbom", "generate", str(empty), "--python-env", str(env), "--name",
                   "bench", "--version", "1"],
        "cyclonedx_py_no_validate": [*peer[:2], "--no-validate", *peer[2:]],
        "cyclonedx_py_validating": peer,
        # the floor every mamori command pays before any work: interpreter start and CLI imports
        "mamori_startup_only": [str(BIN / "mamori"), "--version"],
    }  # fmt: skip
    outs = {name: work / f"{name}.out" for name in cmds}
    timed = measure_in_turn(cmds, outs, repeat, warm_up=1)
    mine, theirs = component_set(outs["mamori"]), component_set(outs["cyclonedx_py_no_validate"])
    return {
        "distributions": distributions,
        "runs_per_command": repeat,
        "warm_up": "one unmeasured run of every command first; commands run in turn",
        "like_for_like": {
            "note": "neither side validates the output against the CycloneDX schema",
            "mamori": timed["mamori"],
            "cyclonedx_py_no_validate": timed["cyclonedx_py_no_validate"],
            "peer_slower_by_median": ratio(timed["cyclonedx_py_no_validate"], timed["mamori"]),
        },
        "validating_peer": {
            "note": "unequal work: cyclonedx-py's default JSON-schema validation of its output; mamori does "
            "not validate",
            "mamori": timed["mamori"],
            "cyclonedx_py_validating": timed["cyclonedx_py_validating"],
            "peer_slower_by_median": ratio(timed["cyclonedx_py_validating"], timed["mamori"]),
        },
        "mamori_startup_only": timed["mamori_startup_only"],
        "components": {
            "mamori": len(mine),
            "cyclonedx_py": len(theirs),
            "equal": mine == theirs,
            "only_mamori": sorted(mine - theirs)[:20],
            "only_cyclonedx_py": sorted(theirs - mine)[:20],
        },
    }


# ================================================================ npm (JavaScript part) ==========
# A real npm lockfile of 1,829 packages, mamori vs cdxgen (network off): bench/generate_npm.py.
def bench_npm(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from generate_npm import bench_npm as run_npm

    return run_npm(args.repeat, work)


# =================================================================================================


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python-env", type=Path, help="a virtualenv with >= 150 distributions (default: build one)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-npm", action="store_true", help="only the Python environment")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-generate-") as tmp:
        work = Path(tmp)
        report: dict[str, Any] = {"machine_at_start": machine()}
        report["python_environment"] = bench_python(args.python_env, args.repeat, work)
        if not args.skip_npm:
            report["npm_lockfile"] = bench_npm(args, work)
        report["machine_at_end"] = machine()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

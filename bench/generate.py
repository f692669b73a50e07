"""Benchmark ``mamori sbom generate`` against the peer generators; prints JSON.

    .venv/bin/python bench/generate.py [--python-env VENV] [--repeat 3]

Python: an installed environment with at least 150 distributions. Without ``--python-env`` one is
built in a temporary folder by installing ``PYTHON_PACKAGES`` from PyPI with pip (about 180
distributions). mamori (``mamori sbom generate EMPTY_DIR --python-env VENV``) and cyclonedx-py
(``cyclonedx-py environment VENV``, with its default output validation and with ``--no-validate``)
each run as a fresh process writing CycloneDX JSON; wall time and the peak resident memory of that
process (``os.wait4``) are taken, best and median of ``--repeat`` runs. ``mamori --version`` is
timed too: the start-up cost every mamori command pays before it does any work. The component sets
(PEP 503 name, version) of both outputs are compared.

npm: see ``bench_npm`` below (the JavaScript part adds it: a lockfile with ≥ 1,500 packages,
mamori vs cdxgen with the network off).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from process_timing import measure

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
    mamori_out, peer_out = work / "mamori.cdx.json", work / "cyclonedx-py.cdx.json"
    mamori = [str(BIN / "mamori"), "sbom", "generate", str(empty), "--python-env", str(env), "--name", "bench",
              "--version", "1"]  # fmt: skip
    peer = [str(BIN / "cyclonedx-py"), "environment", str(env), "-o", "-"]
    result: dict[str, Any] = {"distributions": distributions, "mamori": measure(mamori, mamori_out, repeat)}
    # the floor every mamori command pays before any work: interpreter start and CLI imports
    result["mamori_startup_only"] = measure([str(BIN / "mamori"), "--version"], work / "version.txt", repeat)
    result["cyclonedx_py"] = measure(peer, peer_out, repeat)
    result["cyclonedx_py_no_validate"] = measure([*peer[:3], "--no-validate", *peer[3:]], peer_out, repeat)
    mine, theirs = component_set(mamori_out), component_set(peer_out)
    result["components"] = {"mamori": len(mine), "cyclonedx_py": len(theirs), "equal": mine == theirs,
                            "only_mamori": sorted(mine - theirs)[:20], "only_cyclonedx_py": sorted(theirs - mine)[:20]}  # fmt: skip
    result["speedup_vs_cyclonedx_py"] = round(
        result["cyclonedx_py"]["seconds_median"] / result["mamori"]["seconds_median"], 2
    )
    result["speedup_vs_cyclonedx_py_no_validate"] = round(
        result["cyclonedx_py_no_validate"]["seconds_median"] / result["mamori"]["seconds_median"], 2
    )
    return result


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
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-generate-") as tmp:
        work = Path(tmp)
        report = {
            "python_environment": bench_python(args.python_env, args.repeat, work),
            "npm_lockfile": bench_npm(args, work),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

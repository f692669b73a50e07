"""Install the wheel into a clean venv of every CPython >= 3.11 on this machine and run the demo there.

    python .ci/pythons.py [--wheel dist/mamori-*.whl] [--work DIR] [--only 3.12]

Pythons looked for: ``python3.N`` on PATH, ``~/.pyenv/versions/3.N.*/bin/python3`` (N >= 11) and the Python
running the script, one per minor version (in that order). For each: ``python -m venv``, ``pip install WHEEL`` (its dependencies from the
package index), then ``mamori --version`` and ``mamori demo`` (offline, on bundled data) in that venv.
Prints one line per version and ``N passed, N failed`` last; exit 0 when all passed (or none was found:
``0 passed, 0 failed``), 1 otherwise. Without ``--wheel`` the wheel is built first (``pip wheel``).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_MINOR = 11


def _version(python: str) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def find_pythons() -> dict[str, tuple[str, str]]:
    """``{"3.12": ("3.12.1", "/path/to/python")}`` for every CPython >= 3.11 found, one per minor."""
    candidates: list[str] = []
    for minor in range(MIN_MINOR, 30):
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates.append(found)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(glob.glob(str(pyenv / "3.*" / "bin" / "python3")))
    candidates.append(sys.executable)  # the Python running this script counts too
    out: dict[str, tuple[str, str]] = {}
    for python in candidates:
        version = _version(python)
        if version is None or version[0] != 3 or version[1] < MIN_MINOR:
            continue
        out.setdefault(f"3.{version[1]}", (".".join(map(str, version)), python))
    return dict(sorted(out.items(), key=lambda kv: int(kv[0].split(".")[1])))


def build_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest), str(ROOT)], check=True
    )
    return next(dest.glob("mamori-*.whl"))


def try_one(python: str, wheel: Path, work: Path) -> tuple[bool, str]:
    """Venv, install, ``mamori --version``, ``mamori demo``; (passed, what failed or the version line)."""
    work.mkdir(parents=True, exist_ok=True)
    venv = work / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(
        XDG_DATA_HOME=str(work / "data"),
        XDG_CONFIG_HOME=str(work / "config"),
        MAMORI_DB=str(work / "data" / "kb.db"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    steps = [
        [python, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        [str(venv / "bin" / "mamori"), "--version"],
        [str(venv / "bin" / "mamori"), "demo", "--out", str(work / "demo"), "--db", str(work / "demo.db")],
    ]
    version_line = ""
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=env, cwd=work, timeout=900)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return False, f"{Path(step[0]).name} {' '.join(step[1:3])}: " + " | ".join(tail)
        if step[-1] == "--version":
            version_line = done.stdout.strip()
    if not (work / "demo").is_dir() or not any((work / "demo").iterdir()):
        return False, "mamori demo wrote no outputs"
    return True, version_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--only", action="append", default=[], help="a minor version such as 3.12")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="mamori-pythons-"))
    work.mkdir(parents=True, exist_ok=True)
    pythons = find_pythons()
    if args.only:
        pythons = {k: v for k, v in pythons.items() if k in args.only}
    wheel = args.wheel or build_wheel(work / "dist")
    passed = failed = 0
    for minor, (full, python) in pythons.items():
        ok, detail = try_one(python, wheel, work / f"py{minor}")
        print(f"{'PASS' if ok else 'FAIL'} CPython {full} ({python}): {detail}", flush=True)
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

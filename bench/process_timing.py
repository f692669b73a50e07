"""Whole-process timing for the benchmarks: wall seconds and peak RSS of fresh processes, best and median
over the same number of runs for every command measured."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any


def run(cmd: list[str], stdout_path: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one fresh process; its stdout goes to ``stdout_path``."""
    with stdout_path.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def measure(cmd: list[str], out: Path, repeat: int) -> dict[str, Any]:
    runs = [run(cmd, out) for _ in range(repeat)]
    times = [t for t, _ in runs]
    return {
        "seconds_best": round(min(times), 3),
        "seconds_median": round(statistics.median(times), 3),
        "peak_rss_mib": max(m for _, m in runs),
        "runs": repeat,
    }

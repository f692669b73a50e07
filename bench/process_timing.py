"""Shared timing helpers for the benchmarks.

Whole-process figures: wall seconds and peak RSS of fresh processes (``run``, ``measure``,
``measure_in_turn``). In-process figures: ``time_calls``. Every figure is summarised the same way
(``summary``): median, min and max over the stated number of runs; ratios are taken from medians
(``ratio``). The warm-up policy is the caller's and must be stated in its output (``machine`` adds the
core count and load average that go with every set of figures).
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GNU_TIME = Path("/usr/bin/time")


def run(cmd: list[str], stdout_path: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one fresh process; its stdout goes to ``stdout_path``
    (:func:`run_usage` without the CPU seconds)."""
    elapsed, rss, _ = run_usage(cmd, stdout_path, env)
    return elapsed, rss


def run_usage(
    cmd: list[str], stdout_path: Path, env: dict[str, str] | None = None
) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of one fresh process; its stdout goes
    to ``stdout_path``.

    On Linux ``ru_maxrss`` of a child this process starts also counts this process's own peak (the
    child shares or copies its memory until exec), so where GNU time exists the command runs under
    ``/usr/bin/time -f %M`` and its RSS is the one GNU time reads for its own, small-parent child (the
    wrapper adds about a millisecond to the wall time, alike for every command). Without GNU time the
    figure falls back to ``os.wait4`` and is an upper bound. The CPU seconds are those ``os.wait4`` gives
    for the process started, which count the children it waited for (under GNU time: the command's, plus
    GNU time's own, under a millisecond)."""
    # as an installed mamori runs: allowed to write its caches (bytecode, data-class code), whatever the
    # measuring shell says (PYTHONDONTWRITEBYTECODE would make every run rebuild them)
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != "PYTHONDONTWRITEBYTECODE"}
    rss_file = stdout_path.with_name(stdout_path.name + ".rss")
    wrapped = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME.exists() else cmd
    with stdout_path.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    rss_kib = usage.ru_maxrss
    if wrapped is not cmd:
        lines = rss_file.read_text().split()
        rss_file.unlink()
        rss_kib = int(lines[-1])
    return elapsed, rss_kib // 1024, usage.ru_utime + usage.ru_stime


def summary(values: list[float], digits: int = 3, unit: str = "seconds") -> dict[str, Any]:
    """Median, min and max of ``values`` (the statistic every benchmark reports), with the run count."""
    return {
        f"{unit}_median": round(statistics.median(values), digits),
        f"{unit}_min": round(min(values), digits),
        f"{unit}_max": round(max(values), digits),
        "runs": len(values),
    }


def ratio(slow: dict[str, Any], fast: dict[str, Any], key: str = "seconds_median") -> float:
    """``slow[key] / fast[key]``, from medians by default."""
    return round(slow[key] / fast[key], 2) if fast[key] else float("nan")


def _process_summary(runs: list[tuple[float, int]], cpu: list[float] | None = None) -> dict[str, Any]:
    times = [t for t, _ in runs]
    rss = [m for _, m in runs]
    return {
        **summary(times),
        "seconds_best": round(min(times), 3),  # kept for older readers; same as seconds_min
        **(summary(cpu, unit="cpu_seconds") if cpu else {}),
        "peak_rss_mib": max(rss),
        "peak_rss_mib_median": statistics.median(rss),
    }


def measure(cmd: list[str], out: Path, repeat: int) -> dict[str, Any]:
    """``repeat`` fresh runs of ``cmd``: wall seconds (median, min, max) and peak RSS."""
    return _process_summary([run(cmd, out) for _ in range(repeat)])


def measure_in_turn(
    cmds: dict[str, list[str]],
    out: Path | dict[str, Path],
    repeat: int,
    warm_up: int = 0,
    env: dict[str, str] | None = None,
    collect: Callable[[str, Path], None] | None = None,
    cpu: bool = False,
) -> dict[str, dict[str, Any]]:
    """Fresh processes for several commands, run in turn (A B A B ...) so that every side sees the
    same machine load; the same ``repeat`` and ``warm_up`` (unmeasured runs first) for all.
    ``out`` is one stdout file for all or one per command name. ``collect(name, out)`` is called after
    every measured run, e.g. to read a figure the child printed. ``cpu``: also the CPU seconds (user +
    system, :func:`run_usage`), less sensitive to the load of other processes than wall time."""
    outs = out if isinstance(out, dict) else dict.fromkeys(cmds, out)
    for _ in range(warm_up):
        for name, cmd in cmds.items():
            run(cmd, outs[name], env)
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            elapsed, rss, seconds = run_usage(cmd, outs[name], env)
            runs[name].append((elapsed, rss))
            cpus[name].append(seconds)
            if collect is not None:
                collect(name, outs[name])
    return {
        name: {**_process_summary(r, cpus[name] if cpu else None), "warm_up_runs": warm_up}
        for name, r in runs.items()
    }


def time_calls(fn: Callable[[], object], repeat: int, warm_up: int = 0) -> dict[str, Any]:
    """In-process: ``warm_up`` untimed calls, then ``repeat`` timed ones (wall and CPU seconds, median,
    min and max). ``gc.collect()`` runs before every call, outside the timing."""
    for _ in range(warm_up):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return {**summary(wall, 4), **summary(cpu, 4, "cpu_seconds"), "warm_up_calls": warm_up}


def machine() -> dict[str, Any]:
    """Cores and load average, to go with every set of figures."""
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}

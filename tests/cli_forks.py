"""mamori's command line entry point run in processes forked from one that has imported it already.

A test that is about what a command prints and its exit code (not about starting Python) can run the
command here instead of as the installed ``mamori``: :class:`ForkedCli` starts one helper Python process
that imports :mod:`mamori.cli.main`, every command module and the libraries they load on first use; each
run is a fork of it that sets its own working folder, environment, ``sys.argv`` and standard streams and
calls :func:`mamori.cli.main.run`, the installed script's entry point, exactly as the script does (its
``sys.exit``, its ``os._exit`` fast path, an uncaught exception printed as Python prints it, exit 1). Each
run is its own process, so nothing it changes (language, stores, caches, environment, signal handlers)
reaches the next one, and a run that hangs is killed after its timeout. What a fork saves is the start of
Python and the imports, which were most of the CPU time of a short command.

The helper is single-threaded (forking is safe there), reads requests as JSON lines on its standard input
and answers each with one JSON line when the run ends: ``{"id", "code", "cpu"}``, ``code`` None after a
timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Libraries the commands import on first use (beside every mamori module): loaded once in the helper.
PRELOAD = (
    "jsonschema",
    "referencing",
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "alembic",
    "alembic.command",
    "alembic.config",
    "yaml",
    "openpyxl",
    "cyclonedx.schema",
    "cyclonedx.validation.json",
)


@dataclass(frozen=True)
class Run:
    """A finished run: ``returncode`` None when it was killed after its timeout; ``cpu`` its user + system
    seconds (None when not measured)."""

    returncode: int | None
    stdout: str
    stderr: str
    cpu: float | None = None


class ForkedCli:
    """The helper process and the runs forked from it; usable from several threads at once."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(os.environ if env is None else env),
            cwd=HERE,
        )
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[threading.Event, list[dict]]] = {}
        self._next = 0
        ready = self._process.stdout.readline()  # type: ignore[union-attr]
        if ready.strip() != b"ready":
            self.close()
            raise RuntimeError(f"the forking helper did not start: {ready!r}")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._process.stdout:  # type: ignore[union-attr]
            answer = json.loads(line)
            with self._lock:
                event, slot = self._waiting.pop(answer["id"])
            slot.append(answer)
            event.set()
        with self._lock:  # the helper ended: nothing more will be answered
            for event, slot in self._waiting.values():
                slot.append({"code": None})
                event.set()
            self._waiting.clear()

    def run(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], folder: Path, timeout: float
    ) -> Run:
        """Run ``mamori argv`` in ``cwd`` with ``env`` (the whole environment), standard input /dev/null;
        its standard output and error go to files in ``folder`` and are returned as text."""
        event = threading.Event()
        slot: list[dict] = []
        with self._lock:
            self._next += 1
            number = self._next
            out, err = folder / f".forked-{number}.out", folder / f".forked-{number}.err"
            self._waiting[number] = (event, slot)
            request = {
                "id": number,
                "argv": list(argv),
                "cwd": str(cwd),
                "env": dict(env),
                "stdout": str(out),
                "stderr": str(err),
                "timeout": timeout,
            }
            self._process.stdin.write(json.dumps(request).encode() + b"\n")  # type: ignore[union-attr]
            self._process.stdin.flush()  # type: ignore[union-attr]
        event.wait()
        try:
            texts = [
                p.read_text(encoding="utf-8", errors="replace") if p.exists() else "" for p in (out, err)
            ]
        finally:
            for path in (out, err):
                path.unlink(missing_ok=True)
        return Run(slot[0]["code"], texts[0], texts[1], slot[0].get("cpu"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._process.stdin.close()  # type: ignore[union-attr]
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _preload() -> None:
    """Import every mamori module (not the migration scripts, which Alembic loads itself) and the libraries of
    :data:`PRELOAD`: a run forked after this compiles and imports nothing it would share with the others."""
    import importlib
    import pkgutil

    import mamori

    for module in pkgutil.walk_packages(mamori.__path__, "mamori."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _child(request: dict) -> None:
    """In the forked process: become the command and end with its exit code (never returns)."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        sys.argv = ["mamori", *request["argv"]]
        from mamori.cli.main import run

        try:
            run()
            code = 0
        except SystemExit as exc:  # what the interpreter does with it at exit
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                sys.stderr.write(f"{exc.code}\n")
                code = 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
    finally:
        os._exit(code)


def _serve() -> None:
    """The helper's loop: fork a run per request, answer when it ends or kill it at its timeout."""
    if sys.path and Path(sys.path[0]).resolve() == HERE:  # as the installed script: tests/ not importable
        sys.path.pop(0)
    _preload()
    os.write(1, b"ready\n")
    running: dict[int, tuple[int, float]] = {}  # pid → (request id, deadline)
    pending = b""
    open_input = True
    while open_input or running:
        if open_input:
            readable, _, _ = select.select([0], [], [], 0.01 if running else 1.0)
            if readable:
                chunk = os.read(0, 1 << 16)
                if not chunk:
                    open_input = False
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    request = json.loads(line)
                    pid = os.fork()
                    if pid == 0:
                        _child(request)
                    running[pid] = (request["id"], time.monotonic() + request["timeout"])
        else:
            time.sleep(0.01)
        while running:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                break
            number, deadline = running.pop(pid)
            code = os.waitstatus_to_exitcode(status) if deadline != -1 else None
            cpu = usage.ru_utime + usage.ru_stime
            os.write(1, json.dumps({"id": number, "code": code, "cpu": cpu}).encode() + b"\n")
        now = time.monotonic()
        for pid, (number, deadline) in list(running.items()):
            if deadline != -1 and now > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                running[pid] = (number, -1)  # answered with code None when reaped


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    _serve()

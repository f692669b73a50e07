"""A command's kept objects are not freed at exit (mamori.cli.main.keep_until_exit): the process ends at once
only when nothing else waits for the interpreter's exit, with the command's exit code and its output flushed."""

from __future__ import annotations

import subprocess
import sys

PRELUDE = "import atexit, importlib, sys\nm = importlib.import_module('mamori.cli.main')\nm.keep_until_exit(object())\n"


def _run(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PRELUDE + body], capture_output=True, text=True, timeout=60)


def test_ends_with_the_code_and_the_output_flushed() -> None:
    done = _run("sys.stdout.write('report'); sys.stderr.write('line'); m._exit_now(4); print('not reached')")
    assert (done.returncode, done.stdout, done.stderr) == (4, "report", "line")


def test_an_exit_handler_of_someone_else_means_the_usual_exit() -> None:
    done = _run("atexit.register(lambda: print('handler ran'))\nm._exit_now(4)\nprint('returned')")
    assert (done.returncode, done.stdout.split()) == (0, ["returned", "handler", "ran"])


def test_another_thread_means_the_usual_exit() -> None:
    body = (
        "import threading, time\n"
        "t = threading.Thread(target=lambda: (time.sleep(0.2), print('thread done')))\n"
        "t.start()\nm._exit_now(4)\nprint('returned')"
    )
    done = _run(body)
    assert (done.returncode, sorted(done.stdout.split())) == (0, ["done", "returned", "thread"])


def test_the_next_command_in_the_process_releases_what_the_last_one_kept() -> None:
    done = _run("m.main(['--version'])\nprint(len(m._KEPT))")
    assert done.returncode == 0 and done.stdout.split()[-1] == "0"


def test_multiprocessing_exit_handler_runs_then_the_process_ends_at_once() -> None:
    """An import's workers have ended when it returns; multiprocessing's exit handler (its finalizers,
    joining any child still running) is run, and the process then ends with the command's code."""
    body = (
        "import multiprocessing.util as u\n"
        "u.Finalize(None, print, args=('finalized',), exitpriority=0)\n"
        "sys.stdout.write('report ')\nm._exit_now(4)\nprint('not reached')"
    )
    done = _run(body)
    assert (done.returncode, done.stdout.split()) == (4, ["report", "finalized"])

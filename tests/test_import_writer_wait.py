"""An import interrupted while its writer thread commits a batch waits for that commit to end.

Thread.join, interrupted by a signal handler that raises, can leave a running thread marked as ended
(CPython's handling of bpo-45274); the import then closed the store and exited while the batch was still
being written, and the store kept its WAL and shared-memory files (seen about once in 30 runs of
test_store_refusal's process-group test). The batch is now waited for through an Event."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from mamori.vulndb import importer


class _Interrupt(BaseException):
    pass


def test_an_interrupted_wait_still_waits_for_the_batch_being_written() -> None:
    run: Any = importer._Run.__new__(importer._Run)  # only the writing thread's bookkeeping is used
    run.written = threading.Event()
    run.failure = None
    entered, finished = threading.Event(), []

    def slow_write(batch: object, state: object) -> None:
        entered.set()
        time.sleep(0.5)
        finished.append(True)

    run._write = slow_write
    run.written.clear()
    run.writing = threading.Thread(target=run._write_then_signal, args=(None, None))
    run.writing.start()
    assert entered.wait(5)

    def interrupt(signum: int, frame: object) -> None:
        raise _Interrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.1)  # in the middle of the wait below
    try:
        with pytest.raises(_Interrupt), importer._writes_joined(run):
            run.wait_written()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert finished == [True], "the interruption went on while the batch was still being written"

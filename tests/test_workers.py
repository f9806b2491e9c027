"""``workers.run_all`` under a Ctrl-C that comes at the worst moment."""

from __future__ import annotations

import os
import signal
from concurrent.futures import process

from naavre_scaffold.fleet import workers


def _double(number: int) -> int:
    return 2 * number


def test_a_ctrl_c_while_the_pool_starts_its_thread_is_an_interrupt(monkeypatch) -> None:
    """Between the pool making its manager thread and starting it, a Ctrl-C left a thread that
    shutdown() cannot join: a RuntimeError traceback instead of exit 130."""
    start = process._ExecutorManagerThread.start

    def start_after_a_ctrl_c(thread: process._ExecutorManagerThread) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        start(thread)

    monkeypatch.setattr(process._ExecutorManagerThread, "start", start_after_a_ctrl_c)

    results, interrupted = workers.run_all(
        [1, 2, 3], _double, 1, on_start=lambda index: None, on_done=lambda index, result: None
    )

    assert interrupted
    assert set(results.values()) <= {2, 4, 6, None}

"""Worker processes for ``update``: several repositories at once, stopped safely.

Copier changes the working directory while it runs, so repositories are updated
in processes, not threads. The rules that keep a stopped run safe:

- Workers use the ``fork`` start method, chosen on purpose: they start at once
  with Copier already imported, and inherit the caller's environment and
  folder. (``spawn`` and ``forkserver``, Python 3.14's default, would import
  Copier again per worker and take the environment of another moment.)
- A repository starts only when a worker is free, so nothing waits in a queue
  that an interrupt could not empty.
- Workers leave the terminal's process group: Ctrl-C and SIGTERM reach the parent
  only, never a half-done ``git apply``. On an interrupt the parent sets ``stop``;
  a repository not started yet is then skipped, a running one finishes or rolls
  back (``stopping()`` is checked before anything reaches the repository).
- A worker whose parent died (SIGKILL) finishes or rolls back its repository,
  cleans up after itself (``on_orphaned``), then exits, instead of waiting
  forever for work that will never come.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from naavre_scaffold.signals import held_signals

PARENT_POLL_SECONDS = 0.2

_stop: Any = None  # the run's multiprocessing Event, set in each worker
_parent = 0
_on_orphaned: Callable[[], None] | None = None
_busy = threading.Lock()  # held while a worker works on a repository


def stopping() -> bool:
    """Whether the work at hand should roll back instead of delivering: an interrupt, or no parent."""
    return (_stop is not None and _stop.is_set()) or (_parent != 0 and os.getppid() != _parent)


def _start_worker(stop: Any, on_orphaned: Callable[[], None] | None) -> None:
    global _stop, _parent, _on_orphaned
    _stop, _parent, _on_orphaned = stop, os.getppid(), on_orphaned
    os.setpgrp()  # out of the terminal's foreground group: Ctrl-C is the parent's to handle
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, daemon=True).start()


def _exit_with_parent() -> None:
    """Exit once the parent is gone, but only between repositories."""
    while os.getppid() == _parent:
        time.sleep(PARENT_POLL_SECONDS)
    with _busy:
        if _on_orphaned:
            _on_orphaned()
        os._exit(1)


def _call(work: Callable[[Any], Any], job: Any) -> Any:
    with _busy:
        if stopping():
            return None  # never started
        return work(job)


def run_all(
    jobs: list[Any],
    work: Callable[[Any], Any],
    workers: int,
    on_start: Callable[[int], None],
    on_done: Callable[[int, Any], None],
    on_orphaned: Callable[[], None] | None = None,
) -> tuple[dict[int, Any], bool]:
    """Run ``work(job)`` for each job in worker processes.

    Returns the results by job index (None for a job that was stopped before it
    started, the exception for a worker that died) and whether the run was
    interrupted (a KeyboardInterrupt in the caller, also from ``on_start`` or
    ``on_done``). After an interrupt, jobs not started have no result.
    """
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    results: dict[int, Any] = {}
    pending = deque(range(len(jobs)))
    running: dict[Future, int] = {}
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(stop, on_orphaned)
    )
    interrupted = False
    try:
        while pending or running:
            while pending and len(running) < workers:
                index = pending.popleft()
                on_start(index)
                # The first submit starts the pool's manager thread: a Ctrl-C in the middle of that
                # leaves a thread that shutdown() cannot join. So it waits until the submit is done.
                with held_signals():
                    running[pool.submit(_call, work, jobs[index])] = index
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                results[index] = _result(future)
                on_done(index, results[index])
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    finally:
        while True:  # a second Ctrl-C must not abandon workers half-way through a repository
            try:
                pool.shutdown(wait=True, cancel_futures=True)
                break
            except KeyboardInterrupt:
                interrupted = True
                stop.set()
    for future, index in running.items():
        if future.done() and not future.cancelled():
            results[index] = _result(future)
    return results, interrupted


def _result(future: Future) -> Any:
    try:
        return future.result()
    except Exception as error:  # the worker process died (killed, out of memory)
        return error

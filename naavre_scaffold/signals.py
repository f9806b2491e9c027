"""Ctrl-C and SIGTERM held back while a cleanup runs, so that a second one cannot cut it short."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back during a cleanup; the first one caught takes effect right after.

    A second Ctrl-C during the cleanup of the first would otherwise leave a tool
    running or a work folder half removed. Python runs signal handlers in the main
    thread only, so elsewhere there is nothing to hold back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    # A handler not set from Python (None) cannot be put back: that signal is not held.
    held = [sig for sig in STOPPING_SIGNALS if signal.getsignal(sig) is not None]
    previous = {sig: signal.signal(sig, lambda signum, _frame: caught.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            signal.raise_signal(caught[0])

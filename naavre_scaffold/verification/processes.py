"""Check tools run in their own process group, with a deadline, their output read back.

A tool such as ``jlpm`` or ``jupyter lab`` starts processes of its own; stopping
its group stops them too, so a timeout or an interrupted check leaves no orphans.
The group is in a session of its own, so Ctrl-C in the terminal reaches only
naavre-scaffold, which then stops the group itself (``run_logged``) before its
work folder goes (``scratch_folder``); neither is cut short by a second Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from naavre_scaffold.signals import held_signals

SHOWN_LINES = 15
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Yarn's step frames ("┌ Resolution step", "└ Completed in 5s") say nothing about a failure.
YARN_FRAME = re.compile(r"YN0000: [┌└]")
STOP_SECONDS = 10  # how long a tool has to end after SIGTERM before SIGKILL
REMOVE_ATTEMPTS = 5  # tries at removing a work folder, half a second apart


def start(args: list[str], cwd: Path, env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
    """Start a tool in its own process group, so that stopping it stops whatever it started."""
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        start_new_session=True,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def run_logged(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> tuple[bool, str]:
    """Run a tool: (success, all its output). A timeout kills its process group and is a failure.

    However the wait ends (done, timed out, Ctrl-C or SIGTERM), nothing of the
    tool's group is left running: a leftover would write on into the work folder.
    """
    with tempfile.TemporaryFile("w+") as log:
        proc = start(args, cwd, env, log)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            stop(proc)
        log.seek(0)
        output = ANSI.sub("", log.read())  # colours would hide "enabled OK" from the checks
    if code is None:
        return False, f"{output}\ntimed out after {timeout} s"
    return code == 0, output


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started by ``start`` and everything it started: politely, then not.

    SIGTERM to the group, and once the tool has ended (or after ``STOP_SECONDS``)
    SIGKILL to whatever is left of it: children may outlive the tool.
    """
    with held_signals():
        if _signal_group(proc.pid, signal.SIGTERM):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_SECONDS)
            _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


def _signal_group(group: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False when no process is left in it."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder for tools to work in, removed with all its contents however the work ends.

    Stop the tools working in it first (``run_logged`` and ``stop`` do).
    """
    folder = tempfile.TemporaryDirectory(prefix=prefix)
    try:
        yield Path(folder.name)
    finally:
        with held_signals():
            _remove(folder)


def _remove(folder: tempfile.TemporaryDirectory) -> None:
    """Remove a temporary folder, again if a file appeared in it meanwhile (a tool just killed)."""
    for attempt in range(1, REMOVE_ATTEMPTS + 1):
        try:
            folder.cleanup()  # TemporaryDirectory's own: it also clears read-only bits in the way
            return
        except OSError:  # "Directory not empty"
            if attempt == REMOVE_ATTEMPTS:
                raise
            time.sleep(0.5)


def last_lines(text: str, limit: int = SHOWN_LINES) -> str:
    """The last ``limit`` meaningful lines of a tool's output, saying how many came before."""
    lines = [ANSI.sub("", line).rstrip() for line in text.splitlines()]
    lines = [line for line in lines if line.strip() and not YARN_FRAME.search(line)]
    if len(lines) > limit:
        lines = [f"... {len(lines) - limit} earlier line(s)", *lines[-limit:]]
    return "\n".join(lines)

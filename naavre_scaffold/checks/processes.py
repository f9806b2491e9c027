"""Check tools run in their own process group, with a deadline, their output read back.

A tool such as ``jlpm`` or ``jupyter lab`` starts processes of its own; stopping
its group stops them too, so a timeout or an interrupted check leaves no orphans.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO

SHOWN_LINES = 15
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Yarn's step frames ("┌ Resolution step", "└ Completed in 5s") say nothing about a failure.
YARN_FRAME = re.compile(r"YN0000: [┌└]")


def start(args: list[str], cwd: Path, env: dict[str, str], log: IO[str]) -> subprocess.Popen:
    """Start a tool in its own process group, so that stopping it stops whatever it started."""
    out = {"stdin": subprocess.DEVNULL, "stdout": log, "stderr": subprocess.STDOUT}
    return subprocess.Popen(args, cwd=cwd, env=env, start_new_session=True, text=True, **out)


def run_logged(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> tuple[bool, str]:
    """Run a tool: (success, all its output). A timeout kills its process group and is a failure."""
    with tempfile.TemporaryFile("w+") as log:
        proc = start(args, cwd, env, log)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(proc)
            code = None
        log.seek(0)
        output = ANSI.sub("", log.read())  # colours would hide "enabled OK" from the checks
    if code is None:
        return False, f"{output}\ntimed out after {timeout} s"
    return code == 0, output


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started by ``start`` and everything it started: politely, then not."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
            return


def last_lines(text: str, limit: int = SHOWN_LINES) -> str:
    """The last ``limit`` meaningful lines of a tool's output, saying how many came before."""
    lines = [ANSI.sub("", line).rstrip() for line in text.splitlines()]
    lines = [line for line in lines if line.strip() and not YARN_FRAME.search(line)]
    if len(lines) > limit:
        lines = [f"... {len(lines) - limit} earlier line(s)", *lines[-limit:]]
    return "\n".join(lines)

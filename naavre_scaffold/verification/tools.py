"""Render checks: one module per artifact kind, each with ``run(repo) -> list[CheckResult]``.

The same functions serve ``naavre-scaffold verify``, this project's tests and its CI.
A check module finds its own artifacts under the repo and returns one result per
check it ran; it returns an empty list when the repo has nothing of its kind. Its
``checks(repo)`` yields the same results one by one, as each check finishes, so
that ``verify`` can show them while the slower ones still run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from naavre_scaffold.errors import ToolMissingError


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``name`` says what was checked and on which file.

    ``kind`` is the check kind that ran it (``helm``, ``dockerfile``, ...); ``verify`` sets it.
    """

    name: str
    ok: bool
    detail: str = ""
    kind: str = ""


def tool_env() -> dict[str, str]:
    """Environment for check tools: this interpreter's scripts folder first on PATH.

    actionlint only runs shellcheck on ``run:`` blocks when shellcheck is on PATH,
    and both are installed as scripts next to the running Python.
    """
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    return env


def find_tool(name: str) -> str:
    """Absolute path of a check tool, looked up as ``tool_env`` would."""
    found = shutil.which(name, path=tool_env()["PATH"])
    if found is None:
        raise ToolMissingError(f"{name} is not installed: pip install 'naavre-scaffold[verify]'")
    return found


def run_tool(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a check tool (``args[0]`` is looked up with ``find_tool``) and capture its output."""
    return subprocess.run(
        [find_tool(args[0]), *args[1:]],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def first_lines(text: str, limit: int = 8, separator: str = "\n") -> str:
    """The first ``limit`` non-blank lines of a tool's output, saying how many more there were."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... {len(lines) - limit} more line(s)"]
    return separator.join(lines)

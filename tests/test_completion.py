"""Shell completion through argcomplete: the command answers the shell's questions and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = "from naavre_scaffold.cli import run; run()"


def _complete(line: str, tmp_path: Path) -> list[str]:
    out = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    run = subprocess.run([sys.executable, "-c", ENTRY], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return sorted(word.strip() for word in out.read_text().split("\013"))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "naavre-scaffold ",
            ["--help", "--version", "-h", "adopt", "check", "new", "register", "status", "update", "verify"],
        ),
        ("naavre-scaffold new s", ["service"]),
        ("naavre-scaffold update --d", ["--diff", "--dry-run"]),
        ("naavre-scaffold new service x --def", ["--defaults"]),
        ("naavre-scaffold new service x -d po", ["port="]),
        ("naavre-scaffold new jupyterlab x -d k", ["kind="]),
    ],
)
def test_completes_commands_templates_and_options(line: str, expected: list[str], tmp_path: Path) -> None:
    assert _complete(line, tmp_path) == expected

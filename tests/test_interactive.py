"""With a terminal attached and no --defaults, `new` asks the unanswered questions."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import yaml


class Terminal:
    """A command running in a pseudo-terminal, read and typed into as a person would."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.output = b""
        self.closed = False
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the terminal is its stdin and stdout
            os.chdir(cwd)
            # No cursor-position queries: nobody here answers them, prompt_toolkit would wait.
            os.execve(args[0], args, os.environ | {"PROMPT_TOOLKIT_NO_CPR": "1"})

    def _read(self) -> None:
        if select.select([self.fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # the command ended and its terminal closed
                chunk = b""
            self.output += chunk
            self.closed = not chunk

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            assert not self.closed and time.monotonic() < deadline, (
                f"{text!r} never appeared:\n{self.output.decode(errors='replace')}"
            )
            self._read()

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._read()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def test_new_asks_in_a_terminal(tmp_path: Path) -> None:
    terminal = Terminal(
        [sys.executable, "-m", "naavre_scaffold", "new", "service", "asked", "-d", "port=9000"], tmp_path
    )
    terminal.wait_for("One-line description")
    terminal.type("\x15Typed at the prompt\r")  # Ctrl-U clears the proposed default first
    for question in ("Author or team", "GitHub organisation", "Container registry", "Python version"):
        terminal.wait_for(question)
        terminal.type("\r")
    assert terminal.exit_code() == 0, terminal.output.decode(errors="replace")
    assert b"Port the service listens on" not in terminal.output  # answered with -d, so not asked
    answers = yaml.safe_load((tmp_path / "NaaVRE-asked-service/.copier-answers.yml").read_text())
    assert answers["description"] == "Typed at the prompt"
    assert (answers["port"], answers["github_org"], answers["python_version"]) == (9000, "NaaVRE", "3.14")


def test_bad_typed_answer_is_refused_at_the_prompt(tmp_path: Path) -> None:
    terminal = Terminal([sys.executable, "-m", "naavre_scaffold", "new", "service", "asked2"], tmp_path)
    for question in ("One-line description", "Author or team", "GitHub organisation", "Container registry"):
        terminal.wait_for(question)
        terminal.type("\r")
    terminal.wait_for("Port the service listens on")
    terminal.type("\x1580\r")
    terminal.wait_for("port must be between 1024 and 65535")
    terminal.type("\x158080\r")
    terminal.wait_for("Python version")
    terminal.type("\r")
    assert terminal.exit_code() == 0
    answers = yaml.safe_load((tmp_path / "NaaVRE-asked2-service/.copier-answers.yml").read_text())
    assert answers["port"] == 8080

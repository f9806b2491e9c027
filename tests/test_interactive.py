"""With a terminal attached and no --defaults, `new` asks the unanswered questions, readably.

Each test runs the real `naavre-scaffold` console script in a pseudo-terminal of a
known size and reads what a person would see through a small terminal emulator.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import copier._main
import pytest
import questionary
import yaml
from copier._jinja_ext import SandboxedEnvironment
from copier._user_data import AnswersMap, Question
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output
from prompt_toolkit.utils import get_cwidth

from naavre_scaffold._copier.prompts import COPIER_PROMPT, NO_TERMINAL_NOTICE, ask_readably, readable_prompts
from naavre_scaffold.cli import main
from naavre_scaffold.git import git

COMMAND = str(Path(sys.executable).parent / "naavre-scaffold")
GITHUB_ORG_RULE = (
    "github_org: must be a GitHub account name: letters, digits and single hyphens, at most 39 characters"
)
PORT_RULE = "port: must be between 1024 and 65535 (got 80): the container runs as a non-root user"
REGISTRY_QUESTION = "Container registry that receives the image and the chart (oci://<registry>/charts)"


class Screen:
    """Just enough of a VT100 to see what a person sees: every row ever written, ``columns`` wide.

    A character written past the right edge either wraps (auto-wrap on) or overwrites
    the last column (off, as prompt_toolkit sets it), exactly how text gets cut.
    """

    _CONTROL = re.compile(r"\x1b\[([?0-9;]*)([@-~])|\x1b[^\[]")

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[list[str]] = [[]]
        self.row = self.col = 0
        self.autowrap = True

    def feed(self, text: str) -> None:
        position = 0
        while position < len(text):
            if control := self._CONTROL.match(text, position):
                if control[2]:
                    self._csi(control[1], control[2])
                position = control.end()
                continue
            char = text[position]
            position += 1
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self._move_to(self.row + 1)
            elif char == "\b":
                self.col = max(self.col - 1, 0)
            elif char >= " ":
                self._put(char)

    def _move_to(self, row: int) -> None:
        self.row = max(row, 0)
        while len(self.rows) <= self.row:
            self.rows.append([])

    def _put(self, char: str) -> None:
        width = get_cwidth(char)
        if self.col + width > self.columns:
            if self.autowrap:
                self._move_to(self.row + 1)
                self.col = 0
            else:
                self.col = self.columns - width
        cells = self.rows[self.row]
        cells.extend(" " * (self.col + width - len(cells)))
        cells[self.col : self.col + width] = [char] + [""] * (width - 1)
        self.col += width

    def _csi(self, params: str, final: str) -> None:
        count = int(params) if params.isdigit() else 1
        if final == "A":
            self._move_to(self.row - count)
        elif final == "B":
            self._move_to(self.row + count)
        elif final == "C":
            self.col = min(self.col + count, self.columns - 1)
        elif final == "D":
            self.col = max(self.col - count, 0)
        elif final == "K":  # erase to the end of the line
            del self.rows[self.row][self.col :]
        elif final == "J":  # erase to the end of the screen
            del self.rows[self.row][self.col :]
            del self.rows[self.row + 1 :]
        elif final in "hl" and params == "?7":
            self.autowrap = final == "h"
        elif final in "Hf":
            raise AssertionError("absolute cursor moves are not emulated")

    def lines(self) -> list[str]:
        return ["".join(cells).rstrip() for cells in self.rows]

    def text(self) -> str:
        """Everything on screen as one line of words: a rule wrapped at spaces reads whole here."""
        return " ".join(" ".join(self.lines()).split())


class Terminal:
    """The command in a pseudo-terminal of ``columns`` x 24, read and typed into as a person would.

    ``stdout`` / ``stderr`` redirect the command's output to a file, as ``| tee`` or
    ``2> log`` would; its input is always the terminal.
    """

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        columns: int = 80,
        stdout: Path | None = None,
        stderr: Path | None = None,
    ) -> None:
        self.output = b""
        self.closed = self.pid_reaped = False
        self.columns = columns
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the terminal is its stdin, stdout and stderr
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
            for path, fd in ((stdout, 1), (stderr, 2)):
                if path is not None:
                    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            os.chdir(cwd)
            # No cursor-position queries: nobody here answers them, prompt_toolkit would wait.
            os.execve(COMMAND, [COMMAND, *args], _environment(cwd) | {"PROMPT_TOOLKIT_NO_CPR": "1"})

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
        while text not in self.screen().text():
            assert not self.closed and time.monotonic() < deadline, (
                f"{text!r} never appeared:\n{self.shown()}"
            )
            self._read()

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def answer(self, question: str, keys: str = "", after: str = "") -> None:
        """Wait for ``question`` (asked right after ``after``), then type ``keys`` over its proposed answer.

        Ctrl-U clears the proposed answer. Waiting for the question to be on screen also means
        the prompt reads the keys, rather than the terminal echoing them between two prompts.
        """
        self.wait_for(f"{after} 🎤 {question}" if after else question)
        self.type(f"\x15{keys}\r" if keys else "\r")

    def exit_code(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._read()
        _, status = os.waitpid(self.pid, 0)
        self.pid_reaped = True
        return os.waitstatus_to_exitcode(status)

    def screen(self) -> Screen:
        screen = Screen(self.columns)
        screen.feed(self.output.decode(errors="replace"))
        return screen

    def shown(self) -> str:
        return "\n".join(self.screen().lines())

    def end(self) -> None:
        """Kill the command if a failed test left it waiting for keys, and reap it."""
        if not self.pid_reaped and os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def run_in_terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Starts the command in a terminal in ``tmp_path``; it never outlives the test."""
    started: list[Terminal] = []

    def start(args: list[str], **options: Any) -> Terminal:
        started.append(Terminal(args, tmp_path, **options))
        return started[-1]

    yield start
    for each in started:
        each.end()


def _environment(cwd: Path) -> dict[str, str]:
    """The environment with a Copier mirror cache of this test's own.

    Copier keeps one mirror per template URL in the user's cache, and the bundled
    template is fetched as the same public URL from each test session's own snapshot:
    parallel tests would otherwise update one mirror from different snapshots.
    """
    return os.environ | {"COPIER_CACHE_DIR": str(cwd.parent / f"{cwd.name}-copier-cache")}


def _answers(folder: Path) -> dict:
    return yaml.safe_load((folder / ".copier-answers.yml").read_text())


def test_new_asks_in_a_terminal(tmp_path: Path, run_in_terminal: Callable[..., Terminal]) -> None:
    terminal = run_in_terminal(["new", "service", "asked", "-d", "port=9000"])
    terminal.answer("One-line description", "Typed at the prompt")
    for question in ("Author or team", "GitHub organisation", "Container registry", "Python version"):
        terminal.answer(question)
    assert terminal.exit_code() == 0, terminal.shown()
    assert "Port the service listens on" not in terminal.screen().text()  # answered with -d, so not asked
    answers = _answers(tmp_path / "NaaVRE-asked-service")
    assert answers["description"] == "Typed at the prompt"
    assert (answers["port"], answers["github_org"], answers["python_version"]) == (9000, "NaaVRE", "3.14")


@pytest.mark.parametrize("columns", [80, 52])
def test_a_bad_answer_shows_the_whole_rule_and_is_asked_again(
    tmp_path: Path, run_in_terminal: Callable[..., Terminal], columns: int
) -> None:
    terminal = run_in_terminal(["new", "service", "asked"], columns=columns)
    terminal.answer("One-line description")
    terminal.answer("Author or team")
    terminal.answer("GitHub organisation", "bad_org!")
    # Asked again, starting from what was typed, so one typo is one fix.
    terminal.wait_for(f"{GITHUB_ORG_RULE} 🎤 GitHub organisation (or user) that owns the repository bad_org!")
    terminal.type("\x15Good-Org\r")
    terminal.answer(REGISTRY_QUESTION)  # the long question, whole, wrapped at a space
    terminal.answer("Port the service listens on", "80")
    terminal.answer("Port the service listens on", "http", after=PORT_RULE)
    terminal.answer("Port the service listens on", "8080", after="port: must be a whole number (got 'http')")
    terminal.answer("Python version")
    assert terminal.exit_code() == 0, terminal.shown()

    # The screen is `columns` wide, so a line too long for it shows here as a word cut or broken.
    # (Several words each: a lone ":" wrapped off a long line of the next steps is in the rule too.)
    rule_lines = [
        line for line in terminal.screen().lines() if " " in line.strip() and line in GITHUB_ORG_RULE
    ]
    assert len(rule_lines) > 1 and " ".join(rule_lines) == GITHUB_ORG_RULE  # whole, wrapped at spaces
    assert "Validation error for question" not in terminal.screen().text()
    answers = _answers(tmp_path / "NaaVRE-asked-service")
    assert (answers["github_org"], answers["registry"], answers["port"]) == (
        "Good-Org",
        "ghcr.io/good-org",
        8080,
    )


def test_ctrl_c_at_a_prompt_exits_130_with_one_line_and_writes_nothing(
    tmp_path: Path, run_in_terminal: Callable[..., Terminal]
) -> None:
    stderr = tmp_path.parent / f"{tmp_path.name}-stderr"
    terminal = run_in_terminal(["new", "service", "stopped"], stderr=stderr)
    for question in ("One-line description", "Author or team", "GitHub organisation", "Container registry"):
        terminal.answer(question)
    terminal.answer("Port the service listens on", "80")
    terminal.wait_for(f"{PORT_RULE} 🎤 Port the service listens on")
    terminal.type("\x03")  # Ctrl-C at a prompt asked again
    assert terminal.exit_code() == 130, terminal.shown()
    errors = stderr.read_text().splitlines()
    assert len(errors) == 1 and errors[0].startswith("naavre-scaffold new: error: interrupted"), errors
    assert "Traceback" not in terminal.shown()
    assert list(tmp_path.iterdir()) == []  # no NaaVRE-stopped-service, nothing else


def test_an_alias_typed_at_a_prompt_that_another_flavor_has_is_refused(
    tmp_path: Path, run_in_terminal: Callable[..., Terminal]
) -> None:
    """Known only once asked, it is refused after the render, and the flavor's folder goes again."""
    assert main(["new", "flavors-repo", "flavors", "--dest", str(tmp_path), "--defaults", "--quiet"]) == 0
    stderr = tmp_path.parent / f"{tmp_path.name}-stderr"
    terminal = run_in_terminal(["new", "flavor", "eco"], stderr=stderr)
    for question in ("One-line description", "Author or team", "GitHub organisation", "Kernels the flavor"):
        terminal.answer(question)
    terminal.answer("Other names for this flavor", "[python]")
    for question in ("More conda-forge", "Build the flavor's Jupyter", "Build the cell base", "Free disk"):
        terminal.answer(question)
    assert terminal.exit_code() == 2, terminal.shown()
    assert stderr.read_text().splitlines() == [
        "naavre-scaffold new: error: aliases: python is already a name or alias of flavor vanilla"
    ]
    assert not (tmp_path / "flavors/eco").exists()
    assert git(tmp_path, "status", "--porcelain") == ""


@pytest.mark.parametrize("redirected", ["stdout", "stdout and stderr"])
def test_questions_are_asked_when_output_is_redirected(
    tmp_path: Path, run_in_terminal: Callable[..., Terminal], redirected: str
) -> None:
    """`new service x | tee log` (or `> log 2>&1`): stdin is the terminal, so the person is asked there."""
    log = tmp_path.parent / f"{tmp_path.name}-log"
    errors = log if redirected == "stdout and stderr" else None
    terminal = run_in_terminal(["new", "service", "logged", "-d", "port=9000"], stdout=log, stderr=errors)
    terminal.answer("One-line description")
    terminal.answer("Author or team")
    terminal.answer("GitHub organisation", "bad_org!")
    terminal.answer("GitHub organisation", "Logged", after=GITHUB_ORG_RULE)
    terminal.answer("Container registry")
    terminal.answer("Python version")
    assert terminal.exit_code() == 0, terminal.shown()
    written = log.read_text()
    assert "Created NaaVRE-logged-service" in written
    assert "GitHub organisation" not in written  # the questions went to the terminal, not into the log
    assert _answers(tmp_path / "NaaVRE-logged-service")["github_org"] == "Logged"


def test_defaults_without_a_terminal_are_announced(tmp_path: Path) -> None:
    result = subprocess.run(
        [COMMAND, "new", "service", "unasked"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"naavre-scaffold new: {NO_TERMINAL_NOTICE}"]
    assert _answers(tmp_path / "NaaVRE-unasked-service")["github_org"] == "NaaVRE"

    quiet = subprocess.run(
        [COMMAND, "new", "service", "unasked2", "--defaults"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


def test_copier_still_asks_through_the_function_readable_prompts_replaces() -> None:
    """prompts.py replaces copier._main.unsafe_prompt; if a Copier release renames it, this fails."""
    original = getattr(copier._main, COPIER_PROMPT, None)
    assert original is questionary.unsafe_prompt, (
        f"copier {copier.__version__} no longer asks through copier._main.{COPIER_PROMPT}: "
        "update naavre_scaffold/_copier/prompts.py, or the prompts are Copier's own again "
        "(rules cut at 80 columns)"
    )
    with readable_prompts():
        assert getattr(copier._main, COPIER_PROMPT) is not original
    assert getattr(copier._main, COPIER_PROMPT) is original


def test_every_kind_of_question_keeps_working() -> None:
    """Confirm, select, checkbox and typed questions, as Copier builds them, asked through ask_readably."""
    env = SandboxedEnvironment()
    long_help = "How many workers the service starts, counted per replica of the deployment in the cluster?"

    def question(**fields: Any) -> Question:
        return Question(answers=AnswersMap(), context={}, jinja_env=env, **fields)

    steps = [
        (question(var_name="enabled", type="bool", default=False, help="Enable it?"), "y"),
        (
            question(var_name="flavour", type="str", choices=["a", "b"], default="a", help="Flavour?"),
            "\x1b[B\r",
        ),
        (
            question(
                var_name="extras",
                type="str",
                choices=["x", "y", "z"],
                multiselect=True,
                default=["y"],
                help="Extras?",
                validator="{% if extras | length > 1 %}extras may name one at most{% endif %}",
            ),
            " \r \r",  # tick x as well: refused; asked again with x and y ticked, untick x
        ),
        (
            question(
                var_name="count",
                type="int",
                default=3,
                help=long_help,
                validator="{% if count < 1 %}count must be at least 1 (got {{ count }}){% endif %}",
            ),
            "\x150\r\x157\r",
        ),
    ]
    shown = io.StringIO()
    output = Vt100_Output(shown, lambda: Size(rows=24, columns=60), term="xterm", enable_cpr=False)
    answers: dict[str, Any] = {}
    with create_pipe_input() as keys:
        keys.send_text("".join(typed for _, typed in steps))
        keys.close()  # a question that wants more keys than these fails with EOFError instead of hanging
        for asked, _ in steps:
            structure = asked.get_questionary_structure()
            proposed = {asked.var_name: asked.get_default()}
            answers |= ask_readably(
                questionary.unsafe_prompt, [structure], proposed, input=keys, output=output
            )
    assert answers == {"enabled": True, "flavour": "b", "extras": ["y"], "count": 7}
    screen = Screen(60)
    screen.feed(shown.getvalue())
    assert "extras: may name one at most 🎤 Extras?" in screen.text()
    # The long question wrapped at spaces (a cut or broken word would not read whole here).
    assert f"{long_help} 0 count: must be at least 1 (got 0) 🎤 {long_help} 7" in screen.text()

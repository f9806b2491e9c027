"""The generated service's README, run: every command it gives a developer, executed as written.

A ``ShellSession`` plays the developer's terminal: each command runs in its own
``bash -c`` in the render, ``cd`` and ``export`` lines carry over to the commands
after them as they would in a shell, and the serve command is started in the
background and probed over HTTP. Only commands that need what this machine lacks
(a Docker engine, a cluster, a remote) are skipped, each listed with its reason, and
the test asserts that exact list, so a new command in the README cannot slip past.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.cli import main

COMMAND_TIMEOUT_SECONDS = 600
SERVER_START_SECONDS = 90
JWT = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")
# The tools a developer has on PATH besides the system's: uv, and naavre-scaffold for the update section.
DEVELOPER_TOOLS = ("uv", "naavre-scaffold")
# This test run's virtual environment and interpreter choice, which a developer's shell would not have.
NOT_A_DEVELOPERS = ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT")


def shell_blocks(markdown: str) -> dict[str, list[str]]:
    """The command lines of every fenced ```shell block, by the ``##`` section they are in.

    A line ending in a backslash continues on the next, as in the shell.
    """
    commands: dict[str, list[str]] = {}
    section = ""
    lines = iter(markdown.splitlines())
    for line in lines:
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip() != "```shell":
            continue
        pending = ""
        for body in lines:
            if body.strip() == "```":
                break
            pending += body.strip()
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip() + " "
                continue
            if pending.strip():
                commands.setdefault(section, []).append(pending.strip())
            pending = ""
    return commands


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def developer_env(tmp_path: Path) -> dict[str, str]:
    """A developer's environment: uv and naavre-scaffold on PATH, no venv active, no Python download.

    Python downloads are off as on a machine that cannot reach them, so the README's
    and the next steps' way of running with an installed Python is what gets used
    (``naavre_scaffold/verification/python.py`` runs uv the same way).
    """
    bin_dir = tmp_path / "developer-bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in DEVELOPER_TOOLS:
        link = bin_dir / tool
        if not link.exists():
            link.symlink_to(Path(sys.executable).parent / tool)
    env = {k: v for k, v in os.environ.items() if k not in NOT_A_DEVELOPERS}
    return env | {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "UV_PYTHON_DOWNLOADS": "never",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def _http_get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


class ShellSession:
    """Runs documented commands in order, the way a developer's shell would."""

    def __init__(self, cwd: Path, env: dict[str, str], documented_port: int, log: Path) -> None:
        self.cwd = cwd
        self.env = env
        self.documented_port = documented_port
        self.port = free_port()
        self.log = log
        self.server: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.outputs: dict[str, str] = {}

    def substitute(self, command: str) -> str:
        """The port number becomes a free one, and ``<token>`` the token made by an earlier command."""
        command = re.sub(
            rf"(--port |localhost:|127\.0\.0\.1:){self.documented_port}\b", rf"\g<1>{self.port}", command
        )
        return command.replace("<token>", self.token)

    def run(self, command: str) -> None:
        words = shlex.split(command, comments=True)
        if words[0] == "cd":
            assert len(words) == 2, command
            self.cwd = (self.cwd / words[1]).resolve()
        elif words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = value
        elif "fastapi dev" in command or "fastapi run" in command:
            self.serve(self.substitute(command))
        else:
            self.outputs[command] = self.execute(self.substitute(command))

    def execute(self, command: str) -> str:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, (
            f"{command}\nexit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        if JWT.fullmatch(done.stdout.strip()):
            self.token = done.stdout.strip()
        return done.stdout

    def serve(self, command: str) -> None:
        """Start the server in the background and wait until /health answers."""
        assert self.server is None, "a second server command"
        with open(self.log, "wb") as log:
            self.server = subprocess.Popen(
                ["bash", "-c", command],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one in stop()
            )
        self.wait_until_healthy()

    def wait_until_healthy(self) -> None:
        assert self.server is not None
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            # `fastapi dev`'s reloader outlives an app that fails to start: read its log too.
            failed = self.server.poll() is not None or "Application startup failed" in self.server_log()
            assert not failed, f"the server did not start:\n{self.server_log()}"
            try:
                if _http_get(self.url("/health"))[0] == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.3)
        raise AssertionError(f"no answer from /health in {SERVER_START_SECONDS} s:\n{self.server_log()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()

    def run_all(self, commands: list[str], skipped: Mapping[str, str]) -> list[str]:
        """Run every command not in ``skipped``; return the skipped ones, in order."""
        left_out = []
        for command in commands:
            if command in skipped:
                left_out.append(command)
            else:
                self.run(command)
        return left_out


def check_running_service(session: ShellSession) -> None:
    """The served API answers /health, refuses /me without a token, and never warned about the key."""
    session.wait_until_healthy()  # again: the reloader may have restarted it since
    status, _, body = _http_get(session.url("/health"))
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, headers, body = _http_get(session.url("/me"))
    assert status == 401, body
    assert headers["www-authenticate"] == "Bearer"


@pytest.mark.slow
def test_readme_commands_work_as_written(template_repo: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["new", "service", "docs", "--defaults", "--quiet", "--template-source", str(template_repo)])
    assert code == 0
    repo = tmp_path / "NaaVRE-docs-service"
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    slug, port = "naavre-docs-service", answers["port"]
    commands = shell_blocks((repo / "README.md").read_text())
    assert list(commands) == [
        "Running locally",
        "Tests",
        "Build the Docker image",
        "Deployment",
        "Configuration",
        "Updating from the template",
    ]
    skipped = {
        f"docker build . -f docker/Dockerfile -t {slug}:dev": "needs a Docker engine; CI builds the image",
        f"docker run --rm -p {port}:{port} -e DISABLE_AUTH=true {slug}:dev": "needs the image built above",
        f"helm upgrade --install {slug} oci://ghcr.io/naavre/charts/{slug} --version X.Y.Z "
        f"-f helm/{slug}/values-example.yaml": "needs a cluster and a published release",
    }
    session = ShellSession(repo, developer_env(tmp_path), port, tmp_path / "server.log")
    try:
        left_out = session.run_all([line for block in commands.values() for line in block], skipped)
        check_running_service(session)
    finally:
        session.stop()
    assert left_out == list(skipped)

    outputs = session.outputs
    assert re.search(r"\d+ passed", outputs["uv run pytest"])
    coverage = next(text for command, text in outputs.items() if command.startswith("uv run coverage"))
    assert re.search(r"^TOTAL ", coverage, re.M)
    # The token made as the README says is accepted by the served API (curl's output).
    me = next(text for command, text in outputs.items() if command.startswith("curl "))
    assert json.loads(me) == {"preferred_username": "alice", "groups": ["/my-lab"]}
    update = next(text for command, text in outputs.items() if command.startswith("naavre-scaffold update"))
    assert "1 up-to-date" in update
    check = next(text for command, text in outputs.items() if command.startswith("naavre-scaffold check"))
    assert "FAIL" not in check and "PASS" in check
    assert "InsecureKeyLengthWarning" not in session.server_log()
    assert "Traceback" not in session.server_log()

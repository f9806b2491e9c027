"""A new extension's next steps, run as printed, and its README's commands, which are the same ones.

``new jupyterlab`` prints the commands of the generated README's "Develop" and
"Test" sections; a developer pastes them into a shell. Here a ShellSession does:
``source .venv/bin/activate`` activates the venv for the commands after it, and
``jupyter lab`` is started in the background on a free port and asked whether
/lab loads the extension. Only what needs GitHub is left out, each with its reason.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from naavre_scaffold.cli import main
from naavre_scaffold.verification.lab_server import lab_problem
from tests.test_generated_docs import COMMAND_TIMEOUT_SECONDS, ShellSession, developer_env, free_port
from tests.test_next_steps import printed_commands
from tests.test_register import naavre_helm_checkout

NAME = "steps"
REPO = f"NaaVRE-{NAME}-jupyterlab"
NPM = f"@naavre/{NAME}-jupyterlab"
PACKAGE = f"naavre_{NAME}_jupyterlab"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FENCE = re.compile(r"^```(?:bash|shell)\n(.*?)^```", re.S | re.M)


class JupyterSession(ShellSession):
    """A shell with venv activation, whose ``jupyter lab`` runs in the background until stop()."""

    def run(self, command: str) -> None:
        words = shlex.split(command, comments=True)
        if words[:1] in (["source"], ["."]) and words[1].endswith("bin/activate"):
            venv = (self.cwd / words[1]).parent.parent
            self.env["VIRTUAL_ENV"] = str(venv)
            self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env['PATH']}"
        elif words[:2] == ["jupyter", "lab"]:
            self.serve_lab(words)
        else:
            super().run(command)

    def serve_lab(self, words: list[str]) -> None:
        self.token = secrets.token_hex(16)
        port = free_port()
        args = [*words, "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0"]
        args += [f"--IdentityProvider.token={self.token}"]
        args += ["--allow-root"] if os.geteuid() == 0 and "--allow-root" not in words else []
        with open(self.log, "wb") as log:
            self.server = subprocess.Popen(
                args,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.lab_problem = lab_problem(self.server, f"http://127.0.0.1:{port}", self.token, NPM)

    def execute(self, command: str) -> str:
        """Like the shell's: jupyter's listings write to stderr, so both streams are the output."""
        done = subprocess.run(
            ["bash", "-c", "exec 2>&1\n" + command],  # the command may end in a comment
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stdout[-4000:]}"
        return done.stdout

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)


def _output(session: ShellSession, command: str) -> str:
    """What the printed command that starts with ``command`` wrote, without colours."""
    (text,) = [out for line, out in session.outputs.items() if line.split("#")[0].strip() == command]
    return ANSI.sub("", text)


def _readme_commands(readme: str, sections: tuple[str, ...]) -> list[str]:
    """The command lines of the fenced blocks under the given ``##`` sections, comments removed."""
    commands = []
    for part in re.split(r"^## ", readme, flags=re.M):
        if part.split("\n", 1)[0].strip() in sections:
            for block in FENCE.findall(part):
                for line in block.splitlines():
                    commands += [" ".join(shlex.split(part, comments=True)) for part in line.split(" && ")]
    return [command for command in commands if command]


def test_the_steps_and_the_readme_link_the_extension_with_the_builders_command(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """JupyterLab 4.6 says ``jupyter labextension develop`` is deprecated for ``jupyter-builder develop``."""
    monkeypatch.chdir(tmp_path)
    assert main(["new", "jupyterlab", NAME, "--defaults"]) == 0
    commands = printed_commands(capsys.readouterr().out)
    readme = _readme_commands((tmp_path / REPO / "README.md").read_text(), ("Develop",))

    for listed in (commands, readme):
        bare = [command.split("#")[0].strip() for command in listed]
        assert "jupyter-builder develop . --overwrite" in bare
        assert not [command for command in bare if command.startswith("jupyter labextension develop")]


@pytest.mark.slow
def test_printed_next_steps_and_the_readme_build_test_and_serve(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    # The checkouts that the printed register command names: ../flavors and ../NaaVRE-helm.
    assert main(["new", "flavors-repo", "flavors", "--defaults", "--quiet"]) == 0
    naavre_helm = naavre_helm_checkout(tmp_path)
    capsys.readouterr()
    answers = ["-d", "kind=frontend-and-server", "-d", "service=containerizer"]
    assert main(["new", "jupyterlab", NAME, "--defaults", *answers]) == 0
    output = capsys.readouterr().out
    commands = printed_commands(output)
    skipped = {"git push -u origin main": "pushes to GitHub"}
    # Installs from the shipped yarn.lock must not change it, on a developer's machine as in CI.
    env = developer_env(tmp_path) | {"YARN_ENABLE_IMMUTABLE_INSTALLS": "true"}
    session = JupyterSession(tmp_path, env, 0, tmp_path / "lab.log")
    try:
        left_out = session.run_all(commands, skipped)
    finally:
        session.stop()

    assert left_out == list(skipped)
    assert session.lab_problem == "", session.server_log()
    assert f"{PACKAGE} | extension was successfully loaded" in session.server_log()
    assert re.search(rf"{re.escape(NPM)} v0\.1\.0 enabled OK", _output(session, "jupyter labextension list"))
    assert re.search(rf"{PACKAGE} enabled", _output(session, "jupyter server extension list"))
    assert re.search(r"\d+ passed", _output(session, "pytest"))
    # The printed register command pinned it in the flavors and set its service's URL in NaaVRE-helm.
    requirements = (tmp_path / "flavors" / "docker" / "jupyter.requirements.txt").read_text()
    assert f"\n{REPO}==0.1.0\n" in requirements and f"    {REPO}==0.1.0" in output
    jupyterhub = (naavre_helm / "values" / "templates" / "jupyterhub.yaml").read_text()
    entry = output.split("setup_virtual_lab.sh loops over:\n", 1)[1].strip()
    assert entry.startswith(f'"{NPM}:plugin": {{"containerizerServiceUrl": "https://')
    assert f'"{NPM}:plugin": {{' in jupyterhub and "naavreContainerizerService.ingress.basePath" in entry

    # The README's Develop and Test commands are the ones that just ran.
    readme = (tmp_path / REPO / "README.md").read_text()
    ran = {" ".join(shlex.split(command, comments=True)) for command in commands}
    assert set(_readme_commands(readme, ("Develop", "Test"))) <= ran

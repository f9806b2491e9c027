"""The next steps that ``new`` prints, run: every command, as printed, in a fresh service."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from naavre_scaffold.new.next_steps import CELLS_PLACEHOLDER, flavor, python_choice, service
from tests.helpers import commit_all
from tests.test_generated_docs import ShellSession, check_running_service, developer_env
from tests.test_register import naavre_helm_checkout

# Commands are the lines indented by exactly two spaces (naavre_scaffold/new/next_steps.py).
COMMAND_LINE = re.compile(r"^  (?=\S)(.*)$", re.M)
REQUIRES_PYTHON = '[project]\nrequires-python = ">=3.11"\n'


def printed_commands(output: str) -> list[str]:
    return COMMAND_LINE.findall(output.split("Next steps", 1)[1])


def test_printed_next_steps_work_as_shown(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    naavre_helm = naavre_helm_checkout(tmp_path)  # where the printed register command looks
    assert main(["new", "service", "steps", "--defaults"]) == 0
    commands = printed_commands(capsys.readouterr().out)
    skipped = {
        "git push -u origin main": "pushes to GitHub",
        "cd ../NaaVRE-helm && ./deploy.sh dependency-update": "needs helm and NaaVRE-helm's deploy.sh",
    }
    session = ShellSession(tmp_path, developer_env(tmp_path), 8000, tmp_path / "server.log")
    try:
        left_out = session.run_all(commands, skipped)
        check_running_service(session)
    finally:
        session.stop()

    assert left_out == list(skipped)
    assert commands[0] == "cd NaaVRE-steps-service"
    assert session.cwd == tmp_path / "NaaVRE-steps-service"
    assert re.search(r"\d+ passed", session.outputs["uv run pytest"])
    remote = subprocess.run(
        ["git", "remote", "get-url", "origin"], cwd=session.cwd, capture_output=True, text=True
    )
    assert remote.stdout.strip() == "git@github.com:NaaVRE/NaaVRE-steps-service.git"
    assert "InsecureKeyLengthWarning" not in session.server_log()
    chart = yaml.safe_load((naavre_helm / "naavre" / "Chart.yaml").read_text())
    assert chart["dependencies"][-1]["name"] == "naavre-steps-service"
    assert (naavre_helm / "values" / "templates" / "naavre-steps-service.yaml").is_file()


def test_an_installed_python_is_not_overridden(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(REQUIRES_PYTHON)
    running = f"{sys.version_info.major}.{sys.version_info.minor}"

    assert python_choice(tmp_path, running) is None


def test_a_missing_python_gives_an_installed_one_that_the_project_accepts(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(REQUIRES_PYTHON)

    choice = python_choice(tmp_path, "3.99")

    assert (
        choice
        == "export UV_PYTHON='>=3.11'  # Python 3.99 (.python-version, the image's) is not installed here"
    )


def _without_uv(monkeypatch, tmp_path: Path, *pythons: str) -> None:
    """A machine where uv is not installed yet, whose PATH has only the given ``python<X.Y>``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in pythons:
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr("naavre_scaffold.new.next_steps.tool_env", lambda: {"PATH": str(bin_dir)})


def test_without_uv_a_python_missing_from_path_is_picked_by_requires_python(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(REQUIRES_PYTHON)
    _without_uv(monkeypatch, tmp_path, "python3.11")

    choice = python_choice(tmp_path, "3.99")

    assert choice == "export UV_PYTHON='>=3.11'  # Python 3.99 (.python-version, the image's) is not on PATH"


def test_without_uv_a_python_on_path_is_not_overridden(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(REQUIRES_PYTHON)
    _without_uv(monkeypatch, tmp_path, "python3.99")

    assert python_choice(tmp_path, "3.99") is None


def test_with_no_python_that_fits_the_line_says_to_install_one(tmp_path: Path) -> None:
    """uv would download Python 3.98 without the line; offline, the comment says what to do."""
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.98"\n')

    choice = python_choice(tmp_path, "3.98")

    assert choice == (
        "export UV_PYTHON='>=3.98'  # no Python 3.98, nor any >=3.98, is installed here: install one"
    )


def test_the_python_line_is_printed_as_a_command(tmp_path: Path) -> None:
    folder = tmp_path / "my services" / "NaaVRE-qc-service"
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(REQUIRES_PYTHON)
    answers = {
        "slug": "naavre-qc-service",
        "port": 9090,
        "python_version": "3.99",
        "github_org": "MyOrg",
        "repo_name": "NaaVRE-qc-service",
        "service_image": "ghcr.io/myorg/naavre-qc-service",
        "service_chart_repository": "oci://ghcr.io/myorg/charts",
        "registry": "ghcr.io/myorg",
    }

    commands = printed_commands(service(folder, answers))

    assert commands[:5] == [
        f"cd '{folder}'",
        "export UV_PYTHON='>=3.11'  # Python 3.99 (.python-version, the image's) is not installed here",
        "uv sync",
        "uv run pytest",
        "DISABLE_AUTH=true uv run fastapi dev app/main.py --port 9090  # then open http://127.0.0.1:9090/docs",
    ]


def test_the_visibility_pages_printed_are_the_readmes(tmp_path: Path, monkeypatch, capsys) -> None:
    """ghcr.io makes a first release private: both say where to make its two packages public."""
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "seen", "--defaults", "-d", "registry=ghcr.io/naavre/sub"]) == 0
    printed = re.findall(r"https://github\.com/orgs/\S+/settings", capsys.readouterr().out)
    readme = (tmp_path / "NaaVRE-seen-service" / "README.md").read_text()
    assert printed == [
        "https://github.com/orgs/naavre/packages/container/sub%2Fnaavre-seen-service/settings",
        "https://github.com/orgs/naavre/packages/container/sub%2Fcharts%2Fnaavre-seen-service/settings",
    ]
    assert re.findall(r"https://github\.com/orgs/\S+/settings", readme) == printed


def _flavor_steps(tmp_path: Path, monkeypatch, *tags: str) -> str:
    """The steps of a new flavor ``eco`` in a flavors repository whose commit has ``tags``."""
    repository = tmp_path / "flavors"
    (repository / "flavors" / "eco").mkdir(parents=True)
    (repository / "naavre-flavors.yml").write_text("registry: ghcr.io/naavre/flavors\nimage_prefix: fl-\n")
    git(repository, "init", "--quiet")
    commit_all(repository, "A flavors repository")
    for tag in tags:
        git(repository, "tag", tag)
    monkeypatch.chdir(repository)
    return flavor(repository / "flavors" / "eco", {"name": "eco"})


def test_a_flavor_is_registered_with_the_first_release_of_a_new_repository(
    tmp_path: Path, monkeypatch
) -> None:
    steps = _flavor_steps(tmp_path, monkeypatch)

    assert "publish\nthe next release, v0.1.0 (the repository has no release yet)" in steps
    assert printed_commands(steps)[-1] == (
        "naavre-scaffold register flavors/eco --naavre-helm ../NaaVRE-helm --version v0.1.0"
        f" --cell-github-url '{CELLS_PLACEHOLDER}'"
    )
    assert "      tag: v0.1.0\n" in steps


def test_a_flavor_is_registered_with_the_release_after_the_newest(tmp_path: Path, monkeypatch) -> None:
    """v0.1.0 does not have a flavor added after it: the next release, by version, not by text, does."""
    steps = _flavor_steps(tmp_path, monkeypatch, "v0.1.0", "v0.9.3", "v0.10.2", "v1.0.0-rc.1", "latest")

    assert "the next release, v0.11.0 (the newest release here is v0.10.2)" in steps
    assert " --version v0.11.0 --cell-github-url " in printed_commands(steps)[-1]
    assert "      tag: v0.11.0\n" in steps
    assert "/releases/download/v0.11.0/base_image_tags.json" in steps
    assert "v0.1.0" not in steps

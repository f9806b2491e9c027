"""A generated extension is enabled in the JupyterLab of NaaVRE's image and in the newest 4.x.

JupyterLab disables a prebuilt extension whose package.json asks for a core package
(@jupyterlab/*, @lumino/*) in a range its own version is outside: `jupyter labextension
list` then shows it "enabled X" and "not compatible". One render with every part is
built once (jlpm, the builder of the JupyterLab in this venv) and its wheel, with its
Python dependencies, installed into a fresh venv per JupyterLab: the version of the
Jupyter image the flavors repository builds (the base image tag its Dockerfile renders)
and the newest 4.x on PyPI.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource
from tests.test_jupyterlab_ui import RUN_SECONDS, _jlpm_install, _ok, _run, image_jupyterlab, lab_environment

ANSWERS = {"kind": "frontend-and-server", "has_settings": True, "service": "containerizer"}
NPM_NAME, VERSION = "@naavre/compat-check-jupyterlab", "0.1.0"
INSTALL_SECONDS = 900  # pip resolves and downloads JupyterLab and about 80 dependencies


def _environment(work: Path) -> dict[str, str]:
    """The UI test's tool environment, with no venv leaking into the fresh ones."""
    env = lab_environment(work)
    return {k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="session")
def built_wheel(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The render's wheel, built as its CI builds it."""
    work = tmp_path_factory.mktemp("compat-build")
    repo = work / "NaaVRE-compat-check-jupyterlab"
    create("jupyterlab", "compat-check", dest=repo, data=dict(ANSWERS), source=template_git)
    env = _environment(work)
    _jlpm_install(repo, env)
    _ok(_run(["jlpm", "build:prod"], repo, env, RUN_SECONDS))
    dist = work / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    _ok(_run(build, repo, env, RUN_SECONDS))
    (wheel,) = dist.glob("*.whl")
    return wheel


def _listing(wheel: Path, requirement: str, work: Path) -> str:
    """`jupyter labextension list` in a fresh venv with ``requirement`` and the wheel (and what it needs)."""
    work.mkdir()
    venv = work / "venv"
    env = _environment(work)
    _ok(_run([sys.executable, "-m", "venv", str(venv)], work, env, RUN_SECONDS))
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--no-input", requirement, str(wheel)]
    _ok(_run(pip, work, env, INSTALL_SECONDS))
    env["PATH"] = str(venv / "bin") + os.pathsep + env["PATH"]
    listed = _run([str(venv / "bin/jupyter"), "labextension", "list"], work, env, RUN_SECONDS)
    _ok(listed)
    # JupyterLab logs the listing on stderr, "enabled" and "OK" in colour.
    return re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)


@pytest.mark.slow
def test_the_extension_is_enabled_ok_in_the_image_jupyterlab_and_the_newest(
    built_wheel: Path, tmp_path: Path
) -> None:
    # One test for both, not one each: pytest-xdist could build the wheel once per worker.
    image = image_jupyterlab()
    requirements = {
        f"jupyterlab=={image}": rf"JupyterLab v{re.escape(image)}\n",
        "jupyterlab>=4,<5": r"JupyterLab v4\.",
    }
    failures = {}
    for number, (requirement, lab_line) in enumerate(requirements.items()):
        output = _listing(built_wheel, requirement, tmp_path / f"lab-{number}")
        assert re.search(lab_line, output), output  # the JupyterLab asked for, not another one
        lines = [line.strip() for line in output.splitlines()]
        enabled = any(line.startswith(f"{NPM_NAME} v{VERSION} enabled OK") for line in lines)
        # Only its own verdict: the wheel also installs extensions it depends on.
        if not enabled or f'"{NPM_NAME}@{VERSION}" is not compatible' in output:
            failures[requirement] = output
        print(f"{requirement}: {next(line for line in lines if line.startswith('JupyterLab v'))}")
    assert not failures, "\n\n".join(f"with {req}:\n{output}" for req, output in failures.items())

"""The generated extension's optional UI tests (ui-tests/, Galata) pass in a real browser.

One render with every part (settings, a service, the server extension) is built and its
wheel installed into a throwaway prefix, as `verify` does; then its ui-tests project is
installed from its own yarn.lock and run against a JupyterLab that Playwright starts:
this venv's (the newest 4.x), then the lowest the extension supports, NaaVRE's Jupyter
image's, in a fresh venv, as the extension's CI runs them.
They need a Chromium: Debian's (`apt-get install chromium`) or one named by CHROMIUM_PATH.
Without one those tests are skipped; this repository's GitHub workflow runs them with
Playwright's own browser. That ui-tests' yarn.lock matches their package.json is checked
everywhere, offline.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource, cache_dir
from naavre_scaffold.verification.tools import tool_env

ROOT = Path(__file__).resolve().parent.parent
UI_TESTS = ROOT / "templates/jupyterlab/project/ui-tests"
TOOLS = ROOT / "templates/_shared/tools.jinja"

# The real binary: the `chromium` on Debian's PATH is a launcher script.
DEBIAN_CHROMIUM = Path("/usr/lib/chromium/chromium")
ANSWERS = {"kind": "frontend-and-server", "has_settings": True, "service": "containerizer"}
INSTALL_SECONDS, RUN_SECONDS = 900, 600


def image_jupyterlab() -> str:
    """The JupyterLab version of NaaVRE's Jupyter image, as the templates render it."""
    found = re.search(r'^\{%- set naavre_jupyterlab_version = "([\d.]+)" -%\}$', TOOLS.read_text(), re.M)
    assert found, f"no naavre_jupyterlab_version in {TOOLS}"
    return found.group(1)


def _chromium() -> str | None:
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        return given if Path(given).is_file() else None
    return str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.is_file() else shutil.which("chromium")


CHROMIUM = _chromium()
in_a_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium for the UI tests: apt-get install chromium, or set CHROMIUM_PATH"
)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    """Run a tool in its own process group: a timeout also stops the server and browser it started."""
    out = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(args, cwd=cwd, env=env, text=True, start_new_session=True, **out) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            stderr += f"\ntimed out after {timeout} s"
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def lab_environment(work: Path, leave_out: tuple[str, ...] = ()) -> dict[str, str]:
    """The tools' environment: Yarn's shared cache, Jupyter's own folders in ``work``.

    Variables starting with ``leave_out``, pytest's and Jupyter's are not passed on.
    """
    env = {k: v for k, v in tool_env().items() if not k.startswith(("PYTEST_", "JUPYTER", *leave_out))}
    return env | {
        "YARN_ENABLE_GLOBAL_CACHE": "true",
        "YARN_GLOBAL_FOLDER": str(cache_dir() / "yarn"),
        "YARN_ENABLE_PROGRESS_BARS": "false",
        "JUPYTER_DATA_DIR": str(work / "data"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }


def _jlpm_install(project: Path, env: dict[str, str]) -> None:
    # The same lock as verify's jupyterlab check: parallel installs share Yarn's cache.
    folder = Path(env["YARN_GLOBAL_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "naavre-scaffold.guard", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        _ok(_run(["jlpm", "install", "--immutable"], project, env, INSTALL_SECONDS))


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def _build(template_git: TemplateSource, work: Path) -> tuple[Path, dict[str, str]]:
    """The render, built, with its ui-tests installed, and an environment without the extension."""
    repo = work / "NaaVRE-ui-check-jupyterlab"
    create("jupyterlab", "ui-check", dest=repo, data=dict(ANSWERS), source=template_git)
    env = lab_environment(work, leave_out=("CHROMIUM",)) | {"CHROMIUM_PATH": str(CHROMIUM)}
    _jlpm_install(repo, env)
    _ok(_run(["jlpm", "build:prod"], repo, env, RUN_SECONDS))
    wheel = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist")]
    _ok(_run(wheel, repo, env, RUN_SECONDS))
    _jlpm_install(repo / "ui-tests", env)
    return repo, env


def _with_extension(repo: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` with the wheel installed into a prefix on the Jupyter and Python paths."""
    prefix = repo.parent / "prefix"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--ignore-installed", "--no-input"]
    wheels = [str(wheel) for wheel in (repo.parent / "dist").glob("*.whl")]
    _ok(_run([*pip, "--prefix", str(prefix), *wheels], repo, env, RUN_SECONDS))
    site = sorted({str(p.parent) for p in prefix.rglob("*.dist-info")})
    return env | {
        "JUPYTER_PATH": str(prefix / "share/jupyter"),
        # The wheel enables its server extension in etc/jupyter; this makes that the user's config.
        "JUPYTER_CONFIG_DIR": str(prefix / "etc/jupyter"),
        "PYTHONPATH": os.pathsep.join(site),
    }


def _with_image_jupyterlab(repo: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` whose `jupyter` is that of NaaVRE's image, in a fresh venv with the wheel and what it needs."""
    work = repo.parent / "image-jupyterlab"
    venv = work / "venv"
    clean = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _ok(_run([sys.executable, "-m", "venv", str(venv)], repo, clean, RUN_SECONDS))
    wheels = [str(wheel) for wheel in (repo.parent / "dist").glob("*.whl")]
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--no-input"]
    _ok(_run([*pip, f"jupyterlab=={image_jupyterlab()}", *wheels], repo, clean, INSTALL_SECONDS))
    # Only `jupyter` comes from there: jlpm stays this venv's, whose Yarn installed ui-tests.
    tools = work / "bin"
    tools.mkdir()
    (tools / "jupyter").symlink_to(venv / "bin/jupyter")
    return clean | {"PATH": str(tools) + os.pathsep + clean["PATH"]}


def _ui_tests(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    port = {"UI_TESTS_PORT": _free_port()}
    return _run(["jlpm", "test", *args], repo / "ui-tests", env | port, RUN_SECONDS)


@pytest.mark.slow
@in_a_browser
def test_the_ui_tests_pass_in_the_newest_and_the_image_jupyterlab_and_fail_without(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    # One test, not two sharing a fixture: pytest-xdist could build the render once per worker.
    repo, env = _build(template_git, tmp_path)
    declared = len(re.findall(r"^test\(", (repo / "ui-tests/tests/extension.spec.ts").read_text(), re.M))
    assert declared >= 2

    result = _ui_tests(repo, _with_extension(repo, env))
    _ok(result)
    assert re.search(rf"^\s*{declared} passed\b", result.stdout, re.M), result.stdout[-4000:]

    # The same JupyterLab without the wheel: the activation test fails, showing what it saw.
    result = _ui_tests(repo, env, "--grep", "activated")
    assert result.returncode != 0
    assert re.search(r"^\s*1 failed\b", result.stdout, re.M), result.stdout[-4000:]
    assert '"activated": false' in result.stdout, result.stdout[-4000:]

    # The lowest JupyterLab the extension supports: the same tests pass in it.
    image_env = _with_image_jupyterlab(repo, env)
    version = _run(["jupyter", "lab", "--version"], repo, image_env, RUN_SECONDS)
    _ok(version)
    assert version.stdout.strip() == image_jupyterlab()
    result = _ui_tests(repo, image_env)
    _ok(result)
    assert re.search(rf"^\s*{declared} passed\b", result.stdout, re.M), result.stdout[-4000:]


def _lock_after_resolving(folder: Path, tmp_path: Path) -> str:
    """ui-tests' yarn.lock as Yarn rewrites it from package.json: resolution only, no download."""
    env = tool_env() | {
        "YARN_ENABLE_GLOBAL_CACHE": "true",
        "YARN_GLOBAL_FOLDER": str(tmp_path / "yarn"),  # empty: a lock in step needs nothing from it
        "YARN_ENABLE_IMMUTABLE_INSTALLS": "false",  # so that it writes the lock it would want
    }
    _ok(_run(["jlpm", "install", "--mode=update-lockfile"], folder, env, 120))
    return (folder / "yarn.lock").read_text()


@pytest.mark.parametrize("dropped", [None, "@playwright/test"])
def test_the_ui_tests_lock_matches_their_package_json(dropped: str | None, tmp_path: Path) -> None:
    """`jlpm install --immutable` in ui-tests (as their CI job runs it) would pass: Yarn keeps the lock.

    They hold no template expression: package.json, .yarnrc.yml and yarn.lock render as they
    are. Dropping a dependency, which needs no registry to resolve, proves the check can fail.
    """
    folder = tmp_path / "ui-tests"
    folder.mkdir()
    for name in ("package.json", "yarn.lock", ".yarnrc.yml"):
        shutil.copy2(UI_TESTS / name, folder / name)
    shipped = (folder / "yarn.lock").read_text()
    if dropped:
        package = json.loads((folder / "package.json").read_text())
        del package["devDependencies"][dropped]
        (folder / "package.json").write_text(json.dumps(package))
    assert (_lock_after_resolving(folder, tmp_path) == shipped) is (dropped is None)


def test_ci_runs_the_ui_tests_in_both_jupyterlabs_and_a_browser_check(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    """What this module runs here, the extension's CI runs on GitHub: as a matrix, and browser_check."""
    repo = tmp_path / "NaaVRE-ci-check-jupyterlab"
    create("jupyterlab", "ci-check", dest=repo, data=dict(ANSWERS), source=template_git)
    jobs = yaml.safe_load((repo / ".github/workflows/ci.yml").read_text())["jobs"]
    matrix = jobs["ui-tests"]["strategy"]["matrix"]["jupyterlab"]
    assert matrix == [">=4.6,<5", f"=={image_jupyterlab()}"]
    [install] = [
        step for step in jobs["ui-tests"]["steps"] if step.get("name") == "Install JupyterLab and the wheel"
    ]
    assert install["env"]["JUPYTERLAB"] == "jupyterlab${{ matrix.jupyterlab }}"
    assert install["run"].startswith('python -m pip install "$JUPYTERLAB" ')
    # In the clean venv, after the wheel is installed and listed.
    runs = [step.get("run", "") for step in jobs["install"]["steps"]]
    [installed] = [i for i, run in enumerate(runs) if 'pip" install' in run and "dist/*.whl" in run]
    [checked] = [
        i for i, run in enumerate(runs) if run == '"$RUNNER_TEMP/venv/bin/python" -m jupyterlab.browser_check'
    ]
    assert installed < checked

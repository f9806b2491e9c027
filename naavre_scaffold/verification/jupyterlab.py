"""JupyterLab extension checks: build, test, package, install and serve each extension for real.

An extension is a package.json with a ``jupyterlab`` block next to a pyproject.toml.
All runs in a temporary copy of the repository (what git tracks or would track), so
node_modules and build output never land in the user's tree. The steps are a CI
job's: ``jlpm install`` (immutable when there is a yarn.lock, so a stale lock fails),
``jlpm build:prod``, ``jlpm test``, a wheel built without isolation (an isolated build
reinstalls JupyterLab every time), its contents, its install into a throwaway prefix,
``jupyter labextension list`` (and ``server extension list`` when the wheel enables a
server extension), the project's pytest (the prefix's config on the Jupyter paths),
and a JupyterLab server whose /lab page must list the extension. A step whose input
failed is not run; the failed step's detail names what was left out.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from naavre_scaffold.errors import GitError
from naavre_scaffold.git import git
from naavre_scaffold.source import cache_dir
from naavre_scaffold.verification.lab_server import check_served
from naavre_scaffold.verification.processes import last_lines, run_logged, scratch_folder
from naavre_scaffold.verification.tools import CheckResult, ToolMissingError, find_tool, tool_env

INSTALL_SECONDS, BUILD_SECONDS, TEST_SECONDS, QUICK_SECONDS = 600, 300, 300, 120
SKIPPED_FOLDERS = {"node_modules", ".git", ".venv", "__pycache__"}
# Build and test tools the wheel build and pytest import from the running interpreter.
PYTHON_TOOLS = ("build", "hatchling", "hatch_jupyter_builder", "hatch_nodejs_version", "jupyterlab", "pytest")


@dataclass(frozen=True)
class Extension:
    """A JupyterLab extension project: its folder in the repo and its npm package."""

    folder: str  # relative to the repo, "." for the root
    npm_name: str
    version: str


def run(repo: Path) -> list[CheckResult]:
    """Build, test, package, install and serve every JupyterLab extension under ``repo``."""
    return list(checks(repo))


def checks(repo: Path) -> Iterator[CheckResult]:
    """The results of ``run``, each as soon as its step finishes."""
    extensions = find_extensions(repo)
    if not extensions:
        return
    _require_tools()
    # Removed however the checks end: with a tool's node_modules it holds hundreds of MB.
    with scratch_folder("naavre-verify-jupyterlab-") as tmp:
        copy = tmp / "repo"
        copy_repo(repo, copy)
        for number, extension in enumerate(extensions):
            work = tmp / f"work-{number}"
            work.mkdir()
            yield from _check(copy / extension.folder, extension, work)


def find_extensions(repo: Path) -> list[Extension]:
    """Folders with a JupyterLab extension package.json next to a pyproject.toml."""
    found = []
    for folder, subfolders, files in os.walk(repo):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith("."))
        if "package.json" not in files or "pyproject.toml" not in files:
            continue
        try:
            package = json.loads((Path(folder) / "package.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
        lab = package.get("jupyterlab") if isinstance(package, dict) else None
        if isinstance(lab, dict) and (lab.get("extension") is True or "outputDir" in lab):
            relative = Path(folder).relative_to(repo).as_posix()
            found.append(Extension(relative, str(package.get("name", "")), str(package.get("version", ""))))
    return found


def copy_repo(repo: Path, dest: Path) -> None:
    """Copy what git tracks or would track in ``repo``; without git, all but installed folders."""
    try:
        listed = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        names = [name for name in listed.split("\0") if name]
    except GitError:  # not a git work tree
        names = []
        for folder, subfolders, files in os.walk(repo):
            subfolders[:] = [d for d in subfolders if d not in SKIPPED_FOLDERS]
            names += [(Path(folder) / f).relative_to(repo).as_posix() for f in files]
    for name in names:
        source = repo / name
        if source.is_file() or source.is_symlink():  # a tracked file may be deleted in the tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)


def _require_tools() -> None:
    find_tool("jlpm")
    if shutil.which("node", path=tool_env()["PATH"]) is None:
        raise ToolMissingError("node is not installed: JupyterLab extensions build with Node.js 20 or newer")
    missing = [name for name in PYTHON_TOOLS if importlib.util.find_spec(name) is None]
    if missing:
        raise ToolMissingError(f"{', '.join(missing)} not installed: pip install 'naavre-scaffold[verify]'")


def _environment(work: Path) -> dict[str, str]:
    """Tool environment: one Yarn cache for every run, Jupyter's own folders in ``work``."""
    env = {k: v for k, v in tool_env().items() if not k.startswith(("PYTEST_", "JUPYTER"))}
    yarn = cache_dir() / "yarn"
    env |= {
        "YARN_ENABLE_GLOBAL_CACHE": "true",
        "YARN_GLOBAL_FOLDER": str(yarn),
        "YARN_ENABLE_TELEMETRY": "false",
        "YARN_ENABLE_PROGRESS_BARS": "false",
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "JUPYTER_DATA_DIR": str(work / "data"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    return env


def _step(name: str, ok: bool, detail: str, skipped: tuple[str, ...] = ()) -> CheckResult:
    if ok:
        return CheckResult(name, True)
    detail = last_lines(detail)
    if skipped:
        detail += f"\nnot run because of this: {', '.join(skipped)}"
    return CheckResult(name, False, detail)


def _check(project: Path, ext: Extension, work: Path) -> Iterator[CheckResult]:
    env = _environment(work)
    where = "" if ext.folder == "." else f"{ext.folder}/"
    label = f"{where}package.json"
    jlpm = find_tool("jlpm")
    lock = project / "yarn.lock"
    if lock.is_file() and lock.stat().st_size > 0:
        mode = "--immutable"  # a lock out of step with package.json must fail here
    else:
        mode = "--no-immutable"  # CI=true would otherwise refuse to write the first lock
        lock.touch()  # an empty lock makes this folder Yarn's project root
    yarn_folder = Path(env["YARN_GLOBAL_FOLDER"])
    yarn_folder.mkdir(parents=True, exist_ok=True)
    with open(yarn_folder / "naavre-scaffold.guard", "w") as guard:  # parallel runs share the cache
        fcntl.flock(guard, fcntl.LOCK_EX)
        ok, out = run_logged([jlpm, "install", mode], project, env, INSTALL_SECONDS)
    rest = ("jlpm build:prod", "jlpm test", "wheel", "install", "extension lists", "pytest", "jupyter lab")
    yield _step(f"jupyterlab: jlpm install {mode} ({label})", ok, out, rest)
    if not ok:
        return
    scripts = json.loads((project / "package.json").read_text()).get("scripts", {})
    if scripts.get("lint:check"):  # the lint CI runs (Stylelint, Prettier, ESLint), on the render as it is
        linted, out = run_logged([jlpm, "lint:check"], project, env, TEST_SECONDS)
        yield _step(f"jupyterlab: jlpm lint:check ({label})", linted, out)
    built, out = run_logged([jlpm, "build:prod"], project, env, BUILD_SECONDS)
    yield _step(f"jupyterlab: jlpm build:prod ({label})", built, out, rest[2:])
    if scripts.get("test"):
        tested, out = run_logged([jlpm, "test"], project, env, TEST_SECONDS)
        yield _step(f"jupyterlab: jlpm test ({label})", tested, out)
    if not built:
        return
    dist = work / "dist"
    args = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    ok, out = run_logged(args, project, env, BUILD_SECONDS)
    wheels = sorted(dist.glob("*.whl"))
    wheel_label = f"jupyterlab: wheel built without isolation ({where}pyproject.toml)"
    yield _step(wheel_label, ok and len(wheels) == 1, out if not ok else f"wheels made: {wheels}", rest[3:])
    if not ok or len(wheels) != 1:
        return
    problems, servers = _wheel_contents(wheels[0], ext.npm_name)
    yield _step(f"jupyterlab: wheel contents ({wheels[0].name})", not problems, "\n".join(problems))
    prefix = work / "prefix"
    args = [sys.executable, "-m", "pip", "install", "--no-deps", "--ignore-installed", "--no-input"]
    ok, out = run_logged([*args, "--prefix", str(prefix), str(wheels[0])], work, env, QUICK_SECONDS)
    yield _step(f"jupyterlab: pip install --prefix ({wheels[0].name})", ok, out, rest[4:])
    if not ok:
        return
    site = sorted({p.parent for p in prefix.rglob("*.dist-info")})
    env |= {
        "JUPYTER_PATH": str(prefix / "share/jupyter"),
        "JUPYTER_CONFIG_DIR": str(prefix / "etc/jupyter"),  # the user config dir: what `list` reads
        "PYTHONPATH": os.pathsep.join(str(p) for p in site),
    }
    yield _labextension_list(ext, work, env)
    for module in servers:
        yield _server_extension_list(module, prefix, work, env)
    if _has_python_tests(project):
        ok, out = run_logged(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env, TEST_SECONDS
        )
        yield _step(f"jupyterlab: pytest ({where or './'})", ok, out)
    yield check_served(ext.npm_name, servers, work, env)


def _wheel_contents(wheel: Path, npm_name: str) -> tuple[list[str], list[str]]:
    """Missing labextension files, and the server extensions the wheel enables."""
    names = zipfile.ZipFile(wheel).namelist()
    root = f"data/share/jupyter/labextensions/{npm_name}/"
    inside = [n.split(".data/", 1)[1] for n in names if ".data/" in n]
    problems = [
        f"missing {root}{need}" for need in ("package.json", "install.json") if root + need not in inside
    ]
    if not any(re.fullmatch(re.escape(root) + r"static/remoteEntry\.[0-9a-f]+\.js", n) for n in inside):
        problems.append(f"missing {root}static/remoteEntry.*.js")
    servers: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        for name in names:
            if re.search(r"\.data/data/etc/jupyter/jupyter_server_config\.d/[^/]+\.json$", name):
                config = json.loads(archive.read(name)).get("ServerApp", {}).get("jpserver_extensions", {})
                servers += [module for module, enabled in config.items() if enabled]
    return problems, servers


def _labextension_list(ext: Extension, work: Path, env: dict[str, str]) -> CheckResult:
    ok, out = run_logged([find_tool("jupyter"), "labextension", "list"], work, env, QUICK_SECONDS)
    wanted = f"{ext.npm_name} v{ext.version} enabled OK"
    listed = any(line.strip().startswith(wanted) for line in out.splitlines())
    name = f"jupyterlab: jupyter labextension list shows {ext.npm_name} enabled OK"
    return _verdict(name, ok, listed, f"no line '{wanted}'", out)


def _server_extension_list(module: str, prefix: Path, work: Path, env: dict[str, str]) -> CheckResult:
    """``jupyter server extension list``: enabled in the prefix's config, and its module imports."""
    ok, out = run_logged([find_tool("jupyter"), "server", "extension", "list"], work, env, QUICK_SECONDS)
    _, marker, section = out.partition(f"Config dir: {prefix / 'etc/jupyter'}\n")
    lines = [line.strip() for line in section.split("Config dir:", 1)[0].splitlines()] if marker else []
    enabled = f"{module} enabled" in lines
    validated = any(re.fullmatch(rf"{re.escape(module)} \S* ?OK", line) for line in lines)
    name = f"jupyterlab: jupyter server extension list shows {module} enabled OK"
    wanted = f"no '{module} enabled' with '{module} <version> OK' under {prefix / 'etc/jupyter'}"
    return _verdict(name, ok, enabled and validated, wanted, out)


def _verdict(name: str, ran: bool, found: bool, missing: str, output: str) -> CheckResult:
    """A listing check: the tool failed (its last lines), or ran without listing what it must."""
    if ran and found:
        return CheckResult(name, True)
    return CheckResult(
        name, False, last_lines(output) if not ran else f"{missing}; it printed:\n{last_lines(output)}"
    )


def _has_python_tests(project: Path) -> bool:
    for _folder, subfolders, files in os.walk(project):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith(".")]
        if any(f.endswith(".py") and (f.startswith("test_") or f.endswith("_test.py")) for f in files):
            return True
    return False

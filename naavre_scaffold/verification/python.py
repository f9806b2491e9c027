"""A Python service's own test suite, run with uv in a virtual environment of its locked dependencies.

Environments are kept per dependency set (the lock without the project's own
entry, plus the interpreter), so many renders that differ only in names share
one. ``uv sync --locked`` fails when the lock does not match pyproject.toml.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from naavre_scaffold.source import cache_dir
from naavre_scaffold.verification.tools import CheckResult, find_tool, tool_env


def _interpreter(repo: Path, uv: str) -> tuple[str, str]:
    """The interpreter to test with, and a note when it is not the one .python-version asks for."""
    wanted_file = repo / ".python-version"
    wanted = wanted_file.read_text().strip() if wanted_file.is_file() else ""
    if wanted:
        found = subprocess.run(
            [uv, "python", "find", "--no-python-downloads", wanted],
            capture_output=True,
            text=True,
            check=False,
            env=tool_env(),
        )
        if found.returncode == 0:
            return found.stdout.strip(), f"python {wanted}"
    here = ".".join(map(str, sys.version_info[:2]))
    note = f"python {here}; .python-version asks {wanted}, not installed here" if wanted else f"python {here}"
    return sys.executable, note


def _environment_key(lock: dict, interpreter: str) -> str:
    shared = [
        p for p in lock.get("package", []) if p.get("source") not in ({"virtual": "."}, {"editable": "."})
    ]
    blob = json.dumps([shared, lock.get("requires-python"), interpreter], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run(repo: Path) -> list[CheckResult]:
    """Sync the locked dependencies of ``repo`` and run its pytest suite."""
    return list(checks(repo))


def checks(repo: Path) -> Iterator[CheckResult]:
    """The results of ``run``: the sync as soon as it is done, then the tests."""
    lock_path = repo / "uv.lock"
    if not (repo / "pyproject.toml").is_file() or not lock_path.is_file():
        return
    uv = find_tool("uv")
    interpreter, note = _interpreter(repo, uv)
    venvs = cache_dir() / "venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    venv = venvs / _environment_key(tomllib.loads(lock_path.read_text()), interpreter)
    env = tool_env() | {
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON": interpreter,
        "UV_PYTHON_DOWNLOADS": "never",
        "VIRTUAL_ENV": "",
    }
    with open(f"{venv}.lock", "w") as guard:  # parallel runs share the environment
        fcntl.flock(guard, fcntl.LOCK_EX)
        synced = subprocess.run(
            [uv, "sync", "--locked", "--quiet"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if synced.returncode != 0:
        yield CheckResult("uv sync --locked", False, _last_line(synced.stderr or synced.stdout))
        return
    yield CheckResult("uv sync --locked", True)
    tests = subprocess.run(
        [uv, "run", "--locked", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    yield CheckResult(f"pytest ({note})", tests.returncode == 0, _last_line(tests.stdout))

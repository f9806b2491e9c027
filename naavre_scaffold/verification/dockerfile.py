"""Dockerfile check: hadolint on every Dockerfile in the repository, one result per file.

A Dockerfile fails on any finding of severity warning or error. Info and style
findings (e.g. DL3015, or shellcheck's SC2086 inside ``RUN``) never fail it: they
are suggestions, not defects. When a file fails, the detail lists its warning and
error findings (``file:line CODE level: message``), then names the info/style codes
on one line so that the fix can take them along; a passing file has no detail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from naavre_scaffold.verification.tools import CheckResult, first_lines, run_tool

FAILING_LEVELS = {"warning", "error"}
HADOLINT_OPTIONS = ("--no-color", "--format", "json", "--failure-threshold", "warning")
# Installed dependencies: other projects' files, not this repository's Dockerfiles.
SKIPPED_DIRS = {"node_modules"}


def run(repo: Path) -> list[CheckResult]:
    """Run hadolint on each Dockerfile under ``repo``; no results if there is none."""
    return list(checks(repo))


def checks(repo: Path) -> Iterator[CheckResult]:
    """The results of ``run``, each as soon as its check finishes."""
    for dockerfile in find_dockerfiles(repo):
        yield hadolint(repo, dockerfile)


def find_dockerfiles(repo: Path) -> list[str]:
    """Repo-relative paths of ``Dockerfile``, ``*.Dockerfile`` and ``Dockerfile.*`` files.

    Hidden folders (.git, .venv, ...) and vendored dependencies are skipped, and so is
    ``Dockerfile.dockerignore``, which is BuildKit's per-Dockerfile ignore file.
    """
    found = []
    for folder, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        found += [
            (Path(folder) / name).relative_to(repo).as_posix()
            for name in sorted(files)
            if _is_dockerfile(name)
        ]
    return found


def _is_dockerfile(name: str) -> bool:
    # A Copier template source (Dockerfile.jinja) is not a Dockerfile until rendered.
    if name.endswith((".dockerignore", ".jinja")):
        return False
    return name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile.")


def hadolint(repo: Path, dockerfile: str) -> CheckResult:
    # Run from the repo so that its own .hadolint.yaml (trusted registries, ignored
    # rules) applies; the threshold given here overrides the one in that file.
    proc = run_tool(["hadolint", *HADOLINT_OPTIONS, dockerfile], cwd=repo)
    name = f"hadolint {dockerfile}"
    if proc.returncode == 0:
        return CheckResult(name, True)
    try:
        findings = json.loads(proc.stdout)
    except json.JSONDecodeError:
        # No report at all: hadolint itself failed (e.g. unreadable file). Its message
        # comes first, then a Haskell backtrace that helps nobody here.
        message = (proc.stderr or proc.stdout).split("HasCallStack backtrace:")[0]
        return CheckResult(name, False, first_lines(message))
    failing = [
        f"{f['file']}:{f['line']} {f['code']} {f['level']}: {_one_line(f['message'])}"
        for f in findings
        if f["level"] in FAILING_LEVELS
    ]
    advice = sorted({f["code"] for f in findings if f["level"] not in FAILING_LEVELS})
    if not failing:
        reason = f"hadolint exited with status {proc.returncode} but reported no warning"
        return CheckResult(name, False, first_lines(proc.stderr) or reason)
    detail = first_lines("\n".join(failing))
    if advice:
        detail += "\nalso info/style: " + ", ".join(advice)
    return CheckResult(name, False, detail)


def _one_line(message: str) -> str:
    # A parse error (DL1000) lists every expected token on further lines.
    return message.splitlines()[0] if message else message

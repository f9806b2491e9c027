"""``naavre-scaffold verify``: run every render check on a NaaVRE repository."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from naavre_scaffold.checks import CheckResult, dockerfile, helm, python, workflows

# Check kind -> the module function that finds and checks its artifacts in a repo.
CHECKS: dict[str, Callable[[Path], list[CheckResult]]] = {
    "helm": helm.run,
    "dockerfile": dockerfile.run,
    "workflows": workflows.run,
    "python": python.run,
}


def verify(repo: Path, skip: Iterable[str] = ()) -> list[CheckResult]:
    """Run the render checks on a NaaVRE repository.

    Helm charts (lint, render with several values sets, kubernetes-validate
    --strict), Dockerfiles (hadolint), GitHub workflows (actionlint, zizmor,
    check-jsonschema) and the Python test suite (uv). One line per check.

    Returns:
        One CheckResult per check run; an empty list means nothing was found.
    """
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check kind(s): {', '.join(sorted(unknown))}")
    results: list[CheckResult] = []
    for kind, run in CHECKS.items():
        if kind not in skip:
            results.extend(run(repo))
    return results

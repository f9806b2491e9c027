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
    """Run the check kinds not in ``skip`` on ``repo``; an empty result means nothing was found."""
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check kind(s): {', '.join(sorted(unknown))}")
    results: list[CheckResult] = []
    for kind, run in CHECKS.items():
        if kind not in skip:
            results.extend(run(repo))
    return results

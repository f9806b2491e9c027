"""``naavre-scaffold verify``: run every render check on a NaaVRE repository."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path

from naavre_scaffold.errors import UsageError
from naavre_scaffold.verification import dockerfile, flavor, helm, jupyterlab, python, workflows
from naavre_scaffold.verification.tools import CheckResult

# Check kind -> the module function that finds and checks its artifacts in a repo,
# yielding each result as soon as that check finishes.
CHECKS: dict[str, Callable[[Path], Iterator[CheckResult]]] = {
    "helm": helm.checks,
    "dockerfile": dockerfile.checks,
    "workflows": workflows.checks,
    "python": python.checks,
    "jupyterlab": jupyterlab.checks,
    "flavor": flavor.checks,
}


def verify(
    repo: Path,
    *,
    skip: Iterable[str] = (),
    on_start: Callable[[str], None] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the render checks on a NaaVRE repository.

    Helm charts (lint, render with several values sets, kubernetes-validate
    --strict), Dockerfiles (hadolint), GitHub workflows (actionlint, zizmor,
    check-jsonschema), the Python test suite (uv), JupyterLab extensions (jlpm
    install, build and test, the wheel, its install into a throwaway prefix, and a
    JupyterLab server that loads it) and flavors (flavor_config.yaml against the
    repository's schema, unique aliases, the kernel packages of environment.yaml,
    shellcheck, and the map scripts/base_image_tags.py prints). One line per check,
    shown as soon as that check finishes, then a summary line.

    Args:
        repo: the repository to check.
        skip: check kinds to leave out (keys of ``CHECKS``).
        on_start: called with each kind before its checks run.
        on_result: called with each result as soon as its check finishes.

    Returns:
        One CheckResult per check run, its ``kind`` set; an empty list means nothing was found.

    Raises:
        UsageError: an unknown kind in ``skip``.
        ToolMissingError: a check tool is not installed.
    """
    skip = set(skip)
    unknown = skip - set(CHECKS)
    if unknown:
        raise UsageError("--skip", f"unknown check kind(s): {', '.join(sorted(unknown))}")
    results: list[CheckResult] = []
    for kind, checks in CHECKS.items():
        if kind in skip:
            continue
        if on_start:
            on_start(kind)
        found = checks(repo)
        try:
            for result in found:
                result = dataclasses.replace(result, kind=kind)
                results.append(result)
                if on_result:
                    on_result(result)
        finally:
            # Stopped between two results (Ctrl-C in on_result), a check removes its
            # temporary folder now rather than whenever the generator is collected.
            if isinstance(found, Generator):
                found.close()
    return results

"""``naavre-scaffold verify``: run every render check on a NaaVRE repository."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
# Kinds of short tools and in-process checks, run side by side in threads while the
# others (builds and test suites, which stop their own process trees on Ctrl-C) run
# one after another in the calling thread.
SIDE_BY_SIDE = ("helm", "dockerfile", "workflows")


def verify(
    repo: Path,
    *,
    skip: Iterable[str] = (),
    on_start: Callable[[str], None] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    on_finish: Callable[[str], None] | None = None,
) -> list[CheckResult]:
    """Run the render checks on a NaaVRE repository.

    Helm charts (lint, render with several values sets, kubernetes-validate
    --strict), Dockerfiles (hadolint), GitHub workflows (actionlint, zizmor,
    check-jsonschema), the Python test suite (uv), JupyterLab extensions (jlpm
    install, build and test, the wheel, its install into a throwaway prefix, and a
    JupyterLab server that loads it) and flavors (flavor_config.yaml against the
    repository's schema, unique aliases, the kernel packages of environment.yaml,
    shellcheck, and the map scripts/base_image_tags.py prints). The kinds of
    ``SIDE_BY_SIDE`` run at the same time as the others; the callbacks are never
    called at the same time, and the returned results are in ``CHECKS`` order.

    Args:
        repo: the repository to check.
        skip: check kinds to leave out (keys of ``CHECKS``).
        on_start: called with each kind before its checks run.
        on_result: called with each result as soon as its check finishes.
        on_finish: called with each kind once its checks are done.

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
    run = _Run(repo, on_start, on_result, on_finish)
    kinds = [kind for kind in CHECKS if kind not in skip]
    side_by_side = [kind for kind in kinds if kind in SIDE_BY_SIDE]
    with ThreadPoolExecutor(max_workers=max(len(side_by_side), 1), thread_name_prefix="verify") as pool:
        started: list[Future[None]] = [pool.submit(run.kind, kind) for kind in side_by_side]
        try:
            for kind in kinds:
                if kind not in SIDE_BY_SIDE:
                    run.kind(kind)
            for future in started:
                future.result()  # a thread's error (a missing tool) is raised here
        except BaseException:
            run.stop.set()  # the threads stop at their next result; the pool waits for them
            raise
    return [result for kind in kinds for result in run.results[kind]]


class _Run:
    """One verify run: its results by kind, the lock that keeps callbacks one at a time, a stop."""

    def __init__(
        self,
        repo: Path,
        on_start: Callable[[str], None] | None,
        on_result: Callable[[CheckResult], None] | None,
        on_finish: Callable[[str], None] | None,
    ) -> None:
        self.repo = repo
        self.results: dict[str, list[CheckResult]] = {kind: [] for kind in CHECKS}
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._on_start, self._on_result, self._on_finish = on_start, on_result, on_finish

    def kind(self, kind: str) -> None:
        """Run the checks of ``kind``, reporting each result as it comes."""
        if self.stop.is_set():
            return
        with self._lock:
            if self._on_start:
                self._on_start(kind)
        found = CHECKS[kind](self.repo)
        try:
            for result in found:
                result = dataclasses.replace(result, kind=kind)
                with self._lock:
                    self.results[kind].append(result)
                    if self._on_result:
                        self._on_result(result)
                if self.stop.is_set():
                    return
        finally:
            # Stopped between two results (Ctrl-C in on_result), a check removes its
            # temporary folder now rather than whenever the generator is collected.
            if isinstance(found, Generator):
                found.close()
        with self._lock:
            if self._on_finish:
                self._on_finish(kind)

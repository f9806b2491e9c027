"""Copier's update and copy without Copier repeating itself: the one module that reaches into Copier.

A stock ``copier update`` of one repository checks the template out five times,
compiles the same Jinja sources about 1,200 times, merges all its answers again
for every path and file it renders, asks git for ``core.fileMode`` once per file
it writes, and builds two throw-away repositories with four commits; a fleet
repeats all of it per repository. Inside a ``session()``, ``run_update`` and
``run_copy`` here do the same work with Copier's own ``Worker``, but:

- a template is checked out once per (source, version) and process: the
  ``Template`` objects the Worker and its ``Subproject`` create are shared;
- compiled Jinja code is shared between renders, keyed on the source and on
  every environment setting that shapes the code;
- the answers are merged once per rendered tree, ``core.fileMode`` read once;
- the update step (``_lean_update``) follows Copier's ``_apply_update`` step
  for step, but builds the old and new copies' trees through temporary index
  files of one bare repository instead of two repositories with commits; the diff, the
  ``git apply --reject`` and the 3-way merges are Copier's commands with the
  same inputs.

What is rendered, merged and written stays Copier's: ``tests/test_copier_fast.py``
and the differential corpus in ``tests/test_update_differential.py`` hold the
trees byte for byte equal to stock Copier's.

The parts: ``session`` (the Session object: shared checkouts, the process
folders), ``sharing`` (the Worker that shares them), ``lean_update`` (the update
step in named steps) and ``jinja_cache``. Private hooks, all of Copier 9.19:
``copier._main.Worker`` is subclassed, with its ``template``, ``subproject`` and
``jinja_env`` cached properties and its ``_render_template``, ``_apply_update``
and ``_sync_git_index_executable_bit`` methods wrapped or replaced, and
``_answers_to_remember``, ``answers``, ``_external_data``, ``match_skip`` and
``_remove_old_files`` used; ``copier._template.Template`` instances are shared and
``Subproject.template`` replaced; ``copier._tools`` gives the git path helpers. On
any Copier version outside ``TESTED_COPIER`` (the range pyproject.toml allows),
``enabled()`` is false and stock Copier runs instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import copier
from copier._main import Worker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from naavre_scaffold._copier import session as sessions
from naavre_scaffold._copier.sharing import SharingWorker

# The Copier versions this module was tested with; pyproject.toml allows exactly these.
TESTED_COPIER = SpecifierSet(">=9.19.1,<9.20")


def enabled(version: str | None = None) -> bool:
    """Whether this module may stand in for stock Copier: only on the Copier versions it was tested with."""
    return Version(version or copier.__version__) in TESTED_COPIER


@contextmanager
def session(fetched: Mapping[str, Path] | None = None) -> Iterator[None]:
    """Share template checkouts and compiled code between the renders and updates inside.

    ``fetched`` maps template sources (``_src_path``) to local repositories that
    hold them: their versions are checked out from there. Outside a session, and
    on a Copier version not tested, nothing is shared: ``run_update`` and
    ``run_copy`` are Copier's own.
    """
    if not enabled():
        yield
        return
    with sessions.session(fetched):
        yield


def process_folder() -> Path | None:
    """This process's folder in the session, made its default temporary folder; None outside a session."""
    current = sessions.current()
    return current.process_folder() if current else None


def discard_process_folder() -> None:
    """Remove this process's folder, and the session's when it is the last: for a worker whose caller died."""
    if current := sessions.current():
        current.discard_process_folder()


def copier_cache(fallback: Path) -> Path:
    """Where Copier keeps its mirrors of remote templates in this process.

    In a session, the process's own for the session's life (its template
    checkouts are worktrees of it); otherwise ``fallback``. Processes never share
    one: they would see each other's half-made checkouts.
    """
    folder = process_folder()
    return folder / "copier-cache" if folder else fallback


def run_update(dst_path: Path, **settings: Any) -> None:
    """``copier.run_update(dst_path, **settings)``, sharing the session's work."""
    if process_folder() is None:
        copier.run_update(dst_path, **settings)
        return
    with SharingWorker(dst_path=dst_path, **_worker_settings(settings)) as worker:
        worker.run_update()


def run_copy(src_path: str, dst_path: Path, **settings: Any) -> Worker:
    """``copier.run_copy(src_path, dst_path, **settings)``, sharing the session's work."""
    if process_folder() is None:
        return copier.run_copy(src_path, dst_path, **settings)
    with SharingWorker(src_path=src_path, dst_path=dst_path, **_worker_settings(settings)) as worker:
        worker.run_copy()
    return worker


def _worker_settings(settings: dict[str, Any]) -> dict[str, Any]:
    # copier.run_copy and run_update take ``data=None``; the Worker wants a dict.
    return {**settings, "data": settings.get("data") or {}}

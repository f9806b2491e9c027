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

Private hooks, all of Copier 9.19: ``copier._main.Worker`` is subclassed, with
its ``template``, ``subproject`` and ``jinja_env`` cached properties and its
``_render_template``, ``_apply_update`` and ``_sync_git_index_executable_bit``
methods wrapped or replaced, and ``_answers_to_remember``, ``answers``,
``_external_data``, ``match_skip`` and ``_remove_old_files`` used;
``copier._template.Template`` instances are shared and ``Subproject.template``
replaced; ``copier._tools`` gives the git path helpers. On any Copier version
outside ``TESTED_COPIER`` (the range pyproject.toml allows), ``enabled()`` is
false and stock Copier runs instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from filecmp import dircmp
from functools import cached_property
from pathlib import Path
from typing import Any

import copier
from copier._main import Worker, _remove_old_files
from copier._subproject import Subproject
from copier._template import Template
from copier._tools import escape_git_path, normalize_git_path
from copier._types import JSONSerializable
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from naavre_scaffold._copier import jinja_cache
from naavre_scaffold.git import FolderTrees, GitError, git, git_bytes, git_lines
from naavre_scaffold.source import is_remote, location

# The Copier versions this module was tested with; pyproject.toml allows exactly these.
TESTED_COPIER = SpecifierSet(">=9.19.1,<9.20")

_session: Path | None = None  # the scratch folder of the current session
_process_folder: Path | None = None  # this process's folder in it
_templates: dict[tuple[str, str | None, bool], Template] = {}
_fetched: dict[str, Path] = {}  # template source -> the local repository it was fetched to


def enabled(version: str | None = None) -> bool:
    """Whether this module may stand in for stock Copier: only on the Copier versions it was tested with."""
    return Version(version or copier.__version__) in TESTED_COPIER


@contextmanager
def session(fetched: Mapping[str, Path] | None = None) -> Iterator[None]:
    """Share template checkouts and compiled code between the renders and updates inside.

    ``fetched`` maps template sources (``_src_path``) to local repositories that
    hold them: their versions are checked out from there. Each process that
    renders inside (the caller, or worker processes forked inside) keeps its
    temporary files, its template checkouts included, in a folder of its own
    under the session's folder, which goes at the end.
    Outside a session, nothing is shared: ``run_update`` and ``run_copy`` are
    Copier's own.
    """
    global _session
    if _session is not None or not enabled():
        yield
        return
    saved_tempdir = tempfile.tempdir
    _session = Path(tempfile.mkdtemp(prefix="naavre-session-"))
    _fetched.update(fetched or {})
    try:
        yield
    finally:
        shutil.rmtree(_session, ignore_errors=True)
        tempfile.tempdir, _session = saved_tempdir, None
        _templates.clear()
        _fetched.clear()
        jinja_cache.clear()


def process_folder() -> Path | None:
    """This process's folder in the session, made its default temporary folder; None outside a session."""
    global _process_folder
    if _session is None:
        return None
    # Compared whole: a forked process has its own, and so has a later session in this one.
    if _process_folder != _session / f"process-{os.getpid()}":
        _process_folder = _session / f"process-{os.getpid()}"
        _process_folder.mkdir(exist_ok=True)
        tempfile.tempdir = str(_process_folder)
        _templates.clear()  # checkouts made by the process this one was forked from are not its own
    return _process_folder


def discard_process_folder() -> None:
    """Remove this process's folder, and the session's when it is the last: for a worker whose caller died."""
    if _session is not None and _process_folder is not None:
        shutil.rmtree(_process_folder, ignore_errors=True)
        with suppress(OSError):
            _session.rmdir()


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
    with _SharingWorker(dst_path=dst_path, **_worker_settings(settings)) as worker:
        worker.run_update()


def run_copy(src_path: str, dst_path: Path, **settings: Any) -> Worker:
    """``copier.run_copy(src_path, dst_path, **settings)``, sharing the session's work."""
    if process_folder() is None:
        return copier.run_copy(src_path, dst_path, **settings)
    with _SharingWorker(src_path=src_path, dst_path=dst_path, **_worker_settings(settings)) as worker:
        worker.run_copy()
    return worker


def _worker_settings(settings: dict[str, Any]) -> dict[str, Any]:
    # copier.run_copy and run_update take ``data=None``; the Worker wants a dict.
    return {**settings, "data": settings.get("data") or {}}


def _shared(template: Template) -> Template:
    """The session's Template for the same (url, ref), checked out at most once."""
    # A relative path means the template beside the repository being updated: key on where it is.
    key = (location(template.url, Path.cwd()), template.ref, template.use_prereleases)
    if key not in _templates:
        _templates[key] = template
        _check_out(template)
    return _templates[key]


def _check_out(template: Template) -> None:
    """Check a tagged or named version out of a local repository, as Copier's clone would.

    Copier clones through a mirror of its own, a worktree and submodule steps (a
    quarter of a second); a shared clone of the local repository at the same
    commit has the same files, tags and index. HEAD (whose uncommitted changes
    Copier includes), remote sources not fetched here and templates with
    submodules are left to Copier.
    """
    if template.ref is None or template.ref == "HEAD":
        return
    local = _fetched.get(location(template.url, Path.cwd())) or Path(template.url)
    if is_remote(str(local)) or not local.is_dir():
        return
    folder = Path(tempfile.mkdtemp(prefix="naavre-template-"))
    try:
        git(folder, "clone", "--quiet", "--shared", "--no-checkout", str(local), ".")
        git(folder, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", template.ref)
    except GitError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    if (folder / ".gitmodules").exists():
        shutil.rmtree(folder, ignore_errors=True)
        return
    template.__dict__["local_abspath"] = folder.resolve()


class _SharingWorker(Worker):
    """Copier's Worker, sharing templates and compiled code with the rest of the session."""

    @cached_property
    def template(self) -> Template:
        created = Worker.template.func(self)  # type: ignore[attr-defined]
        self._cleanup_hooks.remove(created._cleanup)  # the session removes its checkouts
        return _shared(created)

    @cached_property
    def subproject(self) -> Subproject:
        subproject = Worker.subproject.func(self)  # type: ignore[attr-defined]
        if (created := subproject.template) is not None:
            subproject._cleanup_hooks.remove(created._cleanup)
            subproject.__dict__["template"] = _shared(created)
        return subproject

    @cached_property
    def jinja_env(self) -> Any:
        env = Worker.jinja_env.func(self)  # type: ignore[attr-defined]
        jinja_cache.share_compiled(env)
        return env

    def _sync_git_index_executable_bit(self, dst_relpath: Path, src_mode: int) -> None:
        # Copier reads core.fileMode for every file it writes; it changes nothing
        # unless the setting is "false", which cannot change during one render.
        if self._file_mode_matters:
            super()._sync_git_index_executable_bit(dst_relpath, src_mode)

    def _render_template(self) -> None:
        # Copier merges every source of answers again for each path part and file
        # it renders (a fifth of an update's time); they cannot change while the
        # tree renders. The render context itself stays fresh per call: Copier
        # edits it.
        answers, remembered = self.answers, self._answers_to_remember()
        self.answers = _SettledAnswers(answers)  # type: ignore[assignment]
        self._answers_to_remember = lambda: dict(remembered)  # type: ignore[method-assign]
        try:
            super()._render_template()
        finally:
            self.answers = answers
            del self._answers_to_remember

    def _apply_update(self) -> None:
        if self.conflict != "inline" or not self.skip_answered or self.template.config_data.get("migrations"):
            super()._apply_update()  # what the lean update below does not do: Copier's own
        else:
            _lean_update(self)

    @cached_property
    def _file_mode_matters(self) -> bool:
        try:
            return (
                git(self.subproject.local_abspath, "config", "--type=bool", "--get", "core.fileMode")
                == "false"
            )
        except (GitError, OSError):
            return False


class _SettledAnswers:
    """Copier's answers while a tree renders: merged once, read as often as Copier likes."""

    def __init__(self, answers: Any) -> None:
        self._answers, self._combined = answers, dict(answers.combined)

    @property
    def combined(self) -> dict[str, Any]:
        return dict(self._combined)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._answers, name)


def _lean_update(worker: _SharingWorker) -> None:
    """Copier's ``Worker._apply_update`` step for step, with the trees built in a temporary index.

    Copier renders the recorded version into an old copy and the new version into
    the project and into a new copy, commits both copies in throw-away
    repositories, and applies the diff between the old copy and the project to
    the project with ``git apply --reject``, 3-way merging every file with a
    rejected hunk. Here the two copies become trees through temporary index files
    of one bare repository that borrows the project's objects (no commits); it has
    git's defaults, as Copier's throw-away repositories have, and the diff reads
    the old copy's attributes, as Copier's does. The diff, ``git apply`` and the
    merges are the same git commands with the same inputs.
    Migrations, ``conflict: rej`` and ``skip_answered: false`` take Copier's path.
    """
    top, objects = git_lines(
        worker.subproject.local_abspath, "rev-parse", "--show-toplevel", "--git-path", "objects"
    )
    top_path = Path(top)
    subdir = worker.subproject.local_abspath.relative_to(top_path)
    recorded = worker.subproject.template
    assert recorded is not None, "Copier's run_update stops before the update when answers name no template"
    with tempfile.TemporaryDirectory(prefix="naavre-update-copies-") as scratch:
        old_copy, new_copy = Path(scratch, "old"), Path(scratch, "new")
        old_copy.mkdir()
        new_copy.mkdir()
        # As Copier's throw-away repositories: git's defaults, not the project's settings and attributes.
        trees = FolderTrees((worker.subproject.local_abspath / objects).resolve(), Path(scratch))
        with replace(
            worker,
            dst_path=old_copy / subdir,
            data=worker.subproject.last_answers,
            defaults=True,
            quiet=True,
            src_path=recorded.url,
            vcs_ref=recorded.commit,
            # As Copier: paths the new version excludes are left out of the old copy too.
            exclude=[*worker.template.exclude, *worker.exclude],
            ask=(),
        ) as old_worker:
            old_worker.__dict__["_file_mode_matters"] = False  # a folder outside any repository
            old_worker.run_copy()
        project_tree = git_lines(top_path, "write-tree")[0]
        old_tree = trees.of(old_copy)
        project_changes = trees.changes(old_tree, project_tree)
        # Files the project deleted stay deleted, unless they are the project's to (re)create.
        removed = [
            path
            for status, path in project_changes
            if status == "D" and not (top_path / path).exists() and not worker.match_skip(Path(path))
        ]
        with replace(worker, quiet=True) as current_worker:
            current_worker.run_copy()
            worker.answers = current_worker.answers
            worker.answers.external = worker._external_data()
        for path in removed:
            (top_path / path).unlink(missing_ok=True)
        answers = worker.answers
        data = {
            key: value
            for key, value in answers.combined.items()
            if not key.startswith("_")
            and key not in answers.hidden
            and isinstance(key, JSONSerializable)
            and isinstance(value, JSONSerializable)
        }
        with replace(
            worker,
            dst_path=new_copy / subdir,
            data=data,
            defaults=True,
            quiet=True,
            src_path=recorded.url,
            vcs_ref=worker.resolved_vcs_ref,
            ask=(),
        ) as new_worker:
            new_worker.__dict__["_file_mode_matters"] = False
            new_worker.run_copy()
        for path in removed:
            (new_copy / path).unlink(missing_ok=True)
        new_tree = trees.of(new_copy)
        # A file both the project and the new version add is diffed as a change of an empty
        # file, so that applying the diff keeps the project's content.
        added_by_both = {path for status, path in project_changes if status == "A"} & {
            path for status, path in trees.changes(old_tree, new_tree) if status == "A"
        }
        if added_by_both:
            for path in sorted(added_by_both):
                empty = old_copy / path
                empty.parent.mkdir(parents=True, exist_ok=True)
                empty.touch((top_path / path).stat().st_mode)
            old_tree = trees.of(old_copy, force=sorted(added_by_both))
        # The project's files under its folder that the template leaves to it are not patched.
        # (Copier lists them once the empty files are in; a file that then matches is not in the diff.)
        skipped = [
            escape_git_path(path)
            for _, path in project_changes
            if Path(path).is_relative_to(subdir) and worker.match_skip(Path(path).relative_to(subdir))
        ]
        # Read with the old copy's attributes, as Copier's diff in its old copy reads them.
        diff = trees.diff(
            old_tree,
            project_tree,
            f"--unified={worker.context_lines}",
            "--inter-hunk-context=-1",
            attributes_of=old_copy,
        )
        compared = dircmp(old_copy, new_copy)
        _apply(worker, top_path, subdir, diff, skipped, old_copy, new_copy)
        _remove_old_files(top_path, compared)


def _apply(
    worker: Worker, top: Path, subdir: Path, diff: bytes, skipped: list[str], old_copy: Path, new_copy: Path
) -> None:
    """Copier's ``git apply --reject`` of the project's changes, then its inline 3-way merges."""
    excludes = [f"--exclude={subdir / worker.answers_relpath}", *(f"--exclude={path}" for path in skipped)]
    for line in git_lines(top, "status", "--ignored", "--porcelain"):
        if line.startswith("!! ") and not (new_copy / normalize_git_path(line[3:])).exists():
            excludes.append(f"--exclude={line[3:]}")
    git_bytes(top, "apply", "--reject", *excludes, input=diff, check=False)
    conflicted = []
    for line in git_lines(top, "status", "--porcelain", "--ignored"):
        name = normalize_git_path(line[3:])
        if not line.startswith(("?? ", "!! ")) or not name.endswith(".rej"):
            continue
        name = name[: -len(".rej")]
        git_bytes(top, "-c", f"core.hooksPath={os.devnull}", "checkout", "--", name)
        labels = ("-L", "before updating", "-L", "last update", "-L", "after updating")
        git_bytes(
            top, "merge-file", *labels, "--", name, str(old_copy / name), str(new_copy / name), check=False
        )
        Path(top, f"{name}.rej").unlink()
        markers = {b"<<<<<<< before updating", b">>>>>>> after updating"}
        if any(line.rstrip() in markers for line in Path(top, name).read_bytes().split(b"\n")):
            conflicted.append(name)
    if conflicted:
        _record_conflicts(top, conflicted, old_copy, new_copy)


def _record_conflicts(top: Path, conflicted: list[str], old_copy: Path, new_copy: Path) -> None:
    """As Copier: each conflicted file unmerged in the index, with the project's, old and new versions."""
    entries = []
    for line in git_lines(top, "ls-files", "--stage", "--", *conflicted):
        meta, path = line.split("\t")
        mode, sha, _ = meta.split()
        entries += [f"0 {'0' * 40}\t{path}", f"{mode} {sha} 2\t{path}"]
        for stage, copy in ((1, old_copy), (3, new_copy)):
            with suppress(GitError):  # the file is not in that version
                blob = git_lines(top, "hash-object", "-w", "--", str(copy / normalize_git_path(path)))[0]
                entries.append(f"{mode} {blob} {stage}\t{path}")
    git_bytes(top, "update-index", "--index-info", input="\n".join(entries).encode())

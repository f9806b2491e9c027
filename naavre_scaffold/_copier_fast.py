"""Copier's update and copy without Copier repeating itself: the one module that reaches into Copier.

A stock ``copier update`` of one repository checks the template out five times,
compiles the same Jinja sources about 1,200 times and asks git for
``core.fileMode`` once per file it writes; a fleet repeats all of it per
repository. Inside a ``session()``, ``run_update`` and ``run_copy`` here do the
same work with Copier's own ``Worker``, but:

- a template is checked out once per (source, version) and process: every
  ``Template`` the Worker and its ``Subproject`` would create is shared;
- compiled Jinja code is shared between renders, keyed on the source and on
  every environment setting that shapes the code;
- ``core.fileMode`` is read once per render instead of once per file;
- the update itself (``_apply_update``, see ``_update.py``) builds the old and
  new trees in a temporary git index of the repository instead of two throw-away
  repositories with their commits, and hands Copier's own diff to Copier's own
  ``git apply``.

What is rendered, merged and written is Copier's: the differential tests
(``tests/test_update_differential.py``) hold the trees byte for byte equal to
stock ``copier update``.

Private hooks used, all from Copier 9.19: ``copier._main.Worker`` (subclassed;
its ``template``, ``subproject`` and ``jinja_env`` cached properties and its
``_apply_update`` and ``_sync_git_index_executable_bit`` methods are replaced),
``copier._template.Template`` (shared instances) and the ``Subproject.template``
cached property. On any Copier version outside ``TESTED_COPIER`` (the range
pyproject.toml allows), ``enabled()`` is false and stock Copier runs instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from filecmp import dircmp
from functools import cached_property
from pathlib import Path
from types import CodeType
from typing import Any

import copier
from copier._main import Worker, _remove_old_files
from copier._subproject import Subproject
from copier._template import Template
from copier._tools import escape_git_path, normalize_git_path
from copier._types import JSONSerializable
from jinja2 import Environment
from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The Copier versions this module was tested with; pyproject.toml allows exactly these.
TESTED_COPIER = SpecifierSet(">=9.19.1,<9.20")

_session: Path | None = None  # the scratch folder of the current session
_process_folder: Path | None = None  # this process's folder in it
_templates: dict[tuple[str, str | None, bool], Template] = {}
_compiled: dict[tuple[Any, ...], CodeType | str] = {}


def enabled(version: str | None = None) -> bool:
    """Whether this module may stand in for stock Copier: only on the Copier versions it was tested with."""
    return Version(version or copier.__version__) in TESTED_COPIER


@contextmanager
def session() -> Iterator[None]:
    """Share template checkouts and compiled code between the renders and updates inside.

    Each process that renders inside (the caller, or worker processes forked
    inside) keeps its temporary files, its template checkouts included, in a
    folder of its own under the session's folder, which goes at the end.
    Outside a session, nothing is shared: ``run_update`` and ``run_copy`` are
    Copier's own.
    """
    global _session
    if _session is not None or not enabled():
        yield
        return
    saved_tempdir = tempfile.tempdir
    _session = Path(tempfile.mkdtemp(prefix="naavre-session-"))
    try:
        yield
    finally:
        shutil.rmtree(_session, ignore_errors=True)
        tempfile.tempdir, _session = saved_tempdir, None
        _templates.clear()
        _compiled.clear()


def process_folder() -> Path | None:
    """This process's folder in the session, made its default temporary folder; None outside a session."""
    global _process_folder
    if _session is None:
        return None
    if _process_folder is None or _process_folder.name != f"process-{os.getpid()}":
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


def _shared(template: Template | None) -> Template | None:
    """The session's Template for the same (url, ref), checked out at most once."""
    if template is None:
        return None
    key = (template.url, template.ref, template.use_prereleases)
    return _templates.setdefault(key, template)


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
        env.compile = _sharing_compile(env)
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
        from naavre_scaffold.git import GitError, git

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


def _sharing_compile(env: Environment) -> Callable[..., CodeType | str]:
    """``env.compile``, reusing code compiled from the same source in an environment that codes alike."""
    shape = (
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        repr(env.autoescape),
        repr(env.finalize),
        tuple(sorted(env.extensions)),
        frozenset(env.filters),
        frozenset(env.tests),
    )

    def compile(
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> CodeType | str:
        if not isinstance(source, str):  # an already parsed tree: nothing to key on
            return Environment.compile(env, source, name, filename, raw, defer_init)
        key = (shape, source, name, filename, raw, defer_init)
        if key not in _compiled:
            _compiled[key] = Environment.compile(env, source, name, filename, raw, defer_init)
        else:
            # Extensions reset per-template state while preprocessing (Copier's yield tag does).
            env.preprocess(source, name, filename)
        return _compiled[key]

    return compile


def _lean_update(worker: _SharingWorker) -> None:
    """Copier's ``Worker._apply_update`` step for step, with the trees built in a temporary index.

    Copier renders the recorded version into an old copy and the new version into
    the project and into a new copy, commits both copies in throw-away
    repositories, and applies the diff between the old copy and the project to
    the project with ``git apply --reject``, 3-way merging every file with a
    rejected hunk. Here the two copies become trees in the project's own object
    store through a temporary index (no repositories, no commits); the diff,
    ``git apply`` and the merges are the same git commands with the same inputs.
    Migrations, ``conflict: rej`` and ``skip_answered: false`` take Copier's path.
    """
    top, git_dir = _run(worker.subproject.local_abspath, "rev-parse", "--show-toplevel", "--absolute-git-dir")
    top_path = Path(top)
    subdir = worker.subproject.local_abspath.relative_to(top_path)
    with tempfile.TemporaryDirectory(prefix="naavre-update-copies-") as scratch:
        old_copy, new_copy = Path(scratch, "old"), Path(scratch, "new")
        old_copy.mkdir(), new_copy.mkdir()
        trees = _Trees(Path(git_dir), Path(scratch))
        with replace(
            worker,
            dst_path=old_copy / subdir,
            data=worker.subproject.last_answers,
            defaults=True,
            quiet=True,
            src_path=worker.subproject.template.url,
            vcs_ref=worker.subproject.template.commit,
            # As Copier: paths the new version excludes are left out of the old copy too.
            exclude=[*worker.template.exclude, *worker.exclude],
            ask=(),
        ) as old_worker:
            old_worker.run_copy()
        project_tree = _run(top_path, "write-tree")[0]
        old_tree = trees.of(old_copy)
        # Files the project deleted stay deleted, unless they are the project's to (re)create.
        removed = [
            path
            for path in trees.names(old_tree, project_tree, "D")
            if not (top_path / path).exists() and not worker.match_skip(Path(path))
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
            src_path=worker.subproject.template.url,
            vcs_ref=worker.resolved_vcs_ref,
            ask=(),
        ) as new_worker:
            new_worker.run_copy()
        for path in removed:
            (new_copy / path).unlink(missing_ok=True)
        new_tree = trees.of(new_copy)
        # A file both the project and the new version add is diffed as a change of an empty
        # file, so that applying the diff keeps the project's content.
        added_by_both = set(trees.names(old_tree, project_tree, "A")) & set(
            trees.names(old_tree, new_tree, "A")
        )
        if added_by_both:
            for path in sorted(added_by_both):
                empty = old_copy / path
                empty.parent.mkdir(parents=True, exist_ok=True)
                empty.touch((top_path / path).stat().st_mode)
            old_tree = trees.of(old_copy, force=sorted(added_by_both))
        skipped = [
            escape_git_path(path)
            for path in trees.names(old_tree, project_tree, subdir=subdir)
            if worker.match_skip(Path(path).relative_to(subdir))
        ]
        diff = trees.diff(old_tree, project_tree, worker.context_lines)
        compared = dircmp(old_copy, new_copy)
        _apply(worker, top_path, subdir, diff, skipped, old_copy, new_copy)
        _remove_old_files(top_path, compared)


def _apply(
    worker: Worker, top: Path, subdir: Path, diff: bytes, skipped: list[str], old_copy: Path, new_copy: Path
) -> None:
    """Copier's ``git apply --reject`` of the project's changes, then its inline 3-way merges."""
    excludes = [f"--exclude={subdir / worker.answers_relpath}", *(f"--exclude={path}" for path in skipped)]
    for line in _run(top, "status", "--ignored", "--porcelain"):
        if line.startswith("!! ") and not (new_copy / normalize_git_path(line[3:])).exists():
            excludes.append(f"--exclude={line[3:]}")
    _run(top, "apply", "--reject", *excludes, input=diff, check=False)
    conflicted = []
    for line in _run(top, "status", "--porcelain", "--ignored"):
        name = normalize_git_path(line[3:])
        if not line.startswith(("?? ", "!! ")) or not name.endswith(".rej"):
            continue
        name = name[: -len(".rej")]
        _run(top, "-c", f"core.hooksPath={os.devnull}", "checkout", "--", name)
        labels = ("-L", "before updating", "-L", "last update", "-L", "after updating")
        _run(top, "merge-file", *labels, "--", name, str(old_copy / name), str(new_copy / name), check=False)
        Path(top, f"{name}.rej").unlink()
        markers = {b"<<<<<<< before updating", b">>>>>>> after updating"}
        if any(line.rstrip() in markers for line in Path(top, name).read_bytes().split(b"\n")):
            conflicted.append(name)
    if conflicted:
        _record_conflicts(top, conflicted, old_copy, new_copy)


def _record_conflicts(top: Path, conflicted: list[str], old_copy: Path, new_copy: Path) -> None:
    """As Copier: each conflicted file unmerged in the index, with the project's, old and new versions."""
    entries = []
    for line in _run(top, "ls-files", "--stage", "--", *conflicted):
        meta, path = line.split("\t")
        mode, sha, _ = meta.split()
        entries += [f"0 {'0' * 40}\t{path}", f"{mode} {sha} 2\t{path}"]
        for stage, copy in ((1, old_copy), (3, new_copy)):
            with suppress(subprocess.CalledProcessError):
                blob = _run(top, "hash-object", "-w", "--", str(copy / normalize_git_path(path)))[0]
                entries.append(f"{mode} {blob} {stage}\t{path}")
    _run(top, "update-index", "--index-info", input="\n".join(entries).encode())


class _Trees:
    """Git trees of folders, written to a repository's object store through a temporary index."""

    def __init__(self, git_dir: Path, scratch: Path) -> None:
        self.git_dir, self.scratch, self.count = git_dir, scratch, 0

    def of(self, folder: Path, force: list[str] = ()) -> str:  # type: ignore[assignment]
        """The tree of everything ``git add`` takes in ``folder`` (its .gitignore files obeyed)."""
        self.count += 1
        env = {"GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(folder)}
        env["GIT_INDEX_FILE"] = str(self.scratch / f"index-{self.count}")
        _run(folder, "add", "--all", ".", env=env)
        if force:
            _run(folder, "add", "--force", "--", *force, env=env)
        return _run(folder, "write-tree", env=env)[0]

    def names(self, old: str, new: str, status: str = "", subdir: Path | None = None) -> list[str]:
        """Paths that differ between two trees (only those of ``status``, only under ``subdir``)."""
        args = ["diff-tree", "-r", "-z", "--name-only", *([f"--diff-filter={status}"] if status else [])]
        limit = ["--", subdir.as_posix()] if subdir else []
        listed = _run(self.scratch, *args, old, new, *limit, env={"GIT_DIR": str(self.git_dir)}, raw=True)
        return [name.decode() for name in listed.split(b"\0") if name]

    def diff(self, old: str, new: str, context_lines: int) -> bytes:
        args = ("diff-tree", f"--unified={context_lines}", "--inter-hunk-context=-1", old, new)
        return _run(self.scratch, *args, env={"GIT_DIR": str(self.git_dir)}, raw=True)


def _run(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
    raw: bool = False,
) -> Any:
    """git, as Copier runs it: its output's lines (its bytes with ``raw``)."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, ["git", *args], done.stdout, done.stderr)
    return done.stdout if raw else done.stdout.decode().splitlines()

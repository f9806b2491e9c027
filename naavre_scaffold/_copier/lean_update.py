"""The lean update: Copier's ``Worker._apply_update`` step for step, with the trees in a temporary index.

Copier renders the recorded version into an old copy and the new version into the
project and into a new copy, commits both copies in throw-away repositories, and
applies the diff between the old copy and the project to the project with ``git
apply --reject``, 3-way merging every file with a rejected hunk. Here the two copies
become trees through temporary index files of one bare repository that borrows the
project's objects (no commits); it has git's defaults, as Copier's throw-away
repositories have, and the diff reads the old copy's attributes, as Copier's does.
The diff, ``git apply`` and the merges are the same git commands with the same
inputs. Migrations, ``conflict: rej`` and ``skip_answered: false`` take Copier's path.

Private hooks of Copier 9.19: ``Worker.answers``, ``_external_data``, ``match_skip``,
``answers_relpath``, ``resolved_vcs_ref`` and ``copier._main._remove_old_files``;
``copier._tools`` gives the git path helpers.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from dataclasses import replace
from filecmp import dircmp
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copier._main import _remove_old_files
from copier._template import Template
from copier._tools import escape_git_path, normalize_git_path
from copier._types import JSONSerializable

from naavre_scaffold._copier.session import current
from naavre_scaffold.git import FolderTrees, GitError, git_bytes, git_lines

if TYPE_CHECKING:
    from naavre_scaffold._copier.sharing import SharingWorker

CONFLICT_LABELS = ("-L", "before updating", "-L", "last update", "-L", "after updating")
CONFLICT_MARKERS = {b"<<<<<<< before updating", b">>>>>>> after updating"}


class LeanUpdate:
    """One project's update by its Worker, in the steps of Copier's ``_apply_update`` (see the module)."""

    def __init__(self, worker: SharingWorker) -> None:
        self.worker = worker
        top, objects = git_lines(
            worker.subproject.local_abspath, "rev-parse", "--show-toplevel", "--git-path", "objects"
        )
        self.top = Path(top)
        self.subdir = worker.subproject.local_abspath.relative_to(self.top)
        self.objects = (worker.subproject.local_abspath / objects).resolve()
        recorded = worker.subproject.template
        assert recorded is not None, (
            "Copier's run_update stops before the update when answers name no template"
        )
        self.recorded: Template = recorded

    def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="naavre-update-copies-") as scratch:
            self.old_copy, self.new_copy = Path(scratch, "old"), Path(scratch, "new")
            self.old_copy.mkdir()
            self.new_copy.mkdir()
            # As Copier's throw-away repositories: git's defaults, not the project's settings and attributes.
            self.trees = FolderTrees(self.objects, Path(scratch), git_dir=_process_trees_repository())
            self.render_old_copy()
            project_tree = git_lines(self.top, "write-tree")[0]
            old_tree = self.trees.of(self.old_copy)
            project_changes = self.trees.changes(old_tree, project_tree)
            removed = self.deleted_by_the_project(project_changes)
            self.render_project(removed)
            self.render_new_copy(removed)
            old_tree = self.add_empty_files_added_by_both(old_tree, project_changes)
            # Read with the old copy's attributes, as Copier's diff in its old copy reads them.
            diff = self.trees.diff(
                old_tree,
                project_tree,
                f"--unified={self.worker.context_lines}",
                "--inter-hunk-context=-1",
                attributes_of=self.old_copy,
            )
            compared = dircmp(self.old_copy, self.new_copy)
            self.apply(diff, self.left_to_the_project(project_changes))
            _remove_old_files(self.top, compared)

    def render_old_copy(self) -> None:
        """The recorded version with the last answers, into the old copy."""
        worker = self.worker
        with replace(
            worker,
            dst_path=self.old_copy / self.subdir,
            data=worker.subproject.last_answers,
            defaults=True,
            quiet=True,
            src_path=self.recorded.url,
            vcs_ref=self.recorded.commit,
            # As Copier: paths the new version excludes are left out of the old copy too.
            exclude=[*worker.template.exclude, *worker.exclude],
            ask=(),
        ) as old_worker:
            old_worker.__dict__["file_mode_matters"] = False  # a folder outside any repository
            old_worker.run_copy()

    def deleted_by_the_project(self, project_changes: list[tuple[str, str]]) -> list[str]:
        """Files the project deleted: they stay deleted, unless they are the project's to (re)create."""
        return [
            path
            for status, path in project_changes
            if status == "D" and not (self.top / path).exists() and not self.worker.match_skip(Path(path))
        ]

    def render_project(self, removed: list[str]) -> None:
        """The new version over the project, as Copier renders it; then the new answers are the worker's."""
        worker = self.worker
        with replace(worker, quiet=True) as current_worker:
            current_worker.run_copy()
            worker.answers = current_worker.answers
            worker.answers.external = worker._external_data()
        for path in removed:
            (self.top / path).unlink(missing_ok=True)

    def render_new_copy(self, removed: list[str]) -> None:
        """The new version with the new answers, into the new copy."""
        worker = self.worker
        with replace(
            worker,
            dst_path=self.new_copy / self.subdir,
            data=_remembered(worker.answers),
            defaults=True,
            quiet=True,
            src_path=self.recorded.url,
            vcs_ref=worker.resolved_vcs_ref,
            ask=(),
        ) as new_worker:
            new_worker.__dict__["file_mode_matters"] = False
            new_worker.run_copy()
        for path in removed:
            (self.new_copy / path).unlink(missing_ok=True)

    def add_empty_files_added_by_both(self, old_tree: str, project_changes: list[tuple[str, str]]) -> str:
        """The old tree, with an empty file where both the project and the new version add one.

        Such a file is diffed as a change of an empty file, so that applying the diff
        keeps the project's content.
        """
        new_tree = self.trees.of(self.new_copy)
        added_by_both = {path for status, path in project_changes if status == "A"} & {
            path for status, path in self.trees.changes(old_tree, new_tree) if status == "A"
        }
        if not added_by_both:
            return old_tree
        for path in sorted(added_by_both):
            empty = self.old_copy / path
            empty.parent.mkdir(parents=True, exist_ok=True)
            empty.touch((self.top / path).stat().st_mode)
        return self.trees.of(self.old_copy, force=sorted(added_by_both))

    def left_to_the_project(self, project_changes: list[tuple[str, str]]) -> list[str]:
        """The project's changed files under its folder that the template leaves to it: not patched.

        (Copier lists them once the empty files are in; a file that then matches is not in the diff.)
        """
        return [
            escape_git_path(path)
            for _, path in project_changes
            if Path(path).is_relative_to(self.subdir)
            and self.worker.match_skip(Path(path).relative_to(self.subdir))
        ]

    def apply(self, diff: bytes, skipped: list[str]) -> None:
        """Copier's ``git apply --reject`` of the project's changes, then its inline 3-way merges."""
        top = self.top
        answers_file = self.subdir / self.worker.answers_relpath
        excludes = [f"--exclude={answers_file}", *(f"--exclude={path}" for path in skipped)]
        listed = git_lines(top, "status", "--ignored", "--porcelain")
        for line in listed:
            if line.startswith("!! ") and not (self.new_copy / normalize_git_path(line[3:])).exists():
                excludes.append(f"--exclude={line[3:]}")
        # An empty diff changes nothing (git apply only says it found no patch), so it is not run.
        if diff:
            try:
                git_bytes(top, "apply", "--reject", *excludes, input=diff)
            except GitError:  # a hunk was rejected (written beside its file as .rej): read the tree again
                listed = git_lines(top, "status", "--porcelain", "--ignored")
        # Copier merges every untracked or ignored .rej it finds; an apply that rejected
        # nothing changed only tracked files, so the listing from before still holds.
        conflicted = [name for name in _rejected(listed) if self._merge(name)]
        if conflicted:
            self.record_conflicts(conflicted)

    def _merge(self, name: str) -> bool:
        """3-way merge one rejected file as Copier does; whether conflict markers are left in it."""
        top = self.top
        git_bytes(top, "-c", f"core.hooksPath={os.devnull}", "checkout", "--", name)
        old, new = str(self.old_copy / name), str(self.new_copy / name)
        git_bytes(top, "merge-file", *CONFLICT_LABELS, "--", name, old, new, check=False)
        Path(top, f"{name}.rej").unlink()
        return any(line.rstrip() in CONFLICT_MARKERS for line in Path(top, name).read_bytes().split(b"\n"))

    def record_conflicts(self, conflicted: list[str]) -> None:
        """As Copier: each conflicted file unmerged in the index, with the project's, old and new versions."""
        entries = []
        for line in git_lines(self.top, "ls-files", "--stage", "--", *conflicted):
            meta, path = line.split("\t")
            mode, sha, _ = meta.split()
            entries += [f"0 {'0' * 40}\t{path}", f"{mode} {sha} 2\t{path}"]
            for stage, copy in ((1, self.old_copy), (3, self.new_copy)):
                with suppress(GitError):  # the file is not in that version
                    blob = git_lines(
                        self.top, "hash-object", "-w", "--", str(copy / normalize_git_path(path))
                    )[0]
                    entries.append(f"{mode} {blob} {stage}\t{path}")
        git_bytes(self.top, "update-index", "--index-info", input="\n".join(entries).encode())


def _process_trees_repository() -> Path:
    """Where this process keeps the throw-away repository of its updates' trees: made once, reused."""
    session = current()
    assert session is not None, "the lean update runs only inside a session (fast.run_update)"
    return session.process_folder() / "trees.git"


def _rejected(status: list[str]) -> list[str]:
    """The files a ``.rej`` lies beside, from ``git status --porcelain --ignored``."""
    names = []
    for line in status:
        name = normalize_git_path(line[3:])
        if line.startswith(("?? ", "!! ")) and name.endswith(".rej"):
            names.append(name[: -len(".rej")])
    return names


def _remembered(answers: Any) -> dict[Any, Any]:
    """The answers a new render takes, as Copier passes them to its new copy: public and serializable."""
    return {
        key: value
        for key, value in answers.combined.items()
        if not key.startswith("_")
        and key not in answers.hidden
        and isinstance(key, JSONSerializable)
        and isinstance(value, JSONSerializable)
    }

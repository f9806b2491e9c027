"""What must hold before ``update`` touches a repository: nobody else at it, no unfinished work.

A second ``update`` run on the same repository, a merge or rebase half-way, or
uncommitted work each make a delivered update unsafe: it would mix with
something a person has not finished. Each is refused with a reason that says
what to do.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from naavre_scaffold.errors import RepositoryBusy
from naavre_scaffold.fleet.discovery import Subproject
from naavre_scaffold.git import GitError, git, head_and_git_paths, work_tree_status

LOCK_FILE = "naavre-scaffold.lock"

# State files git keeps while an operation waits for a person, and what to call it.
IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase (or git am)",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
}


@contextmanager
def repository_lock(common_dir: Path) -> Iterator[None]:
    """Hold ``naavre-scaffold.lock`` in the git folder ``common_dir`` while working on its repository;
    refuse if another run holds it.

    ``flock`` locks are released by the kernel when their holder dies, so a killed
    run never leaves a stale lock behind. The file itself stays (it is empty):
    deleting a lock file others may have open would let two runs lock two files.
    """
    with open(common_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RepositoryBusy(
                "another naavre-scaffold update is working on this repository; rerun when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Inspection:
    """What the guard read of a repository it lets ``update`` work on: what to clone."""

    head: str
    ignored: set[str]  # the files its ignore rules match


def inspect(root: Path, subprojects: list[Subproject]) -> Inspection | str:
    """Read ``root`` once, under its lock: what to clone, or why it must not be updated now.

    An operation in progress, uncommitted changes and a branch with no commit refuse it.
    """
    head, in_progress = head_and_git_paths(root, *IN_PROGRESS)
    for path, operation in zip(in_progress, IN_PROGRESS.values(), strict=True):
        if path.exists():
            return f"{operation} is in progress: finish or abort it first"
    status = work_tree_status(root)
    if dirty := status.uncommitted:
        if moved := _uncommitted_template_update(root, subprojects):
            return (
                f"holds an uncommitted template update from an earlier run ({moved[0]} -> {moved[1]}): "
                "commit or discard it"
            )
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        return f"the working tree has uncommitted changes: {dirty[0]}{more}"
    if head is None:
        return "its branch has no commit yet: commit the project first"
    return Inspection(head, status.ignored)


def _uncommitted_template_update(root: Path, subprojects: list[Subproject]) -> tuple[str, str] | None:
    """The versions of a template update left uncommitted: the answers' ``_commit`` differs from HEAD's."""
    for sub in subprojects:
        relative = sub.answers_path.relative_to(root).as_posix()
        try:
            committed = yaml.safe_load(git(root, "show", f"HEAD:{relative}")) or {}
        except (GitError, yaml.YAMLError):
            continue
        # Read now, not at discovery: another run may have delivered since.
        try:
            current = yaml.safe_load(sub.answers_path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(committed, dict) or not isinstance(current, dict):
            continue
        before, after = committed.get("_commit"), current.get("_commit")
        if before and after and before != after:
            return str(before), str(after)
    return None

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
from pathlib import Path

import yaml

from naavre_scaffold.errors import RepositoryBusy
from naavre_scaffold.fleet.discovery import Subproject
from naavre_scaffold.git import GitError, git, uncommitted

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
def repository_lock(root: Path) -> Iterator[None]:
    """Hold ``.git/naavre-scaffold.lock`` while working on ``root``; refuse if another run holds it.

    ``flock`` locks are released by the kernel when their holder dies, so a killed
    run never leaves a stale lock behind. The file itself stays (it is empty):
    deleting a lock file others may have open would let two runs lock two files.
    """
    git_dir = root / git(root, "rev-parse", "--git-common-dir")
    with open(git_dir / LOCK_FILE, "a") as handle:
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


def refusal_reason(root: Path, subprojects: list[Subproject]) -> str | None:
    """Why ``root`` must not be updated now (an operation in progress, uncommitted changes), or None."""
    asked = [arg for name in IN_PROGRESS for arg in ("--git-path", name)]
    paths = git(root, "rev-parse", *asked).splitlines()
    for path, operation in zip(paths, IN_PROGRESS.values(), strict=True):
        if (root / path).exists():
            return f"{operation} is in progress: finish or abort it first"
    dirty = uncommitted(root)
    if not dirty:
        return None
    if moved := _uncommitted_template_update(root, subprojects):
        return (
            f"holds an uncommitted template update from an earlier run ({moved[0]} -> {moved[1]}): "
            "commit or discard it"
        )
    more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
    return f"the working tree has uncommitted changes: {dirty[0]}{more}"


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

"""What Copier did in the private clone where ``update`` runs it: changes, conflicts, undo.

``update`` never runs Copier in a person's repository. It clones the repository
(sharing its objects), runs ``copier update`` there, and reads the result with
these functions before anything reaches the repository itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from naavre_scaffold.git import GitError, git, git_bytes

# Copier marks a conflict with "<<<<<<< before updating" ... ">>>>>>> after updating".
_MARKER = re.compile(rb"^(<{7}|>{7})( |$)", re.M)
_UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


def changed_paths(clone: Path, relative: Path) -> tuple[list[str], list[str]]:
    """Paths changed under ``relative`` in the clone, and those left unmerged by Copier."""
    status = git(clone, "status", "--porcelain", "-z", "--untracked-files=all", "--", relative.as_posix())
    changed, unmerged = [], []
    for entry in filter(None, status.split("\0")):
        code, path = entry[:2], entry[3:]
        changed.append(path)
        if code in _UNMERGED:
            unmerged.append(path)
    return sorted(set(changed)), unmerged


def has_new_markers(clone: Path, path: str) -> bool:
    """Whether ``path`` has more conflict-marker lines than it had at HEAD."""
    file = clone / path
    if not file.is_file():
        return False
    try:
        before = git_bytes(clone, "cat-file", "blob", f"HEAD:{path}")
    except GitError:  # a new file
        before = b""
    return len(_MARKER.findall(file.read_bytes())) > len(_MARKER.findall(before))


def only_commit_changed(clone: Path, answers_file: str) -> bool:
    before = yaml.safe_load(git(clone, "show", f"HEAD:{answers_file}")) or {}
    after = yaml.safe_load((clone / answers_file).read_text()) or {}
    return {k: v for k, v in before.items() if k != "_commit"} == {
        k: v for k, v in after.items() if k != "_commit"
    }


def restore(clone: Path, relative: Path) -> None:
    """Put ``relative`` in the clone back to HEAD, unmerged entries and new files included."""
    spec = relative.as_posix()
    git(clone, "reset", "--quiet", "HEAD", "--", spec)
    git(clone, "checkout", "--quiet", "HEAD", "--", spec)
    git(clone, "clean", "-fdq", "--", spec)

"""What Copier did in the private clone where ``update`` runs it: changes, conflicts, undo.

``update`` never runs Copier in a person's repository. It clones the repository
(sharing its objects), runs ``copier update`` there, and reads the result with
these functions before anything reaches the repository itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from naavre_scaffold.git import GitError, git, git_bytes

# Copier marks a conflict with "<<<<<<< before updating" ... ">>>>>>> after updating".
_MARKER = re.compile(rb"^(<{7}|>{7})( |$)", re.M)
_UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


@dataclass
class Changes:
    """What Copier changed under one folder of the clone (paths relative to the clone's top)."""

    changed: list[str] = field(default_factory=list)  # every changed path, ignored new files included
    unmerged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # new files the repository's .gitignore matches


def changed_paths(clone: Path, relative: Path) -> Changes:
    """The paths Copier changed under ``relative`` in the clone.

    The clone starts with exactly the committed files, so an ignored file in it
    is one the new template adds: it is a change like any other, which a plain
    ``git status`` would hide.
    """
    status = git(
        clone,
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--ignored=matching",
        "--no-renames",
        "--",
        relative.as_posix(),
    )
    changes = Changes()
    for entry in filter(None, status.split("\0")):
        code, path = entry[:2], entry[3:]
        if code == "!!":
            if path.endswith("/"):  # a whole ignored folder: list its files
                changes.ignored += [
                    p.relative_to(clone).as_posix()
                    for p in (clone / path).rglob("*")
                    if p.is_file() or p.is_symlink()
                ]
            else:
                changes.ignored.append(path)
            continue
        changes.changed.append(path)
        if code in _UNMERGED:
            changes.unmerged.append(path)
        elif "D" in code:
            changes.deleted.append(path)
    changes.ignored.sort()
    changes.changed = sorted(set(changes.changed) | set(changes.ignored))
    return changes


def changed_by_the_project(clone: Path, paths: list[str], old_render: Path, relative: Path) -> list[str]:
    """Those of ``paths`` whose committed content differs from the old template's render of them.

    ``old_render`` is the template at the repository's recorded version rendered
    with its answers; ``relative`` is the subproject's folder in the clone.
    """
    changed = []
    for path in paths:
        rendered = old_render / Path(path).relative_to(relative)
        committed = git_bytes(clone, "cat-file", "blob", f"HEAD:{path}")
        if not rendered.is_file() or rendered.read_bytes() != committed:
            changed.append(path)
    return changed


def has_new_markers(clone: Path, path: str) -> bool:
    """Whether ``path`` has more conflict-marker lines than it had at HEAD."""
    file = clone / path
    if not file.is_file():
        return False
    markers = len(_MARKER.findall(file.read_bytes()))
    if not markers:  # none now: there cannot be more than at HEAD, so HEAD need not be read
        return False
    try:
        before = git_bytes(clone, "cat-file", "blob", f"HEAD:{path}")
    except GitError:  # a new file
        before = b""
    return markers > len(_MARKER.findall(before))


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

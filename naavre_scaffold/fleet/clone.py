"""The private clone where ``update`` runs Copier, and what Copier did there.

``update`` never runs Copier in a person's repository. It runs it in a replica
of the repository's committed state, made so that Copier sees what it would see
in the repository itself:

- the clone is named like the repository (Copier's ``_folder_name``);
- it reads the repository's git settings (an ``include`` of its config) and its
  ``info/exclude`` and ``info/attributes``, and writes objects to the
  repository's own object store, as Copier does when it runs there;
- its working tree holds the very bytes of the repository's tracked files and
  of its ignored files (not ignored folders): a checkout would convert them
  through the attributes and settings, and could differ from what is on disk;
- no hook of the repository runs in it.

What Copier changed is then read byte for byte against the repository, not
through git, whose attributes can hide a change of line endings or show one
where there is none.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from naavre_scaffold.git import GitError, git, git_bytes

# Copier marks a conflict with exactly these lines; a file may show others ("<<<<<<< HEAD") as text.
COPIER_MARKERS = (b"<<<<<<< before updating", b">>>>>>> after updating")
_GITLINK = "160000"
_BINARY_PROBE = 8000  # git calls a file binary if a NUL byte is among its first 8000 bytes


@dataclass
class Changes:
    """What Copier changed under one folder of the clone (paths relative to the clone's top)."""

    changed: list[str] = field(default_factory=list)  # every changed path, ignored files included
    unmerged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # changed paths the repository's ignore rules match


@dataclass
class Replica:
    """A private clone of ``root`` at ``path``: what it was made from."""

    root: Path
    path: Path
    tracked: set[str]  # the repository's tracked files (gitlinks left out)
    ignored: set[str]  # the repository's ignored files copied in


def make(root: Path, into: Path, *, common: Path, head: str, ignored: set[str]) -> Replica:
    """A replica of ``root`` at commit ``head`` in ``into/<root's name>``; see the module's docstring.

    ``common`` is the repository's git folder; ``ignored`` its ignored files (the guard has
    read them), copied in too.
    """
    clone = into / root.name
    clone.parent.mkdir(parents=True, exist_ok=True)
    git(into, "init", "--quiet", "--template=", str(clone))
    objects = clone / ".git" / "objects"
    shutil.rmtree(objects)
    objects.symlink_to((common / "objects").resolve(), target_is_directory=True)
    (clone / ".git" / "config").write_text(
        f"[include]\n\tpath = {_quoted(common / 'config')}\n"
        f"[core]\n\tbare = false\n\tworktree = {_quoted(clone)}\n\thooksPath = {os.devnull}\n"
        "\tfsmonitor = false\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
    )
    for name in ("exclude", "attributes"):
        if (common / "info" / name).is_file():
            (clone / ".git" / "info").mkdir(exist_ok=True)
            shutil.copyfile(common / "info" / name, clone / ".git" / "info" / name)
    (clone / ".git" / "HEAD").write_text(f"{head}\n")  # detached at the repository's commit
    git(clone, "read-tree", "HEAD")
    tracked = set()
    for entry in git_bytes(clone, "ls-files", "--stage", "-z").decode().split("\0"):
        if entry.startswith(_GITLINK):  # a submodule: an empty folder, as a clone leaves it
            (clone / entry.split("\t", 1)[1]).mkdir(parents=True, exist_ok=True)
        elif entry:
            tracked.add(entry.split("\t", 1)[1])
    copy_paths(root, clone, sorted(tracked | ignored), replace_folders=True)
    git_bytes(clone, "update-index", "-q", "--refresh", check=False)  # exit 1 only lists the stat changes
    return Replica(root, clone, tracked, ignored)


def _quoted(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def copy_paths(source: Path, target: Path, paths: list[str], *, replace_folders: bool = False) -> None:
    """Make each path in ``target`` what it is in ``source``: bytes, symlink or exec bits; absent if absent.

    A folder in the way is an error unless ``replace_folders`` (in the clone, never in a person's repository).
    """
    for path in paths:
        origin, copy = source / path, target / path
        if copy.is_dir() and not copy.is_symlink():
            if not replace_folders:
                raise IsADirectoryError(f"{path}: a folder is in the way")
            shutil.rmtree(copy)
        elif os.path.lexists(copy):
            copy.unlink()
        if origin.is_symlink():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.symlink_to(os.readlink(origin))
        elif origin.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, copy)
            copy.chmod(stat.S_IMODE(origin.stat().st_mode))


def same(one: Path, other: Path) -> bool:
    """Whether two paths hold the same: kind (absent, folder, symlink, file), bytes or target, exec bits."""
    if _kind(one) != _kind(other):
        return False
    if one.is_symlink():
        return os.readlink(one) == os.readlink(other)
    if not one.is_file():
        return True  # both absent, or both folders
    a, b = one.stat(), other.stat()
    if a.st_size != b.st_size or (a.st_mode & 0o111) != (b.st_mode & 0o111):
        return False
    return one.read_bytes() == other.read_bytes()


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "link"
    return "file" if path.is_file() else "folder" if path.is_dir() else "absent"


def changes(replica: Replica, relative: Path, claimed: set[str]) -> Changes:
    """The paths under ``relative`` where the clone now differs from the repository.

    ``claimed`` holds paths already reported for another subproject of the repository.
    """
    clone, root = replica.path, replica.root
    prefix = "" if relative == Path(".") else relative.as_posix() + "/"
    found = {path for path in _files(clone, relative) if not same(clone / path, root / path)}
    before = {path for path in replica.tracked | replica.ignored if path.startswith(prefix)}
    deleted = {path for path in before if not os.path.lexists(clone / path)}
    result = Changes(changed=sorted((found | deleted) - claimed), deleted=sorted(deleted - claimed))
    result.unmerged = sorted(
        {
            entry.split("\t", 1)[1]
            for entry in _lines(clone, "ls-files", "--unmerged", "-z", "--", prefix or ".")
        }
    )
    untracked = [path for path in result.changed if path not in replica.tracked]
    if untracked:
        listed = git_bytes(
            clone,
            "check-ignore",
            "--no-index",
            "-z",
            "--stdin",
            input="\0".join(untracked).encode(),
            check=False,
        )
        result.ignored = sorted(set(filter(None, listed.decode().split("\0"))))
    return result


def _files(clone: Path, relative: Path) -> list[str]:
    """The files and symlinks under ``relative`` in the clone, its .git left out."""
    found = []
    for folder, subfolders, files in os.walk(clone / relative):
        here = Path(folder)
        if here == clone:
            subfolders[:] = [name for name in subfolders if name != ".git"]
        links = [name for name in subfolders if (here / name).is_symlink()]
        found += [(here / name).relative_to(clone).as_posix() for name in files + links]
    return found


def _lines(cwd: Path, *args: str) -> list[str]:
    return [line for line in git_bytes(cwd, *args).decode().split("\0") if line]


def is_binary(*paths: Path) -> bool:
    """Whether git would call any of these files binary (a NUL byte near the start)."""
    for path in paths:
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if b"\0" in file.read(_BINARY_PROBE):
                    return True
    return False


def changed_by_the_project(replica: Replica, paths: list[str], old_render: Path, relative: Path) -> list[str]:
    """Those of ``paths`` whose content in the repository differs from the old template's render of them.

    ``old_render`` is the template at the repository's recorded version rendered
    with its answers; ``relative`` is the subproject's folder in the repository.
    """
    return [
        path for path in paths if not same(old_render / Path(path).relative_to(relative), replica.root / path)
    ]


def has_new_markers(replica: Replica, path: str) -> bool:
    """Whether ``path`` has more of Copier's conflict-marker lines than the repository's file."""
    markers = _count_markers(replica.path / path)
    return bool(markers) and markers > _count_markers(replica.root / path)


def _count_markers(file: Path) -> int:
    if not file.is_file() or file.is_symlink():
        return 0
    return sum(1 for line in file.read_bytes().split(b"\n") if line.rstrip() in COPIER_MARKERS)


def put_back(replica: Replica, paths: list[str]) -> None:
    """Give ``paths`` in the clone the repository's content again (the index left as it is)."""
    copy_paths(replica.root, replica.path, paths, replace_folders=True)


def restore(replica: Replica, relative: Path) -> None:
    """Put ``relative`` in the clone back as it was made: index entries, files, no new files."""
    clone = replica.path
    spec = relative.as_posix()
    with contextlib.suppress(GitError):  # nothing tracked there
        git(clone, "reset", "--quiet", "HEAD", "--", spec)
    prefix = "" if relative == Path(".") else spec + "/"
    known = {path for path in replica.tracked | replica.ignored if path.startswith(prefix)}
    for path in [path for path in _files(clone, relative) if path not in known]:
        (clone / path).unlink()
    copy_paths(replica.root, clone, sorted(known), replace_folders=True)
    git_bytes(clone, "update-index", "-q", "--refresh", check=False)

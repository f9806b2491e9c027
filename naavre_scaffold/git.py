"""The few git operations naavre-scaffold needs, run with the real git."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from naavre_scaffold.errors import GitError

__all__ = [
    "FolderTrees",
    "GitError",
    "WorkTreeStatus",
    "commit_files",
    "commit_of",
    "committer",
    "current_branch",
    "git",
    "git_bytes",
    "git_lines",
    "git_with_reason",
    "head_and_git_paths",
    "init_and_commit",
    "merge_files",
    "no_index_patch",
    "reachable",
    "repository_folders",
    "uncommitted",
    "url_redirects",
    "work_tree_status",
]

# Used only when the user has no git identity configured, so that the first
# commit of a new repository never fails on a fresh machine or in CI.
FALLBACK_IDENTITY = ("naavre-scaffold", "naavre-scaffold@users.noreply.github.com")
# Plain paths (named a/ and b/ by the scratch folders), whatever the user's git configuration says.
PATCH_OPTIONS = ("--no-index", "--binary", "--no-prefix", "--no-color", "--no-ext-diff", "--no-textconv")


def git(cwd: Path, *args: str) -> str:
    """Run ``git args`` in ``cwd`` and return its stripped standard output."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed in {cwd}: {message[-1] if message else done.returncode}")
    return done.stdout.rstrip("\n")


def git_bytes(
    cwd: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None, check: bool = True
) -> bytes:
    """Run ``git args`` in ``cwd`` and return its standard output as it is (file contents).

    ``env`` adds to the environment; ``input`` is the standard input; with
    ``check=False`` a failure is not an error.
    """
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **env} if env else None,
        input=input,
        capture_output=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitError(f"git {args[0]} failed in {cwd}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def git_lines(cwd: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """The lines of ``git args``'s output, as they are (leading spaces kept)."""
    return git_bytes(cwd, *args, env=env).decode().splitlines()


class FolderTrees:
    """Git trees of plain folders, in a throw-away repository that borrows another's objects.

    Like the throw-away repositories Copier commits its old and new copies to:
    git's own defaults and each folder's ``.gitignore`` and ``.gitattributes``
    apply, never the borrowing repository's settings, ``info/`` files or
    attributes. Each folder is added through a temporary index file; the trees
    are written where the borrowed repository's objects are found too.
    """

    def __init__(self, objects: Path, scratch: Path, git_dir: Path | None = None) -> None:
        """Borrow ``objects``; index files go to ``scratch``.

        ``git_dir`` keeps the throw-away repository for later FolderTrees to reuse (one
        at a time: each points it at its own objects); by default it is in ``scratch``.
        """
        self.scratch, self.git_dir, self.count = scratch, git_dir or scratch / "trees.git", 0
        self._indexes: dict[Path, Path] = {}
        if not (self.git_dir / "HEAD").is_file():
            git(scratch, "init", "--quiet", "--bare", str(self.git_dir))
        (self.git_dir / "objects" / "info" / "alternates").write_text(f"{objects}\n")

    def of(self, folder: Path, force: Sequence[str] = ()) -> str:
        """The tree of what ``git add`` takes in ``folder`` (its .gitignore files obeyed), plus ``force``."""
        self.count += 1
        index = self._indexes[folder] = self.scratch / f"index-{self.count}"
        env = {"GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(folder), "GIT_INDEX_FILE": str(index)}
        git_bytes(folder, "add", "--all", ".", env=env)
        if force:
            git_bytes(folder, "add", "--force", "--", *force, env=env)
        return git_lines(folder, "write-tree", env=env)[0]

    def changes(self, old: str, new: str) -> list[tuple[str, str]]:
        """(status letter, path) of every path that differs between two trees: A, D, M or T."""
        listed = git_bytes(self.scratch, "diff-tree", "-r", "-z", "--name-status", old, new, env=self._env)
        fields = listed.decode().split("\0")[:-1]
        return list(zip(fields[::2], fields[1::2], strict=True))

    def diff(self, old: str, new: str, *options: str, attributes_of: Path) -> bytes:
        """The diff of two trees, read with the ``.gitattributes`` of the folder ``attributes_of``."""
        env = {
            **self._env,
            "GIT_WORK_TREE": str(attributes_of),
            "GIT_INDEX_FILE": str(self._indexes[attributes_of]),
        }
        return git_bytes(attributes_of, "diff-tree", *options, old, new, env=env)

    @property
    def _env(self) -> dict[str, str]:
        return {"GIT_DIR": str(self.git_dir)}


def commit_of(cwd: Path, ref: str) -> str | None:
    """The commit ``ref`` (a tag, branch, HEAD or hash) names in the repository at ``cwd``; None if none."""
    try:
        return git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        return None


def current_branch(cwd: Path) -> str | None:
    """The branch checked out at ``cwd``; None when HEAD is detached."""
    try:
        return git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD")
    except GitError:
        return None


def uncommitted(cwd: Path, *, untracked: bool = True) -> list[str]:
    """The paths with uncommitted changes at ``cwd`` (untracked files too, unless told not to).

    Raises:
        GitError: ``cwd`` is not in a git work tree.
    """
    which = "all" if untracked else "no"
    return _status(git_bytes(cwd, "status", "--porcelain", "-z", f"--untracked-files={which}")).uncommitted


@dataclass(frozen=True)
class WorkTreeStatus:
    """What ``git status`` says of a work tree, read once."""

    uncommitted: list[str]  # paths with uncommitted changes, untracked files included, each once
    ignored: set[str]  # files (not whole folders) that the ignore rules match


def work_tree_status(cwd: Path) -> WorkTreeStatus:
    """The uncommitted and the ignored files at ``cwd``, from one ``git status``.

    Raises:
        GitError: ``cwd`` is not in a git work tree.
    """
    return _status(
        git_bytes(cwd, "status", "--porcelain", "-z", "--ignored=matching", "--untracked-files=all")
    )


def _status(listed: bytes) -> WorkTreeStatus:
    entries = listed.decode(errors="surrogateescape").split("\0")[:-1]
    status = WorkTreeStatus([], set())
    renamed_from = False
    for entry in entries:
        if renamed_from:  # the second field of a rename is where it came from
            renamed_from = False
            continue
        if entry.startswith("!! "):
            if not entry.endswith("/"):
                status.ignored.add(entry[3:])
            continue
        status.uncommitted.append(entry[3:])
        renamed_from = any(letter in "RC" for letter in entry[:2])  # in the index or the work tree
    return status


def head_and_git_paths(cwd: Path, *names: str) -> tuple[str | None, list[Path]]:
    """The commit HEAD names (None on an unborn branch) and where ``.git/<name>`` is for each name.

    One ``git rev-parse``; the paths are absolute (git gives them relative to ``cwd``).

    Raises:
        GitError: ``cwd`` is not in a git repository.
    """
    asked = [arg for name in names for arg in ("--git-path", name)]
    done = subprocess.run(
        ["git", "rev-parse", *asked, "--verify", "--quiet", "HEAD^{commit}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.splitlines()
    paths = [cwd / line for line in lines[: len(names)]]
    if len(lines) == len(names) + 1 and done.returncode == 0:
        return lines[-1], paths
    if len(lines) == len(names) and done.returncode == 1 and not done.stderr.strip():
        return None, paths  # a HEAD that names no commit yet: --quiet says so with exit 1 alone
    message = (done.stderr or done.stdout).strip().splitlines()
    raise GitError(f"git rev-parse failed in {cwd}: {message[-1] if message else done.returncode}")


def repository_folders(cwd: Path) -> tuple[Path, Path]:
    """The top folder of the work tree at ``cwd``, and the repository's own git folder (a linked
    worktree's main one), both absolute, from one ``git rev-parse``.

    Raises:
        GitError: ``cwd`` is not in a git work tree.
    """
    top, common = git(cwd, "rev-parse", "--show-toplevel", "--git-common-dir").splitlines()
    return Path(top), (cwd / common).resolve()  # git gives it relative to cwd: one name for one folder


def committer(cwd: Path) -> list[str]:
    """git options naming who commits: the repository's own identity, or a fallback, so a commit never
    fails for want of one (a fresh machine, CI)."""
    try:
        name, email = git(cwd, "config", "user.name"), git(cwd, "config", "user.email")
    except GitError:
        name, email = FALLBACK_IDENTITY
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def url_redirects(redirects: dict[str, Path]) -> dict[str, str]:
    """Environment variables that make git fetch each URL from a local repository (``url.<repo>.insteadOf``).

    git (and Copier through it) still sees and records the URL.
    """
    env = {"GIT_CONFIG_COUNT": str(len(redirects))}
    for index, (url, local) in enumerate(redirects.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = f"url.{local.resolve().as_uri()}.insteadOf"
        env[f"GIT_CONFIG_VALUE_{index}"] = url
    return env


def init_and_commit(repo: Path, message: str, tag: str | None = None) -> str:
    """``git init`` ``repo`` on branch main, commit everything in it, return the commit SHA."""
    git(repo, "-c", "init.defaultBranch=main", "init", "-q")
    git(repo, "add", "-A")
    git(repo, *committer(repo), "commit", "-q", "--no-verify", "-m", message)
    if tag:
        git(repo, "tag", tag)
    return git(repo, "rev-parse", "HEAD")


def commit_files(
    root: Path, branch: str, files: Mapping[str, tuple[Path, int]], title: str, body: str
) -> str:
    """Commit HEAD's tree with ``files`` (path in the repository -> the file that holds its
    content, and its git mode) on a new branch; return the commit.

    The working tree, the index and the checked-out branch are not touched: the tree is
    built in a temporary index. A symlink's file holds its target. The contents are
    stored as they are (no attributes applied), as a checkout of the branch will show them.

    Raises:
        GitError: the branch exists already, or git fails.
    """
    paths = list(files)
    listed = "\n".join(str(files[path][0]) for path in paths).encode() + b"\n"
    blobs = git_bytes(root, "hash-object", "-w", "--no-filters", "--stdin-paths", input=listed).split()
    entries = [f"{files[path][1]:o} {blob.decode()}\t{path}" for path, blob in zip(paths, blobs, strict=True)]
    with tempfile.TemporaryDirectory(prefix="naavre-commit-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch, "index"))}
        git_bytes(root, "read-tree", "HEAD", env=env)
        git_bytes(root, "update-index", "--index-info", env=env, input="\n".join(entries).encode() + b"\n")
        tree = git_lines(root, "write-tree", env=env)[0]
    commit = git(root, *committer(root), "commit-tree", tree, "-p", "HEAD", "-m", title, "-m", body)
    git(root, "update-ref", f"refs/heads/{branch}", commit, "")  # "": only if the branch does not exist
    return commit


def merge_files(mine: Path, base: Path, theirs: Path) -> bytes | None:
    """The three-way merge of ``base``'s changes to ``mine`` and to ``theirs`` (``git merge-file``);
    None when they conflict."""
    done = subprocess.run(
        ["git", "merge-file", "-p", "--quiet", "--", str(mine), str(base), str(theirs)],
        capture_output=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def reachable(url: str, timeout: float) -> bool:
    """Whether git can list the refs of ``url`` within ``timeout`` seconds (a firewall that drops
    packets would otherwise hold a fetch for minutes)."""
    try:
        done = subprocess.run(
            ["git", "ls-remote", "--heads", "--", url], capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def git_with_reason(cwd: Path, *args: str) -> str:
    """Like ``git``, but a failure carries all of git's error output, folded to one line.

    ``git push`` puts the reason last only sometimes: a server-side hook prints its
    reason as ``remote:`` lines before git's own summary, and that reason is what a
    person needs to read.
    """
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = " ".join((done.stderr or done.stdout).split()) or f"exit status {done.returncode}"
        raise GitError(f"git {args[0]} failed: {reason}")
    return done.stdout.rstrip("\n")


def no_index_patch(scratch: Path, name: str) -> str:
    """The git patch from ``scratch/a/<name>`` (or no file) to ``scratch/b/<name>``, for the path ``name``.

    git itself writes it (``git diff --no-index --binary``), so modes, binary files,
    missing newlines and carriage returns come out as ``git apply`` reads them.
    Empty when the two are the same or git cannot compare them.
    """
    mine = scratch / "a" / name
    before = f"a/{name}" if mine.exists() or mine.is_symlink() else "/dev/null"
    done = subprocess.run(
        ["git", "diff", *PATCH_OPTIONS, "--", before, f"b/{name}"],
        cwd=scratch,
        capture_output=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        return ""
    text = done.stdout.decode(errors="replace")
    # A new file's header names b/ twice; git apply takes either, a reader expects a/ then b/.
    if before == "/dev/null" and text.startswith(("diff --git b/", 'diff --git "b/')):
        text = text.replace("b/", "a/", 1)
    return text

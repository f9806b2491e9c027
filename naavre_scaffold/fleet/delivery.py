"""How a clean update leaves its private clone: into the working tree, or as a branch (pushed, in a PR).

Into the working tree: the bytes Copier wrote in the clone, copied as they are
(not through git, whose attributes would convert them), and the index entries
Copier changed. Every target is saved first and put back on any failure: the
repository ends updated or exactly as it was.

As a branch ``template-update/<version>``: a rerun converges. A branch that
already holds the same files is reused, one made by an earlier run (our commit
on top of this history) is replaced, and anything else is left alone and
reported; the same goes for the branch on ``origin``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from naavre_scaffold.errors import GitError, GitHubError
from naavre_scaffold.fleet import github
from naavre_scaffold.fleet.clone import Replica, copy_paths
from naavre_scaffold.fleet.outcome import Options, Outcome, Verdict
from naavre_scaffold.git import commit_of, committer, current_branch, git, git_bytes, git_with_reason
from naavre_scaffold.source.mirror import Mirror

BRANCH_PREFIX = "template-update/"
TITLE = "Update the naavre-scaffold template"


def deliver(
    replica: Replica,
    outcomes: list[Outcome],
    writes: dict[str, list[str]],
    ignored: dict[str, list[str]],
    options: Options,
    mirrors: dict[str, Mirror],
) -> None:
    """Bring the clone's clean result into the repository, as ``options`` say; record it in ``outcomes``.

    The working tree gets the bytes Copier wrote in the clone, and the index the
    entries Copier changed there (unmerged ones, exec bits where git ignores file
    modes), as ``copier update`` leaves them. ``writes`` holds, per outcome path,
    the paths to bring; ``ignored`` those of them that the repository's ignore
    rules match: they reach the working tree, and are never committed.
    """
    updated = [o for o in outcomes if o.verdict == Verdict.UPDATED]
    kept = options.keep_conflicts and any(o.verdict == Verdict.CONFLICT for o in outcomes)
    if not updated and not kept:
        return
    clone, root = replica.path, replica.root
    paths = sorted({path for files in writes.values() for path in files})
    loose = sorted({path for files in ignored.values() for path in files})
    tracked = [path for path in paths if path not in loose]
    try:
        if options.dry_run:
            _stage(clone, tracked)
            _stage(clone, loose, "--force")
            for outcome in updated:
                outcome.patch = _patch(clone, outcome, outcomes)
                outcome.message = "dry run: nothing was written; the patch shows what would change"
                outcome.message += _ignored_note(ignored.get(outcome.path), "would arrive uncommitted")
        elif options.commit and not kept:
            _stage(clone, tracked)
            _commit_branch(clone, root, updated, options, mirrors)
            write_atomically(replica, loose, [])
            for outcome in updated:
                outcome.message += _ignored_note(ignored.get(outcome.path), "written to the working tree")
        else:
            write_atomically(replica, paths, paths)
            for outcome in updated:
                outcome.message = "changes left uncommitted in the working tree"
                outcome.message += _ignored_note(ignored.get(outcome.path), "left there, uncommitted")
    except (GitError, GitHubError, OSError) as error:
        for outcome in updated:
            outcome.verdict, outcome.message = Verdict.FAILED, str(error)


def _stage(clone: Path, paths: list[str], *options: str) -> None:
    if paths:
        git(clone, "add", "--all", *options, "--", *(f":(literal){path}" for path in paths))


def _ignored_note(files: list[str] | None, what: str) -> str:
    if not files:
        return ""
    return f"; file(s) that this repository's ignore rules match, not committed ({what}): {', '.join(files)}"


def _patch(clone: Path, outcome: Outcome, outcomes: list[Outcome]) -> str:
    """The outcome's changes as a patch for the repository's top folder (other subprojects left out)."""
    inside = [
        o.folder
        for o in outcomes
        if o.folder != outcome.folder and (outcome.folder == "." or o.folder.startswith(outcome.folder + "/"))
    ]
    spec = [outcome.folder, *(f":(exclude){folder}" for folder in inside)]
    diff = git_bytes(clone, "diff", "--cached", "--binary", "--no-renames", "HEAD", "--", *spec)
    return diff.decode("utf-8", errors="replace")


def _commit_branch(
    clone: Path,
    root: Path,
    updated: list[Outcome],
    options: Options,
    mirrors: dict[str, Mirror],
) -> None:
    first = updated[0]
    branch = f"{BRANCH_PREFIX}{first.to_version}"
    title = f"{TITLE} from {first.from_version} to {first.to_version}"
    body = description(updated, mirrors)
    if options.pull_request:
        base_branch(root)  # a detached HEAD has nothing to merge into: refuse before making anything
    git(clone, *committer(root), "commit", "--quiet", "--no-verify", "-m", title, "-m", body)
    git(root, "fetch", "--quiet", "--no-write-fetch-head", str(clone), "HEAD")  # the objects, no ref
    commit, created = make_branch(root, branch, git(clone, "rev-parse", "HEAD"))
    done = f"committed on branch {branch}" if created else f"branch {branch} already holds this update"
    for outcome in updated:
        outcome.branch = branch
        outcome.message = done
    if not options.push:
        return
    try:
        done = push_branch(root, branch, commit)
    except GitError as error:
        if not created:
            raise GitError(f"pushing branch {branch} failed: {error}") from None
        git(root, "update-ref", "-d", f"refs/heads/{branch}", commit)  # nothing of this run stays
        for outcome in updated:
            outcome.branch = None
        raise GitError(f"pushing branch {branch} failed, so it was removed again: {error}") from None
    for outcome in updated:
        outcome.message = done
    if options.pull_request:
        url = open_pull_request(root, branch, title, body)
        for outcome in updated:
            outcome.pull_request, outcome.message = url, f"{done}; pull request {url}"


def description(updated: list[Outcome], mirrors: dict[str, Mirror]) -> str:
    """The commit body and pull request text: template changes, then the files."""
    lines: list[str] = []
    for outcome in updated:
        src = outcome.source or ""
        where = "Template" if outcome.folder == "." else f"{outcome.folder}: template"
        lines.append(f"{where} {src} from {outcome.from_version} to {outcome.to_version}.")
        changes = mirrors[src].changes(outcome.from_version or "", outcome.to_version or "")
        if changes:
            lines += ["", "Template changes:", *(f"- {change}" for change in changes)]
        lines += ["", "Files changed:", *(f"- {file}" for file in outcome.files), ""]
    lines.append("Made by `naavre-scaffold update`.")
    return "\n".join(lines)


def write_atomically(replica: Replica, paths: list[str], indexed: list[str]) -> None:
    """Give ``paths`` in the repository the clone's content, and ``indexed`` its index entries.

    Every target is saved first and put back on any failure (a folder where a file
    must go, a full disk): the repository ends updated or exactly as it was.
    """
    root = replica.root
    saved = {path: _save(root / path) for path in paths}
    folders = {
        parent for path in paths for parent in (root / path).parents if parent.is_relative_to(root)
    } - {root}
    made = sorted(
        (folder for folder in folders if not os.path.lexists(folder)),
        key=lambda folder: len(folder.parts),
        reverse=True,
    )
    try:
        copy_paths(replica.path, root, paths)
        _copy_index_entries(replica, indexed)
    except BaseException as error:
        for path, before in saved.items():
            _put_back(root / path, before)
        for folder in made:  # deepest first; only the folders this write made
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if isinstance(error, (GitError, OSError)):
            message = f"writing the update failed, so the repository was put back as it was: {error}"
            raise GitError(message) from None
        raise


def _copy_index_entries(replica: Replica, paths: list[str]) -> None:
    """The clone's index entries of ``paths`` where they differ from the repository's (same object store)."""
    if not paths:
        return
    ours, theirs = _index(replica.path, paths), _index(replica.root, paths)
    lines = []
    for path in sorted(set(ours) | set(theirs)):
        if ours.get(path) != theirs.get(path):
            lines += [f"0 {'0' * 40}\t{path}", *ours.get(path, [])]
    if lines:
        git_bytes(replica.root, "update-index", "--index-info", input="\n".join(lines).encode() + b"\n")


def _index(repo: Path, paths: list[str]) -> dict[str, list[str]]:
    """Index entries (``mode sha stage\tpath``) by path, of the given paths."""
    entries: dict[str, list[str]] = {}
    listed = git_bytes(repo, "ls-files", "--stage", "-z", "--", *(f":(literal){p}" for p in paths))
    for entry in filter(None, listed.decode().split("\0")):
        entries.setdefault(entry.split("\t", 1)[1], []).append(entry)
    return entries


def _save(path: Path) -> tuple[str, bytes | str, int] | None:
    if path.is_symlink():
        return ("link", os.readlink(path), 0)
    if path.is_file():
        return ("file", path.read_bytes(), path.stat().st_mode)
    return None  # absent (or a folder, which apply does not replace)


def _put_back(path: Path, before: tuple[str, bytes | str, int] | None) -> None:
    if os.path.lexists(path) and (before is not None or not path.is_dir() or path.is_symlink()):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if before is None:
        return
    kind, content, mode = before
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "link":
        os.symlink(content, path)
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
        path.chmod(mode & 0o7777)


def _tree(root: Path, commit: str) -> str:
    return git(root, "rev-parse", f"{commit}^{{tree}}")


def _made_by_us(root: Path, commit: str) -> bool:
    """Whether ``commit`` is an update commit of an earlier run: ours, directly on this history."""
    subject = git(root, "log", "-1", "--format=%s", commit)
    try:
        git(root, "merge-base", "--is-ancestor", f"{commit}^", "HEAD")
    except GitError:
        return False
    return subject.startswith(TITLE)


def _branch_tip(root: Path, ref: str) -> str | None:
    return commit_of(root, ref)


def make_branch(root: Path, branch: str, commit: str) -> tuple[str, bool]:
    """Point ``branch`` at ``commit`` (already in ``root``), reusing or replacing one of an earlier run.

    Returns the commit the branch holds and whether this call created it.
    """
    ref = f"refs/heads/{branch}"
    tip = _branch_tip(root, ref)
    if tip is None:
        git(root, "update-ref", ref, commit, "")
        return commit, True
    if _tree(root, tip) == _tree(root, commit):
        return tip, False  # an earlier run made this very update: keep its commit
    if not _made_by_us(root, tip):
        raise GitError(f"branch {branch} already exists with other commits; merge or delete it first")
    git(root, "update-ref", ref, commit, tip)
    return commit, False


def push_branch(root: Path, branch: str, commit: str) -> str:
    """Bring ``branch`` (at ``commit``) to origin, converging with what an earlier run pushed.

    Returns what was done, for the outcome's message.
    """
    ref = f"refs/heads/{branch}"
    listed = git_with_reason(root, "ls-remote", "origin", ref).split()
    remote = listed[0] if listed else ""
    if remote == commit:
        return f"branch {branch} is already on origin"
    if remote:
        # Fetch the objects only: no FETCH_HEAD, no remote-tracking ref.
        git_with_reason(root, "fetch", "--quiet", "--no-write-fetch-head", "--refmap=", "origin", ref)
        if _tree(root, remote) == _tree(root, commit):
            git(root, "update-ref", ref, remote, commit)
            return f"branch {branch} on origin already holds this update"
        if not _made_by_us(root, remote):
            raise GitError(
                f"origin already has a branch {branch} with other commits; merge or delete it there first"
            )
    git_with_reason(root, "push", "--quiet", f"--force-with-lease={ref}:{remote}", "origin", f"{ref}:{ref}")
    return f"pushed branch {branch} to origin"


def open_pull_request(root: Path, branch: str, title: str, body: str) -> str:
    """The pull request's URL (GitHub answers with the existing one); an error says what is left to do."""
    try:
        return github.open_pull_request(root, branch, title, body)
    except GitHubError as error:
        raise GitHubError(
            f"pushed branch {branch} to origin; opening the pull request failed: {error}; "
            "rerun with --pr to open it"
        ) from None


def base_branch(root: Path) -> str:
    """The branch a pull request would merge into: the one checked out."""
    branch = current_branch(root)
    if branch is None:
        raise GitHubError(
            "HEAD is detached, so there is no base branch for the pull request; check out a branch first"
        )
    return branch

"""``naavre-scaffold update``: move many repositories to a newer template version, safely.

Each repository is updated by Copier in a private clone, never in place. Only a
clean result leaves the clone: as one ``git apply`` to the working tree, or as a
commit fetched into a new branch. A conflict, a refusal or a failure therefore
leaves the repository exactly as it was, and so does a run killed half-way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import copier

from naavre_scaffold import github, sources
from naavre_scaffold.clone import changed_paths, has_new_markers, only_commit_changed, restore
from naavre_scaffold.discovery import Subproject, find_subprojects, git_root
from naavre_scaffold.errors import UsageError
from naavre_scaffold.git import FALLBACK_IDENTITY, GitError, git

BRANCH_PREFIX = "template-update/"
NEEDS_NOTHING = ("updated", "up-to-date")


@dataclass
class Outcome:
    """What happened to one subproject (a repository, or a flavor folder inside one)."""

    path: str
    verdict: str
    from_version: str | None = None
    to_version: str | None = None
    files: list[str] = field(default_factory=list)
    message: str = ""
    branch: str | None = None
    pull_request: str | None = None
    source: str | None = None
    folder: str = "."  # the subproject's folder inside its git repository


@dataclass(frozen=True)
class Options:
    vcs_ref: str | None = None
    dry_run: bool = False
    keep_conflicts: bool = False
    commit: bool = False
    push: bool = False
    pull_request: bool = False


@dataclass(frozen=True)
class _Job:
    """One git repository and the subprojects to update in it."""

    root: Path
    subprojects: list[Subproject]
    targets: dict[str, str]  # template source -> version to update to
    source_errors: dict[str, str]  # template source -> why it cannot be used
    mirrors: dict[str, sources.Mirror]
    options: Options


def _label(path: Path) -> str:
    """How a folder is shown: relative to the current folder when it is below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or error.__class__.__name__
    return text if len(text) < 300 else text[:297] + "..."


def update(
    paths: list[Path],
    options: Options,
    jobs: int | None = None,
    on_done: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Move repositories to a newer template version with copier update.

    Every repository (or flavor folder) under the given paths is updated, several
    at once, each template source fetched once. Each repository is updated in a
    private clone: only a clean result reaches it, so a conflict, a refusal or a
    failure leaves it exactly as it was. Prints a verdict per repository: updated,
    up-to-date, conflict, refused or failed.

    Returns:
        One Outcome per subproject, in the order of the paths.
    """
    if options.keep_conflicts and (len(paths) != 1 or len(find_subprojects(paths[0])) > 1):
        raise UsageError("--keep-conflicts", "works on a single repository with a single answers file")
    if options.pull_request and not os.environ.get("GITHUB_TOKEN"):
        raise UsageError("--pr", "needs a GitHub token in the GITHUB_TOKEN environment variable")
    outcomes: list[Outcome] = []
    grouped: dict[Path, list[Subproject]] = {}
    for path in (p.resolve() for p in paths):
        if not path.is_dir():
            outcomes.append(Outcome(_label(path), "refused", message="no such folder"))
            continue
        found = find_subprojects(path)
        if not found:
            message = "no .copier-answers*.yml of a naavre-scaffold template found"
            outcomes.append(Outcome(_label(path), "refused", message=message))
        for sub in found:
            root = git_root(sub.folder)
            if root is None:
                reason = "not in a git repository"
                outcomes.append(
                    Outcome(_label(sub.folder), "refused", sub.answers.get("_commit"), message=reason)
                )
            else:
                grouped.setdefault(root, []).append(sub)

    mirrors: dict[str, sources.Mirror] = {}
    targets: dict[str, str] = {}
    source_errors: dict[str, str] = {}
    for src in sorted({s.answers["_src_path"] for subs in grouped.values() for s in subs if not s.error}):
        try:
            mirror = mirrors[src] = sources.fetch(src)
        except GitError as error:
            source_errors[src] = f"cannot fetch the template {src}: {_one_line(error)}"
            continue
        if options.vcs_ref and not mirror.has_ref(options.vcs_ref):
            source_errors[src] = f"the template {src} has no ref {options.vcs_ref}"
        else:
            targets[src] = options.vcs_ref or mirror.newest_tag() or "HEAD"

    work = [
        _Job(root, subs, targets, source_errors, mirrors, options) for root, subs in sorted(grouped.items())
    ]
    if not work:
        return outcomes
    redirect = sources.redirect_env(list(mirrors.values()))
    results: dict[int, list[Outcome]] = {}
    # Copier changes the working directory while it runs, so repositories are
    # updated in worker processes, not threads.
    with (
        tempfile.TemporaryDirectory(prefix="naavre-copier-cache-") as copier_caches,
        ProcessPoolExecutor(
            max_workers=max(1, min(jobs or os.cpu_count() or 1, len(work))),
            initializer=_start_worker,
            initargs=(redirect, copier_caches),
        ) as pool,
    ):
        futures = {pool.submit(update_repository, job): index for index, job in enumerate(work)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if on_done:
                on_done(results[futures[future]])
    return outcomes + [o for index in sorted(results) for o in results[index]]


def _start_worker(redirect: dict[str, str], copier_caches: str) -> None:
    """Point the worker's git at the template mirrors, and give it a Copier cache of its own.

    Copier keeps a mirror of each remote template in its cache and fetches into
    it on every use; two processes sharing one can see each other's half-made
    worktrees ("bad object ... did not send all necessary objects").
    """
    os.environ.update(redirect)
    os.environ["COPIER_CACHE_DIR"] = tempfile.mkdtemp(dir=copier_caches)


def update_repository(job: _Job) -> list[Outcome]:
    """Update the subprojects of one repository in a private clone, then apply or commit."""
    try:
        return _update_repository(job)
    except Exception as error:
        return [
            Outcome(_label(s.folder), "failed", s.answers.get("_commit"), message=_one_line(error))
            for s in job.subprojects
        ]


def _update_repository(job: _Job) -> list[Outcome]:
    root = job.root
    dirty = git(root, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")[:-1]
    if dirty:
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        reason = f"the working tree has uncommitted changes: {dirty[0][3:]}{more}"
        return [
            Outcome(_label(s.folder), "refused", s.answers.get("_commit"), message=reason)
            for s in job.subprojects
        ]
    head = git(root, "rev-parse", "--verify", "HEAD")
    with tempfile.TemporaryDirectory(prefix="naavre-update-") as tmp:
        clone = Path(tmp) / "clone"
        git(Path(tmp), "clone", "--quiet", "--shared", "--no-checkout", str(root), str(clone))
        git(clone, "checkout", "--quiet", "--detach", head)
        outcomes = [_update_subproject(clone, root, sub, job) for sub in job.subprojects]
        try:
            _deliver(clone, root, outcomes, job)
        except (GitError, github.GitHubError) as error:
            for outcome in outcomes:
                if outcome.verdict == "updated":
                    outcome.verdict, outcome.message = "failed", _one_line(error)
    return outcomes


def _update_subproject(clone: Path, root: Path, sub: Subproject, job: _Job) -> Outcome:
    outcome = Outcome(
        _label(sub.folder), "failed", sub.answers.get("_commit"), source=sub.answers.get("_src_path")
    )
    if sub.error:
        outcome.message = sub.error
        return outcome
    src = sub.answers["_src_path"]
    if src in job.source_errors:
        outcome.message = job.source_errors[src]
        return outcome
    target = job.targets[src]
    outcome.to_version = target
    if outcome.from_version == target:
        outcome.verdict, outcome.message = "up-to-date", f"already on {target}"
        return outcome
    relative = sub.folder.relative_to(root)
    outcome.folder = relative.as_posix()
    try:
        copier.run_update(
            clone / relative,
            answers_file=sub.answers_path.name,
            vcs_ref=target,
            defaults=True,
            overwrite=True,
            skip_answered=True,
            quiet=True,
            skip_if_exists=sub.project_owned(),
        )
    except Exception as error:
        restore(clone, relative)
        outcome.message = f"copier update failed: {_one_line(error)}"
        return outcome
    changed, unmerged = changed_paths(clone, relative)
    conflicts = sorted(
        set(unmerged) | {f for f in changed if f.endswith(".rej") or has_new_markers(clone, f)}
    )
    answers_file = (relative / sub.answers_path.name).as_posix()
    if conflicts:
        outcome.verdict, outcome.files = "conflict", conflicts
        if job.options.keep_conflicts:
            outcome.message = "conflict markers left in the working tree for you to resolve"
        else:
            restore(clone, relative)
            outcome.message = (
                "left untouched; rerun on this repository alone with --keep-conflicts to resolve"
            )
    elif changed == [answers_file] and only_commit_changed(clone, answers_file):
        restore(clone, relative)
        outcome.verdict, outcome.message = "up-to-date", f"{target} changes nothing here"
    else:
        outcome.verdict, outcome.files = "updated", changed
    return outcome


def _deliver(clone: Path, root: Path, outcomes: list[Outcome], job: _Job) -> None:
    """Bring the clone's result into the repository: a new branch, or the working tree."""
    options = job.options
    updated = [o for o in outcomes if o.verdict == "updated"]
    kept = options.keep_conflicts and any(o.verdict == "conflict" for o in outcomes)
    if options.dry_run:
        for outcome in updated:
            outcome.message = "dry run: nothing was written"
        return
    if not updated and not kept:
        return
    git(clone, "add", "--all")
    if options.commit and not kept:
        _commit_branch(clone, root, updated, job)
        return
    patch = clone.parent / "update.patch"
    git(clone, "diff", "--cached", "--binary", f"--output={patch}", "HEAD")
    # One `git apply` writes all of it or nothing.
    git(root, "apply", "--binary", "--whitespace=nowarn", str(patch))
    for outcome in updated:
        outcome.message = "changes left uncommitted in the working tree"


def _identity(root: Path) -> list[str]:
    try:
        name, email = git(root, "config", "user.name"), git(root, "config", "user.email")
    except GitError:
        name, email = FALLBACK_IDENTITY
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def _commit_branch(clone: Path, root: Path, updated: list[Outcome], job: _Job) -> None:
    first = updated[0]
    branch = f"{BRANCH_PREFIX}{first.to_version}"
    if git(root, "branch", "--list", branch):
        raise GitError(f"branch {branch} already exists; delete it or merge it first")
    title = f"Update the naavre-scaffold template from {first.from_version} to {first.to_version}"
    body = _description(updated, job)
    git(clone, *_identity(root), "commit", "--quiet", "--no-verify", "-m", title, "-m", body)
    git(root, "fetch", "--quiet", str(clone), f"HEAD:refs/heads/{branch}")
    for outcome in updated:
        outcome.branch, outcome.message = branch, f"committed on branch {branch}"
    if not (job.options.push or job.options.pull_request):
        return
    try:
        git(root, "push", "--quiet", "origin", f"refs/heads/{branch}:refs/heads/{branch}")
    except GitError:
        git(root, "branch", "--quiet", "-D", branch)  # nothing of the run stays behind
        raise
    for outcome in updated:
        outcome.message = f"pushed branch {branch} to origin"
    if job.options.pull_request:
        try:
            url = github.open_pull_request(root, branch, title, body)
        except github.GitHubError as error:
            git(root, "branch", "--quiet", "-D", branch)
            raise github.GitHubError(f"pushed branch {branch}, but {error}") from None
        for outcome in updated:
            outcome.pull_request, outcome.message = url, f"opened {url}"


def _description(updated: list[Outcome], job: _Job) -> str:
    """The commit body and pull request text: template changes, then the files."""
    lines: list[str] = []
    for outcome in updated:
        src = outcome.source or ""
        where = "Template" if outcome.folder == "." else f"{outcome.folder}: template"
        lines.append(f"{where} {src} from {outcome.from_version} to {outcome.to_version}.")
        changes = job.mirrors[src].changes(outcome.from_version or "", outcome.to_version or "")
        if changes:
            lines += ["", "Template changes:", *(f"- {change}" for change in changes)]
        lines += ["", "Files changed:", *(f"- {file}" for file in outcome.files), ""]
    lines.append("Made by `naavre-scaffold update`.")
    return "\n".join(lines)

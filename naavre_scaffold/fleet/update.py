"""``naavre-scaffold update``: move many repositories to a newer template version, safely.

Each repository is updated by Copier in a private clone, never in place. Only a
clean result leaves the clone: as one ``git apply`` to the working tree, or as a
commit fetched into a new branch. A conflict, a refusal or a failure therefore
leaves the repository exactly as it was, and so does a run killed half-way.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from naavre_scaffold import _copier
from naavre_scaffold._copier import fast
from naavre_scaffold.errors import (
    Interrupted,
    RepositoryBusy,
    UsageError,
    one_line,
)
from naavre_scaffold.fleet import clone, github, workers
from naavre_scaffold.fleet.clone import Replica, changed_by_the_project, has_new_markers, is_binary, same
from naavre_scaffold.fleet.delivery import BRANCH_PREFIX, deliver
from naavre_scaffold.fleet.discovery import Subproject, find_subprojects
from naavre_scaffold.fleet.guard import inspect, repository_lock
from naavre_scaffold.fleet.outcome import NEEDS_NOTHING, Options, Outcome, Verdict
from naavre_scaffold.fleet.sources import UNREACHABLE, Blocked, Sources, render
from naavre_scaffold.git import GitError, repository_folders
from naavre_scaffold.source.mirror import Mirror, redirect_env

__all__ = [
    "BRANCH_PREFIX",
    "NEEDS_NOTHING",
    "Options",
    "Outcome",
    "Verdict",
    "unreachable",
    "update",
    "update_repository",
]


@dataclass(frozen=True)
class _Job:
    """One git repository and the subprojects to update in it."""

    root: Path
    common_dir: Path  # its git folder (a linked worktree's main one)
    subprojects: list[Subproject]
    sources: Sources  # every source fetched (or known unusable) before the workers start
    options: Options


def _label(path: Path) -> str:
    """How a folder is shown: relative to the current folder when it is below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _rows(subprojects: list[Subproject], verdict: Verdict, message: str) -> list[Outcome]:
    return [
        Outcome(_label(s.folder), verdict, s.answers.get("_commit"), message=message) for s in subprojects
    ]


def update(
    paths: list[Path],
    options: Options,
    *,
    jobs: int | None = None,
    on_discovered: Callable[[int], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Move repositories to a newer template version with copier update.

    Every repository (or flavor folder) under the given paths is updated, several
    at once, each template source fetched once. Each repository is updated in a
    private clone: only a clean result reaches it, so a conflict, a refusal or a
    failure leaves it exactly as it was. Each subproject gets a verdict: updated,
    up-to-date, conflict, refused or failed.

    ``on_discovered`` hears how many repositories will be worked on, before the first
    starts; ``on_start`` hears each one's label as it starts, ``on_done`` its outcomes.

    Returns:
        One Outcome per subproject, in the order of the paths.

    Raises:
        UsageError: a path that is not a folder, or options that do not fit; nothing was started.
        Interrupted: Ctrl-C or SIGTERM; its ``partial`` holds the outcomes of the repositories
            finished, and a ``skipped`` one for each that was never started.
    """
    folders = list(dict.fromkeys(_folder(path) for path in paths))
    if options.keep_conflicts and (len(folders) != 1 or len(find_subprojects(folders[0])) > 1):
        raise UsageError("--keep-conflicts", "works on a single repository with a single answers file")
    if options.pull_request and not github.token():
        raise UsageError(
            "--pr", "needs a GitHub token: set GITHUB_TOKEN or GH_TOKEN, or log in with gh auth login"
        )
    outcomes, grouped = _discover(folders)
    try:
        sources = _fetch_sources(grouped, options)
    except KeyboardInterrupt:
        skipped = [s for subs in grouped.values() for s in subs]
        raise Interrupted(
            "interrupted", partial=outcomes + _rows(skipped, Verdict.SKIPPED, _NOT_STARTED)
        ) from None
    work = [_Job(root, common, subs, sources, options) for (root, common), subs in sorted(grouped.items())]
    if on_discovered:
        on_discovered(len(work))
    if not work:
        return outcomes
    # The workers inherit both: the redirect to the mirrors, and the session's shared checkouts.
    with (
        _copier.environment(redirect_env(list(sources.mirrors.values()))),
        fast.session({src: mirror.path for src, mirror in sources.mirrors.items()}),
    ):
        results, interrupted = workers.run_all(
            work,
            update_repository,
            max(1, min(jobs or default_jobs(), len(work))),
            on_start=lambda index: on_start and on_start(_label(work[index].root)),
            on_done=lambda index, result: on_done and on_done(_finished(work[index], result)),
            on_orphaned=fast.discard_process_folder,
        )
    finished = [o for index in range(len(work)) for o in _finished(work[index], results.get(index))]
    if interrupted:
        raise Interrupted("interrupted", partial=outcomes + finished)
    return outcomes + finished


_NOT_STARTED = "not started: the run was interrupted"


def default_jobs() -> int:
    """Repositories updated at once by default: one more than the cores, because each worker
    waits for git part of its time (measured with bench/bench_update.py: 5% faster on 2 cores)."""
    return (os.cpu_count() or 1) + 1


def unreachable(outcome: Outcome) -> bool:
    """Whether ``outcome`` failed because its template could not be fetched (the tool's problem, exit 3)."""
    return outcome.verdict == Verdict.FAILED and outcome.message.startswith(UNREACHABLE)


def _folder(path: Path) -> Path:
    if not path.exists():
        raise UsageError("path", f"{path}: no such folder")
    if not path.is_dir():
        raise UsageError("path", f"{path}: is not a folder")
    return path.resolve()


def _discover(folders: list[Path]) -> tuple[list[Outcome], dict[tuple[Path, Path], list[Subproject]]]:
    """Refusals found at once, and the subprojects to update by git repository (its top folder and
    git folder), each once only."""
    outcomes: list[Outcome] = []
    grouped: dict[tuple[Path, Path], list[Subproject]] = {}
    seen: set[Path] = set()
    for folder in folders:
        found = [sub for sub in find_subprojects(folder) if sub.answers_path.resolve() not in seen]
        if not found and not any(answers.is_relative_to(folder) for answers in seen):
            message = "no .copier-answers*.yml of a naavre-scaffold template found"
            outcomes.append(Outcome(_label(folder), Verdict.REFUSED, message=message))
        for sub in found:
            seen.add(sub.answers_path.resolve())
            try:
                root, common = repository_folders(sub.folder)
            except (GitError, OSError):
                outcomes += _rows([sub], Verdict.REFUSED, "not in a git repository")
            else:
                grouped.setdefault((root.resolve(), common), []).append(sub)
    return outcomes, grouped


def _fetch_sources(grouped: dict[tuple[Path, Path], list[Subproject]], options: Options) -> Sources:
    """Each template source fetched once, before the workers start: they only read the mirrors."""
    sources = Sources(options.template_source, options.vcs_ref)
    for src in sorted({s.template_location for subs in grouped.values() for s in subs if not s.error}):
        with contextlib.suppress(Blocked):  # kept in ``sources``: its subprojects fail with it
            sources.mirror(src)
    return sources


def _finished(job: _Job, result: list[Outcome] | BaseException | None) -> list[Outcome]:
    """A job's outcomes; ``skipped`` rows if it never started; ``failed`` if its worker died."""
    if result is None:
        return _rows(job.subprojects, Verdict.SKIPPED, _NOT_STARTED)
    if isinstance(result, BaseException):
        return _rows(job.subprojects, Verdict.FAILED, f"the worker process died: {one_line(repr(result))}")
    return result


def update_repository(job: _Job) -> list[Outcome]:
    """Update the subprojects of one repository in a private clone, then deliver (in a worker process)."""
    try:
        with repository_lock(job.common_dir):
            return _update_repository(job)
    except RepositoryBusy as busy:
        return _rows(job.subprojects, Verdict.REFUSED, str(busy))
    except Exception as error:
        return _rows(job.subprojects, Verdict.FAILED, one_line(str(error) or error.__class__.__name__))


def _update_repository(job: _Job) -> list[Outcome]:
    root = job.root
    inspection = inspect(root, job.subprojects)
    if isinstance(inspection, str):
        return _rows(job.subprojects, Verdict.REFUSED, inspection)
    fast.process_folder()  # in a session, this process's temporary files go to its folder
    with tempfile.TemporaryDirectory(prefix="naavre-update-") as tmp:
        # A Copier cache of its own: two processes sharing one see each other's
        # half-made checkouts. The process's, in a session; else the job's.
        os.environ["COPIER_CACHE_DIR"] = str(fast.copier_cache(Path(tmp) / "copier-cache"))
        replica = clone.make(
            root, Path(tmp) / "clone", common=job.common_dir, head=inspection.head, ignored=inspection.ignored
        )
        results: list[_Result] = []
        claimed: set[str] = set()
        for number, sub in enumerate(job.subprojects):
            results.append(_update_subproject(replica, sub, job, Path(tmp) / f"old-render-{number}", claimed))
            claimed.update(results[-1].writes)
        outcomes = [result.outcome for result in results]
        if workers.stopping():  # interrupted, or the parent is gone: roll back, nothing has reached the repo
            return _rows(job.subprojects, Verdict.SKIPPED, "stopped before delivery: the run was interrupted")
        deliver(
            replica,
            outcomes,
            {r.outcome.path: r.writes for r in results if r.writes},
            {r.outcome.path: r.ignored for r in results if r.ignored},
            job.options,
            job.sources.mirrors,
        )
    for result in results:
        if result.kept and result.outcome.verdict in (Verdict.UPDATED, Verdict.CONFLICT):
            result.outcome.message += (
                "; kept as they are, changed here and not the template's to overwrite "
                f"(ignored by git): {', '.join(result.kept)}"
            )
    return outcomes


@dataclass
class _Result:
    """One subproject's update in the clone: its outcome and what to bring to the repository."""

    outcome: Outcome
    writes: list[str] = field(default_factory=list)  # paths to bring from the clone
    ignored: list[str] = field(default_factory=list)  # those of them the repository's ignore rules match
    kept: list[str] = field(default_factory=list)  # ignored files of the person's that Copier would overwrite


class _OldRender:
    """The template at a subproject's recorded version, rendered with its answers when first needed."""

    def __init__(self, mirror: Mirror, sub: Subproject, into: Path) -> None:
        self.mirror, self.sub, self.into, self.done = mirror, sub, into, False

    @property
    def path(self) -> Path:
        if not self.done:
            render(self.mirror, self.sub, self.sub.answers["_commit"], self.into)
            self.done = True
        return self.into


def _update_subproject(
    replica: Replica, sub: Subproject, job: _Job, scratch: Path, claimed: set[str]
) -> _Result:
    """Run copier update for one subproject in the clone, and read what it did there."""
    outcome = Outcome(
        _label(sub.folder), Verdict.FAILED, sub.answers.get("_commit"), source=sub.answers.get("_src_path")
    )
    result = _Result(outcome)
    if sub.error:
        outcome.message = sub.error
        return result
    src = sub.template_location
    try:
        mirror = job.sources.mirror(src)
    except Blocked as unusable:
        outcome.message = str(unusable)
        return result
    target = job.sources.target(src)
    outcome.to_version = target
    if outcome.from_version == target:
        outcome.verdict, outcome.message = Verdict.UP_TO_DATE, f"already on {target}"
        return result
    if not job.options.vcs_ref and _not_behind(mirror, outcome.from_version, target):
        outcome.verdict = Verdict.UP_TO_DATE
        outcome.message = f"the same as or newer than {target}, the newest release: nothing to update to"
        return result
    relative = sub.folder.relative_to(job.root)
    outcome.folder = relative.as_posix()
    old = _OldRender(mirror, sub, scratch)
    try:
        # Copier finds a relative _src_path from the current folder: the repository's, as when run there.
        with contextlib.chdir(sub.folder):
            fast.run_update(
                replica.path / relative,
                answers_file=sub.answers_path.name,
                vcs_ref=target,
                defaults=True,
                overwrite=True,
                skip_answered=True,
                quiet=True,
                skip_if_exists=list(sub.project_owned),
                exclude=list(sub.exclude),
            )
        found = clone.changes(replica, relative, claimed)
        tracked_deleted = [path for path in found.deleted if path in replica.tracked]
        # Copier deletes a file the new template drops even when the project
        # changed it; that would lose a person's work, so it is a conflict.
        lost = tracked_deleted and changed_by_the_project(replica, tracked_deleted, old.path, relative)
        both_changed = _keep_binary_files(replica, found.changed, found.deleted, old, relative)
        result.kept = _keep_ignored_files(replica, found.ignored, old, relative)
    except Exception as error:
        clone.restore(replica, relative)
        outcome.message = f"copier update failed: {one_line(str(error) or error.__class__.__name__)}"
        return result
    conflicts = sorted(
        set(found.unmerged)
        | {f for f in found.changed if f.endswith(".rej") or has_new_markers(replica, f)}
        | set(both_changed)
    )
    writes = [
        path
        for path in found.changed
        if path not in result.kept and not same(replica.path / path, replica.root / path)
    ]
    if conflicts or lost:
        outcome.verdict, outcome.files = Verdict.CONFLICT, sorted({*conflicts, *(lost or [])})
        parts = [f"the new template deletes {', '.join(lost)}, which this repository changed"] if lost else []
        if both_changed:
            parts.append(f"the new template changes {', '.join(both_changed)}, which this repository changed")
        if not job.options.keep_conflicts:
            clone.restore(replica, relative)
            parts.append("left untouched; rerun on this repository alone with --keep-conflicts to resolve")
            outcome.message = "; ".join(parts)
            return result
        if lost:
            clone.put_back(replica, lost)
            writes = [path for path in writes if path not in lost]
        if lost or both_changed:
            parts.append("your version is kept for you to keep or replace")
        if conflicts:
            parts.append("conflict markers left in the working tree for you to resolve")
        outcome.message = "; ".join(parts)
    elif writes:
        outcome.verdict, outcome.files = Verdict.UPDATED, writes
    else:
        outcome.verdict, outcome.message = Verdict.UP_TO_DATE, f"{target} changes nothing here"
        return result
    result.writes, result.ignored = writes, [path for path in writes if path in found.ignored]
    return result


def _not_behind(mirror: Mirror, recorded: str | None, newest: str) -> bool:
    """Whether a subproject made from ``recorded`` (unreleased template work) is not behind ``newest``."""
    if not recorded or not mirror.has_ref(recorded):
        return False  # Copier says what is wrong with it
    return not mirror.moves_forward(recorded, newest)


def _keep_binary_files(
    replica: Replica, changed: list[str], deleted: list[str], old: _OldRender, relative: Path
) -> list[str]:
    """Put back the binary files the project changed, which Copier replaces; those the template changed too.

    Copier's diff cannot carry a change to a binary file, so it leaves the new
    template's version in its place, even when the template did not change it.
    """
    binary = [
        path
        for path in changed
        if path in replica.tracked
        and path not in deleted
        and is_binary(replica.root / path, replica.path / path)
    ]
    if not binary:
        return []
    ours = changed_by_the_project(replica, binary, old.path, relative)
    theirs = [
        path for path in ours if not same(old.path / Path(path).relative_to(relative), replica.path / path)
    ]
    clone.put_back(replica, ours)
    return theirs


def _keep_ignored_files(replica: Replica, ignored: list[str], old: _OldRender, relative: Path) -> list[str]:
    """Put back the repository's ignored files that Copier overwrites or removes, if a person changed them.

    Such files (a ``.env``) are not in git: Copier's overwrite would lose them
    for good. Those still as the recorded version rendered them take Copier's result.
    """
    present = [path for path in ignored if os.path.lexists(replica.root / path)]
    if not present:
        return []
    kept = changed_by_the_project(replica, present, old.path, relative)
    clone.put_back(replica, kept)
    return kept

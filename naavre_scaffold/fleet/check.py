"""``naavre-scaffold check``: is a repository on the newest template, and does it match its render?

Two questions for CI of a generated repository:
- version: is there a newer template release that would change this repository?
- drift: do the template's files differ from a fresh render of the recorded
  ``_commit`` with the recorded answers? Files the template declares as the
  project's own (``_skip_if_exists``) and those listed in ``.naavre-scaffold.yml``
  are never drift.

A subproject that cannot be checked says whose problem that is: the repository's
(a broken answers file or ``.naavre-scaffold.yml``, or a ``--vcs-ref`` its template
lacks: a person must fix it) or the template's (unreachable, or without the recorded
version: the tool could not do its job). The CLI turns the two into different exit codes.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import copier
from plumbum import ProcessExecutionError

from naavre_scaffold._copier import fast
from naavre_scaffold.errors import GitError, one_line
from naavre_scaffold.fleet.discovery import Subproject, find_subprojects, git_root
from naavre_scaffold.fleet.sources import Blocked, Problem, Sources, render
from naavre_scaffold.git import no_index_patch
from naavre_scaffold.source.mirror import Mirror

__all__ = ["CheckReport", "FileChange", "Problem", "check", "check_subproject", "check_subprojects"]


class FileChange(StrEnum):
    """How a template file differs; the value is what reports show.

    A ``drift`` entry is MODIFIED or MISSING; a ``changes`` entry ADDED, MODIFIED or REMOVED.
    """

    ADDED = "added"
    MODIFIED = "modified"
    MISSING = "missing"
    REMOVED = "removed"


@dataclass
class CheckReport:
    """The version and drift verdict of one subproject.

    ``drift`` holds (path relative to the subproject folder, MODIFIED or MISSING);
    ``diffs`` maps each drifted path to a git patch, relative to the git repository's
    root, that turns the repository's file back into the template's. ``changes`` holds
    (path, ADDED, MODIFIED or REMOVED): what updating to ``newest`` changes in the
    template's files; empty unless ``behind``.
    """

    path: Path
    version: str | None = None
    newest: str | None = None
    behind: bool = False
    version_note: str = ""
    drift: list[tuple[str, FileChange]] = field(default_factory=list)
    changes: list[tuple[str, FileChange]] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_kind: Problem | None = None  # set when ``error`` is

    @property
    def ok(self) -> bool:
        return not (self.error or self.behind or self.drift)

    @property
    def status(self) -> str:
        """One word or two: current, behind, drifted, "behind, drifted" or failed (not checked)."""
        if self.error:
            return "failed"
        found = [word for word, yes in (("behind", self.behind), ("drifted", bool(self.drift))) if yes]
        return ", ".join(found) or "current"


def _render(mirror: Mirror, sub: Subproject, ref: str, into: Path) -> Callable[[Path], bool]:
    """Render ``ref`` with the subproject's answers into ``into``; return its skip matcher."""
    try:
        return render(mirror, sub, ref, into, skip_if_exists=sub.project_owned)
    except copier.errors.CopierAnswersInterrupt:
        raise
    except (copier.errors.CopierError, ValueError, ProcessExecutionError) as error:
        message = f"cannot render the template {mirror.src_path} at {ref}: {one_line(str(error))}"
        raise Blocked(message, Problem.TEMPLATE) from error


def _files(folder: Path, answers_name: str) -> set[Path]:
    return {
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts and p.name != answers_name
    }


def _compare(
    render: Path, repo: Path, owned: Callable[[Path], bool], answers_name: str
) -> list[tuple[str, FileChange]]:
    """Template files of ``render`` that ``repo`` changed or removed."""
    drift = []
    for relative in sorted(_files(render, answers_name)):
        if owned(relative):
            continue
        mine = repo / relative
        if not mine.is_file():
            drift.append((relative.as_posix(), FileChange.MISSING))
        elif not filecmp.cmp(render / relative, mine, shallow=False):
            drift.append((relative.as_posix(), FileChange.MODIFIED))
    return drift


def _changes(
    recorded: Path, newest: Path, owned: Callable[[Path], bool], answers_name: str
) -> list[tuple[str, FileChange]]:
    """The template's files that the newest version adds, modifies or removes, by path."""
    words = {FileChange.MISSING: FileChange.ADDED, FileChange.MODIFIED: FileChange.MODIFIED}
    changes = [(path, words[kind]) for path, kind in _compare(newest, recorded, owned, answers_name)]
    changes += [
        (path, FileChange.REMOVED)
        for path, kind in _compare(recorded, newest, owned, answers_name)
        if kind == FileChange.MISSING
    ]
    return sorted(changes)


def _root_prefix(folder: Path) -> str:
    """Where ``folder`` is inside its git repository (``""`` at the root or outside git)."""
    root = git_root(folder)
    if root is None:
        return ""
    relative = folder.resolve().relative_to(root.resolve()).as_posix()
    return "" if relative == "." else relative + "/"


def _patch(render: Path, repo: Path, relative: str, prefix: str, scratch: Path) -> str:
    """A git patch that turns ``repo``'s file into the render's, named from the repository root.

    git itself writes it (``git diff --no-index --binary``), so modes, binary files,
    missing newlines and carriage returns come out as ``git apply`` reads them.
    """
    name = prefix + relative
    mine, theirs = scratch / "a" / name, scratch / "b" / name
    for source, copy in ((repo / relative, mine), (render / relative, theirs)):
        if source.is_file() or source.is_symlink():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy, follow_symlinks=False)
    return no_index_patch(scratch, name)


def check_subproject(sub: Subproject, mirror: Mirror, *, vcs_ref: str | None = None) -> CheckReport:
    """Version and drift of one subproject against its template mirror."""
    report = CheckReport(sub.folder, version=sub.answers.get("_commit"))
    if report.version and not mirror.has_ref(report.version):
        raise Blocked(
            f"the template {mirror.src_path} has no version {report.version} (the recorded _commit)",
            Problem.TEMPLATE,
        )
    report.newest = vcs_ref or mirror.newest_tag or "HEAD"
    answers_name = sub.answers_path.name
    with tempfile.TemporaryDirectory(prefix="naavre-check-") as tmp:
        recorded = Path(tmp) / "recorded"
        owned = _render(mirror, sub, report.version or "HEAD", recorded)
        report.drift = _compare(recorded, sub.folder, owned, answers_name)
        if report.drift:
            prefix = _root_prefix(sub.folder)
            scratch = Path(tmp) / "patches"
            report.diffs = {
                path: _patch(recorded, sub.folder, path, prefix, scratch) for path, _ in report.drift
            }
        if (
            report.version
            and report.newest != report.version
            and not mirror.moves_forward(report.version, report.newest)
        ):
            report.version_note = f"the same as or newer than {report.newest}: nothing to update to"
        elif report.newest != report.version:
            newest = Path(tmp) / "newest"
            _render(mirror, sub, report.newest, newest)
            # Behind only if updating would change something: a release that
            # renders the same here is not worth an update (`update` agrees).
            report.changes = _changes(recorded, newest, owned, answers_name)
            report.behind = bool(report.changes)
            if not report.behind:
                report.version_note = f"{report.newest} changes nothing here"
    return report


def check(path: Path, *, vcs_ref: str | None = None, template_source: str | None = None) -> list[CheckReport]:
    """For CI: is a repository on the newest template, and unchanged from its render?

    Passes when the repository is on the newest template version (or the newer
    ones change nothing in it) and its template files match a fresh render of its
    recorded version with its recorded answers; fails otherwise, saying which.
    Files the template leaves to the project, and patterns under project_owned in
    .naavre-scaffold.yml beside the answers file, are not drift. With --diff, the
    output is also a patch: piped to git apply in the repository, it makes the
    template files match the render again.

    Returns:
        One CheckReport per answers file under ``path``.
    """
    return check_subprojects(find_subprojects(path), vcs_ref=vcs_ref, template_source=template_source)


def check_subprojects(
    subprojects: list[Subproject],
    *,
    vcs_ref: str | None = None,
    on_start: Callable[[Subproject], None] | None = None,
    on_report: Callable[[CheckReport], None] | None = None,
    template_source: str | None = None,
) -> list[CheckReport]:
    """Check each subproject in turn, each template source fetched once.

    ``on_start`` and ``on_report`` are called as each subproject starts and finishes,
    so that a long run can show its progress. ``template_source`` (a checkout or a
    git URL) is fetched in place of every recorded ``_src_path``. A ``vcs_ref`` that a
    subproject's template source lacks fails that subproject, as ``update`` fails it.
    """
    reports = []
    sources = Sources(template_source, vcs_ref)
    with fast.session():  # the renders share template checkouts and compiled code
        for sub in subprojects:
            reports.append(_check_one(sub, sources, on_start))
            if on_report:
                on_report(reports[-1])
    return reports


def _check_one(
    sub: Subproject, sources: Sources, on_start: Callable[[Subproject], None] | None
) -> CheckReport:
    """One subproject's report; a subproject that cannot be checked gets one saying why."""
    if on_start:
        on_start(sub)
    try:
        if sub.error:
            raise Blocked(sub.error, Problem.REPOSITORY)
        mirror = sources.mirror(sub.template_location)
        return check_subproject(sub, mirror, vcs_ref=sources.vcs_ref)
    except Blocked as blocked:
        return CheckReport(
            sub.folder, sub.answers.get("_commit"), error=str(blocked), error_kind=blocked.problem
        )
    except GitError as error:  # the mirror could not be read
        return CheckReport(
            sub.folder, sub.answers.get("_commit"), error=str(error), error_kind=Problem.TEMPLATE
        )

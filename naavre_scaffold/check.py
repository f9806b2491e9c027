"""``naavre-scaffold check``: is a repository on the newest template, and does it match its render?

Two questions for CI of a generated repository:
- version: is there a newer template release that would change this repository?
- drift: do the template's files differ from a fresh render of the recorded
  ``_commit`` with the recorded answers? Files the template declares as the
  project's own (``_skip_if_exists``) and those listed in ``.naavre-scaffold.yml``
  are never drift.
"""

from __future__ import annotations

import difflib
import filecmp
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import copier

from naavre_scaffold import sources
from naavre_scaffold.discovery import Subproject, find_subprojects
from naavre_scaffold.git import GitError


@dataclass
class CheckReport:
    """The version and drift verdict of one subproject."""

    path: Path
    version: str | None = None
    newest: str | None = None
    behind: bool = False
    version_note: str = ""
    drift: list[tuple[str, str]] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.error or self.behind or self.drift)


def _render(mirror: sources.Mirror, sub: Subproject, ref: str, into: Path) -> Callable[[Path], bool]:
    """Render ``ref`` with the subproject's answers into ``into``; return its skip matcher."""
    answers = {k: v for k, v in sub.answers.items() if not k.startswith("_")}
    worker = copier.run_copy(
        str(mirror.path),
        into,
        data=answers,
        vcs_ref=ref,
        defaults=True,
        quiet=True,
        skip_if_exists=sub.project_owned(),
    )
    return worker.match_skip


def _files(folder: Path, answers_name: str) -> set[Path]:
    return {
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts and p.name != answers_name
    }


def _compare(
    render: Path, repo: Path, owned: Callable[[Path], bool], answers_name: str
) -> list[tuple[str, str]]:
    """Template files of ``render`` that ``repo`` changed or removed."""
    drift = []
    for relative in sorted(_files(render, answers_name)):
        if owned(relative):
            continue
        mine = repo / relative
        if not mine.is_file():
            drift.append((relative.as_posix(), "missing"))
        elif not filecmp.cmp(render / relative, mine, shallow=False):
            drift.append((relative.as_posix(), "modified"))
    return drift


def _unified_diff(render: Path, repo: Path, relative: str) -> str:
    def lines(path: Path) -> list[str]:
        try:
            return path.read_text().splitlines(keepends=True) if path.is_file() else []
        except UnicodeDecodeError:
            return ["(binary file)\n"]

    return "".join(
        difflib.unified_diff(
            lines(render / relative), lines(repo / relative), f"template/{relative}", f"repo/{relative}"
        )
    )


def check_subproject(sub: Subproject, mirror: sources.Mirror, vcs_ref: str | None = None) -> CheckReport:
    """Version and drift of one subproject against its template mirror."""
    report = CheckReport(sub.folder, version=sub.answers.get("_commit"))
    report.newest = vcs_ref or mirror.newest_tag() or "HEAD"
    answers_name = sub.answers_path.name
    with tempfile.TemporaryDirectory(prefix="naavre-check-") as tmp:
        recorded = Path(tmp) / "recorded"
        owned = _render(mirror, sub, report.version or "HEAD", recorded)
        report.drift = _compare(recorded, sub.folder, owned, answers_name)
        report.diffs = {path: _unified_diff(recorded, sub.folder, path) for path, _ in report.drift}
        if report.newest != report.version:
            newest = Path(tmp) / "newest"
            _render(mirror, sub, report.newest, newest)
            # Behind only if updating would change something: a release that
            # renders the same here is not worth an update (`update` agrees).
            report.behind = bool(
                _compare(newest, recorded, owned, answers_name)
                or _compare(recorded, newest, owned, answers_name)
            )
            if not report.behind:
                report.version_note = f"{report.newest} changes nothing here"
    return report


def check(path: Path, vcs_ref: str | None = None) -> list[CheckReport]:
    """For CI: is a repository on the newest template, and unchanged from its render?

    Passes when the repository is on the newest template version (or the newer
    ones change nothing in it) and its template files match a fresh render of its
    recorded version with its recorded answers; fails otherwise, saying which.
    Files the template leaves to the project, and patterns under project_owned in
    .naavre-scaffold.yml beside the answers file, are not drift.

    Returns:
        One CheckReport per answers file under ``path``.
    """
    reports = []
    mirrors: dict[str, sources.Mirror] = {}
    for sub in find_subprojects(path):
        if sub.error:
            reports.append(CheckReport(sub.folder, error=sub.error))
            continue
        src = sub.answers["_src_path"]
        try:
            if src not in mirrors:
                mirrors[src] = sources.fetch(src)
            mirror = mirrors[src]
            if vcs_ref and not mirror.has_ref(vcs_ref):
                raise ValueError(f"the template {src} has no ref {vcs_ref}")
            reports.append(check_subproject(sub, mirror, vcs_ref))
        except (GitError, ValueError, copier.errors.CopierError) as error:
            reports.append(CheckReport(sub.folder, version=sub.answers.get("_commit"), error=str(error)))
    return reports

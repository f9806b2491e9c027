"""``adopt``: bring a hand-written NaaVRE repository under its template, on a branch of its own.

The answers come from the repository's own files (``infer``), then ``--data``, then
the person or the defaults. The template's newest version is rendered with them
beside the repository, and each rendered file is compared with the repository's:

- identical, or absent from the repository: the template's from now on;
- different, and a file the project writes itself (its code, its chart values, the
  files the template leaves to a project): kept as it is and listed in the
  ``.naavre-scaffold.yml`` as ``project_owned``; a template file in a folder of
  the project's own code that the project lacks is not added (``exclude``);
- different, and a file the template owns (workflows, Dockerfile, chart templates,
  lint configuration): the template's version, with the diff in the report. Where a
  common base can be rendered (the template the repository was first made from, such
  as jupyterlab/extension-template, at the version its answers file records), the
  project's own changes since that base are merged into the template's version
  (three-way; the file is the project's from then on); changes that conflict are
  not merged, and the report names them.

Files the template does not make stay as they are. The result is one commit on a
new branch ``template-adopt/<version>``, made without touching the working tree
or the checked-out branch: the person reviews it and merges it. No conflict marker
is ever committed. After the merge, ``check`` is clean, and ``update`` brings only
later template changes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold import _copier
from naavre_scaffold.errors import ScaffoldError, UsageError
from naavre_scaffold.fleet.adopt.compare import ANSWERS_FILE, AdoptedFile, Comparison, FileFate, compare
from naavre_scaffold.fleet.adopt.infer import Inferred, infer, infer_flavor
from naavre_scaffold.fleet.discovery import PROJECT_CONFIG, SKIPPED_FOLDERS, find_subprojects
from naavre_scaffold.fleet.guard import inspect
from naavre_scaffold.git import GitError, commit_files, commit_of, git, reachable
from naavre_scaffold.new.answers import check_answers
from naavre_scaffold.source import TemplateSource, bundled_source, questions_root
from naavre_scaffold.templates import TEMPLATES

BRANCH_PREFIX = "template-adopt/"
FLAVOR_CONFIG = "flavor_config.yaml"
UPSTREAM_TIMEOUT = 15  # seconds to find out whether the first template's source answers at all

__all__ = ["AdoptReport", "AdoptedFile", "FileFate", "adopt"]


@dataclass
class AdoptReport:
    """What ``adopt`` did (or, with ``dry_run``, would do) to one repository."""

    path: Path
    template: str
    version: str
    branch: str
    answers: dict[str, Inferred]
    flavors: dict[str, dict[str, Inferred]] = field(default_factory=dict)  # a flavors repository's, by name
    files: list[AdoptedFile] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)  # the project's files the template does not make
    replaced_answers: str | None = None  # the source of another template's answers file it replaces
    base: str | None = None  # the common base rendered for a three-way comparison, if any
    unmerged: list[str] = field(default_factory=list)  # replaced files whose project changes conflict
    notes: list[str] = field(default_factory=list)  # what a person has to do after merging
    commit: str | None = None  # None for a dry run

    def of(self, fate: FileFate) -> list[AdoptedFile]:
        return [f for f in self.files if f.fate == fate]


@dataclass
class _Rendering:
    """What every subproject's render of one adoption shares: the template source, whether to ask,
    and the scratch folder."""

    source: TemplateSource
    defaults: bool
    scratch: Path


def adopt(
    path: Path,
    *,
    template: str | None = None,
    data: Mapping[str, Any] | None = None,
    data_source: str = "--data",
    source: TemplateSource | None = None,
    defaults: bool = False,
    dry_run: bool = False,
) -> AdoptReport:
    """Bring the repository at ``path`` under its template on a branch ``template-adopt/<version>``.

    A flavors repository's flavors (``flavors/<name>/flavor_config.yaml``) are adopted with it,
    each under the flavor template, their answers read from their own files.

    Raises:
        UsageError: before anything is written: not the top of a clean git repository,
            already made from this tool's templates, a bad answer, or the branch exists.
    """
    root, in_git = _repository(path, dry_run)
    kind, inferred = infer(root, template)
    for key, value in (data or {}).items():
        inferred[key] = Inferred(value, data_source)
    source = source or bundled_source()
    redirect = _copier.git_redirect(source.path, source.fetch_from) if source.fetch_from else nullcontext()
    with tempfile.TemporaryDirectory(prefix="naavre-adopt-") as scratch, redirect:
        rendering = _Rendering(source, defaults, Path(scratch))
        into = Path(scratch) / "repo" / root.name  # Copier's _folder_name is the repository's
        answers, version, rendered, skipped = _render(rendering, kind, inferred, into)
        branch = f"{BRANCH_PREFIX}{version}"
        exists = in_git and commit_of(root, f"refs/heads/{branch}") is not None
        if exists and not dry_run:
            raise UsageError("path", f"{root} already has a branch {branch}: merge or delete it, then rerun")
        report = AdoptReport(root, kind, version, branch, answers)
        if exists:  # a dry run still reports, and says what a real run would meet
            report.notes.append(f"the branch {branch} exists already: merge or delete it before adopting")
        base = _upstream_base(root, Path(scratch) / "base" / root.name, report)
        comparisons = [("", compare(root, rendered, kind, skipped, Path(scratch), base=base))]
        report.replaced_answers = comparisons[0][1].replaced_answers
        if kind == "flavors-repo":
            comparisons += _flavors(root, rendering, answers, report)
        writes: dict[str, tuple[Path, int]] = {}
        for number, (prefix, comparison) in enumerate(comparisons):
            report.files += comparison.files
            report.unmerged += comparison.unmerged
            writes.update(comparison.writes)
            if comparison.config:
                written = Path(scratch) / f"config-{number}.yml"
                written.write_text(comparison.config)
                writes[prefix + PROJECT_CONFIG] = (written, 0o100644)
        tracked = _project_files(root, in_git)
        report.untouched = sorted(tracked - {f.path for f in report.files} - set(writes))
        report.notes += _notes(root, kind, report)
        if not dry_run:
            message = f"Adopt the naavre-scaffold {kind} template {version}"
            report.commit = commit_files(root, branch, writes, message, _commit_body(report))
    return report


def _render(
    rendering: _Rendering, kind: str, inferred: dict[str, Inferred], into: Path
) -> tuple[dict[str, Inferred], str, Path, Any]:
    """Render ``kind`` into ``into`` with the inferred answers; the recorded answers with their
    sources, the version, the folder and the render's skip matcher."""
    given = {key: found.value for key, found in inferred.items()}
    checked = check_answers(questions_root(rendering.source), kind, {**given, "template": kind})
    recorded, skipped = _copier.copy_with_skips(
        rendering.source.path, into, checked, vcs_ref=rendering.source.vcs_ref, defaults=rendering.defaults
    )
    stored = yaml.safe_load((into / ANSWERS_FILE).read_text())
    # The answers are what the answers file records: this template's questions, not derived names.
    asked = "default" if rendering.defaults else "asked"
    answers = {
        key: inferred.get(key) or Inferred(recorded[key], asked)
        for key in stored
        if not key.startswith("_") and key != "template"
    }
    return answers, str(stored.get("_commit", "HEAD")), into, skipped


def _upstream_base(root: Path, into: Path, report: AdoptReport) -> Path | None:
    """The render of the template the repository was first made from (its other answers file), at
    the version it records: the common base of a three-way comparison. None without one, or when
    it cannot be fetched (a note says why)."""
    try:
        answers = yaml.safe_load((root / ANSWERS_FILE).read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return None
    if not isinstance(answers, dict) or not answers.get("_src_path") or not answers.get("_commit"):
        return None
    src, version = str(answers["_src_path"]), str(answers["_commit"])
    if not reachable(src, UPSTREAM_TIMEOUT):
        report.notes.append(f"no common base: {src} cannot be reached, so adopting compared two ways")
        return None
    given = {key: value for key, value in answers.items() if not key.startswith("_")}
    try:
        _copier.render_upstream(src, into, given, vcs_ref=version)
    except ScaffoldError as error:
        report.notes.append(f"no common base: {error}")
        return None
    report.base = f"{src} at {version}"
    return into


def _flavors(
    root: Path, rendering: _Rendering, repo_answers: dict[str, Inferred], report: AdoptReport
) -> list[tuple[str, Comparison]]:
    """Each flavor folder of a flavors repository, adopted under the flavor template: its path prefix
    in the repository and what adopting does to it."""
    comparisons = []
    # The answers a flavor takes from its repository, as `new flavors-repo` gives them to vanilla.
    shared_keys = TEMPLATES["flavors-repo"].companions[0].shared
    shared = {key: repo_answers[key] for key in shared_keys if key in repo_answers}
    ours = (
        {sub.folder for sub in find_subprojects(root / "flavors")} if (root / "flavors").is_dir() else set()
    )
    for config in sorted(root.glob(f"flavors/*/{FLAVOR_CONFIG}")):
        folder = config.parent
        if folder in ours:  # made by `new flavor` already: update keeps it on the template
            continue
        inferred = {**shared, **infer_flavor(folder)}
        into = rendering.scratch / "flavors" / folder.name
        answers, _, rendered, skipped = _render(rendering, "flavor", inferred, into)
        report.flavors[folder.name] = answers
        prefix = f"flavors/{folder.name}/"
        comparisons.append((prefix, compare(folder, rendered, "flavor", skipped, rendering.scratch, prefix)))
    return comparisons


def _repository(path: Path, dry_run: bool) -> tuple[Path, bool]:
    """The repository's top folder, and whether it is a git repository (a dry run needs none)."""
    if not path.is_dir():
        raise UsageError("path", f"{path}: no such folder")
    root = path.resolve()
    try:
        top = Path(git(root, "rev-parse", "--show-toplevel")).resolve()
    except GitError:
        if dry_run:  # a report needs only the files: a copy of a repository will do
            return root, False
        raise UsageError(
            "path", f"{path} is not in a git repository: adopt makes a branch (--dry-run reports only)"
        ) from None
    if top != root:
        raise UsageError("path", f"{path} is not the top folder of its git repository ({top})")
    for sub in find_subprojects(root):
        if sub.folder == root:
            raise UsageError(
                "path", f"{path} is already made from the {sub.answers.get('template')} template: use update"
            )
    if isinstance(reason := inspect(root, []), str):
        raise UsageError("path", f"{path}: {reason}")
    return root, True


def _project_files(root: Path, in_git: bool) -> set[str]:
    """The repository's files: what git tracks, or (no git) every file but caches."""
    if in_git:
        return set(git(root, "ls-files", "-z").split("\0")) - {""}
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not SKIPPED_FOLDERS & set(path.relative_to(root).parts)
    }


def _notes(root: Path, kind: str, report: AdoptReport) -> list[str]:
    """What the merged branch needs from a person before its CI can pass."""
    notes = []
    added = {f.path for f in report.of(FileFate.ADDED)}
    legacy = [
        name
        for name in ("requirements.txt", "environment.yaml", "environment.yml")
        if (root / name).is_file()
    ]
    if kind == "service" and "pyproject.toml" in added and legacy:
        notes.append(
            "the template's Dockerfile and CI install from pyproject.toml and uv.lock: move the "
            f"dependencies of {' and '.join(legacy)} into pyproject.toml (uv add ...), run uv lock, "
            f"then delete {legacy[0]}"
        )
    if kind == "service" and report.of(FileFate.NOT_ADDED):
        notes.append(
            "the template's app/ files were not added (app/ is the project's): its tests, health route and "
            "OIDC settings are in the template's app/ if you want them"
        )
    if report.unmerged:
        notes.append(
            f"your changes since {report.base} to {', '.join(report.unmerged)} conflict with the template's: "
            "its version is on the branch; carry yours over by hand (the report's diffs show them)"
        )
    workflows = [p for p in report.untouched if p.startswith(".github/workflows/")]
    if workflows:
        notes.append(
            f"the template brings its own CI and release workflows; these older ones still run: "
            f"{', '.join(workflows)} (delete the ones the template's replace)"
        )
    return notes


def _commit_body(report: AdoptReport) -> str:
    lines = [f"Answers ({report.template}):"]
    lines += [f"- {key}: {found.value!r} ({found.source})" for key, found in sorted(report.answers.items())]
    for fate in (FileFate.ADDED, FileFate.REPLACED, FileFate.MERGED, FileFate.KEPT, FileFate.NOT_ADDED):
        if files := report.of(fate):
            lines += ["", f"{fate.value.capitalize()} ({len(files)}):", *(f"- {f.path}" for f in files)]
    return "\n".join(lines)

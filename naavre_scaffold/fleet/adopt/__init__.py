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
  lint configuration): the template's version, with the diff in the report.

Files the template does not make stay as they are. The result is one commit on a
new branch ``template-adopt/<version>``, made without touching the working tree
or the checked-out branch: the person reviews it and merges it. There is no common
ancestor to merge from, so nothing conflicts: a template file that replaces the
project's is shown with its diff. After the merge, ``check`` is clean, and
``update`` brings only later template changes.
"""

from __future__ import annotations

import stat
import tempfile
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold import _copier
from naavre_scaffold.errors import UsageError
from naavre_scaffold.fleet.adopt.infer import Inferred, infer
from naavre_scaffold.fleet.discovery import PROJECT_CONFIG, find_subprojects
from naavre_scaffold.fleet.guard import inspect
from naavre_scaffold.git import GitError, commit_files, commit_of, git, no_index_patch
from naavre_scaffold.new.answers import check_answers
from naavre_scaffold.source import TemplateSource, bundled_source, questions_root

BRANCH_PREFIX = "template-adopt/"
ANSWERS_FILE = ".copier-answers.yml"
# The project's own code: what the template would put there stands in for it, so it is
# left out; files the project has there are its own. Globs, relative to the repository.
OWN_CODE = {
    "service": ("app/**",),
    "jupyterlab": ("src/**", "style/**", "schema/**", "ui-tests/**", "dev/**", "*_jupyterlab/**"),
    "flavors-repo": ("flavors/**",),
}
# Files the project writes itself although they sit among the template's files.
OWN_FILES = {
    "service": ("helm/*/values.yaml", "helm/*/values-example.yaml", "requirements*.txt", "environment.y*ml"),
    "jupyterlab": (
        "pyproject.toml",
        "tsconfig.json",
        "jest.config.js",
        "babel.config.js",
        "setup.py",
        "install.json",
    ),
    "flavors-repo": (),
}


class FileFate(StrEnum):
    """What adopting does to one file; the value is what the report shows."""

    IDENTICAL = "identical"  # the template's already
    ADDED = "added"  # the template adds it
    REPLACED = "replaced"  # the template's version replaces the project's (diff in the report)
    KEPT = "kept"  # the project's own, left as it is
    NOT_ADDED = "not added"  # a template file where the project's own code stands


@dataclass(frozen=True)
class AdoptedFile:
    path: str
    fate: FileFate
    diff: str = ""


@dataclass
class AdoptReport:
    """What ``adopt`` did (or, with ``dry_run``, would do) to one repository."""

    path: Path
    template: str
    version: str
    branch: str
    answers: dict[str, Inferred]
    files: list[AdoptedFile] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)  # the project's files the template does not make
    replaced_answers: str | None = None  # the source of another template's answers file it replaces
    notes: list[str] = field(default_factory=list)  # what a person has to do after merging
    commit: str | None = None  # None for a dry run

    def of(self, fate: FileFate) -> list[AdoptedFile]:
        return [f for f in self.files if f.fate == fate]


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

    Raises:
        UsageError: before anything is written: not the top of a clean git repository,
            already made from this tool's templates, a bad answer, or the branch exists.
    """
    root = _repository(path)
    kind, inferred = infer(root, template)
    answers = {key: found.value for key, found in inferred.items()}
    for key, value in (data or {}).items():
        answers[key] = value
        inferred[key] = Inferred(value, data_source)
    source = source or bundled_source()
    answers = check_answers(questions_root(source), kind, {**answers, "template": kind})
    redirect = _copier.git_redirect(source.path, source.fetch_from) if source.fetch_from else nullcontext()
    with tempfile.TemporaryDirectory(prefix="naavre-adopt-") as scratch:
        rendered = Path(scratch) / root.name  # Copier's _folder_name is the repository's
        with redirect:
            recorded, skipped = _copier.copy_with_skips(
                source.path, rendered, answers, vcs_ref=source.vcs_ref, defaults=defaults
            )
        stored = yaml.safe_load((rendered / ANSWERS_FILE).read_text())
        # The answers are what the answers file records: this template's questions, not derived names.
        shown = {
            key: inferred.get(key) or Inferred(recorded[key], "default" if defaults else "asked")
            for key in stored
            if not key.startswith("_") and key != "template"
        }
        inferred.clear()
        inferred.update(shown)
        version = str(stored.get("_commit", "HEAD"))
        branch = f"{BRANCH_PREFIX}{version}"
        if commit_of(root, f"refs/heads/{branch}"):
            raise UsageError("path", f"{root} already has a branch {branch}: merge or delete it, then rerun")
        report = AdoptReport(root, kind, version, branch, inferred)
        writes, config = _compare(root, rendered, kind, skipped, report, Path(scratch))
        if not dry_run:
            if config:
                written = Path(scratch) / PROJECT_CONFIG
                written.write_text(config)
                writes[PROJECT_CONFIG] = (written, 0o100644)
            message = f"Adopt the naavre-scaffold {kind} template {version}"
            report.commit = commit_files(root, branch, writes, message, _commit_body(report))
    return report


def _repository(path: Path) -> Path:
    if not path.is_dir():
        raise UsageError("path", f"{path}: no such folder")
    root = path.resolve()
    try:
        top = Path(git(root, "rev-parse", "--show-toplevel")).resolve()
    except GitError:
        raise UsageError("path", f"{path} is not in a git repository: adopt works on a clone") from None
    if top != root:
        raise UsageError("path", f"{path} is not the top folder of its git repository ({top})")
    for sub in find_subprojects(root):
        if sub.folder == root:
            raise UsageError(
                "path", f"{path} is already made from the {sub.answers.get('template')} template: use update"
            )
    if isinstance(reason := inspect(root, []), str):
        raise UsageError("path", f"{path}: {reason}")
    return root


def _compare(
    root: Path, rendered: Path, kind: str, skipped: Any, report: AdoptReport, scratch: Path
) -> tuple[dict[str, tuple[Path, int]], str]:
    """Fill the report's files; return what the branch writes and the ``.naavre-scaffold.yml`` text."""
    tracked = set(git(root, "ls-files", "-z").split("\0")) - {""}
    owned_code = OWN_CODE.get(kind, ())
    own_files = (*owned_code, *OWN_FILES.get(kind, ()))
    writes: dict[str, tuple[Path, int]] = {}
    project_owned: list[str] = []
    exclude: list[str] = []
    for file in sorted(p for p in rendered.rglob("*") if p.is_file() or p.is_symlink()):
        relative = file.relative_to(rendered).as_posix()
        mine = root / relative
        content, mode = _content(file)
        if relative == ANSWERS_FILE:
            report.replaced_answers = _other_answers_source(mine)
            writes[relative] = (file, mode)
            continue
        if not (mine.exists() or mine.is_symlink()):
            if _under(relative, owned_code) and _folder_exists(root, relative):
                report.files.append(AdoptedFile(relative, FileFate.NOT_ADDED))
                exclude.append(relative)
            else:
                report.files.append(AdoptedFile(relative, FileFate.ADDED))
                writes[relative] = (file, mode)
            continue
        if _content(mine) == (content, mode):
            report.files.append(AdoptedFile(relative, FileFate.IDENTICAL))
        elif skipped(Path(relative)):
            report.files.append(AdoptedFile(relative, FileFate.KEPT))
        elif _under(relative, own_files):
            report.files.append(AdoptedFile(relative, FileFate.KEPT))
            project_owned.append(relative)
        else:
            diff = _diff(mine, file, relative, scratch)
            report.files.append(AdoptedFile(relative, FileFate.REPLACED, diff))
            writes[relative] = (file, mode)
    made = {f.path for f in report.files} | {ANSWERS_FILE}
    report.untouched = sorted(tracked - made)
    report.notes = _notes(root, kind, report)
    return writes, _project_config(root, project_owned, exclude)


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
    workflows = [p for p in report.untouched if p.startswith(".github/workflows/")]
    if workflows:
        notes.append(
            f"the template brings its own CI and release workflows; these older ones still run: "
            f"{', '.join(workflows)} (delete the ones the template's replace)"
        )
    return notes


def _project_config(root: Path, project_owned: list[str], exclude: list[str]) -> str:
    """The ``.naavre-scaffold.yml`` after adopting: the repository's own entries kept, adopt's added."""
    existing = (
        yaml.safe_load((root / PROJECT_CONFIG).read_text()) if (root / PROJECT_CONFIG).is_file() else {}
    )
    config = dict(existing or {})
    for key, added in (("project_owned", project_owned), ("exclude", exclude)):
        merged = list(dict.fromkeys([*config.get(key, []), *added]))
        if merged:
            config[key] = merged
    if not config:
        return ""
    header = (
        "# Written by naavre-scaffold adopt. project_owned: files this repository writes itself\n"
        "# (update leaves them alone, check does not call them drift). exclude: template files\n"
        "# that this repository's own code stands in for (never written here).\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False)


def _content(path: Path) -> tuple[bytes, int]:
    if path.is_symlink():
        return str(path.readlink()).encode(), 0o120000
    executable = path.stat().st_mode & stat.S_IXUSR
    return path.read_bytes(), 0o100755 if executable else 0o100644


def _under(relative: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(relative, pattern) for pattern in patterns)


def _folder_exists(root: Path, relative: str) -> bool:
    """Whether the project has the top folder of ``relative`` (its own code lives there).

    Compared without case: the NaaVRE extensions keep their Python code in
    ``NaaVRE_<x>_jupyterlab/``, where the template writes ``naavre_<x>_jupyterlab/``.
    """
    if "/" not in relative:
        return False
    top = relative.split("/", 1)[0].lower()
    return any(entry.is_dir() and entry.name.lower() == top for entry in root.iterdir())


def _other_answers_source(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        answers = yaml.safe_load(path.read_text())
    except (ValueError, yaml.YAMLError):
        return "an unreadable answers file"
    source = answers.get("_src_path") if isinstance(answers, dict) else None
    commit = answers.get("_commit") if isinstance(answers, dict) else None
    return f"{source or 'another template'}{f' at {commit}' if commit else ''}"


def _diff(mine: Path, template: Path, relative: str, scratch: Path) -> str:
    folder = scratch / "diff"
    for side, origin in (("a", mine), ("b", template)):
        target = folder / side / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(origin.read_bytes())
    return no_index_patch(folder, relative)


def _commit_body(report: AdoptReport) -> str:
    lines = [f"Answers ({report.template}):"]
    lines += [f"- {key}: {found.value!r} ({found.source})" for key, found in sorted(report.answers.items())]
    for fate in (FileFate.ADDED, FileFate.REPLACED, FileFate.KEPT, FileFate.NOT_ADDED):
        if files := report.of(fate):
            lines += ["", f"{fate.value.capitalize()} ({len(files)}):", *(f"- {f.path}" for f in files)]
    return "\n".join(lines)

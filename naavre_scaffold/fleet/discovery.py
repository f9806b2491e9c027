"""Find the subprojects a command works on: the answers files of this template under some paths.

A subproject is the folder of one answers file: a whole repository for a
service, ``flavors/<name>/`` for a flavor. Several may share a git repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.errors import RepositoryError
from naavre_scaffold.git import GitError, git
from naavre_scaffold.source import location
from naavre_scaffold.templates import TEMPLATES

ANSWERS_PATTERN = ".copier-answers*.yml"
PROJECT_CONFIG = ".naavre-scaffold.yml"
# Folders that never hold a subproject of ours and can be large.
SKIPPED_FOLDERS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


@dataclass(frozen=True)
class Subproject:
    """One answers file of this template, or the reason it cannot be used.

    ``project_owned`` holds the extra patterns the subproject owns (left alone once they
    exist, as Copier's ``_skip_if_exists``), ``exclude`` the paths the template never
    writes there (Copier's ``exclude``: ``adopt`` sets it for template files that a
    project's own code stands in for); both from the ``.naavre-scaffold.yml`` beside its
    answers, read once when it is found.
    """

    answers_path: Path
    answers: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    project_owned: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return self.answers_path.parent

    @property
    def template_location(self) -> str:
        """The template's ``_src_path``; a relative one is taken from this folder, as Copier takes it."""
        return location(self.answers["_src_path"], self.folder)


def _project_config(folder: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ``project_owned`` and ``exclude`` patterns of ``folder``'s ``.naavre-scaffold.yml``;
    none without one.

    Raises:
        RepositoryError: the file cannot be read, or breaks its rule (naming both).
    """
    config = folder / PROJECT_CONFIG
    if not config.is_file():
        return (), ()
    try:
        data = yaml.safe_load(config.read_text()) or {}
    except (OSError, ValueError, yaml.YAMLError) as error:  # ValueError: not UTF-8
        raise RepositoryError(f"{config}: cannot be read as YAML ({error.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise RepositoryError(
            f"{config}: must be a mapping, with project_owned and exclude: lists of path patterns"
        )
    patterns = []
    for key in ("project_owned", "exclude"):
        listed = data.get(key, [])
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise RepositoryError(f"{config}: {key} must be a list of path patterns (strings)")
        patterns.append(tuple(listed))
    return patterns[0], patterns[1]


def _read(path: Path) -> Subproject | None:
    """The subproject of ``path``, None if it is another template's answers file."""
    try:
        answers = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        return Subproject(path, error=f"{path}: cannot be read as YAML ({error.__class__.__name__})")
    if not isinstance(answers, dict):
        return Subproject(path, error=f"{path}: is not a mapping of answers")
    if answers.get("template") not in TEMPLATES:
        return None
    missing = [key for key in ("_src_path", "_commit") if not answers.get(key)]
    if missing:
        return Subproject(
            path, answers, f"{path}: has no {' and no '.join(missing)}, so it cannot be updated"
        )
    try:  # read here, so every command reports a broken .naavre-scaffold.yml as the repository's
        owned, excluded = _project_config(path.parent)
    except RepositoryError as error:
        return Subproject(path, answers, str(error))
    return Subproject(path, answers, project_owned=owned, exclude=excluded)


def find_subprojects(root: Path) -> list[Subproject]:
    """Every answers file of this template under ``root`` (broken ones included, with their error)."""
    found: list[Subproject] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if Path(name).match(ANSWERS_PATTERN) and (sub := _read(Path(folder) / name)):
                found.append(sub)
    return found


def git_root(path: Path) -> Path | None:
    """Top folder of the git repository holding ``path``, None if it is in none."""
    try:
        return Path(git(path, "rev-parse", "--show-toplevel"))
    except (GitError, NotADirectoryError, FileNotFoundError):
        return None

"""What every registration shares: the plan's records, the checkouts, file edits and versions.

A registration is planned whole before anything is written: each kind's module
(``service``, ``jupyterlab``, ``flavor``) checks the checkouts it needs, reads their
files and records the edits; a refusal raises before any file changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.errors import AlreadyRegistered, GitError, ScaffoldError, UsageError
from naavre_scaffold.git import git, uncommitted
from naavre_scaffold.registration import naavre_helm
from naavre_scaffold.registration.edits import AlreadyThere
from naavre_scaffold.registration.yaml_text import LayoutError
from naavre_scaffold.rules import release_version

ANSWERS_FILE = ".copier-answers.yml"
REQUIREMENTS = "docker/jupyter.requirements.txt"


@dataclass(frozen=True)
class LabOptions:
    """A flavor's lab settings as given on the command line (None: not given)."""

    cell_github_url: str | None = None
    registry_url: str | None = None
    module_mapping_url: str | None = None
    communities: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    def given(self) -> list[str]:
        """The options given, by name, to refuse them for a component that is no lab."""
        names = ["--cell-github-url", "--registry-url", "--module-mapping-url", "--community", "--label"]
        values = [
            self.cell_github_url,
            self.registry_url,
            self.module_mapping_url,
            self.communities,
            self.labels,
        ]
        return [name for name, value in zip(names, values, strict=True) if value]


@dataclass(frozen=True)
class Request:
    """What was asked: the component (and its answers), the checkouts and the options."""

    component: Path
    answers: dict[str, Any]
    naavre_helm: Path | None = None
    flavors: Path | None = None
    version: str | None = None
    lab: str | None = None
    lab_options: LabOptions = field(default_factory=LabOptions)


@dataclass(frozen=True)
class Edit:
    """One file of a checkout: its text before (None for a new file) and after."""

    checkout: Path
    path: str
    before: str | None
    after: str


@dataclass
class Registration:
    """What registering a component does: the edits, and what to run afterwards."""

    component: Path
    kind: str
    name: str
    edits: list[Edit] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _checkout(option: str, folder: Path | None, markers: tuple[str, ...], what: str) -> Path:
    if folder is None:
        raise UsageError(option, f"is needed: the {what} checkout to register into")
    if not folder.is_dir():
        raise UsageError(option, f"{folder} is not a folder")
    missing = [marker for marker in markers if not (folder / marker).exists()]
    if missing:
        raise UsageError(option, f"{folder} is not a {what} checkout (it has no {', '.join(missing)})")
    try:
        dirty = uncommitted(folder)
    except GitError:
        raise UsageError(option, f"{folder} is not a git checkout") from None
    if dirty:
        raise UsageError(option, f"{folder} has uncommitted changes: commit or stash them first")
    return folder


def naavre_helm_checkout(folder: Path | None) -> Path:
    """``folder`` if it is a clean git checkout of NaaVRE-helm; else a usage error naming --naavre-helm."""
    markers = (
        naavre_helm.UMBRELLA_CHART,
        naavre_helm.UMBRELLA_VALUES,
        naavre_helm.VALUES_CHART,
        naavre_helm.VALUES_VALUES,
    )
    return _checkout("--naavre-helm", folder, markers, "NaaVRE-helm")


def flavors_checkout(folder: Path | None) -> Path:
    """``folder`` if it is a clean git checkout of a flavors repository; else a usage error."""
    return _checkout("--flavors", folder, (REQUIREMENTS, "flavors"), "flavors")


def _read(checkout: Path, path: str) -> str:
    try:
        return (checkout / path).read_text()
    except OSError as error:
        raise UsageError(str(checkout), f"cannot read {path}: {error.strerror}") from None


def edit(registration: Registration, checkout: Path, path: str, change: Callable[[str], str]) -> None:
    """Record ``change`` of a checkout's file; a component already there is ``AlreadyRegistered``."""
    before = _read(checkout, path)
    try:
        after = change(before)
    except AlreadyThere as error:
        raise AlreadyRegistered(
            f"{registration.name} is already registered: {checkout / error.path} has it"
        ) from None
    except LayoutError as error:
        raise ScaffoldError(f"cannot edit {checkout / path}: {error}") from None
    if after != before:
        registration.edits.append(Edit(checkout, path, before, after))


def new_file(registration: Registration, checkout: Path, path: str, text: str) -> None:
    """Record a new file; one that exists means the component is already registered."""
    if (checkout / path).exists():
        raise AlreadyRegistered(f"{registration.name} is already registered: {checkout / path} exists")
    registration.edits.append(Edit(checkout, path, None, text))


def yaml_of(checkout: Path, path: str) -> Any:
    """A checkout's YAML file, parsed (``{}`` when empty), to check what it already has."""
    try:
        return yaml.safe_load(_read(checkout, path)) or {}
    except yaml.YAMLError as error:
        raise ScaffoldError(f"{checkout / path} is not valid YAML: {' '.join(str(error).split())}") from None


def release(option_value: str | None, repo: Path, fallback: str | None) -> tuple[str, str]:
    """(tag vX.Y.Z, version X.Y.Z): the option, else the newest release tag here, else ``fallback``."""
    candidate = option_value
    if candidate is None:
        try:
            tags = git(
                repo,
                "-c",
                "versionsort.suffix=-",
                "tag",
                "--merged",
                "HEAD",
                "--sort=-version:refname",
                "--list",
                "v[0-9]*",
            ).splitlines()
        except GitError:
            tags = []
        candidate = next((tag for tag in tags if release_version(tag)), None)
    if candidate is None:
        if fallback is None:
            raise UsageError(
                "--version",
                f"{repo} has no release tag vX.Y.Z: give the release to use, e.g. --version v0.1.0",
            )
        candidate = fallback
    version = release_version(candidate)
    if version is None:
        raise UsageError("--version", f"{candidate!r} is not a release version such as 1.2.3 or v1.2.3-rc.1")
    return f"v{version}", version

"""``naavre-scaffold register``: add a component made by ``new`` to the deployment's checkouts.

A service goes into NaaVRE-helm (the umbrella chart's dependency and switch, the
``values/`` chart's block and values template); an extension's pin goes into the
flavors repository, and its service URL into JupyterHub's ``overrides.json``; a flavor
becomes a virtual lab file. ``plan`` works everything out and refuses, before anything
is written, a checkout that is not what it should be or already has the component;
``apply`` writes the plan, ``patches`` shows it as ``git apply`` reads it. Nothing is
ever committed.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold import naavre_helm
from naavre_scaffold.errors import EXIT_FAILED, GitError, ScaffoldError, UsageError
from naavre_scaffold.git import git, no_index_patch
from naavre_scaffold.naavre_helm_edits import (
    AlreadyThere,
    add_dependency,
    add_lab_extension,
    add_override,
    add_top_level_block,
)
from naavre_scaffold.yaml_text import LayoutError

ANSWERS_FILE = ".copier-answers.yml"
REQUIREMENTS = "docker/jupyter.requirements.txt"
# The version a release publishes: SemVer 2 with an optional pre-release part.
_NUMBER = r"(?:0|[1-9]\d*)"
_IDENTIFIER = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
RELEASE = re.compile(
    rf"^v?(?P<version>{_NUMBER}\.{_NUMBER}\.{_NUMBER}(?:-{_IDENTIFIER}(?:\.{_IDENTIFIER})*)?)$"
)


class AlreadyRegistered(ScaffoldError):
    """A checkout already has the component: nothing was written."""

    exit_code = EXIT_FAILED


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


def plan(
    component: Path,
    naavre_helm_dir: Path | None = None,
    flavors_dir: Path | None = None,
    version: str | None = None,
    lab: str | None = None,
) -> Registration:
    """Work out the registration of ``component``; raise, having written nothing, if it cannot be done."""
    if version is not None and not RELEASE.match(version):
        raise UsageError("--version", f"{version!r} is not a release version such as 1.2.3 or v1.2.3-rc.1")
    answers = _answers(component)
    kind = answers.get("template")
    planners: dict[str, Callable[..., Registration]] = {
        "service": _service,
        "jupyterlab": _jupyterlab,
        "flavor": _flavor,
    }
    if kind not in planners:
        raise UsageError(
            "PATH",
            f"{component} is a {kind or 'template-less'} repository; register takes a service, "
            "a jupyterlab extension or a flavor",
        )
    if lab is not None and kind != "flavor":
        raise UsageError("--lab", "only a flavor becomes a virtual lab")
    return planners[kind](component, answers, naavre_helm_dir, flavors_dir, version, lab)


def apply(registration: Registration) -> None:
    """Write every edit of the plan, each file replaced whole (never half-written)."""
    for edit in registration.edits:
        target = edit.checkout / edit.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, delete=False, prefix=f".{target.name}."
        ) as tmp:
            tmp.write(edit.after)
        temporary = Path(tmp.name)
        if target.exists():
            temporary.chmod(target.stat().st_mode & 0o777)
        else:
            temporary.chmod(0o644)
        temporary.replace(target)


def patches(registration: Registration) -> dict[Path, str]:
    """Per checkout, the plan as one git patch from the checkout's root (``git apply`` takes it)."""
    result: dict[Path, str] = {}
    with tempfile.TemporaryDirectory(prefix="naavre-register-") as tmp:
        for number, edit in enumerate(registration.edits):
            scratch = Path(tmp) / str(number)
            if edit.before is not None:
                _write(scratch / "a" / edit.path, edit.before)
            _write(scratch / "b" / edit.path, edit.after)
            result[edit.checkout] = result.get(edit.checkout, "") + no_index_patch(scratch, edit.path)
    return result


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _answers(component: Path) -> dict[str, Any]:
    path = component / ANSWERS_FILE
    if not component.is_dir():
        raise UsageError("PATH", f"{component} is not a folder")
    try:
        answers = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(
            "PATH", f"{component} has no {ANSWERS_FILE}: it was not made by naavre-scaffold"
        ) from None
    except (OSError, yaml.YAMLError) as error:
        raise UsageError("PATH", f"{path} cannot be read: {error}") from None
    if not isinstance(answers, dict):
        raise UsageError("PATH", f"{path} is not a mapping of answers")
    return answers


# --- checkouts ---------------------------------------------------------------------------------


def _checkout(option: str, folder: Path | None, markers: tuple[str, ...], what: str) -> Path:
    if folder is None:
        raise UsageError(option, f"is needed: the {what} checkout to register into")
    if not folder.is_dir():
        raise UsageError(option, f"{folder} is not a folder")
    missing = [marker for marker in markers if not (folder / marker).exists()]
    if missing:
        raise UsageError(option, f"{folder} is not a {what} checkout (it has no {', '.join(missing)})")
    try:
        dirty = git(folder, "status", "--porcelain", "--untracked-files=all")
    except GitError:
        raise UsageError(option, f"{folder} is not a git checkout") from None
    if dirty:
        raise UsageError(option, f"{folder} has uncommitted changes: commit or stash them first")
    return folder


def _naavre_helm(folder: Path | None) -> Path:
    markers = (
        naavre_helm.UMBRELLA_CHART,
        naavre_helm.UMBRELLA_VALUES,
        naavre_helm.VALUES_CHART,
        naavre_helm.VALUES_VALUES,
    )
    return _checkout("--naavre-helm", folder, markers, "NaaVRE-helm")


def _flavors(folder: Path | None) -> Path:
    return _checkout("--flavors", folder, (REQUIREMENTS, "flavors"), "flavors")


def _read(checkout: Path, path: str) -> str:
    try:
        return (checkout / path).read_text()
    except OSError as error:
        raise UsageError(str(checkout), f"cannot read {path}: {error.strerror}") from None


def _edit(registration: Registration, checkout: Path, path: str, change: Callable[[str], str]) -> None:
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


def _new_file(registration: Registration, checkout: Path, path: str, text: str) -> None:
    if (checkout / path).exists():
        raise AlreadyRegistered(f"{registration.name} is already registered: {checkout / path} exists")
    registration.edits.append(Edit(checkout, path, None, text))


def _yaml_of(checkout: Path, path: str) -> Any:
    try:
        return yaml.safe_load(_read(checkout, path)) or {}
    except yaml.YAMLError as error:
        raise ScaffoldError(f"{checkout / path} is not valid YAML: {' '.join(str(error).split())}") from None


# --- versions ------------------------------------------------------------------------------------


def _release(option_value: str | None, repo: Path, fallback: str | None) -> tuple[str, str]:
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
        candidate = next((tag for tag in tags if RELEASE.match(tag)), None)
    if candidate is None:
        if fallback is None:
            raise UsageError(
                "--version",
                f"{repo} has no release tag vX.Y.Z: give the release to use, e.g. --version v0.1.0",
            )
        candidate = fallback
    match = RELEASE.match(candidate)
    if match is None:
        raise UsageError("--version", f"{candidate!r} is not a release version such as 1.2.3 or v1.2.3-rc.1")
    return f"v{match['version']}", match["version"]


# --- a service -----------------------------------------------------------------------------------


def _service(
    component: Path,
    answers: dict,
    helm_dir: Path | None,
    flavors_dir: Path | None,
    version: str | None,
    lab: str | None,
) -> Registration:
    charts = sorted(component.glob("helm/*/Chart.yaml"))
    if len(charts) != 1:
        raise UsageError("PATH", f"{component} should have one chart under helm/ (found {len(charts)})")
    chart = str((yaml.safe_load(charts[0].read_text()) or {}).get("name") or charts[0].parent.name)
    registration = Registration(component, "service", chart)
    if flavors_dir is not None:
        raise UsageError("--flavors", "a service is registered in NaaVRE-helm only")
    checkout = _naavre_helm(helm_dir)
    tag, chart_version = _release(version, component, fallback="0.1.0")
    if version is None and tag == "v0.1.0":
        registration.notes.append("pinned version 0.1.0, the first release: publish v0.1.0 before deploying")
    dependency = naavre_helm.chart_dependency(chart, f"oci://{answers['registry']}/charts", chart_version)
    names = [d.get("name") for d in _yaml_of(checkout, naavre_helm.UMBRELLA_CHART).get("dependencies") or []]
    if chart in names:
        raise AlreadyRegistered(
            f"{chart} is already registered: {checkout / naavre_helm.UMBRELLA_CHART} has it"
        )
    _edit(registration, checkout, naavre_helm.UMBRELLA_CHART, lambda text: add_dependency(text, dependency))
    _add_block(registration, checkout, naavre_helm.UMBRELLA_VALUES, chart, {"enabled": True}, "naavre-")
    [(camel, block)] = naavre_helm.component_values(chart).items()
    _add_block(registration, checkout, naavre_helm.VALUES_VALUES, camel, block, "naavre")
    _new_file(
        registration,
        checkout,
        naavre_helm.values_template_path(chart),
        naavre_helm.service_values_template(chart),
    )
    registration.next_steps = [f"cd {checkout}", "./deploy.sh dependency-update"]
    return registration


def _add_block(
    registration: Registration, checkout: Path, path: str, key: str, value: dict, prefix: str
) -> None:
    if key in _yaml_of(checkout, path):
        raise AlreadyRegistered(f"{registration.name} is already registered: {checkout / path} has {key}")
    _edit(registration, checkout, path, lambda text: add_top_level_block(text, key, value, prefix, path))


# --- a JupyterLab extension ----------------------------------------------------------------------


def _jupyterlab(
    component: Path,
    answers: dict,
    helm_dir: Path | None,
    flavors_dir: Path | None,
    version: str | None,
    lab: str | None,
) -> Registration:
    try:
        package = json.loads((component / "package.json").read_text())
        dist = tomllib.loads((component / "pyproject.toml").read_text())["project"]["name"]
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(
            "PATH", f"{component}: cannot read package.json and pyproject.toml ({error})"
        ) from None
    registration = Registration(component, "jupyterlab", dist)
    if helm_dir is None and flavors_dir is None:
        raise UsageError("--flavors", "is needed (and --naavre-helm for an extension with a service)")
    if flavors_dir is not None:
        checkout = _flavors(flavors_dir)
        _, pinned = _release(version, component, fallback=str(package.get("version", "")))
        pin = f"{dist}=={pinned}"
        _edit(registration, checkout, REQUIREMENTS, lambda text: _add_requirement(text, dist, pin))
        registration.next_steps.append(
            f"release the flavors repository ({checkout}) to rebuild its Jupyter images"
        )
    # The URL setting exists only in an extension with settings that calls a service.
    service = answers.get("service") or "" if answers.get("has_settings", True) else ""
    if helm_dir is None and service:
        registration.notes.append(f"it calls the {service} service: register it with --naavre-helm too")
    if helm_dir is not None:
        if not service:
            raise UsageError("--naavre-helm", f"{dist} has no service URL setting: only --flavors applies")
        checkout = _naavre_helm(helm_dir)
        chart = f"naavre-{service}-service"
        camel = naavre_helm.camel_case(chart)
        if camel not in _yaml_of(checkout, naavre_helm.VALUES_VALUES):
            raise UsageError(
                "--naavre-helm",
                f"{checkout / naavre_helm.VALUES_VALUES} has no {camel}: register the service {chart} first",
            )
        setting = _service_setting(component)
        plugin_id = f"{package['name']}:plugin"
        short = package["name"].removeprefix("@naavre/").removesuffix("-jupyterlab")

        def change(text: str) -> str:
            text = add_override(text, plugin_id, setting, camel)
            return add_lab_extension(text, short) if package["name"].startswith("@naavre/") else text

        _edit(registration, checkout, naavre_helm.JUPYTERHUB_TEMPLATE, change)
        registration.next_steps.append(f"deploy NaaVRE-helm ({checkout}) again, e.g. ./deploy.sh upgrade")
    return registration


def _service_setting(component: Path) -> str:
    try:
        schema = json.loads((component / "schema" / "plugin.json").read_text())
    except (OSError, ValueError):
        raise UsageError(
            "PATH", f"{component} has no schema/plugin.json with the service's URL setting"
        ) from None
    names = [name for name in schema.get("properties", {}) if name.endswith("ServiceUrl")]
    if len(names) != 1:
        raise UsageError(
            "PATH", f"{component}/schema/plugin.json should have one <service>ServiceUrl setting"
        )
    return names[0]


def _add_requirement(text: str, dist: str, pin: str) -> str:
    lines = text.splitlines()
    wanted = _normalised(dist)
    if any(_normalised(re.split(r"[=<>!~;\[ ]", line.strip(), maxsplit=1)[0]) == wanted for line in lines):
        raise AlreadyThere(REQUIREMENTS, f"a requirement for {dist}")
    naavre = [n for n, line in enumerate(lines) if line.lower().startswith("naavre-")]
    at = naavre[-1] + 1 if naavre else len(lines)
    lines.insert(at, pin)
    return "\n".join(lines) + "\n"


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- a flavor ------------------------------------------------------------------------------------


def _flavor(
    component: Path,
    answers: dict,
    helm_dir: Path | None,
    flavors_dir: Path | None,
    version: str | None,
    lab: str | None,
) -> Registration:
    repository = component.resolve().parent.parent
    config = _yaml_of(component, "flavor_config.yaml")
    flavor = str(config.get("flavor_name") or answers.get("name"))
    registration = Registration(component, "flavor", flavor)
    if flavors_dir is not None:
        raise UsageError(
            "--flavors", "a flavor is registered in NaaVRE-helm only (it is in its flavors repository)"
        )
    if config.get("build_jupyter") is False:
        raise UsageError(
            "PATH", f"the flavor {flavor} builds no Jupyter image (build_jupyter: false): no lab can use it"
        )
    checkout = _naavre_helm(helm_dir)
    slug = lab or flavor
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", slug):
        raise UsageError("--lab", f"{slug!r} must be lowercase letters, digits and inner dashes")
    tag, _ = _release(version, repository, fallback=None)
    images = _yaml_of(repository, "naavre-flavors.yml")
    owner = _yaml_of(repository, ANSWERS_FILE)
    labs = (_yaml_of(checkout, naavre_helm.VALUES_VALUES).get("jupyterhub") or {}).get("vlabs") or {}
    if slug in labs:
        raise AlreadyRegistered(
            f"the lab {slug} is already registered: {checkout / naavre_helm.VALUES_VALUES} has it"
        )
    values = naavre_helm.virtual_lab_of(images, owner, repository.name, flavor, slug, tag)
    text = yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=1000)
    _new_file(registration, checkout, naavre_helm.lab_file_path(slug), text)
    registration.next_steps = [f"cd {checkout}", f"./deploy.sh upgrade -f {naavre_helm.lab_file_path(slug)}"]
    return registration


def register(
    path: Path,
    naavre_helm_dir: Path | None = None,
    flavors_dir: Path | None = None,
    version: str | None = None,
    lab: str | None = None,
    dry_run: bool = False,
) -> Registration:
    """Add a service, extension or flavor made by naavre-scaffold to the deployment's checkouts.

    PATH is the component's folder; its kind comes from its answers file.

      service     into NaaVRE-helm (--naavre-helm): its dependency in
                  naavre/Chart.yaml, pinned to what its release publishes
                  (X.Y.Z, no "v"); its switch in naavre/values.yaml; its block in
                  values/values.yaml; values/templates/<chart>.yaml
      jupyterlab  into the flavors repository (--flavors): its pin in
                  docker/jupyter.requirements.txt; into NaaVRE-helm, when it
                  calls a service: its URL setting in JupyterHub's overrides.json
      flavor      into NaaVRE-helm: a virtual lab on its Jupyter image of one
                  release, values/virtual-labs/values-<lab>.public.yaml
                  (--version vX.Y.Z, --lab)

    Edits add lines and change nothing else: comments, order and quoting stay. A checkout
    that is not the right one or has uncommitted changes, and a component that is already
    there, are refused before anything is written. Nothing is committed; --dry-run prints
    the edits as patches (for git apply at each checkout's root) and writes nothing.
    """
    registration = plan(path, naavre_helm_dir, flavors_dir, version, lab)
    if not dry_run:
        apply(registration)
    return registration

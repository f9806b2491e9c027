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

import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.errors import AlreadyRegistered, UsageError
from naavre_scaffold.git import no_index_patch
from naavre_scaffold.registration import flavor, jupyterlab, service
from naavre_scaffold.registration.plan import (
    ANSWERS_FILE,
    Edit,
    LabOptions,
    Registration,
    Request,
)
from naavre_scaffold.rules import release_version

__all__ = [
    "AlreadyRegistered",
    "Edit",
    "LabOptions",
    "Registration",
    "apply",
    "patches",
    "plan",
    "register",
    "review_commands",
]


def register(
    path: Path,
    *,
    naavre_helm_dir: Path | None = None,
    flavors_dir: Path | None = None,
    version: str | None = None,
    lab: str | None = None,
    dry_run: bool = False,
    lab_options: LabOptions | None = None,
) -> Registration:
    """Add a service, extension or flavor made by naavre-scaffold to the deployment's checkouts.

    path is the component's folder; its kind comes from its answers file.

      service     into NaaVRE-helm (--naavre-helm): its dependency in
                  naavre/Chart.yaml, pinned to what its release publishes
                  (X.Y.Z, no "v"); its switch in naavre/values.yaml; its block in
                  values/values.yaml; values/templates/<chart>.yaml
      jupyterlab  into the flavors repository (--flavors): its pin in
                  docker/jupyter.requirements.txt; into NaaVRE-helm: its URL
                  setting in JupyterHub's overrides.json when it calls a
                  service, and its pin when BinderHub builds the lab images
      flavor      into NaaVRE-helm: a virtual lab on its Jupyter image of one
                  release, values/virtual-labs/values-<lab>.public.yaml
                  (--version vX.Y.Z, --lab), off until a deployment enables it,
                  with the containerizer's settings (--cell-github-url, needed;
                  --registry-url, --module-mapping-url) and the catalogue's
                  (--community, --label); its cells token is a secret, left
                  for the lab's SOPS-encrypted file

    Edits add lines (and the comma or loop entry next to an overrides.json entry)
    and change nothing else: comments, order and quoting stay. A checkout
    that is not the right one or has uncommitted changes, and a component that is already
    there, are refused before anything is written. Nothing is committed; --dry-run prints
    the edits as patches (for git apply at each checkout's root) and writes nothing.
    """
    registration = plan(
        path,
        naavre_helm_dir=naavre_helm_dir,
        flavors_dir=flavors_dir,
        version=version,
        lab=lab,
        lab_options=lab_options,
    )
    if not dry_run:
        apply(registration)
    return registration


def plan(
    component: Path,
    *,
    naavre_helm_dir: Path | None = None,
    flavors_dir: Path | None = None,
    version: str | None = None,
    lab: str | None = None,
    lab_options: LabOptions | None = None,
) -> Registration:
    """Work out the registration of ``component``; raise, having written nothing, if it cannot be done."""
    if version is not None and release_version(version) is None:
        raise UsageError("--version", f"{version!r} is not a release version such as 1.2.3 or v1.2.3-rc.1")
    answers = _answers(component)
    kind = answers.get("template")
    planners: dict[str, Callable[[Request], Registration]] = {
        "service": service.plan,
        "jupyterlab": jupyterlab.plan,
        "flavor": flavor.plan,
    }
    if kind not in planners:
        raise UsageError(
            "path",
            f"{component} is a {kind or 'template-less'} repository; register takes a service, "
            "a jupyterlab extension or a flavor",
        )
    options = lab_options or LabOptions()
    lab_only = ([] if lab is None else ["--lab"]) + options.given()
    if lab_only and kind != "flavor":
        raise UsageError(lab_only[0], "only a flavor becomes a virtual lab")
    return planners[kind](Request(component, answers, naavre_helm_dir, flavors_dir, version, lab, options))


def apply(registration: Registration) -> None:
    """Write every edit of the plan, each file replaced whole (never half-written)."""
    for edit in registration.edits:
        target = edit.checkout / edit.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, delete=False, prefix=f".{target.name}."
        ) as tmp:
            temporary = Path(tmp.name)
        try:
            temporary.write_text(edit.after)
            temporary.chmod(target.stat().st_mode & 0o777 if target.exists() else 0o644)
            temporary.replace(target)
        finally:
            temporary.unlink(missing_ok=True)  # gone once replaced; a failed write leaves no stray file


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


def review_commands(registration: Registration) -> list[str]:
    """Per checkout, the git commands whose diff shows every edit, the added files too.

    ``git diff`` leaves out untracked files, and a registration adds some: ``git add -N``
    (intent to add) puts them in the diff without staging their contents.
    """
    added: dict[Path, list[str]] = {}
    for edit in registration.edits:
        added.setdefault(edit.checkout, [])
        if edit.before is None:
            added[edit.checkout].append(shlex.quote(edit.path))
    commands = []
    for checkout, paths in added.items():
        git = f"git -C {shlex.quote(str(checkout))}"
        if paths:
            commands.append(f"{git} add -N {' '.join(paths)}")
        commands.append(f"{git} diff")
    return commands


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _answers(component: Path) -> dict[str, Any]:
    path = component / ANSWERS_FILE
    if not component.is_dir():
        raise UsageError("path", f"{component} is not a folder")
    try:
        answers = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(
            "path", f"{component} has no {ANSWERS_FILE}: it was not made by naavre-scaffold"
        ) from None
    except (OSError, yaml.YAMLError) as error:
        raise UsageError("path", f"{path} cannot be read: {error}") from None
    if not isinstance(answers, dict):
        raise UsageError("path", f"{path} is not a mapping of answers")
    return answers

"""A JupyterLab extension: its pin in the flavors repository, its settings in JupyterHub's."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from naavre_scaffold.errors import AlreadyRegistered, UsageError
from naavre_scaffold.registration import naavre_helm
from naavre_scaffold.registration.edits import (
    OVERRIDES_PATHS,
    AlreadyThere,
    add_lab_extension,
    add_list_item,
    add_override,
    has_overrides,
    lab_extensions,
)
from naavre_scaffold.registration.plan import (
    REQUIREMENTS,
    Registration,
    Request,
    edit,
    flavors_checkout,
    naavre_helm_checkout,
    release,
    yaml_of,
)
from naavre_scaffold.rules import camel_case, service_slug


def plan(request: Request) -> Registration:
    """The pin (with --flavors); with --naavre-helm, its settings in JupyterHub's: see ``_hub_settings``."""
    component = request.component
    package, dist = _package(component)
    registration = Registration(component, "jupyterlab", dist)
    if request.naavre_helm is None and request.flavors is None:
        raise UsageError("--flavors", "is needed (and --naavre-helm for an extension with settings)")
    _, version = release(request.version, component, fallback=str(package.get("version", "")))
    pin = f"{dist}=={version}"
    if request.flavors is not None:
        checkout = flavors_checkout(request.flavors)
        edit(registration, checkout, REQUIREMENTS, lambda text: _add_requirement(text, dist, pin))
        registration.next_steps.append(
            f"release the flavors repository ({checkout}) to rebuild its Jupyter images"
        )
    # virtualLab, and the URL setting of the service it calls, exist only in an extension with settings.
    answers = request.answers
    has_settings = bool(answers.get("has_settings", True))
    service = (answers.get("service") or "") if has_settings else ""
    if request.naavre_helm is None:
        if has_settings:
            needs = f"its {service} service URL and its virtualLab" if service else "its virtualLab"
            registration.notes.append(f"JupyterHub sets {needs}: register it with --naavre-helm too")
        return registration
    checkout = naavre_helm_checkout(request.naavre_helm)
    before = len(registration.edits)
    _pin_for_binder(registration, checkout, dist, pin)
    if has_settings:
        _hub_settings(registration, checkout, component, str(package["name"]), service)
    if len(registration.edits) == before:
        raise UsageError(
            "--naavre-helm",
            f"{dist} has no settings, and {checkout} builds no images "
            "from binderhub.builder.naavre_requirements: only --flavors applies",
        )
    registration.next_steps.append(f"deploy NaaVRE-helm ({checkout}) again, e.g. ./deploy.sh upgrade")
    return registration


def _pin_for_binder(registration: Registration, checkout: Path, dist: str, pin: str) -> None:
    """In a NaaVRE-helm whose BinderHub builds the lab images, the pin also goes into its requirements."""
    requirements: Any = yaml_of(checkout, naavre_helm.VALUES_VALUES)
    for key in naavre_helm.BINDER_REQUIREMENTS:
        requirements = requirements.get(key) if isinstance(requirements, dict) else None
    if not isinstance(requirements, list):
        return
    where = naavre_helm.VALUES_VALUES
    if _requires(requirements, dist):
        raise AlreadyRegistered(f"{dist} is already registered: {checkout / where} has it")
    path = naavre_helm.BINDER_REQUIREMENTS
    edit(registration, checkout, where, lambda text: add_list_item(text, path, pin, "naavre-", where))


def _hub_settings(
    registration: Registration, checkout: Path, component: Path, npm: str, service: str
) -> None:
    """The extension's settings in the values templates that configure a JupyterHub.

    Each lab's server start runs setup_virtual_lab.sh, which writes the lab's slug as
    ``virtualLab`` into the settings of the extensions it names: every extension with
    settings is named there. One that calls a service also gets its <service>ServiceUrl
    in overrides.json.
    """
    overrides = _overrides_templates(checkout, service) if service else []
    setting = _service_setting(component) if service else ""
    camel = camel_case(service_slug(service))
    templates = [where for where in OVERRIDES_PATHS if (checkout / where).is_file()]
    # setup_virtual_lab.sh knows the @naavre/<name>-jupyterlab extensions by <name>.
    short = None
    if npm.startswith("@naavre/") and npm.endswith("-jupyterlab"):
        short = npm.removeprefix("@naavre/").removesuffix("-jupyterlab")
    else:
        registration.notes.append(
            f"setup_virtual_lab.sh names only @naavre/<name>-jupyterlab extensions: "
            f"set the virtualLab of {npm} another way"
        )
    if short and all(lab_extensions((checkout / where).read_text()) is None for where in templates):
        raise UsageError(
            "--naavre-helm",
            f"{checkout} has no setup_virtual_lab.sh that loops over the NaaVRE extensions "
            f"({' or '.join(OVERRIDES_PATHS)})",
        )
    for where in templates:

        def change(text: str, where: str = where) -> str:
            if where in overrides:
                text = add_override(text, f"{npm}:plugin", setting, camel, where)
            elif short in (lab_extensions(text) or []):
                # Its name is all this file would get: the extension is there already.
                raise AlreadyThere(where, f"setup_virtual_lab.sh already names {short}")
            return add_lab_extension(text, short) if short else text

        edit(registration, checkout, where, change)


def _overrides_templates(checkout: Path, service: str) -> list[str]:
    """The values templates that write overrides.json, once the service is in the checkout."""
    chart = service_slug(service)
    camel = camel_case(chart)
    if camel not in yaml_of(checkout, naavre_helm.VALUES_VALUES):
        where = checkout / naavre_helm.VALUES_VALUES
        raise UsageError("--naavre-helm", f"{where} has no {camel}: register the service {chart} first")
    templates = [
        where
        for where in OVERRIDES_PATHS
        if (checkout / where).is_file() and has_overrides((checkout / where).read_text(), where)
    ]
    if not templates:
        raise UsageError(
            "--naavre-helm",
            f"{checkout} has no values template that writes overrides.json ({' or '.join(OVERRIDES_PATHS)})",
        )
    return templates


def _package(component: Path) -> tuple[dict[str, Any], str]:
    """package.json, and the PyPI name from pyproject.toml: what the extension says it is."""
    try:
        package = json.loads((component / "package.json").read_text())
        dist = tomllib.loads((component / "pyproject.toml").read_text())["project"]["name"]
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(
            "path", f"{component}: cannot read package.json and pyproject.toml ({error})"
        ) from None
    return package, str(dist)


def _service_setting(component: Path) -> str:
    try:
        schema = json.loads((component / "schema" / "plugin.json").read_text())
    except (OSError, ValueError):
        raise UsageError(
            "path", f"{component} has no schema/plugin.json with the service's URL setting"
        ) from None
    names = [name for name in schema.get("properties", {}) if name.endswith("ServiceUrl")]
    if len(names) != 1:
        raise UsageError(
            "path", f"{component}/schema/plugin.json should have one <service>ServiceUrl setting"
        )
    return names[0]


def _add_requirement(text: str, dist: str, pin: str) -> str:
    """``pin`` after the last NaaVRE-* requirement (or at the end); a requirement for ``dist`` is refused."""
    lines = text.splitlines()
    if _requires(lines, dist):
        raise AlreadyThere(REQUIREMENTS, f"a requirement for {dist}")
    naavre = [number for number, line in enumerate(lines) if line.lower().startswith("naavre-")]
    lines.insert(naavre[-1] + 1 if naavre else len(lines), pin)
    return "\n".join(lines) + "\n"


def _requires(requirements: list, dist: str) -> bool:
    """Whether one of ``requirements`` (lines such as ``Name==1.0``) names the distribution ``dist``."""
    wanted = _normalised(dist)
    return any(
        _normalised(re.split(r"[=<>!~;\[ ]", str(line).strip(), maxsplit=1)[0]) == wanted
        for line in requirements
    )


def _normalised(name: str) -> str:
    """A distribution name as PyPI compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()

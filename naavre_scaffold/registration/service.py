"""A service into NaaVRE-helm: the umbrella's dependency and switch, the values chart's block and template."""

from __future__ import annotations

from pathlib import Path

import yaml

from naavre_scaffold.errors import AlreadyRegistered, UsageError
from naavre_scaffold.registration import naavre_helm
from naavre_scaffold.registration.edits import add_dependency, add_top_level_block
from naavre_scaffold.registration.plan import (
    Registration,
    Request,
    edit,
    naavre_helm_checkout,
    new_file,
    release,
    yaml_of,
)

FIRST_RELEASE = "0.1.0"


def plan(request: Request) -> Registration:
    """The four changes of NaaVRE-helm for the service at ``request.component``."""
    chart = _chart_name(request.component)
    registration = Registration(request.component, "service", chart)
    if request.flavors is not None:
        raise UsageError("--flavors", "a service is registered in NaaVRE-helm only")
    checkout = naavre_helm_checkout(request.naavre_helm)
    _, version = release(request.version, request.component, fallback=FIRST_RELEASE)
    if request.version is None and version == FIRST_RELEASE:
        registration.notes.append(
            f"pinned version {FIRST_RELEASE}, the first release: publish v{FIRST_RELEASE} before deploying"
        )
    repository = f"oci://{request.answers['registry']}/charts"
    dependency = naavre_helm.chart_dependency(chart, repository, version)
    dependencies = yaml_of(checkout, naavre_helm.UMBRELLA_CHART).get("dependencies") or []
    if chart in [entry.get("name") for entry in dependencies]:
        raise AlreadyRegistered(
            f"{chart} is already registered: {checkout / naavre_helm.UMBRELLA_CHART} has it"
        )
    edit(registration, checkout, naavre_helm.UMBRELLA_CHART, lambda text: add_dependency(text, dependency))
    _add_block(registration, checkout, naavre_helm.UMBRELLA_VALUES, chart, {"enabled": True}, "naavre-")
    [(camel, block)] = naavre_helm.component_values(chart).items()
    _add_block(registration, checkout, naavre_helm.VALUES_VALUES, camel, block, "naavre")
    template = naavre_helm.service_values_template(chart)
    new_file(registration, checkout, naavre_helm.values_template_path(chart), template)
    registration.next_steps = [f"cd {checkout}", "./deploy.sh dependency-update"]
    return registration


def _chart_name(component: Path) -> str:
    charts = sorted(component.glob("helm/*/Chart.yaml"))
    if len(charts) != 1:
        raise UsageError("path", f"{component} should have one chart under helm/ (found {len(charts)})")
    try:
        metadata = yaml.safe_load(charts[0].read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise UsageError("path", f"{charts[0]} cannot be read: {' '.join(str(error).split())}") from None
    return str(metadata.get("name") or charts[0].parent.name)


def _add_block(
    registration: Registration, checkout: Path, path: str, key: str, value: dict, prefix: str
) -> None:
    if key in yaml_of(checkout, path):
        raise AlreadyRegistered(f"{registration.name} is already registered: {checkout / path} has {key}")
    edit(registration, checkout, path, lambda text: add_top_level_block(text, key, value, prefix, path))

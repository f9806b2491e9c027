"""The templates naavre-scaffold knows, in one registry that every command reads.

A template is a folder ``templates/<name>/`` of this repository (its questions and
its ``project/`` tree) plus what the command needs to know about the repository it
makes: where ``new`` puts it, what to do next, and which render checks must find
something in it. Adding a template means adding its folder and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naavre_scaffold import next_steps
from naavre_scaffold.errors import UsageError

NextSteps = Callable[[Path, Mapping[str, Any]], str]


@dataclass(frozen=True)
class TemplateKind:
    """One template: its name (the ``template`` answer) and what the command knows of it."""

    name: str
    summary: str
    destination: str  # the new repository's folder, formatted with the short name
    next_steps: NextSteps
    expected_checks: frozenset[str]  # verify's check kinds that must find something in a render

    def default_destination(self, name: str) -> Path:
        return Path(self.destination.format(name=name))


TEMPLATES: dict[str, TemplateKind] = {
    kind.name: kind
    for kind in (
        TemplateKind(
            name="service",
            summary="NaaVRE API service: FastAPI app, Dockerfile, Helm chart, CI and release workflows",
            destination="NaaVRE-{name}-service",
            next_steps=next_steps.service,
            expected_checks=frozenset({"helm", "dockerfile", "workflows", "python"}),
        ),
        TemplateKind(
            name="jupyterlab",
            summary="NaaVRE JupyterLab extension: plugin, optional server extension, PyPI and npm release",
            destination="NaaVRE-{name}-jupyterlab",
            next_steps=next_steps.jupyterlab,
            expected_checks=frozenset({"workflows", "jupyterlab"}),
        ),
    )
}


def template_kind(name: str) -> TemplateKind:
    """The registry entry of ``name``; a UsageError names the known templates."""
    if name not in TEMPLATES:
        raise UsageError("template", f"must be one of: {', '.join(TEMPLATES)} (got {name!r})")
    return TEMPLATES[name]

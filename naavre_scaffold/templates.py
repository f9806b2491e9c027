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

from naavre_scaffold.errors import UsageError
from naavre_scaffold.new import next_steps

FLAVORS_REPO_MARKER = "naavre-flavors.yml"  # at the root of every flavors repository
NextSteps = Callable[[Path, Mapping[str, Any]], str]


@dataclass(frozen=True)
class Companion:
    """A render of another template that ``new`` adds inside a new repository (a flavors repo's vanilla)."""

    template: str
    destination: str  # relative to the new repository
    answers: Mapping[str, Any]
    shared: tuple[str, ...] = ("github_org", "author")  # answers it takes from the repository's


@dataclass(frozen=True)
class TemplateKind:
    """One template: its name (the ``template`` answer) and what the command knows of it."""

    name: str
    summary: str
    destination: str  # where ``new`` puts the render, formatted with the short name
    next_steps: NextSteps
    expected_checks: frozenset[str]  # verify's check kinds that must find something in a render
    # A template rendered inside an existing repository (a flavor) names the file that
    # repository has at its root, two folders above the render; None makes a new repository.
    host_marker: str | None = None
    companions: tuple[Companion, ...] = ()

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
        TemplateKind(
            name="flavors-repo",
            summary="NaaVRE flavors repository: shared Dockerfiles, workflows, base_image_tags.json, vanilla",
            destination="{name}",
            next_steps=next_steps.flavors_repo,
            expected_checks=frozenset({"dockerfile", "workflows", "flavor"}),
            companions=(
                Companion(
                    "flavor",
                    "flavors/vanilla",
                    {
                        "name": "vanilla",
                        "description": "The default flavor: Python and R with what NaaVRE cells need",
                        "languages": "both",
                        "aliases": ["python", "r"],
                    },
                ),
            ),
        ),
        TemplateKind(
            name="flavor",
            summary="NaaVRE flavor: flavors/<name>/ of a flavors repository (environment, config, tests)",
            destination="flavors/{name}",
            next_steps=next_steps.flavor,
            expected_checks=frozenset({"flavor"}),
            host_marker=FLAVORS_REPO_MARKER,
        ),
    )
}


def template_kind(name: str) -> TemplateKind:
    """The registry entry of ``name``; a UsageError names the known templates."""
    if name not in TEMPLATES:
        raise UsageError("template", f"must be one of: {', '.join(TEMPLATES)} (got {name!r})")
    return TEMPLATES[name]

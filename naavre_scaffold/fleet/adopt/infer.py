"""What a hand-written NaaVRE repository already says about the answers of a template, and where.

Each inference reads one file the real repositories have (a chart's Chart.yaml, a
Dockerfile's CMD, the extension-template's answers file, package.json ...) and
keeps the place it came from, so that ``adopt`` can print every answer with its
source. Nothing is guessed that a file does not say: a question no file answers is
left to the person (or to its default with ``--defaults``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.errors import UsageError
from naavre_scaffold.git import GitError, git

_GITHUB_REPOSITORY = re.compile(
    r"github\.com[:/](?P<org>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)
_SERVICE_REPOSITORY = re.compile(r"^naavre-(?P<name>[a-z][a-z0-9-]*?)-service$", re.IGNORECASE)
_JUPYTERLAB_REPOSITORY = re.compile(r"^naavre-(?P<name>[a-z][a-z0-9-]*?)-jupyterlab$", re.IGNORECASE)
_NPM_NAME = re.compile(r"^@(?P<scope>[a-z0-9-]+)/(?P<name>[a-z][a-z0-9-]*?)-jupyterlab$")
_PORT_OPTION = re.compile(r"--port[ =]+(?P<port>[0-9]{2,5})\b")
_EXPOSE = re.compile(r"^\s*EXPOSE\s+(?P<port>[0-9]{2,5})\b", re.MULTILINE)
_PYTHON_IMAGE = re.compile(
    r"^\s*FROM\s+(?:[^\s]*/)?python:(?P<version>3\.[0-9]+)", re.MULTILINE | re.IGNORECASE
)
_CONDA_PYTHON = re.compile(r"^\s*-\s*python\s*[=~<>]*\s*(?P<version>3\.[0-9]+)", re.MULTILINE)
# Where the release pushes the chart: `oci://<registry>/charts`, or an input `oci_repo: <registry>/charts`.
_CHART_PUSH = re.compile(
    r"(?:oci://|oci_repo:\s*['\"]?)(?P<registry>[a-z0-9.:-]+\.[a-z]+(?:/[a-z0-9._-]+)*?)/charts\b"
)
_SERVICE_URL_SETTING = re.compile(r"^(?P<service>[a-z][a-zA-Z0-9]*)ServiceUrl$")
PYTHON_VERSIONS = ("3.14", "3.13", "3.12", "3.11")


@dataclass(frozen=True)
class Inferred:
    """One answer read from the repository: its value and the place that says it."""

    value: Any
    source: str


Answers = dict[str, Inferred]


def infer(root: Path, template: str | None) -> tuple[str, Answers]:
    """The template ``root`` is shaped for (``template`` if given) and the answers its files give.

    Raises:
        UsageError: ``--template`` was not given and the repository's shape names none.
    """
    kind = template or _kind_of(root)
    if kind is None:
        raise UsageError(
            "--template",
            f"{root.name} has the shape of no template (no helm/*-service chart, no JupyterLab package.json, "
            f"no flavors/*/flavor_config.yaml): name it with --template {' or '.join(ADOPTABLE)}",
        )
    infer_kind = _INFERENCES.get(kind)
    if infer_kind is None:
        raise UsageError("--template", f"adopt brings in {' or '.join(ADOPTABLE)} repositories, not {kind}")
    answers: Answers = {}
    if (remote := _github_remote(root)) is not None:
        answers["github_org"] = Inferred(remote[0], "git remote origin")
    answers.update(infer_kind(root))
    return kind, answers


def _kind_of(root: Path) -> str | None:
    if any(root.glob("helm/*-service/Chart.yaml")) or _SERVICE_REPOSITORY.match(root.name):
        return "service"
    package = _json(root / "package.json")
    if isinstance(package.get("jupyterlab"), dict) or _JUPYTERLAB_REPOSITORY.match(root.name):
        return "jupyterlab"
    if any(root.glob("flavors/*/flavor_config.yaml")):
        return "flavors-repo"
    return None


def _service(root: Path) -> Answers:
    answers: Answers = {}
    charts = sorted(root.glob("helm/*/Chart.yaml"))
    for chart in charts:
        name = str(_yaml(chart).get("name", ""))
        if found := _SERVICE_REPOSITORY.match(name):
            answers["name"] = Inferred(found["name"].lower(), f"{_rel(chart, root)} (name: {name})")
            break
    else:
        if found := _SERVICE_REPOSITORY.match(root.name):
            answers["name"] = Inferred(found["name"].lower(), f"the folder name {root.name}")
    dockerfile = next((p for p in (root / "docker" / "Dockerfile", root / "Dockerfile") if p.is_file()), None)
    if dockerfile is not None:
        text = dockerfile.read_text(errors="replace")
        if port := _PORT_OPTION.search(text) or _EXPOSE.search(text):
            answers["port"] = Inferred(int(port["port"]), f"{_rel(dockerfile, root)} ({port[0].strip()})")
        if (python := _PYTHON_IMAGE.search(text)) and python["version"] in PYTHON_VERSIONS:
            where = f"{_rel(dockerfile, root)} ({python[0].strip()})"
            answers["python_version"] = Inferred(python["version"], where)
    if "port" not in answers:
        for chart in charts:
            port = (_yaml(chart.parent / "values.yaml").get("service") or {}).get("port")
            if isinstance(port, int):
                answers["port"] = Inferred(port, f"{_rel(chart.parent / 'values.yaml', root)} (service.port)")
                break
    for source, pattern in (
        (root / ".python-version", re.compile(r"^(?P<version>3\.[0-9]+)", re.MULTILINE)),
        (root / "environment.yaml", _CONDA_PYTHON),
        (root / "environment.yml", _CONDA_PYTHON),
    ):
        if "python_version" not in answers and source.is_file():
            found = pattern.search(source.read_text(errors="replace"))
            if found and found["version"] in PYTHON_VERSIONS:  # an older one is the person's to choose
                answers["python_version"] = Inferred(found["version"], f"{source.name} ({found[0].strip()})")
    for workflow in sorted((root / ".github" / "workflows").glob("*.y*ml")):
        if pushed := _CHART_PUSH.search(workflow.read_text(errors="replace")):
            answers["registry"] = Inferred(pushed["registry"], f"{_rel(workflow, root)} ({pushed[0]})")
            break
    if "registry" not in answers:
        for chart in charts:
            values = chart.parent / "values.yaml"
            image = str((_yaml(values).get("image") or {}).get("repository", ""))
            registry, _, image_name = image.rpartition("/")
            if registry and _SERVICE_REPOSITORY.match(image_name):
                answers["registry"] = Inferred(registry, f"{_rel(values, root)} (image.repository: {image})")
                break
    answers.update(_description(root / "pyproject.toml"))
    return answers


def _jupyterlab(root: Path) -> Answers:
    answers: Answers = {}
    upstream = _yaml(root / ".copier-answers.yml")
    upstream_source = f".copier-answers.yml of {upstream.get('_src_path', 'another template')}"
    package = _json(root / "package.json")
    if found := _NPM_NAME.match(str(package.get("name", ""))):
        answers["name"] = Inferred(found["name"], f"package.json (name: {package['name']})")
    elif found := _NPM_NAME.match(str(upstream.get("labextension_name", ""))):
        answers["name"] = Inferred(found["name"], f"{upstream_source} (labextension_name)")
    elif found := _JUPYTERLAB_REPOSITORY.match(root.name):
        answers["name"] = Inferred(found["name"].lower(), f"the folder name {root.name}")
    if isinstance(description := package.get("description"), str) and description.strip():
        answers["description"] = Inferred(description.strip(), "package.json (description)")
    author = package.get("author")
    if isinstance(author, dict) and isinstance(author.get("name"), str):
        answers["author"] = Inferred(author["name"], "package.json (author.name)")
    elif isinstance(upstream.get("author_name"), str):
        answers["author"] = Inferred(upstream["author_name"], f"{upstream_source} (author_name)")
    answers["kind"] = _extension_kind(root, upstream, upstream_source)
    schemas = sorted((root / "schema").glob("*.json"))
    if schemas:
        answers["has_settings"] = Inferred(True, f"{_rel(schemas[0], root)} (a settings schema)")
        for prop in _json(schemas[0]).get("properties", {}):
            if found := _SERVICE_URL_SETTING.match(prop):
                answers["service"] = Inferred(_kebab(found["service"]), f"{_rel(schemas[0], root)} ({prop})")
                break
    elif "has_settings" in upstream:
        answers["has_settings"] = Inferred(
            bool(upstream["has_settings"]), f"{upstream_source} (has_settings)"
        )
    else:
        answers["has_settings"] = Inferred(False, "no schema/*.json")
    return answers


def _extension_kind(root: Path, upstream: dict[str, Any], upstream_source: str) -> Inferred:
    servers = sorted(root.glob("jupyter-config/**/*.json")) + sorted(root.glob("*/handlers.py"))
    if servers:
        return Inferred("frontend-and-server", f"{_rel(servers[0], root)} (a jupyter_server extension)")
    if upstream.get("kind") in ("server", "frontend-and-server"):
        return Inferred("frontend-and-server", f"{upstream_source} (kind: {upstream['kind']})")
    return Inferred("frontend", "no jupyter_server extension (no jupyter-config/, no handlers.py)")


# NaaVRE/flavors names its images as `image_repo: 'ghcr.io/naavre/flavors'` plus
# `image_name: naavre-fl-${{ inputs.flavor_name }}-...`, and in full in its base_image_tags step.
_IMAGE_REPO = re.compile(r"image_repo:\s*['\"]?(?P<registry>[a-z0-9.-]+\.[a-z]{2,}(?:/[a-z0-9._-]+)*)")
_IMAGE_NAME = re.compile(r"image_name:\s*['\"]?(?P<prefix>[a-z0-9-]*)\$\{\{\s*(?:inputs|matrix)\.flavor_name")
_FULL_IMAGE = re.compile(
    r"(?P<registry>[a-z0-9.-]+\.[a-z]{2,}(?:/[a-z0-9._-]+)+)/(?P<prefix>[a-z0-9-]*?)"
    r"(?:\\\(\$flavor\.flavor_name\)|\$\{\{\s*(?:inputs|matrix)\.flavor_name\s*\}\})-cell-(?:build|runtime)"
)


def _flavors_repo(root: Path) -> Answers:
    answers: Answers = {"name": Inferred(root.name, f"the folder name {root.name}")}
    for workflow in sorted((root / ".github" / "workflows").glob("*.y*ml")):
        text, where = workflow.read_text(errors="replace"), _rel(workflow, root)
        if "registry" not in answers and (found := _FULL_IMAGE.search(text)):
            answers["registry"] = Inferred(found["registry"], f"{where} (images {found[0]})")
            answers.setdefault("image_prefix", Inferred(found["prefix"], f"{where} (images {found[0]})"))
        if "registry" not in answers and (found := _IMAGE_REPO.search(text)):
            answers["registry"] = Inferred(found["registry"], f"{where} (image_repo: {found['registry']})")
        if "image_prefix" not in answers and (found := _IMAGE_NAME.search(text)):
            answers["image_prefix"] = Inferred(
                found["prefix"], f"{where} (image_name: {found['prefix']}<flavor>-…)"
            )
    return answers


def infer_flavor(folder: Path) -> Answers:
    """A flavor's answers from its flavor_config.yaml and environment.yaml (NaaVRE/flavors' keys)."""
    answers: Answers = {"name": Inferred(folder.name, f"the folder name flavors/{folder.name}")}
    config = _yaml(folder / "flavor_config.yaml")
    where = f"flavors/{folder.name}/flavor_config.yaml"
    for key in ("build_jupyter", "build_cell_base", "free_disk_space"):
        if isinstance(config.get(key), bool):
            answers[key] = Inferred(config[key], f"{where} ({key})")
    aliases = config.get("aliases")
    if isinstance(aliases, list) and all(isinstance(alias, str) for alias in aliases):
        answers["aliases"] = Inferred(aliases, f"{where} (aliases)")
    environment = folder / "environment.yaml"
    if environment.is_file():
        dependencies = _yaml(environment).get("dependencies") or []
        names = {
            re.split(r"[=<>! ]", str(spec), maxsplit=1)[0] for spec in dependencies if isinstance(spec, str)
        }
        has_r = bool(names & {"r-base", "r-irkernel"})
        source = f"flavors/{folder.name}/environment.yaml ({'r-base' if has_r else 'no r-base'})"
        answers["languages"] = Inferred("both" if has_r else "python", source)
    return answers


_INFERENCES: dict[str, Callable[[Path], Answers]] = {
    "service": _service,
    "jupyterlab": _jupyterlab,
    "flavors-repo": _flavors_repo,
}
# The templates adopt can bring a repository under (a flavor comes with its flavors repository).
ADOPTABLE = tuple(_INFERENCES)


def _github_remote(root: Path) -> tuple[str, str] | None:
    try:
        url = git(root, "remote", "get-url", "origin")
    except GitError:
        return None
    found = _GITHUB_REPOSITORY.search(url)
    return (found["org"], found["repo"]) if found else None


def _description(pyproject: Path) -> Answers:
    if not pyproject.is_file():
        return {}
    found = re.search(
        r'^description\s*=\s*"(?P<text>[^"\\\n]+)"', pyproject.read_text(errors="replace"), re.MULTILINE
    )
    return {"description": Inferred(found["text"], "pyproject.toml (description)")} if found else {}


def _kebab(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", camel).lower()


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

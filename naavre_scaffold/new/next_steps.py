"""What to do after ``new``: the commands, and what ``register`` adds to NaaVRE-helm, as text.

The commands are the lines indented by exactly two spaces, and no other line is, so
the text can be read and run alike: ``tests/test_next_steps.py`` runs every command
that ``new`` prints, as a developer would paste them into a shell.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from naavre_scaffold.errors import GitError
from naavre_scaffold.git import git
from naavre_scaffold.registration.naavre_helm import (
    chart_dependency,
    component_values,
    lab_file_path,
    service_values_template,
    url_setting,
    virtual_lab_of,
)
from naavre_scaffold.rules import camel_case, service_slug
from naavre_scaffold.verification.tools import tool_env

_UV_FIND_TIMEOUT_SECONDS = 30
# A flavors release: the release workflow takes vX.Y.Z tags only.
_RELEASE_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


def _indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


def _yaml(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=1000)


def _pythons_installed(uv: str, requests: list[str], folder: Path) -> list[bool]:
    """For each request (a version or specifier): does uv find an installed Python, downloading nothing?

    The probes run at once: each can take a few tenths of a second (uv asks every
    interpreter on PATH its version), and they come after the render.
    """
    probes: list[subprocess.Popen[bytes] | None] = []  # None: uv could not be started
    for request in requests:
        try:
            probes.append(
                subprocess.Popen(
                    [uv, "python", "find", "--no-python-downloads", request],
                    cwd=folder,
                    env=tool_env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        except OSError:
            probes.append(None)
    found = []
    for probe in probes:
        if probe is None:
            found.append(False)
            continue
        try:
            found.append(probe.wait(timeout=_UV_FIND_TIMEOUT_SECONDS) == 0)
        except subprocess.TimeoutExpired:
            probe.kill()
            probe.wait()
            found.append(False)
    return found


def python_choice(path: Path, wanted: str) -> str | None:
    """The ``export UV_PYTHON=...`` line to print when Python ``wanted`` is not found here.

    ``.python-version`` asks for the image's Python, which uv downloads when it is
    missing; where downloads fail (offline, or turned off), every uv command stops
    there. So whenever ``wanted`` is not found, the steps set ``UV_PYTHON`` to the
    project's ``requires-python``: uv then takes any installed Python it accepts. uv,
    when installed, tells what is installed; without it (the steps say to install
    it), ``python<wanted>`` on the shell's PATH is what uv would find. None when
    ``wanted`` is found, or when pyproject.toml has no ``requires-python``.
    """
    try:
        requires = tomllib.loads((path / "pyproject.toml").read_text())["project"]["requires-python"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None
    export = f"export UV_PYTHON={shlex.quote(requires)}"
    uv = shutil.which("uv", path=tool_env()["PATH"])
    if uv is None:
        # The developer's shell PATH, not tool_env's: the printed commands run there.
        if shutil.which(f"python{wanted}") is not None:
            return None
        return f"{export}  # Python {wanted} (.python-version, the image's) is not on PATH"
    wanted_found, requires_found = _pythons_installed(uv, [wanted, requires], path)
    if wanted_found:
        return None
    if requires_found:
        return f"{export}  # Python {wanted} (.python-version, the image's) is not installed here"
    # No installed Python fits: uv can only download one, which offline it cannot, so say what to do.
    return f"{export}  # no Python {wanted}, nor any {requires}, is installed here: install one"


def service(path: Path, a: Mapping[str, Any]) -> str:
    """Next steps for a new service: test, serve, push, release, and register it in NaaVRE-helm."""
    chart = a["slug"]
    port = a["port"]
    choice = python_choice(path, str(a["python_version"]))
    python_line = f"  {choice}\n" if choice else ""
    return f"""Next steps (the commands need uv: https://docs.astral.sh/uv/).

Run the tests, then serve the API in fake auth mode (DISABLE_AUTH=true: no OIDC provider needed):
  cd {shlex.quote(str(path))}
{python_line}  uv sync
  uv run pytest
  DISABLE_AUTH=true uv run fastapi dev app/main.py --port {port}  # then open http://127.0.0.1:{port}/docs

Push it to GitHub:
  git remote add origin git@github.com:{a["github_org"]}/{a["repo_name"]}.git
  git push -u origin main
Then publish a GitHub release tagged v0.1.0: it pushes the image {a["service_image"]}:v0.1.0
and the chart {a["service_chart_repository"]}/{chart} version 0.1.0 (pin it without the "v").
{_visibility(a["registry"], chart)}
Then add it to NaaVRE-helm: register edits a clean checkout (it commits nothing), then
update the umbrella chart's dependencies there:
  naavre-scaffold register . --naavre-helm ../NaaVRE-helm  # the path of your checkout
  cd ../NaaVRE-helm && ./deploy.sh dependency-update
{service_registration(chart, a["service_chart_repository"])}"""


def service_registration(chart: str, chart_repository: str, version: str = "0.1.0") -> str:
    """What ``register`` adds to NaaVRE-helm for a service, as text for someone without a checkout."""
    dependency = _yaml([chart_dependency(chart, chart_repository, version)])
    return f"""Without a checkout at hand, the same changes by hand:
naavre/Chart.yaml, under dependencies:
{_indent(dependency)}naavre/values.yaml:
{_indent(_yaml({chart: {"enabled": True}}))}values/values.yaml:
{_indent(_yaml(component_values(chart)))}values/templates/{chart}.yaml, a new file:
{_indent(service_values_template(chart))}"""


def _visibility(registry: str, chart: str) -> str:
    """The one-time step that lets NaaVRE-helm pull a first release, which ghcr.io makes private."""
    host, _, path = registry.partition("/")
    if host != "ghcr.io":
        return (
            f"NaaVRE-helm pulls without logging in: make both readable anonymously on {host},\n"
            "or give the deployment pull credentials.\n"
        )
    owner, _, prefix = path.partition("/")
    prefix = f"{prefix}/" if prefix else ""
    pages = "".join(
        f"    https://github.com/orgs/{owner}/packages/container/{quote(package, safe='')}/settings\n"
        for package in (f"{prefix}{chart}", f"{prefix}charts/{chart}")
    )
    return (
        "ghcr.io makes new packages private, and NaaVRE-helm pulls without logging in: once,\n"
        'after that first release, make both public (Danger Zone, "Change visibility"):\n' + pages
    )


def jupyterlab(path: Path, a: Mapping[str, Any]) -> str:
    """Next steps for a new JupyterLab extension, with the lines to add to the flavors and NaaVRE-helm.

    The commands are those of the generated README's "Develop" and "Test" sections.
    """
    npm = a["jupyterlab_npm_name"]
    package = a["jupyterlab_python_package"]
    dist = a["repo_name"]
    version = _package_version(path)
    server = a["kind"] == "frontend-and-server"
    enable = f"  jupyter server extension enable {package}\n" if server else ""
    listed = f"  jupyter server extension list  # lists {package} enabled, OK\n" if server else ""
    root_flag = "  # as root, add --allow-root" if _is_root() else ""
    calls_service = bool(a.get("service") and a.get("has_settings"))
    helm_part = ", and its service's URL in NaaVRE-helm" if calls_service else ""
    helm_option = " --naavre-helm ../NaaVRE-helm" if calls_service else ""
    text = f"""Next steps (the commands need Python >= 3.10 and Node.js >= 20; jlpm comes with JupyterLab).

Install it in development mode, build and test it, then try it in JupyterLab:
  cd {shlex.quote(str(path))}
  python3 -m venv .venv
  source .venv/bin/activate
  pip install 'jupyterlab>=4.6,<5' hatchling hatch-jupyter-builder hatch-nodejs-version editables
  jlpm install
  pip install --no-build-isolation -e '.[test]'
  jupyter-builder develop . --overwrite
{enable}  jlpm build
  jlpm test
  jlpm lint:check
  pytest
  jupyter labextension list  # lists {npm} v{version} enabled OK
{listed}  jupyter lab{root_flag}

Push it to GitHub:
  git remote add origin git@github.com:{a["github_org"]}/{a["repo_name"]}.git
  git push -u origin main
Before the first release, add trusted publishers (the README's "Release" says how): on
PyPI for {dist}, on npm for {npm}. Then publish a GitHub release tagged
v{version} (the version in package.json): one build goes to PyPI and to npm.

Then ship it in the NaaVRE Jupyter images: register pins it in a clean checkout of the
flavors repository{helm_part} (it commits nothing):
  naavre-scaffold register . --flavors ../flavors{helm_option}  # the paths of your checkouts
Without a checkout at hand, the same changes by hand:
docker/jupyter.requirements.txt in the flavors repository:
    {dist}=={version}
"""
    if calls_service:
        camel = camel_case(service_slug(a["service"]))
        setting = url_setting(a["jupyterlab_service_setting"], camel)
        entry = f'"{a["jupyterlab_plugin_id"]}": {{{setting}}}'
        text += f"""In NaaVRE-helm, values/templates/jupyterhub.yaml: an entry of overrides.json
(singleuser.extraFiles), and "{a["name"]}" in the extensions that setup_virtual_lab.sh loops over:
    {entry}
"""
    return text


def _package_version(path: Path) -> str:
    try:
        return str(json.loads((path / "package.json").read_text())["version"])
    except (OSError, KeyError, ValueError):
        return "0.1.0"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def flavors_repo(path: Path, a: Mapping[str, Any]) -> str:
    """Next steps for a new flavors repository: its tags file, a local build, more flavors, a release."""
    return f"""Next steps (building images needs Docker; the rest needs Python with PyYAML).

See the base image tags a release would attach, then build and test the vanilla flavor:
  cd {shlex.quote(str(path))}
  python3 scripts/base_image_tags.py --tag v0.1.0
  bash build-local.sh vanilla  # every image of vanilla, then its tests in them

Add a flavor (run at the root of this repository), then commit it:
  naavre-scaffold new flavor my-flavor -d languages=python

Push it to GitHub:
  git remote add origin git@github.com:{a["github_org"]}/{a["repo_name"]}.git
  git push -u origin main
Then publish a GitHub release tagged v0.1.0: it builds and tests every flavor, pushes
their images tagged v0.1.0 and latest, and attaches base_image_tags.json.
"""


CELLS_PLACEHOLDER = "https://github.com/<org>/<cells-repository>"


def flavor(path: Path, a: Mapping[str, Any]) -> str:
    """Next steps for a new flavor: commit it, build it, release, and register a lab on it in NaaVRE-helm."""
    repository = path.absolute().parent.parent
    name = a["name"]
    images = _mapping(repository / "naavre-flavors.yml")
    owner = _mapping(repository / ".copier-answers.yml")
    tag, newest = _next_release(repository)
    lab = virtual_lab_of(images, owner, repository.name, name, name, tag)
    folder = path.absolute().relative_to(repository).as_posix()
    here = Path.cwd().resolve() == repository.resolve()
    cd = "" if here else f"  cd {shlex.quote(str(repository))}\n"
    after = f"the newest release here is {newest}" if newest else "the repository has no release yet"
    return f"""Next steps. The flavor is not committed: it is a change of the flavors repository.

Commit it, then build and test its images locally (needs Docker):
{cd}  git add {shlex.quote(folder)}
  git commit -m {shlex.quote(f"Add the {name} flavor")}
  bash build-local.sh {shlex.quote(name)}  # every image of the flavor, then its tests in them

Push it and open a pull request: CI builds and tests the flavor. Once it is merged, publish
the next release, {tag} ({after}): it pushes the flavor's images and lists the flavor in
base_image_tags.json. No earlier release has the flavor.

Then give NaaVRE a virtual lab on it: register writes the lab's file in a clean NaaVRE-helm
checkout, here ../NaaVRE-helm (it commits nothing; --version is that release, {tag} unless
you tag another; --lab the lab's name; --cell-github-url the GitHub repository that the
lab's containerized cells go to, which only you know: put it in place of the one below):
  naavre-scaffold register {shlex.quote(folder)} --naavre-helm ../NaaVRE-helm --version {tag} \
--cell-github-url {shlex.quote(CELLS_PLACEHOLDER)}
Without a checkout at hand, the same file by hand, {lab_file_path(name)} (one tag for both):
{_indent(_yaml(lab))}"""


def _next_release(repository: Path) -> tuple[str, str | None]:
    """(The tag of the flavors repository's next release, its newest release tag or None).

    A flavor added now is in no release yet: the first is v0.1.0 (as the flavors
    repository's steps say), and after vX.Y.Z comes vX.(Y+1).0, a new flavor
    being a feature. Tags are read from the local clone, which may lag GitHub.
    """
    try:
        tags = git(repository, "tag", "--list", "v*").splitlines()
    except (GitError, OSError):
        tags = []
    versions = sorted(
        (int(match[1]), int(match[2]), int(match[3])) for match in map(_RELEASE_TAG.fullmatch, tags) if match
    )
    if not versions:
        return "v0.1.0", None
    major, minor, patch = versions[-1]
    return f"v{major}.{minor + 1}.0", f"v{major}.{minor}.{patch}"


def _mapping(path: Path) -> dict[str, Any]:
    """A YAML file's mapping; empty when it is missing or not one (the steps then show placeholders)."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}

"""A flavor into NaaVRE-helm: a virtual lab on its Jupyter image, and the tags file, of one release."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from naavre_scaffold.errors import AlreadyRegistered, UsageError
from naavre_scaffold.registration import naavre_helm
from naavre_scaffold.registration.plan import (
    ANSWERS_FILE,
    LabOptions,
    Registration,
    Request,
    naavre_helm_checkout,
    new_file,
    release,
    yaml_of,
)

LAB_SLUG = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
# The containerizer pushes a lab's cells to a GitHub repository through GitHub's API.
CELLS_REPOSITORY = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?")
# Where NaaVRE-helm defines the keys a lab's communities and labels name.
COMMUNITIES_FILE = "values/virtual-labs/communities.yaml"
LABELS_FILE = "values/virtual-labs/labels.yaml"


def plan(request: Request) -> Registration:
    """The lab file values/virtual-labs/values-<lab>.public.yaml for the flavor at ``request.component``."""
    component = request.component
    repository = component.resolve().parent.parent
    config = yaml_of(component, "flavor_config.yaml")
    flavor = str(config.get("flavor_name") or request.answers.get("name"))
    registration = Registration(component, "flavor", flavor)
    if request.flavors is not None:
        raise UsageError(
            "--flavors", "a flavor is registered in NaaVRE-helm only (it is in its flavors repository)"
        )
    if config.get("build_jupyter") is False:
        raise UsageError(
            "path", f"the flavor {flavor} builds no Jupyter image (build_jupyter: false): no lab can use it"
        )
    slug = request.lab or flavor
    if not LAB_SLUG.fullmatch(slug):
        raise UsageError("--lab", f"{slug!r} must be lowercase letters, digits and inner dashes")
    checkout = naavre_helm_checkout(request.naavre_helm)
    tag, _ = release(request.version, repository, fallback=None)
    labs = (yaml_of(checkout, naavre_helm.VALUES_VALUES).get("jupyterhub") or {}).get("vlabs") or {}
    if slug in labs:
        where = checkout / naavre_helm.VALUES_VALUES
        raise AlreadyRegistered(f"the lab {slug} is already registered: {where} has it")
    images = yaml_of(repository, "naavre-flavors.yml")
    owner = yaml_of(repository, ANSWERS_FILE)
    settings = lab_settings(request.lab_options, checkout)
    values = naavre_helm.virtual_lab_of(images, owner, repository.name, flavor, slug, tag, settings)
    new_file(registration, checkout, naavre_helm.lab_file_path(slug), _yaml(values))
    if (checkout / naavre_helm.lab_secrets_path(slug)).exists():
        raise AlreadyRegistered(
            f"the lab {slug} is already registered: {checkout / naavre_helm.lab_secrets_path(slug)} exists"
        )
    registration.next_steps = next_steps(checkout, slug, settings)
    return registration


def lab_settings(options: LabOptions, checkout: Path) -> naavre_helm.LabSettings:
    """The lab's settings from the options; refuse what is missing or unknown rather than guess."""
    if not options.cell_github_url:
        raise UsageError(
            "--cell-github-url",
            "is needed: the GitHub repository the lab's cells are pushed to, e.g. "
            "https://github.com/<org>/cells-vl-<lab>",
        )
    cells = CELLS_REPOSITORY.fullmatch(options.cell_github_url)
    if cells is None:
        raise UsageError(
            "--cell-github-url", f"{options.cell_github_url!r} is not https://github.com/<owner>/<repo>"
        )
    # As in the real labs: the cells' images are named after their repository.
    registry_url = options.registry_url or f"ghcr.io/{cells['owner']}/{cells['repo']}".lower()
    communities = options.communities or (naavre_helm.DEFAULT_COMMUNITY,)
    _check_keys("--community", communities, checkout, COMMUNITIES_FILE, "communities")
    _check_keys("--label", options.labels, checkout, LABELS_FILE, "vlabLabels")
    return naavre_helm.LabSettings(
        cell_github_url=f"https://github.com/{cells['owner']}/{cells['repo']}",
        registry_url=registry_url,
        module_mapping_url=options.module_mapping_url or naavre_helm.MODULE_MAPPING_URL,
        communities=communities,
        labels=options.labels,
    )


def _check_keys(option: str, keys: tuple[str, ...], checkout: Path, path: str, section: str) -> None:
    """Refuse a key the checkout does not define: the catalogue hook would skip it with a warning.

    A checkout without the file defines none the lab could be checked against.
    """
    if not (checkout / path).exists():
        return
    known = (yaml_of(checkout, path).get("jupyterhub") or {}).get(section) or {}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise UsageError(option, f"{', '.join(unknown)} not in {path} (it has {', '.join(known) or 'none'})")


def next_steps(checkout: Path, slug: str, settings: naavre_helm.LabSettings) -> list[str]:
    """The token into the lab's encrypted file, the lab on in a deployment, then the upgrade."""
    token = f"<a GitHub token that can push to {settings.cell_github_url}>"
    deployment = "values/values-deploy-<context>.public.yaml"
    return [
        f"cd {checkout}",
        # Real lab secrets are SOPS-encrypted; helm secrets creates and edits them so.
        f"helm secrets edit {naavre_helm.lab_secrets_path(slug)}  # put in it (encrypted on save):",
        *_indented(naavre_helm.lab_secrets(slug, token)),
        f"# the lab is off: in each deployment that offers it, add to {deployment}:",
        *_indented(naavre_helm.lab_enabled(slug)),
        # --use-vlic-secrets passes every lab file, decrypted, then the deployment's.
        "./deploy.sh --kube-context <context> -n <namespace> --use-vlic-secrets upgrade",
    ]


def _indented(values: dict[str, object]) -> list[str]:
    return [f"    {line}" for line in _yaml(values).splitlines()]


def _yaml(values: dict[str, object]) -> str:
    return yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=1000)

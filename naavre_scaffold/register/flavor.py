"""A flavor into NaaVRE-helm: a virtual lab on its Jupyter image, and the tags file, of one release."""

from __future__ import annotations

import re

import yaml

from naavre_scaffold import naavre_helm
from naavre_scaffold.errors import UsageError
from naavre_scaffold.register.plan import (
    ANSWERS_FILE,
    AlreadyRegistered,
    Registration,
    Request,
    naavre_helm_checkout,
    new_file,
    release,
    yaml_of,
)

LAB_SLUG = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


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
    values = naavre_helm.virtual_lab_of(images, owner, repository.name, flavor, slug, tag)
    text = yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=1000)
    new_file(registration, checkout, naavre_helm.lab_file_path(slug), text)
    # deploy.sh reads lab files only when named with -f (or all of them with --use-vlic-secrets).
    deployment = "values/values-deploy-<context>.yaml"
    registration.next_steps = [
        f"cd {checkout}",
        f"./deploy.sh --kube-context <context> -f {deployment} -f {naavre_helm.lab_file_path(slug)} upgrade",
    ]
    return registration

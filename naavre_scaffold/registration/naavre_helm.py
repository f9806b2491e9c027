"""How NaaVRE-helm consumes a component, written once.

NaaVRE-helm deploys in two steps: ``deploy.sh`` renders the auxiliary ``values/`` chart,
whose templates turn the deployment's ``global`` values (domain, TLS, Keycloak, ...)
into one values file per subchart, then installs the umbrella chart ``naavre/`` with
those files. ``register`` adds a component to both; ``new`` prints the same blocks for
someone without a checkout at hand, and the helm check renders every service chart
with values of the same shape, so a chart that the umbrella could not deploy fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from naavre_scaffold.rules import camel_case

EXAMPLE_DOMAIN = "naavre.example.org"

UMBRELLA_CHART = "naavre/Chart.yaml"
UMBRELLA_VALUES = "naavre/values.yaml"
VALUES_CHART = "values/Chart.yaml"
VALUES_VALUES = "values/values.yaml"
JUPYTERHUB_TEMPLATE = "values/templates/jupyterhub.yaml"
BINDERHUB_TEMPLATE = "values/templates/binderhub.yaml"
# Newer NaaVRE-helm builds each lab's image with BinderHub, installing these extensions.
BINDER_REQUIREMENTS = ("binderhub", "builder", "naavre_requirements")


def values_template_path(chart: str) -> str:
    return f"values/templates/{chart}.yaml"


def lab_file_path(slug: str) -> str:
    return f"values/virtual-labs/values-{slug}.public.yaml"


def chart_dependency(chart: str, chart_repository: str, version: str) -> dict[str, Any]:
    """The entry for ``dependencies:`` in ``naavre/Chart.yaml``."""
    return {
        "name": chart,
        "version": version,
        "repository": chart_repository,
        "condition": f"{chart}.enabled",
    }


def component_values(chart: str) -> dict[str, Any]:
    """The block of ``values/values.yaml`` for a service, under its chart's camelCase (naavreXService):
    on, and the path it is served under."""
    return {camel_case(chart): {"enabled": True, "ingress": {"basePath": f"/{chart}"}}}


def url_setting(setting: str, camel: str) -> str:
    """An overrides.json member ``"<setting>": "<URL of the service camel>"`` as a ``values/`` template
    writes it: Helm fills in the URL (``$`` works inside a range) before JSON is read."""
    domain = "{{ $.Values.global.ingress.domain }}"
    base_path = '{{ trimAll "/" ($.Values.' + camel + ".ingress.basePath) }}"
    url = f"https://{domain}/{base_path}"
    return f'"{setting}": "{url}"'


def service_values_template(chart: str) -> str:
    """``values/templates/<chart>.yaml``: the service's values, made from the deployment's ``global``.

    The same shape as NaaVRE-helm's other service templates: its ingress on the
    deployment's domain under its basePath, TLS only when the deployment has it, the
    OIDC discovery URL of the external or the bundled Keycloak, and the virtual labs
    that are enabled, as the configuration file the service reads.
    """
    return _SERVICE_VALUES.replace("__CHART__", chart).replace("__CAMEL__", camel_case(chart))


_SERVICE_VALUES = """\
{{- $domain := .Values.global.ingress.domain }}
{{- $basePath := trimAll "/" .Values.__CAMEL__.ingress.basePath }}
{{- $keycloak := .Values.global.externalServices.keycloak }}
__CHART__:
  enabled: {{ .Values.__CAMEL__.enabled }}
  fullnameOverride: "{{ include "values.fullname" . }}-__CHART__"

  ingress:
    enabled: true
    className: "nginx"
    {{- with .Values.global.ingress.commonAnnotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    hosts:
      - host: "{{ $domain }}"
        paths:
          - path: "/{{ $basePath }}/"
            pathType: Prefix
    {{- if .Values.global.ingress.tls.enabled }}
    tls:
      - hosts:
          - "{{ $domain }}"
        secretName: "{{ $domain }}-tls"
    {{- end }}

  conf:
    rootPath: "/{{ $basePath }}"
    virtual_labs_configuration:
      # The enabled virtual labs, as the service's configuration file lists them.
      {{- $labs := list }}
      {{- range $key, $lab := .Values.jupyterhub.vlabs }}
      {{- if $lab.enabled }}
      {{- $tags := dig "configuration" "base_image_tags_url" "" $lab }}
      {{- $labs = append $labs (dict "name" $lab.slug "base_image_tags_url" $tags) }}
      {{- end }}
      {{- end }}
      rawJson: {{ dict "vl_configurations" $labs | toJson | quote }}

  env:
    {{- if .Values.global.insecureSkipVerifySSL }}
    VERIFY_SSL: "false"
    {{- end }}
    {{- $realm := printf "https://%s/%s/realms/vre" $domain (trimAll "/" .Values.keycloak.ingress.basePath) }}
    {{- if $keycloak.useExternal }}
    {{- $realm = printf "%s/realms/%s" (trimSuffix "/" $keycloak.url) $keycloak.realm }}
    {{- end }}
    OIDC_CONFIGURATION_URL: "{{ $realm }}/.well-known/openid-configuration"
    CONFIG_FILE_URL: "/configuration.json"

  affinity:
    {{- toYaml .Values.global.common.corePods.affinity | nindent 4 }}
"""


# Every real lab's containerizer maps Python modules to conda packages with this file.
MODULE_MAPPING_URL = "https://raw.githubusercontent.com/QCDIS/NaaVRE-conf/main/module_mapping.json"
# What the real labs give the workflow service's splitter.
SPLITTER_MAX_BRANCHES = 32
# The community every real lab shares its cells with (values/virtual-labs/communities.yaml).
DEFAULT_COMMUNITY = "naavre"


@dataclass(frozen=True)
class LabSettings:
    """What a lab needs besides its image: the containerizer's settings and the catalogue's keys.

    ``cell_github_url`` is the GitHub repository the containerizer pushes the lab's cells
    to, ``registry_url`` where their images go; ``communities`` and ``labels`` are keys of
    ``jupyterhub.communities`` and ``jupyterhub.vlabLabels``, which the catalogue hook
    reads for every enabled lab. The token for ``cell_github_url`` is a secret: it goes
    in the lab's SOPS-encrypted file, never here.
    """

    cell_github_url: str
    registry_url: str
    module_mapping_url: str = MODULE_MAPPING_URL
    communities: tuple[str, ...] = (DEFAULT_COMMUNITY,)
    labels: tuple[str, ...] = ()


# For a lab written by hand (next_steps): what only its author can fill in.
TO_FILL = LabSettings(
    cell_github_url="<the lab's cells repository, https://github.com/<org>/<repo>>",
    registry_url="<its cells' image registry, ghcr.io/<org>/<repo>>",
)


def virtual_lab(
    slug: str, flavor: str, image: str, tag: str, tags_url: str, settings: LabSettings
) -> dict[str, Any]:
    """``values/virtual-labs/values-<slug>.public.yaml``: a lab on a flavor's Jupyter image of one release.

    Shaped like the real lab files: off until a deployment enables it, every key the
    catalogue hook reads (``labels``, ``communities``) and every per-lab setting the
    containerizer's ``VLConfig`` requires except the token, which is a secret.
    """
    return {
        "jupyterhub": {
            "vlabs": {
                slug: {
                    "enabled": False,
                    "slug": slug,
                    "title": f"{slug.replace('-', ' ').title()} lab",
                    "communities": list(settings.communities),
                    "labels": list(settings.labels),
                    "description": f"A virtual lab on the NaaVRE {flavor} flavor.",
                    "dirname": slug.replace("-", " ").title(),
                    "image": {"name": image, "tag": tag},
                    "configuration": {
                        "base_image_tags_url": tags_url,
                        "module_mapping_url": settings.module_mapping_url,
                        "cell_github_url": settings.cell_github_url,
                        "registry_url": settings.registry_url,
                        "log_queries": True,
                        "splitter_max_branches": SPLITTER_MAX_BRANCHES,
                    },
                }
            }
        }
    }


def lab_secrets_path(slug: str) -> str:
    return f"values/virtual-labs/values-{slug}.secrets.yaml"


def lab_enabled(slug: str) -> dict[str, Any]:
    """What a deployment's values add to offer the lab (lab files leave every lab off)."""
    return {"jupyterhub": {"vlabs": {slug: {"enabled": True}}}}


def lab_secrets(slug: str, token: str) -> dict[str, Any]:
    """``values-<slug>.secrets.yaml`` once decrypted: the token the containerizer pushes cells with."""
    return {"jupyterhub": {"vlabs": {slug: {"configuration": {"cell_github_token": token}}}}}


def virtual_lab_of(
    images: dict[str, Any],
    owner: dict[str, Any],
    repository: str,
    flavor: str,
    slug: str,
    tag: str,
    settings: LabSettings = TO_FILL,
) -> dict[str, Any]:
    """``virtual_lab`` for a flavor of a flavors repository made by naavre-scaffold.

    ``images`` is its ``naavre-flavors.yml`` (registry, image prefix) and ``owner`` its
    answers (GitHub organisation and name), which give the release's tags file.
    """
    image = f"{images.get('registry', '<registry>')}/{images.get('image_prefix', '')}{flavor}-jupyter"
    tags_url = (
        f"https://github.com/{owner.get('github_org', '<org>')}/{owner.get('name', repository)}"
        f"/releases/download/{tag}/base_image_tags.json"
    )
    return virtual_lab(slug, flavor, image, tag, tags_url, settings)


def service_values(chart: str, release: str = "naavre", domain: str = EXAMPLE_DOMAIN) -> dict[str, Any]:
    """The values that ``service_values_template`` renders for one deployment, as a dict.

    The helm check renders every service chart with these: TLS on, the bundled
    Keycloak, one enabled lab (``tests/test_register.py`` renders the template itself
    and checks that the two agree).
    """
    base_path = f"/{chart}"
    labs = {"vl_configurations": [{"name": "test-virtual-lab-1", "base_image_tags_url": ""}]}
    # As Helm's toJson writes it: keys sorted, no spaces.
    raw_json = json.dumps(labs, separators=(",", ":"), sort_keys=True)
    return {
        "enabled": True,
        "fullnameOverride": f"{release}-{chart}",
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": [{"host": domain, "paths": [{"path": f"{base_path}/", "pathType": "Prefix"}]}],
            "tls": [{"hosts": [domain], "secretName": f"{domain}-tls"}],
        },
        "conf": {
            "rootPath": base_path,
            "virtual_labs_configuration": {"rawJson": raw_json},
        },
        "env": {
            "OIDC_CONFIGURATION_URL": f"https://{domain}/auth/realms/vre/.well-known/openid-configuration",
            "CONFIG_FILE_URL": "/configuration.json",
        },
        "affinity": {},
    }

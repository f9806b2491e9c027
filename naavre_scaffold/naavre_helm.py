"""How the NaaVRE-helm umbrella chart consumes a service chart, written once.

``new`` prints these blocks as the snippet to paste into NaaVRE-helm, and the helm
check renders every service chart with the same values, so a chart that the
umbrella could not deploy fails its checks.
"""

from __future__ import annotations

import json
from typing import Any

EXAMPLE_DOMAIN = "naavre.example.org"


def chart_dependency(chart: str, chart_repository: str, version: str = "0.1.0") -> dict[str, Any]:
    """The entry for ``dependencies:`` in NaaVRE-helm's ``naavre/Chart.yaml``."""
    return {
        "name": chart,
        "version": version,
        "repository": chart_repository,
        "condition": f"{chart}.enabled",
    }


def service_values(chart: str, release: str = "naavre", domain: str = EXAMPLE_DOMAIN) -> dict[str, Any]:
    """The values block NaaVRE-helm passes to a service chart named ``chart``.

    Same shape as the umbrella's own: a ``<release>-naavre-<svc>`` full name, an
    nginx ingress with a Prefix path ``/<chart>/``, the matching root path, the
    virtual labs as raw JSON and the OIDC discovery URL of the NaaVRE Keycloak.
    """
    base_path = f"/{chart}"
    short_name = chart.removeprefix("naavre-").removesuffix("-service")
    labs = {"vl_configurations": [{"name": "test-virtual-lab-1", "base_image_tags_url": ""}]}
    return {
        "enabled": True,
        "fullnameOverride": f"{release}-naavre-{short_name}",
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {},
            "hosts": [{"host": domain, "paths": [{"path": f"{base_path}/", "pathType": "Prefix"}]}],
            "tls": [{"hosts": [domain], "secretName": f"{release}-tls"}],
        },
        "conf": {
            "rootPath": base_path,
            "virtual_labs_configuration": {"rawJson": json.dumps(labs)},
        },
        "env": {
            "OIDC_CONFIGURATION_URL": f"https://{domain}/auth/realms/vre/.well-known/openid-configuration",
            "CONFIG_FILE_URL": "/configuration.json",
        },
    }

"""The NaaVRE-helm stand-in under tests/fixtures/naavre-helm: its files load and its values chart renders.

deploy.sh runs ``helm template <release> values/ -f <file>...``: the -f files are merged in order, then
coalesced with values/values.yaml. Chart.render does the coalescing; the merge of the -f files is done here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

FIXTURE = Path(__file__).parent / "fixtures" / "naavre-helm"
VALUES_CHART = FIXTURE / "values"
LABS = VALUES_CHART / "virtual-labs"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two values files as helm merges repeated -f options: maps merge, the rest is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def render(*files: Path) -> dict[str, Any]:
    """The values files deploy.sh would write for the naavre chart, by template name, parsed."""
    user: dict[str, Any] = {}
    for path in files:
        user = merge(user, load(path))
    with helm_python.Chart.load(VALUES_CHART) as chart:
        rendered = chart.render(values=user, name="naavre", namespace="naavre")
    return {Path(name).name: yaml.safe_load(text) for name, text in rendered.items()}


DEPLOYMENTS = {
    # Lab files first, as deploy.sh passes them; the aneris file leaves that lab disabled.
    "tls-external": (LABS / "values-aneris.public.yaml", VALUES_CHART / "values-deploy-tls-external.yaml"),
    "minikube": (VALUES_CHART / "values-deploy-minikube.yaml",),
}


@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_values_chart_renders_service_values(deployment: str) -> None:
    files = render(*DEPLOYMENTS[deployment])
    tls = deployment == "tls-external"
    domain = "naavre.example.org" if tls else "naavre.local"
    assert set(files) == {"jupyterhub.yaml", "naavre-catalogue-service.yaml", "naavre-workflow-service.yaml"}

    catalogue = files["naavre-catalogue-service.yaml"]["naavre-catalogue-service"]
    assert catalogue["enabled"] is True
    assert catalogue["fullnameOverride"] == "naavre-naavre-catalogue-service"
    ingress = catalogue["ingress"]
    assert ingress["hosts"] == [
        {"host": domain, "paths": [{"path": "/naavre-catalogue-service/", "pathType": "Prefix"}]}
    ]
    if tls:
        assert ingress["tls"] == [{"secretName": f"{domain}-tls", "hosts": [domain]}]
        assert ingress["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    else:
        assert "tls" not in ingress and "annotations" not in ingress
    assert catalogue["conf"]["rootPath"] == "/naavre-catalogue-service"

    env = catalogue["env"]
    assert ("VERIFY_SSL" in env) is (not tls)
    if not tls:
        assert env["VERIFY_SSL"] == "false"
    oidc = (
        "https://keycloak.example.org/realms/science/.well-known/openid-configuration"
        if tls
        else "https://naavre.local/auth/realms/vre/.well-known/openid-configuration"
    )
    assert env["OIDC_CONFIGURATION_URL"] == oidc
    assert env["CONFIG_FILE_URL"] == "/configuration.json"

    labs = json.loads(catalogue["conf"]["virtual_labs_configuration"]["rawJson"])
    assert [lab["name"] for lab in labs] == (["openlab"] if tls else ["aneris", "openlab"])
    assert labs[-1]["title"] == "NaaVRE Open Lab"

    workflow = files["naavre-workflow-service.yaml"]["naavre-workflow-service"]
    assert workflow["conf"]["virtual_labs_configuration"] == catalogue["conf"]["virtual_labs_configuration"]
    affinity = workflow["affinity"]
    if tls:
        required = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [term] = required["nodeSelectorTerms"]
        assert term["matchExpressions"] == [{"key": "node-role/core", "operator": "In", "values": ["true"]}]
    else:
        assert affinity == {}

    hub = files["jupyterhub.yaml"]["jupyterhub"]
    extra = hub["singleuser"]["extraFiles"]
    overrides = json.loads(extra["overrides.json"]["stringData"])
    assert overrides["@naavre/workflow-jupyterlab:plugin"] == {
        "workflowServiceUrl": f"https://{domain}/naavre-workflow-service",
        "catalogueServiceUrl": f"https://{domain}/naavre-catalogue-service",
    }
    script = extra["setup_virtual_lab.sh"]["stringData"]
    assert 'for ext in "catalogue" "containerizer" "workflow"; do' in script
    images = [profile["kubespawner_override"]["image"] for profile in hub["singleuser"]["profileList"]]
    vanilla = "ghcr.io/naavre/flavors/naavre-fl-vanilla-jupyter:v0.3.6"
    aneris = "ghcr.io/naavre/flavors/naavre-fl-aneris-jupyter:v0.3.6"
    assert images == ([vanilla] if tls else [aneris, vanilla])


def test_plain_yaml_files_load() -> None:
    chart = load(FIXTURE / "naavre" / "Chart.yaml")
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("naavre", "0.1.0", "v2.5.0")
    dependencies = {dep["name"]: dep for dep in chart["dependencies"]}
    assert dependencies["naavre-catalogue-service"] == {
        "name": "naavre-catalogue-service",
        "version": "v0.6.6",
        "repository": "oci://ghcr.io/naavre/charts",
        "condition": "naavre-catalogue-service.enabled",
    }
    assert all(dep["condition"] == f"{name}.enabled" for name, dep in dependencies.items())

    umbrella = load(FIXTURE / "naavre" / "values.yaml")
    assert all(umbrella[name] == {"enabled": True} for name in dependencies)
    assert umbrella["global"]["ingress"]["domain"] == "example.com"

    values = load(VALUES_CHART / "values.yaml")
    assert values["global"]["externalServices"]["keycloak"]["url"] == "nil"
    assert values["naavreCatalogueService"]["ingress"]["basePath"] == "/naavre-catalogue-service"
    assert values["naavrePaasFrontend"] == {"enabled": True}
    assert load(LABS / "values-openlab.public.yaml")["jupyterhub"]["vlabs"] == values["jupyterhub"]["vlabs"]

    aneris = load(LABS / "values-aneris.public.yaml")["jupyterhub"]["vlabs"]["aneris"]
    assert aneris["enabled"] is False and aneris["communities"] == ["naavre"]
    assert aneris["description"].endswith("workflows.\n")

"""The service chart, rendered by Helm's own engine: fake-token guard, configuration Secret, env defaults."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate.utils as kube
import pytest
import yaml

from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification.helm import umbrella_values, validate_manifests
from tests.helpers import render

NAME = "chart-check"
SLUG = f"naavre-{NAME}-service"
RELEASE = "naavre"
NAMESPACE = "naavre"
FULLNAME = f"{RELEASE}-{SLUG}"
OIDC_URL = "https://naavre.example.org/auth/realms/vre/.well-known/openid-configuration"
INGRESS_ON = {"enabled": True, "className": "nginx"}
# A lab block as NaaVRE-helm writes it: with tokens that must not end up in a ConfigMap.
LABS_WITH_TOKENS = {
    "vl_configurations": [
        {
            "name": "lab-with-secrets",
            "cell_github_url": "https://github.com/example/cells",
            "cell_github_token": "ghp_chartTestTokenThatMustStaySecret",
            "workflow_service_account_token": "argo-token-that-must-stay-secret",
        }
    ]
}


@pytest.fixture(scope="module")
def chart_path(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chart of a service rendered from this checkout, once for the module."""
    dest = tmp_path_factory.mktemp("chart") / f"NaaVRE-{NAME}-service"
    render(template_git, dest, "service", name=NAME)
    chart = dest / "helm" / SLUG
    assert (chart / "Chart.yaml").is_file()
    return chart


@pytest.fixture(scope="module")
def chart(chart_path: Path) -> Iterator[Any]:
    with helm_python.Chart.load(chart_path) as loaded:
        yield loaded


def manifests(chart: Any, values: dict[str, Any] | None = None) -> dict[str, str]:
    return chart.render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def objects(rendered: dict[str, str]) -> list[dict[str, Any]]:
    return [
        doc
        for template, text in sorted(rendered.items())
        if not template.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc is not None
    ]


def one(rendered: dict[str, str], kind: str) -> dict[str, Any]:
    found = [obj for obj in objects(rendered) if obj["kind"] == kind]
    assert len(found) == 1, f"{len(found)} objects of kind {kind}"
    return found[0]


def container_env(rendered: dict[str, str]) -> dict[str, str]:
    [container] = one(rendered, "Deployment")["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item["value"] for item in container["env"]}


def render_error(chart: Any, values: dict[str, Any]) -> str:
    with pytest.raises(helm_python.HelmError) as raised:
        manifests(chart, values)
    return str(raised.value)


def assert_valid(rendered: dict[str, str]) -> None:
    problems = validate_manifests(kube, rendered, kube.latest_version())
    assert problems == []


# --- A. Fake-token mode guard and the "true"/"false" flags --------------------------------------


def test_naavre_helm_values_render_and_lint(chart: Any, chart_path: Path) -> None:
    values = umbrella_values(SLUG)
    assert "DISABLE_AUTH" not in values["env"] and values["ingress"]["enabled"]
    report = helm_python.lint(chart_path, values, strict=True)
    assert report["errors"] == []
    rendered = manifests(chart, values)
    assert_valid(rendered)
    env = container_env(rendered)
    assert env["DISABLE_AUTH"] == "false"
    assert env["OIDC_CONFIGURATION_URL"] == values["env"]["OIDC_CONFIGURATION_URL"]
    assert one(rendered, "Ingress")["spec"]["ingressClassName"] == "nginx"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"env": {"DISABLE_AUTH": "true"}, "ingress": INGRESS_ON}, "ingress.enabled"),
        ({"env": {"DISABLE_AUTH": "true", "OIDC_CONFIGURATION_URL": OIDC_URL}}, "env.OIDC_CONFIGURATION_URL"),
        (
            {"env": {"DISABLE_AUTH": "true", "OIDC_CONFIGURATION_URL": OIDC_URL}, "ingress": INGRESS_ON},
            "ingress.enabled",
        ),
    ],
    ids=["ingress", "oidc-url", "both"],
)
def test_fake_token_mode_is_refused_where_reachable(chart: Any, values: dict[str, Any], named: str) -> None:
    message = render_error(chart, values)
    assert "env.DISABLE_AUTH" in message and named in message
    assert "fake" in message


def test_fake_token_mode_is_refused_on_top_of_naavre_helm_values(chart: Any) -> None:
    values = umbrella_values(SLUG)
    values["env"]["DISABLE_AUTH"] = "true"
    message = render_error(chart, values)
    assert "env.DISABLE_AUTH" in message and "ingress.enabled" in message


def test_fake_token_mode_without_ingress_or_oidc_renders(chart: Any) -> None:
    """Local development (port-forward only) stays possible: the guard is not a blanket ban."""
    rendered = manifests(chart, {"env": {"DISABLE_AUTH": "true"}})
    assert_valid(rendered)
    assert container_env(rendered)["DISABLE_AUTH"] == "true"
    assert not any(obj["kind"] == "Ingress" for obj in objects(rendered))


def test_real_auth_behind_ingress_renders(chart: Any) -> None:
    values = {"env": {"DISABLE_AUTH": "false", "OIDC_CONFIGURATION_URL": OIDC_URL}, "ingress": INGRESS_ON}
    rendered = manifests(chart, values)
    assert_valid(rendered)
    assert container_env(rendered)["DISABLE_AUTH"] == "false"


@pytest.mark.parametrize("flag", ["DISABLE_AUTH", "VERIFY_SSL", "DEBUG"])
@pytest.mark.parametrize("value", ["True", "1", "yes", "", True])
def test_flags_accept_only_true_or_false(chart: Any, chart_path: Path, flag: str, value: object) -> None:
    values = {"env": {flag: value}}
    with pytest.raises(helm_python.HelmValuesError) as raised:
        manifests(chart, values)
    assert f"/env/{flag}" in str(raised.value)
    errors = helm_python.lint(chart_path, values, strict=True)["errors"]
    assert any(f"/env/{flag}" in error for error in errors), errors


@pytest.mark.parametrize("flag", ["DISABLE_AUTH", "VERIFY_SSL", "DEBUG"])
@pytest.mark.parametrize("value", ["true", "false"])
def test_flags_pass_true_and_false_through(chart: Any, flag: str, value: str) -> None:
    assert container_env(manifests(chart, {"env": {flag: value}}))[flag] == value


# --- B. The virtual-lab configuration is a Secret -----------------------------------------------


def test_configuration_is_a_secret_not_a_configmap(chart: Any) -> None:
    raw = json.dumps(LABS_WITH_TOKENS)
    values = umbrella_values(SLUG)
    values["conf"]["virtual_labs_configuration"]["rawJson"] = raw
    rendered = manifests(chart, values)
    assert_valid(rendered)
    secret = one(rendered, "Secret")
    assert secret["metadata"]["name"] == values["fullnameOverride"]
    stored = {**secret.get("stringData", {})}
    stored.update({k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()})
    assert set(stored) == {"configuration.json"}
    assert json.loads(stored["configuration.json"]) == LABS_WITH_TOKENS
    assert not any(obj["kind"] == "ConfigMap" for obj in objects(rendered))
    # The tokens appear in no other object, in any form.
    token = LABS_WITH_TOKENS["vl_configurations"][0]["cell_github_token"]
    encoded = base64.b64encode(raw.encode()).decode()
    for obj in objects(rendered):
        if obj["kind"] != "Secret":
            text = json.dumps(obj)
            assert token not in text and encoded not in text, obj["kind"]


def test_deployment_mounts_the_secret_as_configuration_json(chart: Any) -> None:
    rendered = manifests(chart)
    secret = one(rendered, "Secret")
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == secret["metadata"]["name"] == FULLNAME
    assert not any("configMap" in v for v in pod["volumes"])
    mode = volume["secret"]["defaultMode"]
    # Readable by owner and group only, nobody else, and writable by no one.
    assert mode & 0o440 == 0o440 and mode & 0o227 == 0, oct(mode)
    # The file belongs to the fsGroup, which is the app's group: UID 10001 can read it.
    security = pod["securityContext"]
    assert security["fsGroup"] == security["runAsGroup"] == 10001 and security["runAsUser"] == 10001
    [container] = pod["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount == {
        "name": volume["name"],
        "mountPath": "/configuration.json",
        "subPath": "configuration.json",
        "readOnly": True,
    }
    key = next(iter({**secret.get("data", {}), **secret.get("stringData", {})}))
    assert mount["subPath"] == key
    assert container_env(rendered)["CONFIG_FILE_URL"] == mount["mountPath"]


def test_checksum_follows_the_secret(chart: Any) -> None:
    def checksum_and_secret(raw: str) -> tuple[str, str]:
        rendered = manifests(chart, {"conf": {"virtual_labs_configuration": {"rawJson": raw}}})
        annotations = one(rendered, "Deployment")["spec"]["template"]["metadata"]["annotations"]
        [secret_text] = [text for template, text in rendered.items() if template.endswith("/secret.yaml")]
        return annotations["checksum/config"], secret_text

    first, secret_text = checksum_and_secret('{"vl_configurations": []}')
    assert first == hashlib.sha256(secret_text.encode()).hexdigest()
    assert checksum_and_secret('{"vl_configurations": []}')[0] == first
    changed, changed_secret = checksum_and_secret(json.dumps(LABS_WITH_TOKENS))
    assert changed != first
    assert changed == hashlib.sha256(changed_secret.encode()).hexdigest()


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"a string"'], ids=["broken", "array", "string"])
def test_configuration_must_be_a_json_object(chart: Any, raw: str) -> None:
    message = render_error(chart, {"conf": {"virtual_labs_configuration": {"rawJson": raw}}})
    assert "conf.virtual_labs_configuration.rawJson must be a JSON object" in message


# --- C. Forwarded headers from the ingress ------------------------------------------------------


def test_forwarded_allow_ips_defaults_to_any_peer(chart: Any, chart_path: Path) -> None:
    defaults = yaml.safe_load((chart_path / "values.yaml").read_text())
    assert defaults["env"]["FORWARDED_ALLOW_IPS"] == "*"
    assert container_env(manifests(chart))["FORWARDED_ALLOW_IPS"] == "*"
    assert container_env(manifests(chart, umbrella_values(SLUG)))["FORWARDED_ALLOW_IPS"] == "*"
    narrowed = manifests(chart, {"env": {"FORWARDED_ALLOW_IPS": "10.0.0.0/8"}})
    assert container_env(narrowed)["FORWARDED_ALLOW_IPS"] == "10.0.0.0/8"
    with pytest.raises(helm_python.HelmValuesError, match="FORWARDED_ALLOW_IPS"):
        manifests(chart, {"env": {"FORWARDED_ALLOW_IPS": 10}})

"""The consumers' own code, vendored under tests/fixtures/consumers, run on the lab ``register`` writes.

NaaVRE-helm's post-upgrade hook runs a Django script that reads every enabled lab's
``labels`` and ``communities`` (a KeyError fails the upgrade), and the containerizer
service loads each enabled lab into its ``VLConfig`` model, which takes NaaVRE-helm's
``"<no value>"`` for a missing key and fails only at the first containerization.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import helm_python
import pytest
import yaml

from tests.helpers import commit_all
from tests.test_naavre_helm_fixture import merge
from tests.test_register import _run, naavre_helm_checkout

CONSUMERS = Path(__file__).parent / "fixtures" / "consumers"
HELM = CONSUMERS / "NaaVRE-helm"
HOOK = HELM / "naavre" / "templates" / "job-create-vls-in-catalogue.yaml"
CELLS = "https://github.com/NaaVRE/cells-vl-eco"
# What the lab needs on the command line; the rest comes from the flavors repository.
LAB_OPTIONS = ("--cell-github-url", CELLS)
TOKEN = "github_pat_for_tests"
# Written here as NaaVRE-helm's README says, not by the code under test: the lab's decrypted
# values-eco.secrets.yaml, and what a deployment's values add to offer the lab.
SECRETS = {"jupyterhub": {"vlabs": {"eco": {"configuration": {"cell_github_token": TOKEN}}}}}
ENABLED = {"jupyterhub": {"vlabs": {"eco": {"enabled": True}}}}
# What NaaVRE-helm's own values/values.yaml and a deployment's secrets give global.yaml besides labs.
DEPLOYMENT_DEFAULTS: dict[str, Any] = {
    "global": {
        "secrets": {
            "keycloak": {
                "naavreClientSecret": "secret",
                "adminPassword": "secret",
                "postgresql": {"database": "keycloak", "username": "keycloak", "password": "secret"},
            },
            "seaweedfs": {
                "catalogueBucket": {"access_key": "key", "secret_key": "secret"},
                "argoBucket": {"access_key": "key", "secret_key": "secret"},
            },
        },
        "common": {"userPods": {"createExtraVolumes": False}},
    },
    "keycloak": {"image": "quay.io/keycloak/keycloak"},
    "seaweedfs": {"catalogueBucket": {"bucket_name": "catalogue"}, "argoBucket": {"bucket_name": "argo"}},
    "naavreContainerizerService": {"image": {"tag": "v0.4.7"}},
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The values deploy.sh renders for a deployment that enables the lab eco register wrote.

    As ``deploy.sh --use-vlic-secrets``: every file of values/virtual-labs (the lab's
    secrets file decrypted), then the deployment's, which turns the lab on; the values
    chart gains NaaVRE-helm's own global.yaml and containerizer templates.
    """
    flavors = tmp_path_factory.mktemp("flavors") / "flavors"
    assert _run("new", "flavors-repo", "flavors", "--defaults", "-q", "--dest", str(flavors))[0] == 0
    assert (
        _run("new", "flavor", "eco", "--defaults", "-q", "--dest", str(flavors / "flavors" / "eco"))[0] == 0
    )
    commit_all(flavors, "Add the eco flavor")
    checkout = naavre_helm_checkout(tmp_path_factory.mktemp("deployment"))
    code, _, err = _run(
        "register",
        str(flavors / "flavors" / "eco"),
        "--naavre-helm",
        str(checkout),
        "--version",
        "v0.2.0",
        *LAB_OPTIONS,
    )
    assert code == 0, err
    for template in ("global.yaml", "naavre-containerizer-service.yaml"):
        shutil.copy(HELM / "values" / "templates" / template, checkout / "values" / "templates" / template)
    (checkout / "values" / "virtual-labs" / "values-eco.secrets.yaml").write_text(yaml.safe_dump(SECRETS))

    values: dict[str, Any] = {}
    for path in sorted((checkout / "values" / "virtual-labs").iterdir()):
        values = merge(values, yaml.safe_load(path.read_text()))
    deployment = yaml.safe_load((checkout / "values" / "values-deploy-tls-external.yaml").read_text())
    for layer in (deployment, DEPLOYMENT_DEFAULTS, ENABLED):
        values = merge(values, layer)
    with helm_python.Chart.load(checkout / "values") as chart:
        rendered = chart.render(values=values, name="naavre", namespace="naavre")
    # deploy.sh gives each rendered file to the naavre chart with -f, in turn.
    umbrella: dict[str, Any] = {}
    for text in rendered.values():
        umbrella = merge(umbrella, yaml.safe_load(text) or {})
    return umbrella


class Related:
    """A many-to-many field: ``set`` takes instances of one model only."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.items: list[Model] = []

    def set(self, items: list[Model]) -> None:
        assert all(isinstance(item, self.model) for item in items), items
        self.items = list(items)


class Query:
    """The rows of a ``filter``: what the script calls on it, and nothing else."""

    def __init__(self, rows: list[Model]) -> None:
        self.rows = rows

    def exists(self) -> bool:
        return bool(self.rows)

    def update(self, **fields: Any) -> None:
        for row in self.rows:
            row.assign(fields)

    def __getitem__(self, index: int) -> Model:
        return self.rows[index]


class Manager:
    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.rows: list[Model] = []

    def filter(self, **match: Any) -> Query:
        return Query([row for row in self.rows if all(getattr(row, k) == v for k, v in match.items())])

    def create(self, **fields: Any) -> Model:
        row = self.model()
        row.assign(fields)
        self.rows.append(row)
        return row


class Model:
    """A Django model stand-in that checks every field the script sets is one the model has, as a string.

    ``required`` fields must be non-empty strings; ``optional`` ones may be empty.
    """

    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    related: ClassVar[dict[str, str]] = {}
    objects: ClassVar[Manager]

    def __init__(self) -> None:
        for name, model in self.related.items():
            setattr(self, name, Related(MODELS[model]))

    def assign(self, fields: dict[str, Any]) -> None:
        unknown = set(fields) - set(self.required) - set(self.optional)
        assert not unknown, f"{type(self).__name__} has no field {unknown}"
        missing = [name for name in self.required if not fields.get(name) and not getattr(self, name, "")]
        assert not missing, f"{type(self).__name__} needs {missing}: {fields}"
        for name, value in fields.items():
            assert isinstance(value, str), f"{type(self).__name__}.{name} = {value!r} is not a string"
            setattr(self, name, value)


class SharingScope(Model):
    required = ("slug", "title", "label")


class VirtualLabLabel(Model):
    required = ("title", "color")


class VirtualLab(Model):
    required = ("slug", "title", "description", "deployment_url", "container_image")
    optional = ("image",)  # the lab's icon, none here
    related: ClassVar[dict[str, str]] = {
        "labels": "VirtualLabLabel",
        "visible_sharing_scopes": "SharingScope",
        "checked_sharing_scopes": "SharingScope",
    }


MODELS: dict[str, type[Model]] = {m.__name__: m for m in (SharingScope, VirtualLabLabel, VirtualLab)}


@pytest.fixture
def django_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, type[Model]]]:
    """The script's two model modules, in memory and empty."""
    for model in MODELS.values():
        model.objects = Manager(model)
    for module, names in (
        ("base_assets", ["SharingScope"]),
        ("virtual_labs", ["VirtualLabLabel", "VirtualLab"]),
    ):
        stand_in = type(sys)(f"{module}.models")
        for name in names:
            setattr(stand_in, name, MODELS[name])
        monkeypatch.setitem(sys.modules, module, type(sys)(module))
        monkeypatch.setitem(sys.modules, f"{module}.models", stand_in)
    yield MODELS


def hook_script(values: dict[str, Any], tmp_path: Path) -> str:
    """The hook's Django script as Helm renders it into its ConfigMap for the naavre chart's ``values``."""
    [configmap] = [doc for doc in HOOK.read_text().split("\n---\n") if "kind: ConfigMap" in doc]
    body = configmap.split("  django_script.py: |\n", 1)[1]
    # The script is a block scalar: its lines are indented four spaces, blank lines empty.
    script = "\n".join(line.removeprefix("    ") for line in body.splitlines()) + "\n"
    chart = tmp_path / "hook"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: hook\nversion: 0.1.0\n")
    (chart / "templates" / "script.py").write_text(script)
    with helm_python.Chart.load(chart) as loaded:
        [rendered] = loaded.render(values=values, name="naavre", namespace="naavre").values()
    return rendered


def test_the_catalogue_hook_creates_the_registered_lab(
    deployed: dict[str, Any], django_models: dict[str, type[Model]], tmp_path: Path
) -> None:
    script = hook_script(deployed, tmp_path)

    exec(compile(script, str(HOOK), "exec"), {"__name__": "__main__"})

    [eco] = django_models["VirtualLab"].objects.filter(slug="eco").rows
    assert eco.container_image == "ghcr.io/naavre/flavors/naavre-fl-eco-jupyter:v0.2.0"
    assert eco.deployment_url == (
        "https://naavre.example.org/jupyter/user-redirect/lab/workspaces/eco/?profile=eco"
    )
    scopes = {scope.slug for scope in eco.checked_sharing_scopes.items}
    assert scopes == {"eco", "naavre"}  # its own, and its community: none undefined
    assert eco.labels.items == []


def _vl_config() -> type:
    """The containerizer's own ``VLConfig`` model, loaded from its vendored file."""
    path = CONSUMERS / "NaaVRE-containerizer-service" / "app" / "models" / "vl_config.py"
    spec = importlib.util.spec_from_file_location("vendored_vl_config", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VLConfig


def test_the_containerizer_takes_the_registered_lab(deployed: dict[str, Any]) -> None:
    raw = deployed["naavre-containerizer-service"]["conf"]["virtual_labs_configuration"]["rawJson"]
    [entry] = [lab for lab in json.loads(raw)["vl_configurations"] if lab["name"] == "eco"]

    config = _vl_config()(**entry)

    fields = config.model_dump()
    empty = {name: value for name, value in fields.items() if not value or value == "<no value>"}
    assert not empty, f"the containerizer would get {empty} for the lab eco"
    assert config.cell_github_url == CELLS
    assert config.registry_url == "ghcr.io/naavre/cells-vl-eco"
    assert config.cell_github_token == TOKEN  # from the encrypted file only
    assert re.fullmatch(r"https://\S+/module_mapping\.json", config.module_mapping_url)

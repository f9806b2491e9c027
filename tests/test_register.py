"""``naavre-scaffold register``: a component goes into a NaaVRE-helm-shaped checkout, and the result deploys.

The checkout is tests/fixtures/naavre-helm (written for these tests from the facts
about NaaVRE-helm, not a copy of it), committed in a fresh git repository. Proof is
by rendering, as deploy.sh does: the ``values/`` chart for a deployment, then the
service's own chart with the block it rendered, every object validated strictly.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate.utils as kube
import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from naavre_scaffold.registration import naavre_helm
from naavre_scaffold.verification.helm import validate_manifests
from tests.helpers import commit_all, tree
from tests.test_naavre_helm_fixture import FIXTURE, merge

CHART = "naavre-data-quality-service"
AFFINITY_LABEL = "node-role/core"
CELLS = ("--cell-github-url", "https://github.com/NaaVRE/cells-vl-eco")


def naavre_helm_checkout(parent: Path, name: str = "NaaVRE-helm") -> Path:
    """A git checkout of the NaaVRE-helm fixture at ``parent/name``, everything committed."""
    checkout = parent / name
    shutil.copytree(FIXTURE, checkout)
    git(checkout, "init", "--quiet", "--initial-branch", "main")
    commit_all(checkout, "NaaVRE-helm as it is")
    return checkout


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("service")
    code, _, err = _run("new", "service", "data-quality", "--defaults", "-q", "--dest", str(folder / "svc"))
    assert code == 0, err
    return folder / "svc"


@pytest.fixture(scope="module")
def registered(service: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = naavre_helm_checkout(tmp_path_factory.mktemp("deployment"))
    code, out, err = _run("register", str(service), "--naavre-helm", str(checkout))
    assert code == 0, err
    assert "./deploy.sh dependency-update" in out
    return checkout


def render_values_chart(checkout: Path, *files: Path) -> dict[str, Any]:
    """What ``deploy.sh template`` writes to values/rendered/, by template file name, parsed."""
    user: dict[str, Any] = {}
    for path in files:
        user = merge(user, yaml.safe_load(path.read_text()))
    with helm_python.Chart.load(checkout / "values") as chart:
        rendered = chart.render(values=user, name="naavre", namespace="naavre")
    return {Path(name).name: yaml.safe_load(text) for name, text in rendered.items()}


DEPLOYMENTS = {
    "tls-external": (
        "values/virtual-labs/values-aneris.public.yaml",
        "values/values-deploy-tls-external.yaml",
    ),
    "minikube": ("values/values-deploy-minikube.yaml",),
}


@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_the_registered_service_deploys_as_each_deployment_asks(
    registered: Path, service: Path, deployment: str
) -> None:
    files = [registered / name for name in DEPLOYMENTS[deployment]]
    rendered = render_values_chart(registered, *files)
    block = rendered[f"{CHART}.yaml"][CHART]
    with helm_python.Chart.load(service / "helm" / CHART) as chart:
        manifests = chart.render(block, name="naavre", namespace="naavre", is_install=True)
    assert validate_manifests(kube, manifests, kube.latest_version()) == []
    objects = {
        (doc["kind"]): doc
        for name, text in manifests.items()
        if not name.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if isinstance(doc, dict) and "kind" in doc
    }

    tls = deployment == "tls-external"
    domain = "naavre.example.org" if tls else "naavre.local"
    ingress = objects["Ingress"]["spec"]
    assert ingress["rules"][0]["host"] == domain
    [path] = ingress["rules"][0]["http"]["paths"]
    assert (path["path"], path["pathType"]) == (f"/{CHART}/", "Prefix")
    assert ingress.get("tls") == ([{"hosts": [domain], "secretName": f"{domain}-tls"}] if tls else None)
    annotations = objects["Ingress"]["metadata"].get("annotations") or {}
    assert ("cert-manager.io/cluster-issuer" in annotations) is tls

    pod = objects["Deployment"]["spec"]["template"]["spec"]
    env = {item["name"]: item.get("value") for item in pod["containers"][0]["env"]}
    keycloak = "https://keycloak.example.org/realms/science" if tls else f"https://{domain}/auth/realms/vre"
    assert env["OIDC_CONFIGURATION_URL"] == f"{keycloak}/.well-known/openid-configuration"
    assert env["ROOT_PATH"] == f"/{CHART}"
    assert env["CONFIG_FILE_URL"] == "/configuration.json"
    assert env["VERIFY_SSL"] == ("true" if tls else "false")
    assert objects["Deployment"]["metadata"]["name"] == f"naavre-{CHART}"
    if tls:
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == AFFINITY_LABEL
    else:
        assert not pod.get("affinity")

    configuration = json.loads(base64.b64decode(objects["Secret"]["data"]["configuration.json"]))
    labs = [lab["name"] for lab in configuration["vl_configurations"]]
    assert labs == (["openlab"] if tls else ["aneris", "openlab"])


def test_register_adds_lines_and_changes_none(registered: Path) -> None:
    numstat = git(registered, "diff", "--numstat").split("\n")
    changed = {line.split("\t")[2]: line.split("\t")[:2] for line in numstat if line}
    assert set(changed) == {
        naavre_helm.UMBRELLA_CHART,
        naavre_helm.UMBRELLA_VALUES,
        naavre_helm.VALUES_VALUES,
    }
    assert all(deleted == "0" for _, deleted in changed.values()), changed
    status = git(registered, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert status[-1] == f"?? {naavre_helm.values_template_path(CHART)}"
    chart = yaml.safe_load((registered / naavre_helm.UMBRELLA_CHART).read_text())
    assert chart["dependencies"][-1] == {
        "name": CHART,
        "version": "0.1.0",  # what the release publishes: no "v"
        "repository": "oci://ghcr.io/naavre/charts",
        "condition": f"{CHART}.enabled",
    }
    # Written as the entries before it are: double quotes, condition bare.
    assert (
        f'  - name: "{CHART}"\n    version: "0.1.0"\n'
        in (registered / naavre_helm.UMBRELLA_CHART).read_text()
    )
    assert yaml.safe_load((registered / naavre_helm.UMBRELLA_VALUES).read_text())[CHART] == {"enabled": True}
    values = yaml.safe_load((registered / naavre_helm.VALUES_VALUES).read_text())
    assert values["naavreDataQualityService"] == {"enabled": True, "ingress": {"basePath": f"/{CHART}"}}
    assert list(values)[-1] == "naavreDataQualityService"  # after the other NaaVRE components
    assert len(git(registered, "log", "--oneline").splitlines()) == 1  # nothing committed


def test_registering_twice_is_refused_and_changes_nothing(service: Path, tmp_path: Path) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    assert _run("register", str(service), "--naavre-helm", str(checkout))[0] == 0
    commit_all(checkout, "Register the service")
    committed = tree(checkout)

    code, out, err = _run("register", str(service), "--naavre-helm", str(checkout))

    assert code == 1, err
    assert err.strip() == (
        f"naavre-scaffold register: error: {CHART} is already registered: "
        f"{checkout / naavre_helm.UMBRELLA_CHART} has it"
    )
    assert out == ""
    assert tree(checkout) == committed


def test_the_printed_review_shows_every_change_the_added_file_too(service: Path, tmp_path: Path) -> None:
    """git diff leaves out untracked files: the printed commands must show the added one as well."""
    checkout = naavre_helm_checkout(tmp_path)
    code, out, err = _run("register", str(service), "--naavre-helm", str(checkout))
    assert code == 0, err
    listed = re.findall(r"^  (?:modified|added   ) (.*)$", out, re.M)
    review = out.split("to review them all with git diff:\n", 1)[1].split("Then commit them", 1)[0]
    commands = re.findall(r"^  (.*)$", review, re.M)

    shown = ""
    for command in commands:
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (command, done.stderr)
        shown += done.stdout

    assert commands[-1] == f"git -C {checkout} diff"
    diffed = re.findall(r"^diff --git a/(\S+) b/", shown, re.M)
    assert sorted(str(checkout / path) for path in diffed) == sorted(listed)
    assert f"added    {checkout / naavre_helm.values_template_path(CHART)}" in out
    assert "git status lists these files" in out


def test_dry_run_writes_nothing_and_its_patch_gives_the_same_tree(
    registered: Path, service: Path, tmp_path: Path
) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    untouched = tree(checkout)
    code, out, err = _run("register", str(service), "--naavre-helm", str(checkout), "--dry-run")
    assert code == 0, err
    assert tree(checkout) == untouched
    header, patch = out.split("\n", 1)
    assert header == f"# {checkout}: apply at its root with git apply"

    applied = subprocess.run(["git", "apply", "-"], cwd=checkout, input=patch, text=True, capture_output=True)

    assert applied.returncode == 0, applied.stderr
    assert tree(checkout) == tree(registered)


def test_the_values_the_helm_check_uses_are_what_the_template_renders(
    registered: Path, tmp_path: Path
) -> None:
    """checks/helm.py renders every service chart with ``service_values``: the template's own output."""
    deployment = {
        "global": {"ingress": {"domain": naavre_helm.EXAMPLE_DOMAIN, "tls": {"enabled": True}}},
        "jupyterhub": {
            "vlabs": {
                "openlab": {"enabled": False},
                "lab": {"enabled": True, "slug": "test-virtual-lab-1", "image": {"name": "lab", "tag": "v1"}},
            }
        },
    }
    deployment_file = tmp_path / "deployment.yaml"
    deployment_file.write_text(yaml.safe_dump(deployment))
    rendered = render_values_chart(registered, deployment_file)[f"{CHART}.yaml"][CHART]
    assert rendered == naavre_helm.service_values(CHART)


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (
            "not-a-checkout",
            "--naavre-helm: {path} is not a NaaVRE-helm checkout (it has no naavre/Chart.yaml",
        ),
        ("not-git", "--naavre-helm: {path} is not a git checkout"),
        ("dirty", "--naavre-helm: {path} has uncommitted changes: commit or stash them first"),
    ],
)
def test_a_wrong_checkout_is_refused_before_anything_is_written(
    service: Path, tmp_path: Path, prepare: str, expected: str
) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    if prepare == "not-a-checkout":
        (checkout / naavre_helm.UMBRELLA_CHART).unlink()
        commit_all(checkout, "No umbrella chart")
    elif prepare == "not-git":
        shutil.rmtree(checkout / ".git")
    else:
        (checkout / "notes.txt").write_text("work in progress\n")
    before = tree(checkout)

    code, _, err = _run("register", str(service), "--naavre-helm", str(checkout))

    assert code == 2
    assert err.startswith("naavre-scaffold register: error: " + expected.format(path=checkout)), err
    assert len(err.strip().splitlines()) == 1
    assert tree(checkout) == before


def test_a_bad_version_is_refused(service: Path, tmp_path: Path) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    code, _, err = _run("register", str(service), "--naavre-helm", str(checkout), "--version", "v1.02.3")
    assert code == 2
    assert "--version: 'v1.02.3' is not a release version such as 1.2.3 or v1.2.3-rc.1" in err


def test_the_newest_release_tag_is_pinned_without_its_v(service: Path, tmp_path: Path) -> None:
    tagged = tmp_path / "svc"
    shutil.copytree(service, tagged)
    git(tagged, "tag", "v0.1.0")
    git(tagged, "tag", "v0.3.1")
    checkout = naavre_helm_checkout(tmp_path)
    code, out, err = _run("register", str(tagged), "--naavre-helm", str(checkout))
    assert code == 0, err
    assert (
        yaml.safe_load((checkout / naavre_helm.UMBRELLA_CHART).read_text())["dependencies"][-1]["version"]
        == "0.3.1"
    )
    assert "Note:" not in out


@pytest.fixture(scope="module")
def flavors_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flavors repository made by new, with a flavor eco, released as v0.2.0."""
    repo = tmp_path_factory.mktemp("flavors") / "flavors"
    assert _run("new", "flavors-repo", "flavors", "--defaults", "-q", "--dest", str(repo))[0] == 0
    assert _run("new", "flavor", "eco", "--defaults", "-q", "--dest", str(repo / "flavors" / "eco"))[0] == 0
    commit_all(repo, "Add the eco flavor")
    git(repo, "tag", "v0.2.0")
    return repo


def test_an_extension_is_pinned_in_the_flavors_and_its_service_url_set(
    service: Path, flavors_repo: Path, tmp_path: Path
) -> None:
    extension = tmp_path / "ext"
    code, _, err = _run(
        "new",
        "jupyterlab",
        "quality",
        "--defaults",
        "-q",
        "-d",
        "service=data-quality",
        "--dest",
        str(extension),
    )
    assert code == 0, err
    checkout = naavre_helm_checkout(tmp_path)
    flavors = tmp_path / "flavors"
    shutil.copytree(flavors_repo, flavors)
    # The extension's service must be in the deployment first.
    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout), "--flavors", str(flavors))
    assert code == 2
    assert "has no naavreDataQualityService: register the service naavre-data-quality-service first" in err
    assert _run("register", str(service), "--naavre-helm", str(checkout))[0] == 0
    commit_all(checkout, "Register the service")

    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout), "--flavors", str(flavors))

    assert code == 0, err
    requirements = (flavors / "docker" / "jupyter.requirements.txt").read_text().splitlines()
    pin = requirements.index("NaaVRE-quality-jupyterlab==0.1.0")
    assert requirements[pin - 1].startswith("NaaVRE-workflow-jupyterlab==")  # with the other NaaVRE pins
    assert git(flavors, "diff", "--numstat").split("\t")[:2] == ["1", "0"]

    rendered = render_values_chart(checkout, checkout / "values" / "values-deploy-tls-external.yaml")
    files = rendered["jupyterhub.yaml"]["jupyterhub"]["singleuser"]["extraFiles"]
    overrides = json.loads(files["overrides.json"]["stringData"])
    assert overrides["@naavre/quality-jupyterlab:plugin"] == {
        "dataQualityServiceUrl": "https://naavre.example.org/naavre-data-quality-service"
    }
    assert "@naavre/catalogue-jupyterlab:plugin" in overrides  # the entries already there stay
    assert (
        '"catalogue" "containerizer" "workflow" "quality"; do' in files["setup_virtual_lab.sh"]["stringData"]
    )
    assert [line.split("\t")[1] for line in git(checkout, "diff", "--numstat").splitlines()] == ["1"]


def test_a_flavor_becomes_a_lab_of_one_release(flavors_repo: Path, service: Path, tmp_path: Path) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    assert _run("register", str(service), "--naavre-helm", str(checkout))[0] == 0
    commit_all(checkout, "Register the service")

    flavor = str(flavors_repo / "flavors" / "eco")
    code, _, err = _run("register", flavor, "--naavre-helm", str(checkout))
    assert code == 2 and "error: --cell-github-url: is needed" in err  # no placeholder is written
    code, _, err = _run("register", flavor, "--naavre-helm", str(checkout), "--community", "nope", *CELLS)
    assert code == 2 and "--community: nope not in values/virtual-labs/communities.yaml" in err
    assert git(checkout, "status", "--porcelain") == ""

    code, out, err = _run("register", flavor, "--naavre-helm", str(checkout), *CELLS)

    assert code == 0, err
    lab_file = checkout / naavre_helm.lab_file_path("eco")
    lab = yaml.safe_load(lab_file.read_text())["jupyterhub"]["vlabs"]["eco"]
    assert lab["enabled"] is False  # each deployment enables it, as the printed step says:
    assert "          eco:\n            enabled: true\n" in out
    assert (lab["communities"], lab["labels"]) == (["naavre"], [])
    assert lab["configuration"]["registry_url"] == "ghcr.io/naavre/cells-vl-eco"
    assert "cell_github_token" not in lab["configuration"]  # a secret: the encrypted file's
    assert f"helm secrets edit {naavre_helm.lab_secrets_path('eco')}" in out
    enabled = checkout / "enable.yaml"
    enabled.write_text(yaml.safe_dump(naavre_helm.lab_enabled("eco")))
    rendered = render_values_chart(
        checkout, lab_file, checkout / "values" / "values-deploy-minikube.yaml", enabled
    )
    profiles = rendered["jupyterhub.yaml"]["jupyterhub"]["singleuser"]["profileList"]
    eco = next(p for p in profiles if p["slug"] == "eco")
    assert eco["kubespawner_override"]["image"] == "ghcr.io/naavre/flavors/naavre-fl-eco-jupyter:v0.2.0"
    raw = rendered[f"{CHART}.yaml"][CHART]["conf"]["virtual_labs_configuration"]["rawJson"]
    labs = {lab["name"]: lab["base_image_tags_url"] for lab in json.loads(raw)["vl_configurations"]}
    assert labs["eco"] == "https://github.com/NaaVRE/flavors/releases/download/v0.2.0/base_image_tags.json"

    code, _, err = _run(
        "register",
        str(flavors_repo / "flavors" / "eco"),
        "--naavre-helm",
        str(checkout),
        "--lab",
        "eco-2",
        "--version",
        "nope",
    )
    assert code == 2 and "--version: 'nope' is not a release version" in err


def test_an_extension_with_settings_and_no_service_gets_its_virtual_lab(tmp_path: Path) -> None:
    """setup_virtual_lab.sh sets virtualLab for every extension with settings, not only one with a service."""
    extension = tmp_path / "ext"
    assert _run("new", "jupyterlab", "plain", "--defaults", "-q", "--dest", str(extension))[0] == 0
    checkout = naavre_helm_checkout(tmp_path)

    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout))

    assert code == 0, err
    # One line changes: the loop's names; overrides.json gets nothing, there is no URL to set.
    assert git(checkout, "diff", "--numstat").split("\t") == ["1", "1", naavre_helm.JUPYTERHUB_TEMPLATE]
    rendered = render_values_chart(checkout, checkout / "values" / "values-deploy-minikube.yaml")
    files = rendered["jupyterhub.yaml"]["jupyterhub"]["singleuser"]["extraFiles"]
    assert "@naavre/plain-jupyterlab:plugin" not in json.loads(files["overrides.json"]["stringData"])
    # The script as a server start runs it: the extension's user settings get the lab's slug,
    # a setting its schema has.
    script = tmp_path / "setup_virtual_lab.sh"
    script.write_text(files["setup_virtual_lab.sh"]["stringData"])
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", str(script), "aneris", "Aneris"], env=env, check=True)
    written = home / ".jupyter/lab/user-settings/@naavre/plain-jupyterlab/plugin.jupyterlab-settings"
    assert json.loads(written.read_text()) == {"virtualLab": "aneris"}
    schema = json.loads((extension / "schema" / "plugin.json").read_text())
    assert "virtualLab" in schema["properties"]
    commit_all(checkout, "Register the extension")
    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout))
    assert code == 1 and "NaaVRE-plain-jupyterlab is already registered" in err
    code, _, err = _run("register", str(extension))
    assert code == 2 and "--flavors: is needed (and --naavre-helm for an extension with settings)" in err


def test_what_cannot_be_registered_is_refused(flavors_repo: Path, tmp_path: Path) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    code, _, err = _run("register", str(flavors_repo), "--naavre-helm", str(checkout))
    assert code == 2
    assert err == (
        f"naavre-scaffold register: error: path: {flavors_repo} is a flavors-repo repository; register "
        "takes a service, a jupyterlab extension or a flavor\n"
    )
    code, _, err = _run("register", str(checkout), "--naavre-helm", str(checkout))
    assert (
        code == 2
        and f"path: {checkout} has no .copier-answers.yml: it was not made by naavre-scaffold" in err
    )
    # The same field as argparse's own check of the argument.
    code, _, err = _run("register", str(tmp_path / "missing"), "--naavre-helm", str(checkout))
    assert (
        code == 2 and err == f"naavre-scaffold register: error: path: {tmp_path / 'missing'} does not exist\n"
    )

    extension = tmp_path / "ext"
    answers = ["-d", "has_settings=false", "--dest", str(extension)]
    assert _run("new", "jupyterlab", "plain", "--defaults", "-q", *answers)[0] == 0
    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout))
    assert code == 2
    assert "--naavre-helm: NaaVRE-plain-jupyterlab has no settings, and " in err
    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout), *CELLS)
    assert code == 2 and "--cell-github-url: only a flavor becomes a virtual lab" in err
    assert git(checkout, "status", "--porcelain") == ""


def test_a_lab_that_exists_is_refused(flavors_repo: Path, tmp_path: Path) -> None:
    checkout = naavre_helm_checkout(tmp_path)
    flavor = str(flavors_repo / "flavors" / "eco")
    code, _, err = _run("register", flavor, "--naavre-helm", str(checkout), "--lab", "openlab", *CELLS)
    assert code == 1
    assert err.endswith(
        f"the lab openlab is already registered: {checkout / 'values' / 'values.yaml'} has it\n"
    )
    assert git(checkout, "status", "--porcelain") == ""


BINDERHUB_TEMPLATE = """\
binderhub:
  config:
    BinderHub:
      # The lab images get these extensions on top of the lab's repository.
      appendix: |
        RUN pip install {{ range .Values.binderhub.builder.naavre_requirements }}{{ . | squote }} {{ end }}
  jupyterhub:
    singleuser:
      extraFiles:
        overrides.json:
          mountPath: /srv/conda/envs/notebook/share/jupyter/lab/settings/overrides.json
          stringData: |
            {
              "@naavre/catalogue-jupyterlab:plugin": {
                "catalogueServiceUrl": "https://{{ $.Values.global.ingress.domain }}/catalogue"
              }
            }
"""

BINDERHUB_VALUES = """
binderhub:
  enabled: true
  builder:
    naavre_requirements:
      - NaaVRE-catalogue-jupyterlab==0.2.0
      - NaaVRE-workflow-jupyterlab==0.6.0
      - voila>=0.5.7
"""


def test_with_binderhub_the_extension_is_also_pinned_and_set_there(service: Path, tmp_path: Path) -> None:
    """Newer NaaVRE-helm builds lab images with BinderHub: its requirements and its JupyterHub's settings."""
    checkout = naavre_helm_checkout(tmp_path)
    (checkout / naavre_helm.BINDERHUB_TEMPLATE).write_text(BINDERHUB_TEMPLATE)
    with (checkout / naavre_helm.VALUES_VALUES).open("a") as values:
        values.write(BINDERHUB_VALUES)
    commit_all(checkout, "BinderHub builds the lab images")
    assert _run("register", str(service), "--naavre-helm", str(checkout))[0] == 0
    commit_all(checkout, "Register the service")
    extension = tmp_path / "ext"
    answers = ["-d", "service=data-quality", "--dest", str(extension)]
    assert _run("new", "jupyterlab", "quality", "--defaults", "-q", *answers)[0] == 0

    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout), "--version", "1.2.0")

    assert code == 0, err
    values = yaml.safe_load((checkout / naavre_helm.VALUES_VALUES).read_text())
    assert values["binderhub"]["builder"]["naavre_requirements"] == [
        "NaaVRE-catalogue-jupyterlab==0.2.0",
        "NaaVRE-workflow-jupyterlab==0.6.0",
        "NaaVRE-quality-jupyterlab==1.2.0",
        "voila>=0.5.7",
    ]
    rendered = render_values_chart(checkout, checkout / "values" / "values-deploy-minikube.yaml")
    url = "https://naavre.local/naavre-data-quality-service"
    for hub in (
        rendered["jupyterhub.yaml"]["jupyterhub"],
        rendered["binderhub.yaml"]["binderhub"]["jupyterhub"],
    ):
        overrides = json.loads(hub["singleuser"]["extraFiles"]["overrides.json"]["stringData"])
        assert overrides["@naavre/quality-jupyterlab:plugin"] == {"dataQualityServiceUrl": url}
    assert (
        "'NaaVRE-quality-jupyterlab==1.2.0'"
        in rendered["binderhub.yaml"]["binderhub"]["config"]["BinderHub"]["appendix"]
    )
    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout))
    assert code == 2 and "has uncommitted changes" in err
    commit_all(checkout, "Register the extension")
    code, _, err = _run("register", str(extension), "--naavre-helm", str(checkout))
    assert code == 1 and "NaaVRE-quality-jupyterlab is already registered" in err

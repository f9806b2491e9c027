"""A generated service's release, run for real: its workflow's steps against a real OCI registry.

The registry is Debian's ``docker-registry`` (the CNCF distribution registry) on
127.0.0.1. The release workflow's ``run:`` blocks run as written, in bash, with the
``helm`` of tests/helm_cli.py (Helm's SDK). Then the chart is resolved the way
NaaVRE-helm does: ``helm pull --version`` with the README's pin, and a parent chart
whose dependency is the block ``new`` prints, through ``helm dependency update``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import helm_python
import pytest
import yaml

from naavre_scaffold.cli import main
from tests.test_generated_docs import free_port

REGISTRY_BINARY = "docker-registry"
WORKFLOW = ".github/workflows/release.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
VALID_TAGS = ["v0.1.0", "v1.2.3", "v10.20.30-rc.1", "v1.0.0-alpha.beta-2", "v0.0.1-0"]
INVALID_TAGS = [
    "v1.02.3",
    "1.2.3",
    "v1.2",
    "v01.2.3",
    "v1.2.3-01",
    "v1.2.3+build.5",
    "vbeta-0.4.8",
    "v1.2.3 ",
]


@pytest.fixture(scope="module")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:<port>``, where a real distribution registry serves without auth."""
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        pytest.skip("needs the CNCF distribution registry: apt-get install docker-registry")
    folder = tmp_path_factory.mktemp("registry")
    host = f"127.0.0.1:{free_port()}"
    config = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(folder / "data")}},
        "http": {"addr": host, "secret": "test-only"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    with (folder / "registry.log").open("wb") as log:
        server = subprocess.Popen([binary, "serve", str(folder / "config.yml")], stdout=log, stderr=log)
    try:
        _wait_until_up(f"http://{host}/v2/", server, folder / "registry.log")
        yield host
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the registry stopped: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the registry did not answer on {url}: {log.read_text()}")


@pytest.fixture(scope="module")
def released(oci_registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A service whose registry is the test registry, created by ``new``, and its v0.1.0 released."""
    folder = tmp_path_factory.mktemp("release")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        output = _run_new(
            ["new", "service", "release", "--defaults", "-d", f"registry={oci_registry}/naavre"]
        )
    finally:
        os.chdir(cwd)
    repo = folder / "NaaVRE-release-service"
    workflow = yaml.safe_load((repo / WORKFLOW).read_text())
    env = _shell_env(folder)
    outputs = run_step(
        _step(workflow, "check-tag", "tag"),
        repo,
        env,
        {"github.event.release.tag_name": "v0.1.0", "github.event.release.prerelease": "false"},
    )
    tag_outputs = {f"needs.check-tag.outputs.{key}": value for key, value in outputs.items()}
    for step in _run_steps(workflow, "chart"):
        run_step(step, repo, env, tag_outputs)
    # The helm job downloads the chart job's artifact: the same folder, here.
    login = {"secrets.REGISTRY_USERNAME": "releaser", "secrets.REGISTRY_PASSWORD": "not-a-secret"}
    for step in _run_steps(workflow, "helm"):
        run_step(step, repo, env, login)
    return {"repo": repo, "registry": oci_registry, "next_steps": output, "env": env}


def _run_new(argv: list[str]) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(argv) == 0
    return printed.getvalue()


def _shell_env(folder: Path) -> dict[str, str]:
    """PATH with tests/helm_cli.py as ``helm``, and Helm's registry credentials kept in ``folder``."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).with_name("helm_cli.py")}" "$@"\n')
    helm.chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(folder),
        "HELM_REGISTRY_CONFIG": str(folder / "registry-config.json"),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }


def _jobs(workflow: dict) -> dict:
    return workflow["jobs"]


def _step(workflow: dict, job: str, step_id: str) -> dict:
    return next(step for step in _jobs(workflow)[job]["steps"] if step.get("id") == step_id)


def _run_steps(workflow: dict, job: str) -> list[dict]:
    return [step for step in _jobs(workflow)[job]["steps"] if "run" in step]


def run_step(
    step: dict, repo: Path, env: Mapping[str, str], expressions: Mapping[str, str]
) -> dict[str, str]:
    """Run a step's ``run:`` block as GitHub's bash shell does; its ``$GITHUB_OUTPUT`` as a dict.

    The step's ``env:`` expressions take their values from ``expressions``; one that is
    not there fails the test, and so does an expression inside ``run:`` itself.
    """
    assert "${{" not in step["run"], "expressions belong in env:, not in run:"
    step_env = {name: _expand(str(value), expressions) for name, value in step.get("env", {}).items()}
    outputs = repo.parent / "github-output"
    outputs.write_text("")
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo,
        env={**env, **step_env, "GITHUB_OUTPUT": str(outputs)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise StepFailed(step.get("name", step["run"]), result.stdout + result.stderr)
    return dict(line.split("=", 1) for line in outputs.read_text().splitlines() if line)


class StepFailed(AssertionError):
    def __init__(self, name: str, output: str) -> None:
        super().__init__(f"step {name!r} failed:\n{output}")
        self.output = output


def _expand(value: str, expressions: Mapping[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        assert match.group(1) in expressions, f"no value given for the expression {match.group(0)}"
        return expressions[match.group(1)]

    return EXPRESSION.sub(lookup, value)


def _tag_check(repo: Path, tag: str, prerelease: str = "false") -> dict[str, str]:
    workflow = yaml.safe_load((repo / WORKFLOW).read_text())
    expressions = {"github.event.release.tag_name": tag, "github.event.release.prerelease": prerelease}
    return run_step(_step(workflow, "check-tag", "tag"), repo, {"PATH": os.environ["PATH"]}, expressions)


def test_the_pin_that_new_prints_resolves_in_a_parent_chart(released: dict, tmp_path: Path) -> None:
    """NaaVRE-helm's way: the printed dependency block in naavre/Chart.yaml, then dependency update."""
    printed = released["next_steps"]
    block = printed.split("naavre/Chart.yaml, under dependencies:\n", 1)[1].split("naavre/values.yaml:", 1)[0]
    dependency = yaml.safe_load(block)
    assert dependency[0]["repository"] == f"oci://{released['registry']}/naavre/charts"
    parent = tmp_path / "naavre"
    (parent / "templates").mkdir(parents=True)
    chart = {"apiVersion": "v2", "name": "naavre", "version": "1.0.0", "dependencies": dependency}
    (parent / "Chart.yaml").write_text(yaml.safe_dump(chart))

    helm_python.dependency_update(parent, plain_http=True)

    lock = yaml.safe_load((parent / "Chart.lock").read_text())
    assert [(d["name"], d["version"]) for d in lock["dependencies"]] == [("naavre-release-service", "0.1.0")]
    with tarfile.open(parent / "charts" / "naavre-release-service-0.1.0.tgz") as archive:
        metadata = yaml.safe_load(archive.extractfile("naavre-release-service/Chart.yaml"))
    # The chart's default image is the one the docker job pushed: vX.Y.Z.
    assert (metadata["version"], metadata["appVersion"]) == ("0.1.0", "v0.1.0")
    assert 'version 0.1.0 (pin it without the "v")' in printed


def test_the_readme_deployment_pin_resolves_and_a_v_pin_does_not(released: dict, tmp_path: Path) -> None:
    readme = (released["repo"] / "README.md").read_text()
    command = re.search(r"helm upgrade --install \S+ (\S+) --version (\S+)", readme)
    assert command, "the README's Deployment section has no helm upgrade --install ... --version"
    reference, version = command.group(1), command.group(2).replace("X.Y.Z", "0.1.0")
    assert reference == f"oci://{released['registry']}/naavre/charts/naavre-release-service"

    helm_python.pull(reference, version=version, destination=tmp_path, plain_http=True)
    assert (tmp_path / "naavre-release-service-0.1.0.tgz").is_file()
    # Why the README says to leave the "v" out: Helm asks the registry for that exact tag.
    with pytest.raises(helm_python.HelmError, match="not found"):
        helm_python.pull(reference, version="v0.1.0", destination=tmp_path, plain_http=True)


def test_the_release_steps_leave_the_chart_in_git_untouched_only_in_git(released: dict) -> None:
    """The stamp changes the checkout's Chart.yaml, not what git keeps: the next release stamps again."""
    repo = released["repo"]
    chart_yaml = repo / "helm" / "naavre-release-service" / "Chart.yaml"
    stamped = yaml.safe_load(chart_yaml.read_text())
    kept = yaml.safe_load(
        subprocess.run(
            ["git", "show", "HEAD:helm/naavre-release-service/Chart.yaml"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert (stamped["version"], stamped["appVersion"]) == ("0.1.0", "v0.1.0")
    assert (kept["version"], kept["appVersion"]) == ("0.0.0-dev", "0.0.0-dev")


@pytest.mark.parametrize("tag", VALID_TAGS)
def test_a_semver_tag_is_accepted_and_its_chart_lints_strictly(
    released: dict, tag: str, tmp_path: Path
) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(released["repo"], copy, ignore=shutil.ignore_patterns(".git", "chart-package"))
    chart_yaml = copy / "helm" / "naavre-release-service" / "Chart.yaml"
    chart_yaml.write_text(re.sub(r"(?m)^(version|appVersion): .*$", r"\1: 0.0.0-dev", chart_yaml.read_text()))
    outputs = _tag_check(copy, tag)
    assert (outputs["tag"], outputs["version"]) == (tag, tag[1:])

    workflow = yaml.safe_load((copy / WORKFLOW).read_text())
    stamp, lint = _run_steps(workflow, "chart")[:2]
    run_step(stamp, copy, released["env"], {f"needs.check-tag.outputs.{k}": v for k, v in outputs.items()})
    run_step(lint, copy, released["env"], {})
    assert yaml.safe_load(chart_yaml.read_text())["version"] == tag[1:]


@pytest.mark.parametrize("tag", INVALID_TAGS)
def test_a_tag_that_is_not_semver_publishes_nothing(released: dict, tag: str) -> None:
    with pytest.raises(StepFailed) as failure:
        _tag_check(released["repo"], tag)
    assert f"::error title=Invalid release tag::'{tag}' is not v<SemVer>" in failure.value.output


@pytest.mark.parametrize(
    ("tag", "prerelease", "latest"),
    [("v1.2.3", "false", "true"), ("v1.2.3", "true", "false"), ("v1.2.3-rc.1", "false", "false")],
)
def test_latest_moves_only_for_a_full_release(released: dict, tag: str, prerelease: str, latest: str) -> None:
    assert _tag_check(released["repo"], tag, prerelease)["latest"] == latest


def _pushes(job: dict) -> bool:
    return any(
        step.get("with", {}).get("push") is True or "helm push" in step.get("run", "")
        for step in job["steps"]
    )


def test_nothing_is_pushed_before_the_chart_is_packaged_and_ci_passes(released: dict) -> None:
    jobs = _jobs(yaml.safe_load((released["repo"] / WORKFLOW).read_text()))
    assert {name for name, job in jobs.items() if "steps" in job and _pushes(job)} == {"docker", "helm"}
    assert {"check-tag", "chart", "ci"} <= set(jobs["docker"]["needs"])
    # The chart goes out after the image it names, and is the package the chart job linted.
    assert {"chart", "docker"} <= set(jobs["helm"]["needs"])
    assert any("download-artifact" in step.get("uses", "") for step in jobs["helm"]["steps"])
    build = next(step for step in jobs["docker"]["steps"] if "build-push-action" in step.get("uses", ""))
    assert build["with"]["no-cache"] is True
    assert not {"cache-from", "cache-to"} & set(build["with"])


def _action_inputs(repo: Path, action: str) -> list[dict]:
    found = []
    for workflow in (repo / ".github" / "workflows").glob("*.yml"):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            found += [
                s.get("with", {}) for s in job.get("steps", []) if s.get("uses", "").startswith(action + "@")
            ]
    return found


def test_ci_and_the_release_install_the_helm_and_uv_that_are_checked(released: dict) -> None:
    """Helm: the SDK version verify lints with. uv: the version the image copies uv from."""
    repo = released["repo"]
    helm_setups = _action_inputs(repo, "Azure/setup-helm")
    assert len(helm_setups) == 3  # CI's chart job, the release's chart and helm jobs
    assert {inputs.get("version") for inputs in helm_setups} == {helm_python.helm_sdk_version()}
    image_uv = re.search(
        r"COPY --from=ghcr\.io/astral-sh/uv:(\S+) ", (repo / "docker" / "Dockerfile").read_text()
    )
    uv_setups = _action_inputs(repo, "astral-sh/setup-uv")
    assert uv_setups and {inputs.get("version") for inputs in uv_setups} == {image_uv.group(1)}

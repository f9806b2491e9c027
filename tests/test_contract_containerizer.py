"""The cell images of a generated flavors repository against the consumers that build and run cells.

NaaVRE-containerizer-service renders its own Dockerfile for every cell, FROM a flavor's
cell-build image and then its cell-runtime image; Argo (NaaVRE-workflow-service's
workflow spec) runs the result with a fresh volume on /tmp/data. Their templates are
vendored verbatim under fixtures/consumers/containerizer/ (origin in the README there)
and rendered here as their code renders them. No docker: the Dockerfiles are parsed.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import copier
import jinja2
import pytest

from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification.tools import find_tool

CONSUMERS = Path(__file__).parent / "fixtures/consumers/containerizer"
CONTAINERIZER_TEMPLATES = CONSUMERS / "NaaVRE-containerizer-service/app/templates"
# The commit the vendored containerizer templates were copied from (see the README there).
CONTAINERIZER_COMMIT = "7bc4096d5265cc937a9affc04bfec4e0cb4cf4e3"
ARGO_SPEC = CONSUMERS / "NaaVRE-workflow-service/app/templates/argo_workflowSpec.j2"
FLAVOR = "vanilla"
TAG = "v1.0.0"
# The containerizer's own hadolint findings on its Dockerfile (COPY before WORKDIR,
# USER root, cd in RUN): CI builds that file unchanged, so they stay.
CONTAINERIZER_FINDINGS = {"DL3045", "DL3002", "DL3066", "DL3003"}
ROOT_USERS = {"root", "0", "0:0", "root:root"}


@pytest.fixture(scope="module")
def repo(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated flavors repository with one flavor, `vanilla`, that has cell images."""
    dest = tmp_path_factory.mktemp("flavors-repo") / "flavors"
    copier.run_copy(
        template_git.path,
        dest,
        data={"template": "flavors-repo", "name": "flavors"},
        vcs_ref=template_git.vcs_ref,
        defaults=True,
        quiet=True,
    )
    folder = dest / "flavors" / FLAVOR
    folder.mkdir(parents=True)
    (folder / "flavor_config.yaml").write_text(
        f"flavor_name: {FLAVOR}\nbuild_jupyter: true\nbuild_cell_base: true\n"
        "free_disk_space: false\naliases: []\n"
    )
    return dest


@pytest.fixture(scope="module")
def base_image(repo: Path) -> dict[str, str]:
    """The flavor's entry of base_image_tags.json: the containerizer's ``cell.base_container_image``."""
    script = repo / "scripts/base_image_tags.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--tag", TAG], cwd=repo, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)[FLAVOR]


def containerizer_render(template: str, **variables: object) -> str:
    """A vendored containerizer template, rendered with the Jinja options of its Containerizer class."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CONTAINERIZER_TEMPLATES), trim_blocks=True, lstrip_blocks=True
    )
    return env.get_template(template).render(**variables)


def containerizer_dockerfile(base_image: dict[str, str], title: str = "flavor-cell-test") -> str:
    """The cell Dockerfile as ``Containerizer.build_docker`` renders it."""
    return containerizer_render("dockerfile_template_conda.jinja2", title=title, base_image=base_image)


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in dockerfile.splitlines() if not line.lstrip().startswith("#"))
    )
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


def shell_commands(arguments: str) -> list[list[str]]:
    """The simple commands of a RUN's shell form, split at && and ;."""
    return [shlex.split(part) for part in re.split(r"&&|;", arguments) if part.strip()]


def created_paths(dockerfile: str) -> set[str]:
    """Paths a build's RUN steps create and that must not exist before: ``mkdir`` without -p, -o outputs."""
    paths = set()
    for keyword, arguments in instructions(dockerfile):
        if keyword != "RUN":
            continue
        for command in shell_commands(arguments):
            if command[:1] == ["mkdir"] and "-p" not in command:
                paths.update(word for word in command[1:] if not word.startswith("-"))
            if "-o" in command[:-1]:
                paths.add(command[command.index("-o") + 1])
    return paths


def stage(dockerfile: str, name: str) -> list[tuple[str, str]]:
    """The instructions of the stage ``FROM ... AS name``."""
    found: list[tuple[str, str]] | None = None
    for keyword, arguments in instructions(dockerfile):
        if keyword == "FROM":
            if found is not None:
                break
            if arguments.lower().endswith(f" as {name}"):
                found = []
        elif found is not None:
            found.append((keyword, arguments))
    assert found is not None, f"no stage {name}"
    return found


def run_cell_test_script(repo: Path, base_image: dict[str, str], out: Path) -> Path:
    """The generated scripts/cell_test.py, fed the vendored templates instead of a download."""
    proc = subprocess.run(
        [
            sys.executable,
            str(repo / "scripts/cell_test.py"),
            *("--build-image", base_image["build"], "--runtime-image", base_image["runtime"]),
            *("--output", str(out), "--templates-url", CONTAINERIZER_TEMPLATES.as_uri() + "/"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_cell_build_leaves_the_containerizer_its_paths(repo: Path, base_image: dict[str, str]) -> None:
    """The containerizer's `mkdir /venv` (no -p) and its tarball must not meet anything of ours."""
    created = created_paths(containerizer_dockerfile(base_image))
    assert "/venv" in created  # the collision this test is about, still in the containerizer
    ours = (repo / "docker/cell-build.Dockerfile").read_text()
    for keyword, arguments in instructions(ours):
        words = set(re.split(r"[\s=,:\"']+", arguments))
        clashes = {path for path in created for word in words if word == path or word.startswith(path + "/")}
        assert not clashes, (
            f"{keyword} {arguments!r} makes {sorted(clashes)}, which the containerizer creates"
        )
    # The containerizer installs into and packs /opt/conda/envs/venv, as the image's user.
    runs = " ".join(arguments for keyword, arguments in instructions(ours) if keyword == "RUN")
    assert re.search(r"micromamba create .*--name venv\b", runs)
    assert "USER" not in {keyword for keyword, _ in instructions(ours)}


def test_cells_run_as_root_because_argo_volume_has_no_fs_group(
    repo: Path, base_image: dict[str, str]
) -> None:
    spec = ARGO_SPEC.read_text()
    # The premise: a fresh volume on /tmp/data, nothing that makes it writable for a non-root user.
    assert "mountPath: /tmp/data" in spec
    assert not {"securityContext", "fsGroup", "runAsUser"} & set(re.findall(r"\w+", spec))
    runtime = instructions((repo / "docker/cell-runtime.Dockerfile").read_text())
    cell = stage(containerizer_dockerfile(base_image), "runtime")
    users = [arguments for keyword, arguments in runtime + cell if keyword == "USER"]
    # ubuntu:24.04, the runtime image's base, runs as root unless a USER says otherwise.
    assert (users[-1] if users else "root") in ROOT_USERS


def test_ci_builds_the_dockerfile_the_containerizer_renders(
    repo: Path, base_image: dict[str, str], tmp_path: Path
) -> None:
    cell = run_cell_test_script(repo, base_image, tmp_path / "cell")
    assert (cell / "Dockerfile").read_text() == containerizer_dockerfile(base_image)
    assert (cell / "environment.yaml").read_text() == containerizer_render(
        "conda_env_template.jinja2", base_image=base_image, conda_deps=[], pip_deps=[]
    )
    # CI downloads the templates at the commit they were vendored from.
    script = (repo / "scripts/cell_test.py").read_text()
    assert f'CONTAINERIZER_COMMIT = "{CONTAINERIZER_COMMIT}"' in script
    # build-local.sh (which both workflows run) builds that folder, not a Dockerfile of ours.
    build_local = (repo / "build-local.sh").read_text()
    assert "python3 scripts/cell_test.py" in build_local and 'docker build "$cell"' in build_local
    assert not (repo / "docker/cell-test.Dockerfile").exists()
    for workflow in ("build.yml", "release.yml"):
        text = (repo / ".github/workflows" / workflow).read_text()
        assert '"Jinja2==3.1.6"' in text and "build-local.sh -B" in text


def _hadolint(path: Path) -> list[dict]:
    proc = subprocess.run(
        [find_tool("hadolint"), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(proc.stdout or "[]")


def test_hadolint_passes_on_what_ci_builds(repo: Path, base_image: dict[str, str], tmp_path: Path) -> None:
    for target in ("jupyter", "cell-build", "cell-runtime"):
        assert _hadolint(repo / "docker" / f"{target}.Dockerfile") == [], target
    # The cell-test Dockerfile is the containerizer's: only its own findings, none on
    # the FROM lines, which name our images.
    dockerfile = run_cell_test_script(repo, base_image, tmp_path / "cell") / "Dockerfile"
    lines = dockerfile.read_text().splitlines()
    findings = _hadolint(dockerfile)
    assert {finding["code"] for finding in findings} <= CONTAINERIZER_FINDINGS
    assert not [f for f in findings if lines[f["line"] - 1].startswith("FROM ")]

"""The flavors-repo template rendered by plain Copier: answers, scripts, linters and workflows.

No docker here: the images are built and tested by this repository's CI (job `flavors`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from naavre_scaffold import _copier
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification import workflows
from naavre_scaffold.verification.tools import find_tool
from tests.test_jupyterlab_ui import image_jupyterlab

# cell-test is not among them: CI builds the containerizer's own Dockerfile (scripts/cell_test.py).
DOCKERFILES = ("jupyter", "cell-build", "cell-runtime")


def _render(source: TemplateSource, dest: Path, **answers: object) -> Path:
    copier.run_copy(
        source.path,
        dest,
        data={"template": "flavors-repo", "name": "flavors", **answers},
        vcs_ref=source.vcs_ref,
        defaults=True,
        quiet=True,
    )
    return dest


@pytest.fixture(scope="module")
def render(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _render(template_git, tmp_path_factory.mktemp("flavors-repo") / "flavors")


def test_naavre_flavors_yml_holds_the_image_answers(render: Path, template_git, tmp_path: Path) -> None:
    assert yaml.safe_load((render / "naavre-flavors.yml").read_text()) == {
        "registry": "ghcr.io/naavre/flavors",
        "image_prefix": "naavre-fl-",
    }
    custom = _render(template_git, tmp_path / "lab", github_org="MyOrg", name="lab-flavors", image_prefix="")
    assert yaml.safe_load((custom / "naavre-flavors.yml").read_text()) == {
        "registry": "ghcr.io/myorg/lab-flavors",
        "image_prefix": "",
    }
    answers = yaml.safe_load((custom / ".copier-answers.yml").read_text())
    assert answers["template"] == "flavors-repo"
    assert answers["registry"] == "ghcr.io/myorg/lab-flavors"
    assert answers["image_prefix"] == ""


def test_the_generated_scripts_tests_pass(render: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scripts/tests"],
        cwd=render,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def _script_output(render: Path, script: str, *args: str) -> Any:
    """What one of the render's scripts prints (YAML or JSON), run with this Python; it must succeed."""
    proc = subprocess.run(
        [sys.executable, str(render / "scripts" / script), *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_the_scripts_read_the_render_itself(render: Path, tmp_path: Path) -> None:
    """Run against the render's own naavre-flavors.yml, with a flavor written by hand."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "naavre-flavors.yml").write_text((render / "naavre-flavors.yml").read_text())
    (repo / "flavors/vanilla").mkdir(parents=True)
    (repo / "flavors/vanilla/flavor_config.yaml").write_text(
        "flavor_name: vanilla\nbuild_jupyter: true\nbuild_cell_base: true\n"
        "free_disk_space: false\naliases: [python, r]\n"
    )
    tags = _script_output(render, "base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert sorted(tags) == ["python", "r", "vanilla"]
    assert tags["r"]["runtime"] == "ghcr.io/naavre/flavors/naavre-fl-vanilla-cell-runtime:v1.0.0"


# Shaped like the 3 of the 24 NaaVRE/flavors configs that have no aliases key (e.g.
# wiresits): capitalized booleans, nothing else. They must move in unchanged.
CONFIG_WITHOUT_ALIASES = (
    "flavor_name: wiresits\nbuild_jupyter: True\nbuild_cell_base: True\nfree_disk_space: False\n"
)


def test_a_real_config_without_aliases_is_accepted_as_none(render: Path, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = yaml.safe_load((render / "schemas/flavor_config.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(CONFIG_WITHOUT_ALIASES), schema)
    repo = tmp_path / "repo"
    (repo / "flavors/wiresits").mkdir(parents=True)
    (repo / "naavre-flavors.yml").write_text((render / "naavre-flavors.yml").read_text())
    (repo / "flavors/wiresits/flavor_config.yaml").write_text(CONFIG_WITHOUT_ALIASES)
    tags = _script_output(render, "base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert list(tags) == ["wiresits"]
    matrix = _script_output(render, "flavor_matrix.py", "--root", str(repo), "--event", "release")
    assert [entry["flavor"] for entry in matrix] == ["wiresits"]


@pytest.mark.parametrize("target", DOCKERFILES)
def test_dockerfiles_are_hadolint_clean_and_keep_the_contract(render: Path, target: str) -> None:
    path = render / "docker" / f"{target}.Dockerfile"
    proc = subprocess.run([find_tool("hadolint"), str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = path.read_text()
    assert "ARG CONDA_ENV_FILE" in text
    # Pinned by tag, never :latest or untagged.
    base = next(line.split()[1] for line in text.splitlines() if line.startswith("FROM "))
    assert ":" in base and not base.endswith(":latest"), base


def test_the_jupyter_image_has_what_naavres_own_has(render: Path) -> None:
    """jupyter-archive, and no JupyterLab news/update announcements, as NaaVRE/flavors' image."""
    lines = (render / "docker/jupyter.requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9.]*", line) for line in requirements), requirements
    assert "jupyter-archive" in {line.split("==")[0] for line in requirements}
    dockerfile = (render / "docker/jupyter.Dockerfile").read_text()
    # The JupyterLab extensions' CI also runs their UI tests in.
    assert f"\nFROM quay.io/jupyter/minimal-notebook:lab-{image_jupyterlab()}\n" in dockerfile
    disable = 'jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements"'
    assert disable in dockerfile
    # Still built as the base image's non-root user, never switching to root.
    assert not [line for line in dockerfile.splitlines() if line.startswith("USER")]


def test_build_local_sh_is_shellcheck_clean(render: Path) -> None:
    proc = subprocess.run(
        [find_tool("shellcheck"), str(render / "build-local.sh")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("script", ["base_image_tags.py", "flavor_matrix.py"])
def test_the_scripts_without_pyyaml_say_how_to_install_it(render: Path, script: str) -> None:
    """``python -S`` leaves out site-packages, and so PyYAML: a one-line error, not a traceback."""
    bare = [sys.executable, "-S"]
    assert subprocess.run([*bare, "-c", "import yaml"], capture_output=True, check=False).returncode != 0
    proc = subprocess.run(
        [*bare, str(render / "scripts" / script), "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (
        f"{script}: error: PyYAML is not installed for {sys.executable}: "
        f"{sys.executable} -m pip install pyyaml (Debian, Ubuntu: apt-get install python3-yaml)\n"
    )


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_build_local_sh_help_prints_its_usage(render: Path, tmp_path: Path, option: str) -> None:
    proc = subprocess.run(
        ["bash", str(render / "build-local.sh"), option], cwd=tmp_path, capture_output=True, text=True
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith("Build and test one flavor's images with docker, as CI does.\n")
    assert "  ./build-local.sh -h | --help\n" in proc.stdout
    assert "  -N         build only; skip the tests\n" in proc.stdout


def test_build_local_sh_refuses_an_unknown_long_option(render: Path) -> None:
    script = str(render / "build-local.sh")
    proc = subprocess.run(["bash", script, "--tag=v1"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("build-local.sh: error: unknown option --tag=v1\nBuild and test")


def test_build_local_sh_without_docker_says_so(render: Path, tmp_path: Path) -> None:
    repo = tmp_path / "flavors"
    shutil.copytree(render, repo)
    (repo / "flavors/vanilla").mkdir(parents=True)
    (repo / "flavors/vanilla/flavor_config.yaml").write_text("build_jupyter: true\nbuild_cell_base: true\n")
    # A PATH with the tools the script uses before docker, and no docker.
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("basename", "dirname", "head", "sed"):
        (tools / tool).symlink_to(shutil.which(tool))
    proc = subprocess.run(
        ["/bin/bash", str(repo / "build-local.sh"), "vanilla"],
        env={"PATH": str(tools)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 127 and proc.stdout == ""
    assert proc.stderr == (
        "build-local.sh: error: docker is not installed (not on PATH): it builds and runs the images\n"
    )


def test_workflows_pass_actionlint_zizmor_and_the_schemas(render: Path) -> None:
    results = workflows.run(render)
    assert {r.name for r in results} >= {
        "actionlint .github/workflows/build.yml",
        "actionlint .github/workflows/release.yml",
        "check-jsonschema vendor.dependabot .github/dependabot.yml",
    }
    assert all(r.ok for r in results), [(r.name, r.detail) for r in results if not r.ok]


def test_release_pushes_only_after_every_test_and_never_with_always(render: Path) -> None:
    release = yaml.safe_load((render / ".github/workflows/release.yml").read_text())
    jobs = release["jobs"]
    conditions = [job.get("if", "") for job in jobs.values()]
    conditions += [step.get("if", "") for job in jobs.values() for step in job.get("steps", [])]
    assert not [c for c in conditions if "always()" in str(c)]
    assert jobs["publish"]["needs"] == ["check-tag", "build"]
    writers = {name for name, job in jobs.items() if "packages" in job.get("permissions", {})}
    assert writers == {"publish"}
    contents_writers = {
        name for name, job in jobs.items() if job.get("permissions", {}).get("contents") == "write"
    }
    assert contents_writers == {"base-image-tags"}
    build = yaml.safe_load((render / ".github/workflows/build.yml").read_text())
    assert "push: true" not in (render / ".github/workflows/build.yml").read_text()
    assert set(build[True]) >= {"pull_request", "push", "schedule", "workflow_dispatch", "workflow_call"}


BAD_ANSWERS = [
    ({"registry": "GHCR.io/Bad"}, "registry", "lowercase registry host"),
    ({"registry": "ghcr.io/naavre//flavors"}, "registry", "lowercase registry host"),
    ({"image_prefix": "Naavre-"}, "image_prefix", "only lowercase letters, digits and hyphens"),
    ({"image_prefix": "naavre_fl-"}, "image_prefix", "only lowercase letters, digits and hyphens"),
    ({"image_prefix": "naavre-fl"}, "image_prefix", "must end with a hyphen"),
    ({"image_prefix": "-fl-"}, "image_prefix", "must start with"),
]


@pytest.mark.parametrize(("answers", "field", "rule"), BAD_ANSWERS, ids=[str(b[0]) for b in BAD_ANSWERS])
def test_bad_answers_are_one_line_errors_before_anything_is_written(
    template_git: TemplateSource, tmp_path: Path, answers: dict, field: str, rule: str
) -> None:
    with pytest.raises(ValueError) as refused:
        _render(template_git, tmp_path / "never", **answers)
    error = _copier.usage_error_from(refused.value)
    assert error is not None and error.field == field
    assert rule in str(refused.value)
    assert "\n" not in str(error)
    assert not (tmp_path / "never").exists()

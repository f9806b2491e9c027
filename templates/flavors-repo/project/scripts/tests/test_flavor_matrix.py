"""flavor_matrix.py: every flavor on a release or schedule, only the changed ones on a PR or push."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_script, write_flavor


def _matrix(repo: Path, *args: str, changed: str | None = None) -> list[dict]:
    extra = ("--changed-files", "-") if changed is not None else ()
    proc = run_script("flavor_matrix.py", "--root", str(repo), *args, *extra, stdin=changed)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1, "one line, for $GITHUB_OUTPUT"
    return json.loads(proc.stdout)


@pytest.mark.parametrize("event", ["release", "schedule", "workflow_dispatch"])
def test_every_flavor_with_its_booleans_on_full_builds(repo: Path, event: str) -> None:
    write_flavor(repo, "lab-only", build_cell_base=False)
    assert _matrix(repo, "--event", event) == [
        {"flavor": "ecology", "build_jupyter": True, "build_cell_base": True, "free_disk_space": True}
        | _images("ecology"),
        {"flavor": "lab-only", "build_jupyter": True, "build_cell_base": False, "free_disk_space": False}
        | _images("lab-only"),
        {"flavor": "vanilla", "build_jupyter": True, "build_cell_base": True, "free_disk_space": False}
        | _images("vanilla"),
    ]


def test_a_config_without_aliases_is_built(repo: Path) -> None:
    """Shaped like the NaaVRE/flavors configs that have no aliases key (and capitalized booleans)."""
    config = "flavor_name: wetlands\nbuild_jupyter: True\nbuild_cell_base: False\nfree_disk_space: True\n"
    (repo / "flavors/wetlands").mkdir()
    (repo / "flavors/wetlands/flavor_config.yaml").write_text(config)
    assert _matrix(repo, "--event", "release")[-1] == {
        "flavor": "wetlands",
        "build_jupyter": True,
        "build_cell_base": False,
        "free_disk_space": True,
    } | _images("wetlands")


def _images(flavor: str, base: str = "ghcr.io/naavre/flavors/naavre-fl-") -> dict[str, str]:
    return {
        "jupyter_image": f"{base}{flavor}-jupyter",
        "cell_build_image": f"{base}{flavor}-cell-build",
        "cell_runtime_image": f"{base}{flavor}-cell-runtime",
    }


def test_image_names_come_from_naavre_flavors_yml(repo: Path) -> None:
    (repo / "naavre-flavors.yml").write_text(
        "registry: registry.example.org:5000/lab\nimage_prefix: naavre-\n"
    )
    entry = _matrix(repo, "--event", "release")[-1]
    assert entry["flavor"] == "vanilla"
    assert entry["jupyter_image"] == "registry.example.org:5000/lab/naavre-vanilla-jupyter"


@pytest.mark.parametrize("event", ["pull_request", "push"])
def test_only_changed_flavors_on_pull_requests_and_pushes(repo: Path, event: str) -> None:
    changed = "flavors/ecology/environment.yaml\nflavors/ecology/tests/test_eco.py\nREADME.md\n"
    assert [e["flavor"] for e in _matrix(repo, "--event", event, changed=changed)] == ["ecology"]


@pytest.mark.parametrize(
    "path",
    [
        "docker/jupyter.Dockerfile",
        "docker/jupyter.requirements.txt",
        "scripts/base_image_tags.py",
        "schemas/flavor_config.schema.json",
        "naavre-flavors.yml",
        ".github/workflows/build.yml",
    ],
)
def test_shared_files_rebuild_every_flavor(repo: Path, path: str) -> None:
    assert [e["flavor"] for e in _matrix(repo, "--event", "pull_request", changed=path + "\n")] == [
        "ecology",
        "vanilla",
    ]


def test_unrelated_and_deleted_paths_build_nothing(repo: Path) -> None:
    changed = "README.md\nflavors/removed/environment.yaml\nbuild-local.sh\nflavors/README.md\n"
    assert _matrix(repo, "--event", "push", changed=changed) == []


def test_all_overrides_the_changed_files(repo: Path) -> None:
    assert len(_matrix(repo, "--event", "push", "--all")) == 2


def test_changed_files_are_required_on_pull_requests(repo: Path) -> None:
    proc = run_script("flavor_matrix.py", "--root", str(repo), "--event", "pull_request")
    assert proc.returncode == 2
    assert "--changed-files: required" in proc.stderr


def test_an_unknown_event_is_refused(repo: Path) -> None:
    proc = run_script("flavor_matrix.py", "--root", str(repo), "--event", "issue_comment", "--all")
    assert proc.returncode == 0  # --all needs no event rules
    proc = run_script("flavor_matrix.py", "--root", str(repo), "--event", "issue_comment")
    assert proc.returncode == 2
    assert "--event: must be one of" in proc.stderr


def test_a_broken_flavor_config_is_one_line_naming_the_file(repo: Path) -> None:
    write_flavor(repo, "ecology", flavor_name="eco-logy")
    proc = run_script("flavor_matrix.py", "--root", str(repo), "--event", "release")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        "flavor_matrix.py: error: flavors/ecology/flavor_config.yaml: "
        "flavor_name 'eco-logy' must equal its folder name 'ecology'"
    )

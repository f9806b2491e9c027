"""A flavors repository with flavors of every kind passes every check `verify` runs on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.templates import TEMPLATES
from naavre_scaffold.verification.run import verify
from tests.helpers import commit_all

# The flavors besides vanilla (both languages, aliases python and r), one per kind of answer.
FLAVORS = {
    "py-only": {"languages": "python"},
    "r-only": {"languages": "r", "build_jupyter": False},
    "ecology": {"languages": "both", "aliases": ["eco", "env"], "extra_packages": ["numpy>=1.26", "r-sf"]},
    "notebooks": {"languages": "python", "build_cell_base": False, "free_disk_space": True},
}
# A flavor may replace a default image; its Dockerfile keeps the default's ARGs.
OVERRIDE = "cell-runtime.Dockerfile"


@pytest.fixture(scope="module")
def flavors_repo(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("flavors") / "flavors"
    create("flavors-repo", "flavors", dest=repo, source=template_git)
    for name, answers in FLAVORS.items():
        create("flavor", name, dest=repo / "flavors" / name, data=answers, source=template_git)
        commit_all(repo, f"Add the {name} flavor")  # new flavor wants a clean repository
    override = (repo / "docker" / OVERRIDE).read_text()
    (repo / "flavors/ecology" / OVERRIDE).write_text(override.replace("/tmp/data", "/tmp/data /tmp/maps", 1))
    commit_all(repo, "The ecology flavor's own runtime image")
    return repo


def test_every_check_passes_and_the_expected_kinds_ran(flavors_repo: Path) -> None:
    results = verify(flavors_repo, skip=["helm", "python", "jupyterlab"])
    failures = [f"{r.kind}: {r.name}: {r.detail}" for r in results if not r.ok]
    assert failures == []
    assert {r.kind for r in results} == TEMPLATES["flavors-repo"].expected_checks
    names = " | ".join(r.name for r in results)
    for flavor in ["vanilla", *FLAVORS]:
        assert f"{flavor}: schema flavors/{flavor}/flavor_config.yaml" in names
    assert f"hadolint flavors/ecology/{OVERRIDE}" in names
    assert "base_image_tags scripts/base_image_tags.py" in names


def test_one_flavor_folder_is_checked_with_its_repository(flavors_repo: Path) -> None:
    results = verify(flavors_repo / "flavors/ecology", skip=["helm", "python", "jupyterlab", "workflows"])
    assert [f"{r.name}: {r.detail}" for r in results if not r.ok] == []
    assert {r.kind for r in results} >= TEMPLATES["flavor"].expected_checks

"""Shared fixtures: an isolated cache, a git copy of this template, and rendered services."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from naavre_scaffold.git import git
from naavre_scaffold.template_source import TemplateSource, bundled_source

ROOT = Path(__file__).resolve().parent.parent

# The render matrix: every combination is rendered once per session and verified.
SERVICE_RENDERS = {
    "defaults": {"name": "data-quality"},
    "custom": {
        "name": "x",
        "port": 9090,
        "github_org": "MyOrg",
        "registry": "registry.example.org/team",
        "python_version": "3.12",
        "description": "A custom service: with a colon & an ampersand",
    },
}


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Template snapshots and test environments go to a per-session cache, not the user's."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAAVRE_SCAFFOLD_CACHE", str(cache))
        yield


@pytest.fixture(scope="session")
def template_git() -> TemplateSource:
    """This checkout's template (working tree included) as a git repository tagged v<version>."""
    return bundled_source()


@pytest.fixture
def template_repo(template_git: TemplateSource, tmp_path: Path) -> Path:
    """A private, writable clone of ``template_git`` with its tags, for tests that add versions."""
    clone = tmp_path / "template"
    shutil.copytree(template_git.path, clone)
    git(clone, "config", "user.name", "Template Maintainer")
    git(clone, "config", "user.email", "maintainer@example.org")
    return clone


@pytest.fixture(scope="session", params=sorted(SERVICE_RENDERS))
def service_render(request: pytest.FixtureRequest, copie_session) -> Path:
    """A service rendered by pytest-copie from this checkout, once per matrix entry."""
    answers = {"template": "service", **SERVICE_RENDERS[request.param]}
    result = copie_session.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    return result.project_dir

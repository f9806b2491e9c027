"""What every generated release workflow promises, checked on a render of each template."""

from __future__ import annotations

import pytest
import yaml

from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource

RELEASING = {"service": "rel", "jupyterlab": "rel", "flavors-repo": "flavors"}


@pytest.fixture(scope="module")
def releases(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each releasing template's release.yml, rendered with its defaults."""
    folder = tmp_path_factory.mktemp("releases")
    workflows = {}
    for template, name in RELEASING.items():
        repo = create(template, name, dest=folder / template, source=template_git).path
        workflows[template] = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())
    return workflows


@pytest.mark.parametrize("template", sorted(RELEASING))
def test_a_release_runs_once_per_tag_and_is_never_cancelled_half_way(releases: dict, template: str) -> None:
    assert releases[template]["concurrency"] == {
        "group": "release-${{ github.event.release.tag_name }}",
        "cancel-in-progress": False,
    }


def test_npm_publishing_is_gated_by_an_environment_as_pypi_is(releases: dict) -> None:
    jobs = releases["jupyterlab"]["jobs"]
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    assert jobs["npm"]["environment"] == {
        "name": "npm",
        "url": "https://www.npmjs.com/package/@naavre/rel-jupyterlab",
    }

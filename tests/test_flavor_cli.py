"""`new flavors-repo` and `new flavor` as a flavor maintainer uses them, next steps run as printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from naavre_scaffold.new.next_steps import CELLS_PLACEHOLDER
from tests.helpers import commit_all
from tests.test_generated_docs import ShellSession, developer_env
from tests.test_next_steps import printed_commands
from tests.test_register import naavre_helm_checkout

DOCKER = "needs a Docker engine; CI builds the images"
# The printed `git commit` needs an identity; a developer's git has one configured.
IDENTITY_ENV = {
    "GIT_AUTHOR_NAME": "Test Person",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test Person",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


@pytest.fixture
def flavors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "flavors-repo", "flavors", "--defaults", "--quiet"]) == 0
    return tmp_path / "flavors"


def test_the_done_when_walk_through(tmp_path: Path, monkeypatch, capsys) -> None:
    """The issue's scenario: a repo, a flavor with an alias, a commit, the tags of a release."""
    monkeypatch.chdir(tmp_path)
    assert main(["new", "flavors-repo", "flavors", "--defaults"]) == 0
    repo_steps = printed_commands(capsys.readouterr().out)
    monkeypatch.chdir(tmp_path / "flavors")
    assert (
        main(["new", "flavor", "ecology", "-d", "languages=both", "-d", 'aliases=["eco"]', "--defaults"]) == 0
    )
    # The cells repository is the one thing only the person knows: filled in as the steps say.
    printed = printed_commands(capsys.readouterr().out)
    flavor_steps = [
        step.replace(CELLS_PLACEHOLDER, "https://github.com/naavre/ecology-cells") for step in printed
    ]
    assert flavor_steps != printed

    session = ShellSession(tmp_path / "flavors", developer_env(tmp_path), 0, tmp_path / "unused.log")
    session.env |= {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "Test Person"), ("EMAIL", "test@example.org"))
    }
    naavre_helm = naavre_helm_checkout(tmp_path)  # the ../NaaVRE-helm of the printed register command
    skipped = {command: DOCKER for command in flavor_steps if command.startswith("bash build-local.sh")}
    assert session.run_all(flavor_steps, skipped) == list(skipped)
    assert git(tmp_path / "flavors", "status", "--porcelain") == ""
    assert git(tmp_path / "flavors", "log", "-1", "--format=%s") == "Add the ecology flavor"
    lab = yaml.safe_load((naavre_helm / "values/virtual-labs/values-ecology.public.yaml").read_text())
    assert lab["jupyterhub"]["vlabs"]["ecology"]["configuration"]["cell_github_url"] == (
        "https://github.com/naavre/ecology-cells"
    )
    assert lab["jupyterhub"]["vlabs"]["ecology"]["image"] == {
        "name": "ghcr.io/naavre/flavors/naavre-fl-ecology-jupyter",
        "tag": "v0.1.0",
    }

    session = ShellSession(tmp_path, developer_env(tmp_path), 0, tmp_path / "unused.log")
    skipped = {
        "bash build-local.sh vanilla  # every image of vanilla, then its tests in them": DOCKER,
        "naavre-scaffold new flavor my-flavor -d languages=python": "a flavor the scenario does not add",
        "git push -u origin main": "pushes to GitHub",
    }
    assert session.run_all(repo_steps, skipped) == list(skipped)
    tags = json.loads(session.outputs["python3 scripts/base_image_tags.py --tag v0.1.0"])
    assert sorted(tags) == ["eco", "ecology", "python", "r", "vanilla"]
    assert (
        tags["eco"]
        == tags["ecology"]
        == {
            "build": "ghcr.io/naavre/flavors/naavre-fl-ecology-cell-build:v0.1.0",
            "runtime": "ghcr.io/naavre/flavors/naavre-fl-ecology-cell-runtime:v0.1.0",
        }
    )


def _one_line_refusal(capsys, args: list[str], message: str) -> None:
    assert main(["new", "flavor", *args, "--defaults"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"naavre-scaffold new: error: --dest: {message}"), err


def test_outside_a_flavors_repository_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    _one_line_refusal(capsys, ["geo"], "flavors/geo is not <flavors repository>/flavors/geo")
    assert list(tmp_path.iterdir()) == []


def test_a_dirty_flavors_repository_is_refused(flavors: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(flavors)
    (flavors / "notes.txt").write_text("not committed yet\n")
    _one_line_refusal(
        capsys, ["geo"], f"the flavors repository {flavors} has uncommitted changes (notes.txt)"
    )
    assert not (flavors / "flavors/geo").exists()


def test_an_existing_flavor_is_refused(flavors: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(flavors)
    before = {p: p.read_bytes() for p in (flavors / "flavors/vanilla").rglob("*") if p.is_file()}
    _one_line_refusal(capsys, ["vanilla"], "flavors/vanilla already exists and is not empty")
    assert {p: p.read_bytes() for p in (flavors / "flavors/vanilla").rglob("*") if p.is_file()} == before


def test_dest_must_be_named_after_the_flavor(flavors: Path, tmp_path: Path, capsys) -> None:
    _one_line_refusal(
        capsys, ["geo", "--dest", str(flavors / "flavors/other")], f"{flavors / 'flavors/other'} is not"
    )
    assert not (flavors / "flavors/other").exists()


def test_a_flavor_with_dest_from_elsewhere_is_not_committed(flavors: Path, capsys) -> None:
    head = git(flavors, "rev-parse", "HEAD")
    assert (
        main(["new", "flavor", "geo", "--defaults", "--quiet", "--dest", str(flavors / "flavors/geo")]) == 0
    )
    assert "(not committed: part of the repository around it)" in capsys.readouterr().out
    assert git(flavors, "rev-parse", "HEAD") == head
    assert git(flavors, "status", "--porcelain") == "?? flavors/geo/"


def test_a_name_or_alias_another_flavor_has_is_refused(flavors: Path, monkeypatch, capsys) -> None:
    """What the repository's own scripts/base_image_tags.py would fail on is refused before writing."""
    monkeypatch.chdir(flavors)
    assert main(["new", "flavor", "geo", "-d", "aliases=[geology]", "--defaults", "--quiet"]) == 0
    commit_all(flavors, "Add the geo flavor")
    capsys.readouterr()
    refused = [
        (["eco", "-d", 'aliases=["python"]'], "aliases: python is already a name or alias of flavor vanilla"),
        (
            ["eco", "-d", "aliases=[eco-x, vanilla]"],
            "aliases: vanilla is already a name or alias of flavor vanilla",
        ),
        (["eco", "-d", "aliases=[geology]"], "aliases: geology is already a name or alias of flavor geo"),
        (["r"], "name: r is already a name or alias of flavor vanilla"),
        (["geology"], "name: geology is already a name or alias of flavor geo"),
    ]
    for args, message in refused:
        assert main(["new", "flavor", *args, "--defaults"]) == 2, args
        assert capsys.readouterr().err == f"naavre-scaffold new: error: {message}\n"
    assert git(flavors, "status", "--porcelain") == ""
    assert sorted(p.name for p in (flavors / "flavors").iterdir()) == ["geo", "vanilla"]


def test_a_flavors_repository_describes_itself(flavors: Path) -> None:
    answers = yaml.safe_load((flavors / ".copier-answers.yml").read_text())
    assert answers["description"] == "NaaVRE flavors repository"

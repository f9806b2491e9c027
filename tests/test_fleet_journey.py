"""The fleet end to end, as a maintainer lives it, with GitHub played by bare origins and an API stand-in.

Two hand-written repositories, shaped like NaaVRE-containerizer-service and
NaaVRE-catalogue-jupyterlab, are adopted at v1.0.0 and their adopt branches merged
and pushed. Then the template releases v1.1.0 and v1.1.1. Each repository's own
template-sync workflow (its ``run:`` steps, in bash, from a fresh checkout) pushes
``template-update/v1.1.1`` and opens its pull request, which carries only what the
release changed. Finally ``status --org`` lists both, on v1.0.0 and behind v1.1.1,
with their pull requests. Every request the stand-in received is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.adopt_shapes import catalogue_jupyterlab, containerizer_service
from tests.github_standin import OWNER, TOKEN, GitHub, publish, run_sync

RELEASES = ("v1.1.0", "v1.1.1")
BRANCH = "template-update/v1.1.1"
# What the release changes in each kind of repository (see the template_versions fixture).
RELEASED = {
    "NaaVRE-containerizer-service": [".copier-answers.yml", ".dockerignore", ".flake8"],
    "NaaVRE-catalogue-jupyterlab": [".copier-answers.yml", ".yarnrc.yml"],
}


@pytest.fixture
def template(template_versions: Path, tmp_path: Path) -> Path:
    """The template repository before its release: a clone of template_versions with only v1.0.0."""
    clone = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(template_versions), str(clone))
    for tag in RELEASES:
        git(clone, "tag", "-d", tag)
    return clone


def _release(template: Path, template_versions: Path) -> None:
    for tag in RELEASES:
        git(template, "tag", tag, git(template_versions, "rev-parse", f"{tag}^{{commit}}"))


def _headers_ok(request: dict) -> bool:
    headers = request["headers"]
    return (
        headers.get("authorization") == f"Bearer {TOKEN}"
        and headers.get("accept") == "application/vnd.github+json"
        and headers.get("x-github-api-version") == "2022-11-28"
        and headers.get("user-agent") == f"naavre-scaffold/{__version__}"
    )


def test_adopted_repositories_pull_a_release_and_status_lists_them(
    template: Path,
    template_versions: Path,
    tmp_path: Path,
    github_api: tuple[str, GitHub],
    monkeypatch,
    capsys,
) -> None:
    api, hub = github_api
    repos = [containerizer_service(tmp_path / "work"), catalogue_jupyterlab(tmp_path / "work")]
    for repo in repos:
        argv = [
            "adopt",
            str(repo),
            "--template-source",
            str(template),
            "--vcs-ref",
            "v1.0.0",
            "--defaults",
            "-q",
        ]
        assert main(argv) == 0, capsys.readouterr()
        git(repo, "merge", "--quiet", "--ff-only", "template-adopt/v1.0.0")
        hub.origins[repo.name] = publish(repo, tmp_path)
    capsys.readouterr()
    assert hub.requests == []  # adopting asks GitHub nothing

    _release(template, template_versions)
    for name, origin in hub.origins.items():
        run = run_sync(origin, tmp_path / f"run-{name}", api)

        assert [step.code for step in run.steps] == [0] * len(run.steps), run.steps
        assert "naavre-scaffold @ git+https://github.com/NaaVRE/naavre-scaffold.git@v1.0.0" in run.pip_args
        # The pull request carries only what the release changed: the adopted files stay as merged.
        changed = git(origin.bare, "diff", "--name-only", "main", BRANCH).splitlines()
        assert sorted(changed) == RELEASED[name]
    created = [r for r in hub.requests if r["method"] == "POST"]
    assert [(r["path"], r["json"]["head"], r["json"]["base"]) for r in created] == [
        (f"/repos/{OWNER}/{name}/pulls", BRANCH, "main") for name in hub.origins
    ]
    assert all(_headers_ok(r) for r in created)
    assert hub.issues == []  # no conflict

    hub.requests.clear()
    monkeypatch.setenv("GITHUB_API_URL", api)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    markdown = tmp_path / "dashboard.md"

    assert main(["status", "--org", OWNER, "--json", "-", "--markdown", str(markdown)]) == 0
    out, _ = capsys.readouterr()

    report = json.loads(out)
    listed = {r["name"]: r for r in report["repos"]}
    assert sorted(listed) == sorted(f"{OWNER}/{name}" for name in RELEASED)
    for name, pull in zip(hub.origins, hub.pulls, strict=True):
        entry = listed[f"{OWNER}/{name}"]
        template_kind = "service" if name.endswith("-service") else "jupyterlab"
        assert (entry["template"], entry["version"], entry["newest"], entry["behind"]) == (
            template_kind,
            "v1.0.0",
            "v1.1.1",
            True,
        )
        assert entry["pull_requests"] == [
            {"number": pull["number"], "url": pull["html_url"], "branch": BRANCH, "ci": "none"}
        ]
        assert f"[{OWNER}/{name}](" in markdown.read_text()
    assert (report["not_adopted"], report["counts"]["pull_requests"]) == ([], 2)
    # Every request status made, in full: the listing, then per repository its answers file,
    # its open pull requests and the CI of each pull request's head.
    asked = [(r["method"], r["path"].split("?")[0]) for r in hub.requests]
    expected = [("GET", f"/orgs/{OWNER}/repos")]
    for name, pull in zip(hub.origins, hub.pulls, strict=True):
        head = git(hub.origins[name].bare, "rev-parse", f"refs/heads/{pull['head']}")
        expected += [
            ("GET", f"/repos/{OWNER}/{name}/contents/.copier-answers.yml"),
            ("GET", f"/repos/{OWNER}/{name}/pulls"),
            ("GET", f"/repos/{OWNER}/{name}/commits/{head}/check-runs"),
            ("GET", f"/repos/{OWNER}/{name}/commits/{head}/status"),
        ]
    assert sorted(asked) == sorted(expected)
    assert all(_headers_ok(r) for r in hub.requests)

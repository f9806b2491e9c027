"""Every generated repository's template-sync workflow, run: its ``run:`` steps, as written, in bash.

A repository is made with ``naavre-scaffold new`` from a template repository with
several release tags. Each workflow run starts, as on GitHub, from a fresh clone of
its origin (a bare repository that git's ``insteadOf`` puts behind the GitHub URL, the
way actions/checkout leaves ``origin``). The steps run with the environment GitHub
gives them and the expressions of their ``env:`` filled in; ``naavre-scaffold`` is
this checkout's, and ``pip`` is a stand-in that records what it was asked to install
(nothing else is replaced). The GitHub API is a local stand-in that keeps pull
requests and issues as GitHub does; every request it receives is checked in full.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.github_standin import (
    BRANCH,
    NEWEST,
    OWNER,
    PUBLIC_SOURCE,
    RUN_ID,
    TOKEN,
    WORKFLOW,
    GitHub,
    Origin,
    publish,
    run_block,
    run_sync,
    runner_environment,
    workflow_of,
)
from tests.helpers import commit_all, has_conflict_markers_in_history


def _new_service(template_versions: Path, tmp_path: Path, name: str, version: str = "v1.0.0") -> Path:
    dest = tmp_path / f"NaaVRE-{name}-service"
    argv = ["new", "service", name, "--defaults", "-q", "--dest", str(dest)]
    argv += ["--template-source", str(template_versions), "--vcs-ref", version]
    assert main(argv) == 0
    return dest


# ---------------------------------------------------------------- checks of the requests


def _check_scaffold_headers(request: dict) -> None:
    """naavre-scaffold's own request headers (fleet/github.py)."""
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == f"naavre-scaffold/{__version__}"


def _check_curl_headers(request: dict) -> None:
    """The issue step's curl: the same token and API version; JSON bodies say so."""
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("curl/")
    if request["method"] == "GET":
        assert request["json"] is None
    else:
        assert headers["content-type"] == "application/json"


def _check_create_pull(request: dict, name: str, files: list[str] | None = None) -> None:
    """The pull request naavre-scaffold asks for: v1.0.0 to NEWEST, and (for one subproject) its files."""
    assert (request["method"], request["path"]) == ("POST", f"/repos/{OWNER}/{name}/pulls")
    _check_scaffold_headers(request)
    body = request["json"]
    assert set(body) == {"title", "head", "base", "body"}
    assert (body["head"], body["base"]) == (BRANCH, "main")
    assert body["title"] == f"Update the naavre-scaffold template from v1.0.0 to {NEWEST}"
    lines = body["body"].splitlines()
    assert lines[0].startswith("Template ") and lines[0].endswith(f" from v1.0.0 to {NEWEST}.")
    assert lines[-1] == "Made by `naavre-scaffold update`."
    if files is not None:
        listed = lines[lines.index("Files changed:") + 1 : -2]
        assert listed == [f"- {file}" for file in files]
    assert "<<<<<<<" not in body["body"]


def _check_find_pull(request: dict, name: str) -> None:
    assert request["method"] == "GET"
    url = urlsplit(request["path"])
    assert url.path == f"/repos/{OWNER}/{name}/pulls"
    assert parse_qs(url.query) == {"head": [f"{OWNER}:{BRANCH}"], "state": ["open"]}
    _check_scaffold_headers(request)
    assert request["json"] is None


def _check_list_issues(request: dict, name: str) -> None:
    assert request["method"] == "GET"
    url = urlsplit(request["path"])
    assert url.path == f"/repos/{OWNER}/{name}/issues"
    assert parse_qs(url.query) == {"state": ["open"], "per_page": ["100"], "page": ["1"]}
    _check_curl_headers(request)


# ---------------------------------------------------------------- the tests


@pytest.fixture
def service(template_versions: Path, tmp_path: Path) -> tuple[Path, Origin]:
    repo = _new_service(template_versions, tmp_path, "synced")
    return repo, publish(repo, tmp_path)


def test_a_release_becomes_one_pull_request_and_a_rerun_reuses_it(
    service: tuple[Path, Origin], tmp_path: Path, github_api: tuple[str, GitHub]
) -> None:
    repo, origin = service
    api, github = github_api

    first = run_sync(origin, tmp_path / "run-1", api)

    assert [step.code for step in first.steps] == [0, 0], first.steps
    assert first.step("Update from the template, as a pull request").outputs == {"conflict": "false"}
    # The install step pins the naavre-scaffold of the repository's template version.
    assert first.pip_args == ["install", "--disable-pip-version-check", _pinned("v1.0.0")]
    pushed = git(origin.bare, "rev-parse", BRANCH)
    assert git(origin.bare, "rev-parse", f"{pushed}^") == git(repo, "rev-parse", "main")
    changed = git(origin.bare, "diff", "--name-only", "main", BRANCH).splitlines()
    assert changed == [".copier-answers.yml", ".dockerignore", ".flake8"]
    assert git(origin.bare, "log", "-1", "--format=%an <%ae>", BRANCH) == (
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    )
    (create,) = github.requests
    _check_create_pull(create, origin.name, changed)
    assert [p["number"] for p in github.pulls] == [1]
    # git got the token from the askpass helper alone: no credentials were written to the checkout.
    assert TOKEN not in (first.work / ".git/config").read_text()
    askpass = first.runner_temp / "template-sync-askpass"
    assert TOKEN not in askpass.read_text()
    for prompt, answer in [("Username for 'https://github.com': ", "x-access-token"), ("Password: ", TOKEN)]:
        said = subprocess.run([askpass, prompt], env={"GH_TOKEN": TOKEN}, capture_output=True, text=True)
        assert said.stdout == f"{answer}\n"

    github.requests.clear()
    second = run_sync(origin, tmp_path / "run-2", api)

    assert [step.code for step in second.steps] == [0, 0], second.steps
    assert git(origin.bare, "rev-parse", BRANCH) == pushed  # the branch on origin is reused as it is
    create, find = github.requests
    _check_create_pull(create, origin.name, changed)  # GitHub answers 422: it exists ...
    _check_find_pull(find, origin.name)  # ... and is found, not opened again
    assert [p["number"] for p in github.pulls] == [1]
    assert github.issues == []


def test_a_conflict_opens_one_issue_naming_the_file_and_no_pull_request(
    service: tuple[Path, Origin], tmp_path: Path, github_api: tuple[str, GitHub]
) -> None:
    repo, origin = service
    api, github = github_api
    # The newer template adds an exclude line where this repository added its own.
    flake8 = repo / ".flake8"
    flake8.write_text(flake8.read_text() + "exclude = build\n")
    commit_all(repo, "Exclude the build folder from flake8")
    git(repo, "push", "--quiet", str(origin.bare), "main")
    # An open pull request of someone else's, which GitHub lists among the issues.
    github.pulls.append(
        {"number": 1, "state": "open", "head": "feature", "title": "Feature", "html_url": "x"}
    )
    github.next_number = 2

    first = run_sync(origin, tmp_path / "run-1", api)

    assert [step.code for step in first.steps] == [0, 0, 0], first.steps
    assert first.step("Update from the template, as a pull request").outputs == {"conflict": "true"}
    assert "opened issue #2" in first.steps[-1].output
    # Nothing was pushed and no pull request asked for: the conflict stays out of git.
    assert git(origin.bare, "branch", "--list", "template-update/*") == ""
    assert not has_conflict_markers_in_history(origin.bare)
    listing, create = github.requests
    _check_list_issues(listing, origin.name)
    assert (create["method"], create["path"]) == ("POST", f"/repos/{OWNER}/{origin.name}/issues")
    _check_curl_headers(create)
    assert set(create["json"]) == {"title", "body"}
    title = f"Template update to {NEWEST} conflicts with changes made here"
    assert create["json"]["title"] == title
    body = create["json"]["body"]
    assert "- `.` (from v1.0.0): `.flake8`" in body.splitlines()
    assert f"naavre-scaffold update . --vcs-ref {NEWEST} --keep-conflicts" in body
    assert f"https://github.com/{OWNER}/{origin.name}/actions/runs/{RUN_ID}" in body
    assert "<<<<<<<" in body and ">>>>>>>" not in body  # named as what to resolve, never pasted

    github.requests.clear()
    second = run_sync(origin, tmp_path / "run-2", api)

    assert [step.code for step in second.steps] == [0, 0, 0], second.steps
    assert "updated issue #2" in second.steps[-1].output
    listing, edit = github.requests
    _check_list_issues(listing, origin.name)
    assert (edit["method"], edit["path"]) == ("PATCH", f"/repos/{OWNER}/{origin.name}/issues/2")
    _check_curl_headers(edit)
    assert edit["json"] == {"body": body}
    assert [i["number"] for i in github.issues] == [2]
    assert git(origin.bare, "branch", "--list", "template-update/*") == ""


def test_nothing_to_update_sends_no_request(
    template_versions: Path, tmp_path: Path, github_api: tuple[str, GitHub]
) -> None:
    api, github = github_api
    repo = _new_service(template_versions, tmp_path, "current", version=NEWEST)
    origin = publish(repo, tmp_path)

    run = run_sync(origin, tmp_path / "run", api)

    assert [step.code for step in run.steps] == [0, 0], run.steps
    assert run.step("Update from the template, as a pull request").outputs == {"conflict": "false"}
    assert run.pip_args[-1] == _pinned(NEWEST)
    assert github.requests == []
    assert git(origin.bare, "branch", "--list", "template-update/*") == ""


def test_a_failed_push_fails_the_job_and_opens_no_issue(
    service: tuple[Path, Origin], tmp_path: Path, github_api: tuple[str, GitHub]
) -> None:
    """A verdict that needs a person but is no conflict (here: the push is refused) fails the job."""
    _, origin = service
    api, github = github_api
    hook = origin.bare / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'refusing to allow a GitHub App to update workflow files' >&2\nexit 1\n")
    hook.chmod(0o755)

    run = run_sync(origin, tmp_path / "run", api)

    install, update = run.steps
    assert (install.code, update.code) == (0, 1)
    assert update.outputs == {"conflict": "false"}
    assert "::error::.: failed: " in update.output
    assert "::error::GITHUB_TOKEN may not push changes to .github/workflows/" in update.output
    assert github.requests == []


@pytest.mark.parametrize(
    ("commit", "installed", "note"),
    [
        ("v1.2.3", "v1.2.3", ""),
        ("v1.2.3-rc.1", "v1.2.3-rc.1", ""),
        ("v1.2.3-4-gabc1234", "v1.2.3", "::notice::made from unreleased template work after v1.2.3"),
        ("v1.2.3-rc.1-4-gabc1234", "v1.2.3-rc.1", "::notice::made from unreleased template work"),
        ("'v1.2.3'", "v1.2.3", ""),
    ],
)
def test_the_install_step_pins_the_answers_release(
    service: tuple[Path, Origin], tmp_path: Path, commit: str, installed: str, note: str
) -> None:
    repo, _ = service
    answers = repo / ".copier-answers.yml"
    answers.write_text(re.sub(r"(?m)^_commit: .*$", f"_commit: {commit}", answers.read_text()))
    step = _install_step(repo)

    result = run_block(step, repo, runner_environment(tmp_path / "run", "http://127.0.0.1:9", "NaaVRE/x"))

    assert result.code == 0, result.output
    assert note in result.output
    args = (tmp_path / "run/pip-args").read_text().splitlines()
    assert args == ["install", "--disable-pip-version-check", _pinned(installed)]


@pytest.mark.parametrize("commit", ["4686fad", "main", "v1.02.3", "v1.2.3; curl evil", "$(reboot)"])
def test_the_install_step_refuses_what_is_not_a_release(
    service: tuple[Path, Origin], tmp_path: Path, commit: str
) -> None:
    repo, _ = service
    answers = repo / ".copier-answers.yml"
    answers.write_text(re.sub(r"(?m)^_commit: .*$", f"_commit: {commit}", answers.read_text()))

    result = run_block(
        _install_step(repo), repo, runner_environment(tmp_path / "run", "http://x", "NaaVRE/x")
    )

    assert result.code == 1
    assert "::error file=.copier-answers.yml::_commit" in result.output
    assert not (tmp_path / "run/pip-args").exists()


def _pinned(tag: str) -> str:
    """The requirement that installs naavre-scaffold at ``tag``, from the public repository."""
    return f"naavre-scaffold @ git+{PUBLIC_SOURCE}@{tag}"


def _install_step(repo: Path) -> dict:
    steps = workflow_of(repo)["jobs"]["sync"]["steps"]
    return next(s for s in steps if "pip install" in s.get("run", ""))


def test_the_workflow_asks_only_for_what_each_job_needs(service: tuple[Path, Origin]) -> None:
    repo, _ = service
    workflow = workflow_of(repo)
    assert set(workflow[True]) == {"schedule", "workflow_dispatch", "pull_request"}
    assert workflow["permissions"] == {}
    sync, check = workflow["jobs"]["sync"], workflow["jobs"]["check"]
    assert sync["if"] == "github.event_name != 'pull_request'"
    assert sync["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}
    assert check["if"] == "github.event_name == 'pull_request'"
    assert check["permissions"] == {"contents": "read"}
    assert check["continue-on-error"] is True
    assert check["steps"][-1]["run"] == "naavre-scaffold check ."
    for job in (sync, check):
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", "")
    # The App's token, only when the repository has set one up.
    app = sync["steps"][0]
    assert app["uses"].startswith("actions/create-github-app-token@")
    assert app["if"] == "vars.TEMPLATE_SYNC_APP_ID != ''"
    assert app["with"]["app-id"] == "${{ vars.TEMPLATE_SYNC_APP_ID }}"
    assert app["with"]["private-key"] == "${{ secrets.TEMPLATE_SYNC_APP_PRIVATE_KEY }}"


def test_the_check_step_reports_a_repository_behind_the_template(
    service: tuple[Path, Origin], tmp_path: Path
) -> None:
    """The pull-request job's check, as written: behind the newest release is exit 1 (the job
    is continue-on-error, so the pull request is not blocked)."""
    repo, _ = service
    step = workflow_of(repo)["jobs"]["check"]["steps"][-1]

    result = run_block(step, repo, runner_environment(tmp_path / "run", "http://x", "NaaVRE/x"))

    assert result.code == 1
    assert f"behind the newest template {NEWEST}" in result.output


def test_every_repository_template_renders_the_same_workflow(template_versions: Path, tmp_path: Path) -> None:
    """Written once in templates/_shared/: a service, an extension and a flavors repository get it alike."""
    rendered = {}
    for template, name in [("service", "same"), ("jupyterlab", "same"), ("flavors-repo", "flavors")]:
        dest = tmp_path / template
        argv = ["new", template, name, "--defaults", "-q", "--dest", str(dest)]
        assert main([*argv, "--template-source", str(template_versions), "--vcs-ref", "v1.0.0"]) == 0
        rendered[template] = (dest / WORKFLOW).read_text()
    assert rendered["jupyterlab"] == rendered["service"] == rendered["flavors-repo"]


def test_a_flavors_repository_syncs_its_flavors_in_the_same_pull_request(
    template_versions: Path, tmp_path: Path, github_api: tuple[str, GitHub]
) -> None:
    api, github = github_api
    repo = tmp_path / "flavors"
    argv = ["new", "flavors-repo", "flavors", "--defaults", "-q", "--dest", str(repo)]
    assert main([*argv, "--template-source", str(template_versions), "--vcs-ref", "v1.0.0"]) == 0
    assert (repo / "flavors/vanilla/.copier-answers.yml").is_file()
    origin = publish(repo, tmp_path)

    run = run_sync(origin, tmp_path / "run", api)

    assert [step.code for step in run.steps] == [0, 0], run.steps
    changed = git(origin.bare, "diff", "--name-only", "main", BRANCH).splitlines()
    assert {".copier-answers.yml", "flavors/vanilla/.copier-answers.yml"} <= set(changed)
    (create,) = github.requests
    _check_create_pull(create, origin.name)
    assert "flavors/vanilla: template" in create["json"]["body"]

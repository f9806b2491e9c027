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

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.helpers import commit_all, has_conflict_markers_in_history

WORKFLOW = ".github/workflows/template-sync.yml"
TOKEN = "test-token-not-a-secret"
OWNER = "NaaVRE"
NEWEST = "v1.1.1"
BRANCH = f"template-update/{NEWEST}"
PUBLIC_SOURCE = "https://github.com/NaaVRE/naavre-scaffold.git"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# The values of the expressions the steps' env: holds: the workflow's own token.
EXPRESSIONS = {"steps.app-token.outputs.token || github.token": TOKEN}
ISSUE_STEP_CONDITION = "!cancelled() && steps.update.outputs.conflict == 'true'"
BIN = Path(sys.executable).parent  # this checkout's naavre-scaffold
RUN_ID = "4242"


# ---------------------------------------------------------------- the GitHub API stand-in


@dataclass
class _GitHub:
    """What the stand-in knows: pull requests and issues share one numbering, as on GitHub."""

    requests: list[dict] = field(default_factory=list)
    pulls: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    next_number: int = 1

    def number(self) -> int:
        self.next_number += 1
        return self.next_number - 1


class _Handler(BaseHTTPRequestHandler):
    state: ClassVar[_GitHub]

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "json": json.loads(raw) if raw else None,
        }
        self.state.requests.append(request)
        status, payload = self._route(request)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, request: dict) -> tuple[int, object]:
        state, method = self.state, request["method"]
        url = urlsplit(request["path"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/(pulls|issues)(?:/(\d+))?", url.path)
        if not match:
            return 404, {"message": "Not Found"}
        owner, repo, kind, number = match.groups()
        html = f"https://github.com/{owner}/{repo}"
        if (kind, method) == ("pulls", "POST"):
            body = request["json"]
            if any(p["head"] == body["head"] and p["state"] == "open" for p in state.pulls):
                message = f"A pull request already exists for {owner}:{body['head']}."
                error = {"resource": "PullRequest", "code": "custom", "message": message}
                return 422, {"message": "Validation Failed", "errors": [error]}
            pull = {**body, "number": state.number(), "state": "open"}
            pull["html_url"] = f"{html}/pull/{pull['number']}"
            state.pulls.append(pull)
            return 201, pull
        if (kind, method) == ("pulls", "GET"):
            head = query.get("head", "").split(":", 1)[-1]
            return 200, [p for p in state.pulls if p["head"] == head and p["state"] == query.get("state")]
        if (kind, method, number) == ("issues", "GET", None):
            # GitHub lists pull requests among the issues, marked with a pull_request key.
            listed = [i for i in state.issues if i["state"] == query.get("state")]
            listed += [{**p, "pull_request": {"url": p["html_url"]}} for p in state.pulls]
            size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
            return 200, listed[(page - 1) * size : page * size]
        if (kind, method, number) == ("issues", "POST", None):
            issue = {**request["json"], "number": state.number(), "state": "open"}
            issue["html_url"] = f"{html}/issues/{issue['number']}"
            state.issues.append(issue)
            return 201, issue
        if (kind, method) == ("issues", "PATCH") and number:
            issue = next(i for i in state.issues if i["number"] == int(number))
            issue.update(request["json"])
            return 200, issue
        return 404, {"message": "Not Found"}

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github_api() -> Iterator[tuple[str, _GitHub]]:
    """The stand-in's base URL and its state."""
    state = _GitHub()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", state
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- repositories and runs


@dataclass
class Origin:
    """A generated repository's GitHub origin: the bare repository behind ``url``."""

    name: str
    bare: Path
    url: str


def _new_service(template_versions: Path, tmp_path: Path, name: str, version: str = "v1.0.0") -> Path:
    dest = tmp_path / f"NaaVRE-{name}-service"
    argv = ["new", "service", name, "--defaults", "-q", "--dest", str(dest)]
    argv += ["--template-source", str(template_versions), "--vcs-ref", version]
    assert main(argv) == 0
    return dest


def _publish(repo: Path, tmp_path: Path) -> Origin:
    """Push ``repo``'s main to a new bare repository, its origin on 'GitHub'."""
    bare = tmp_path / "origins" / f"{repo.name}.git"
    bare.parent.mkdir(exist_ok=True)
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git(repo, "push", "--quiet", str(bare), "main")
    return Origin(repo.name, bare, f"https://github.com/{OWNER}/{repo.name}.git")


def _checkout(origin: Origin, into: Path) -> Path:
    """What actions/checkout leaves: a clone of the default branch whose origin is the GitHub URL."""
    into.parent.mkdir(parents=True, exist_ok=True)
    git(into.parent, "clone", "--quiet", str(origin.bare), str(into))
    git(into, "remote", "set-url", "origin", origin.url)
    # git's own URL rewriting sends fetches and pushes to the bare repository instead of GitHub.
    git(into, "config", f"url.{origin.bare.as_uri()}.insteadOf", origin.url)
    return into


@dataclass
class StepResult:
    name: str
    code: int
    output: str
    outputs: dict[str, str]


@dataclass
class Run:
    steps: list[StepResult]
    pip_args: list[str]
    work: Path
    runner_temp: Path

    def step(self, name: str) -> StepResult:
        return next(step for step in self.steps if step.name == name)


def _workflow(repo: Path) -> dict:
    return yaml.safe_load((repo / WORKFLOW).read_text())


def _expand(value: str) -> str:
    def lookup(match: re.Match[str]) -> str:
        assert match.group(1) in EXPRESSIONS, f"no value given for the expression {match.group(0)}"
        return EXPRESSIONS[match.group(1)]

    return EXPRESSION.sub(lookup, value)


def _run_block(step: dict, cwd: Path, env: Mapping[str, str]) -> StepResult:
    """A step's ``run:`` as GitHub's ``shell: bash`` runs it; its exit code, output and $GITHUB_OUTPUT."""
    assert "${{" not in step["run"], "expressions belong in env:, not in run:"
    outputs = Path(env["RUNNER_TEMP"]).parent / "github-output"
    outputs.write_text("")
    step_env = {name: _expand(str(value)) for name, value in step.get("env", {}).items()}
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env={**env, **step_env, "GITHUB_OUTPUT": str(outputs)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if line)
    return StepResult(step.get("name", step["run"]), result.returncode, result.stdout + result.stderr, pairs)


def _environment(folder: Path, api: str, repository: str) -> dict[str, str]:
    """What GitHub's runner gives every step, with a recording ``pip`` first on PATH."""
    fake_bin = folder / "fake-bin"
    fake_bin.mkdir(parents=True)
    pip = fake_bin / "pip"
    pip.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{folder / 'pip-args'}'\n")
    pip.chmod(0o755)
    (folder / "runner-temp").mkdir()
    (folder / "home").mkdir()
    kept = {k: os.environ[k] for k in ("TMPDIR", "NAAVRE_SCAFFOLD_CACHE", "LANG") if k in os.environ}
    return {
        **kept,
        "PATH": os.pathsep.join([str(fake_bin), str(BIN), os.environ["PATH"]]),
        "HOME": str(folder / "home"),
        "RUNNER_TEMP": str(folder / "runner-temp"),
        "GITHUB_API_URL": api,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": repository,
        "GITHUB_RUN_ID": RUN_ID,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
    }


def _run_sync(origin: Origin, folder: Path, api: str) -> Run:
    """One scheduled run of the sync job, from a fresh checkout, step by step as GitHub runs them."""
    work = _checkout(origin, folder / "work")
    workflow = _workflow(work)
    env = _environment(folder, api, f"{OWNER}/{origin.name}")
    results: list[StepResult] = []
    for step in workflow["jobs"]["sync"]["steps"]:
        if "uses" in step:
            continue  # the app token (no App here), checkout (done above) and setup-python
        if step.get("if") == ISSUE_STEP_CONDITION:
            update = next(r for r in results if r.name == "Update from the template, as a pull request")
            if update.outputs.get("conflict") != "true":
                continue
        elif "if" in step:
            raise AssertionError(f"a condition this test does not know: {step['if']}")
        result = _run_block(step, work, env)
        results.append(result)
        if result.code != 0:
            break  # later steps have no `if: failure()`/`!cancelled()` but the issue step
    pip_args = (folder / "pip-args").read_text().splitlines() if (folder / "pip-args").exists() else []
    return Run(results, pip_args, work, folder / "runner-temp")


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
    return repo, _publish(repo, tmp_path)


def test_a_release_becomes_one_pull_request_and_a_rerun_reuses_it(
    service: tuple[Path, Origin], tmp_path: Path, github_api: tuple[str, _GitHub]
) -> None:
    repo, origin = service
    api, github = github_api

    first = _run_sync(origin, tmp_path / "run-1", api)

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
    second = _run_sync(origin, tmp_path / "run-2", api)

    assert [step.code for step in second.steps] == [0, 0], second.steps
    assert git(origin.bare, "rev-parse", BRANCH) == pushed  # the branch on origin is reused as it is
    create, find = github.requests
    _check_create_pull(create, origin.name, changed)  # GitHub answers 422: it exists ...
    _check_find_pull(find, origin.name)  # ... and is found, not opened again
    assert [p["number"] for p in github.pulls] == [1]
    assert github.issues == []


def test_a_conflict_opens_one_issue_naming_the_file_and_no_pull_request(
    service: tuple[Path, Origin], tmp_path: Path, github_api: tuple[str, _GitHub]
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

    first = _run_sync(origin, tmp_path / "run-1", api)

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
    second = _run_sync(origin, tmp_path / "run-2", api)

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
    template_versions: Path, tmp_path: Path, github_api: tuple[str, _GitHub]
) -> None:
    api, github = github_api
    repo = _new_service(template_versions, tmp_path, "current", version=NEWEST)
    origin = _publish(repo, tmp_path)

    run = _run_sync(origin, tmp_path / "run", api)

    assert [step.code for step in run.steps] == [0, 0], run.steps
    assert run.step("Update from the template, as a pull request").outputs == {"conflict": "false"}
    assert run.pip_args[-1] == _pinned(NEWEST)
    assert github.requests == []
    assert git(origin.bare, "branch", "--list", "template-update/*") == ""


def test_a_failed_push_fails_the_job_and_opens_no_issue(
    service: tuple[Path, Origin], tmp_path: Path, github_api: tuple[str, _GitHub]
) -> None:
    """A verdict that needs a person but is no conflict (here: the push is refused) fails the job."""
    _, origin = service
    api, github = github_api
    hook = origin.bare / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'refusing to allow a GitHub App to update workflow files' >&2\nexit 1\n")
    hook.chmod(0o755)

    run = _run_sync(origin, tmp_path / "run", api)

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

    result = _run_block(step, repo, _environment(tmp_path / "run", "http://127.0.0.1:9", "NaaVRE/x"))

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

    result = _run_block(_install_step(repo), repo, _environment(tmp_path / "run", "http://x", "NaaVRE/x"))

    assert result.code == 1
    assert "::error file=.copier-answers.yml::_commit" in result.output
    assert not (tmp_path / "run/pip-args").exists()


def _pinned(tag: str) -> str:
    """The requirement that installs naavre-scaffold at ``tag``, from the public repository."""
    return f"naavre-scaffold @ git+{PUBLIC_SOURCE}@{tag}"


def _install_step(repo: Path) -> dict:
    steps = _workflow(repo)["jobs"]["sync"]["steps"]
    return next(s for s in steps if "pip install" in s.get("run", ""))


def test_the_workflow_asks_only_for_what_each_job_needs(service: tuple[Path, Origin]) -> None:
    repo, _ = service
    workflow = _workflow(repo)
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
    step = _workflow(repo)["jobs"]["check"]["steps"][-1]

    result = _run_block(step, repo, _environment(tmp_path / "run", "http://x", "NaaVRE/x"))

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
    template_versions: Path, tmp_path: Path, github_api: tuple[str, _GitHub]
) -> None:
    api, github = github_api
    repo = tmp_path / "flavors"
    argv = ["new", "flavors-repo", "flavors", "--defaults", "-q", "--dest", str(repo)]
    assert main([*argv, "--template-source", str(template_versions), "--vcs-ref", "v1.0.0"]) == 0
    assert (repo / "flavors/vanilla/.copier-answers.yml").is_file()
    origin = _publish(repo, tmp_path)

    run = _run_sync(origin, tmp_path / "run", api)

    assert [step.code for step in run.steps] == [0, 0], run.steps
    changed = git(origin.bare, "diff", "--name-only", "main", BRANCH).splitlines()
    assert {".copier-answers.yml", "flavors/vanilla/.copier-answers.yml"} <= set(changed)
    (create,) = github.requests
    _check_create_pull(create, origin.name)
    assert "flavors/vanilla: template" in create["json"]["body"]

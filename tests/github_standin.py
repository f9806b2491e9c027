"""A GitHub for the workflow tests: an API stand-in that keeps pull requests and issues, bare
origins behind github.com URLs, and the template-sync workflow's steps run as GitHub runs them.

The stand-in also answers what ``status`` asks of an organisation: its repositories (the
origins registered with it), the answers file on a default branch (read from the bare
origin), open pull requests and the CI state of their heads (none here). It records every
request it receives, for the tests to check in full.
"""

from __future__ import annotations

import base64
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

from naavre_scaffold.git import GitError, git

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
class GitHub:
    """What the stand-in knows: pull requests and issues share one numbering, as on GitHub."""

    requests: list[dict] = field(default_factory=list)
    pulls: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    next_number: int = 1
    origins: dict[str, Origin] = field(default_factory=dict)  # the organisation's repositories, by name

    def number(self) -> int:
        self.next_number += 1
        return self.next_number - 1


class _Handler(BaseHTTPRequestHandler):
    state: ClassVar[GitHub]

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
        if method == "GET" and (found := self._read(url.path, query)) is not None:
            return found
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/(pulls|issues)(?:/(\d+))?", url.path)
        if not match:
            return 404, {"message": "Not Found"}
        owner, repo, kind, number = match.groups()
        html = f"https://github.com/{owner}/{repo}"
        if (kind, method, query.get("head")) == (
            "pulls",
            "GET",
            None,
        ):  # status: the open pulls, as GitHub shows them
            return 200, [
                self._shown(p, repo) for p in state.pulls if p["repository"] == repo and p["state"] == "open"
            ]
        if (kind, method) == ("pulls", "POST"):
            body = request["json"]
            if any(
                p["repository"] == repo and p["head"] == body["head"] and p["state"] == "open"
                for p in state.pulls
            ):
                message = f"A pull request already exists for {owner}:{body['head']}."
                error = {"resource": "PullRequest", "code": "custom", "message": message}
                return 422, {"message": "Validation Failed", "errors": [error]}
            pull = {**body, "number": state.number(), "state": "open", "repository": repo}
            pull["html_url"] = f"{html}/pull/{pull['number']}"
            state.pulls.append(pull)
            return 201, pull
        if (kind, method) == ("pulls", "GET"):
            head = query.get("head", "").split(":", 1)[-1]
            listed = [p for p in state.pulls if p["repository"] == repo and p["head"] == head]
            return 200, [p for p in listed if p["state"] == query.get("state")]
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

    def _read(self, path: str, query: dict[str, str]) -> tuple[int, object] | None:
        """What ``status`` reads of the organisation's origins; None for other paths."""
        origins = self.state.origins
        if re.fullmatch(r"/orgs/[^/]+/repos", path):
            return 200, [_listed(origin) for origin in origins.values()]
        if found := re.fullmatch(r"/repos/[^/]+/([^/]+)/contents/(.+)", path):
            origin = origins.get(found[1])
            try:
                text = git(origin.bare, "show", f"{query['ref']}:{found[2]}") if origin else None
            except GitError:
                text = None
            if text is None:
                return 404, {"message": "Not Found"}
            encoded = base64.encodebytes((text + "\n").encode()).decode()
            return 200, {"type": "file", "encoding": "base64", "content": encoded}
        if re.fullmatch(r"/repos/[^/]+/[^/]+/commits/[0-9a-f]+/check-runs", path):
            return 200, {"total_count": 0, "check_runs": []}  # no CI runs here
        if re.fullmatch(r"/repos/[^/]+/[^/]+/commits/[0-9a-f]+/status", path):
            return 200, {"state": "pending", "statuses": []}
        return None

    def _shown(self, pull: dict, repo: str) -> dict:
        """A pull request as GitHub lists it: its head a ref and the commit the origin has there."""
        sha = git(self.state.origins[repo].bare, "rev-parse", f"refs/heads/{pull['head']}")
        return {**pull, "head": {"ref": pull["head"], "sha": sha}}

    def log_message(self, *args: object) -> None:
        pass


def _listed(origin: Origin) -> dict:
    owner = origin.url.split("/")[-2]
    return {
        "name": origin.name,
        "full_name": f"{owner}/{origin.name}",
        "html_url": origin.url.removesuffix(".git"),
        "default_branch": "main",
        "archived": False,
    }


@pytest.fixture
def github_api() -> Iterator[tuple[str, GitHub]]:
    """The stand-in's base URL and its state."""
    state = GitHub()
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


def publish(repo: Path, tmp_path: Path) -> Origin:
    """Push ``repo``'s main to a new bare repository, its origin on 'GitHub'."""
    bare = tmp_path / "origins" / f"{repo.name}.git"
    bare.parent.mkdir(exist_ok=True)
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git(repo, "push", "--quiet", str(bare), "main")
    return Origin(repo.name, bare, f"https://github.com/{OWNER}/{repo.name}.git")


def checkout(origin: Origin, into: Path) -> Path:
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


def workflow_of(repo: Path) -> dict:
    return yaml.safe_load((repo / WORKFLOW).read_text())


def expand(value: str) -> str:
    def lookup(match: re.Match[str]) -> str:
        assert match.group(1) in EXPRESSIONS, f"no value given for the expression {match.group(0)}"
        return EXPRESSIONS[match.group(1)]

    return EXPRESSION.sub(lookup, value)


def run_block(step: dict, cwd: Path, env: Mapping[str, str]) -> StepResult:
    """A step's ``run:`` as GitHub's ``shell: bash`` runs it; its exit code, output and $GITHUB_OUTPUT."""
    assert "${{" not in step["run"], "expressions belong in env:, not in run:"
    outputs = Path(env["RUNNER_TEMP"]).parent / "github-output"
    outputs.write_text("")
    step_env = {name: expand(str(value)) for name, value in step.get("env", {}).items()}
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


def runner_environment(folder: Path, api: str, repository: str) -> dict[str, str]:
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


def run_sync(origin: Origin, folder: Path, api: str) -> Run:
    """One scheduled run of the sync job, from a fresh checkout, step by step as GitHub runs them."""
    work = checkout(origin, folder / "work")
    workflow = workflow_of(work)
    env = runner_environment(folder, api, f"{OWNER}/{origin.name}")
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
        result = run_block(step, work, env)
        results.append(result)
        if result.code != 0:
            break  # later steps have no `if: failure()`/`!cancelled()` but the issue step
    pip_args = (folder / "pip-args").read_text().splitlines() if (folder / "pip-args").exists() else []
    return Run(results, pip_args, work, folder / "runner-temp")

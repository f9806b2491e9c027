"""`update --push` to a real bare repository, and `--pr` against a local stand-in for the GitHub API.

The stand-in records every request in full (method, path with query, headers, JSON body),
and each test checks all of it. It answers from a list each test sets; by default 201 with
the URL GitHub would give.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.errors import GitHubError
from naavre_scaffold.fleet import github
from naavre_scaffold.fleet.update import Options, Verdict, update
from naavre_scaffold.git import git
from tests.helpers import commit_all, with_github_origin

NEWEST = "v1.1.1"
BRANCH = f"template-update/{NEWEST}"
TOKEN = "test-token-not-a-secret"
TRICKLE = "trickle"  # an answer that sends a header line every 0.2 s and never ends the headers


def test_push_reaches_origin(make_service, tmp_path: Path) -> None:
    repo = make_service("pushed")
    origin = with_github_origin(repo, tmp_path)

    assert main(["update", str(repo), "--push"]) == 0

    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
    assert git(origin, "rev-parse", "main") == git(repo, "rev-parse", "main")


def test_push_option_of_the_api_commits_and_pushes_as_the_cli_does(make_service, tmp_path: Path) -> None:
    repo = make_service("api-pushed")
    origin = with_github_origin(repo, tmp_path)

    [outcome] = update([repo], Options(push=True), jobs=1)

    assert (outcome.verdict, outcome.branch) == (Verdict.UPDATED, BRANCH)
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
    assert git(repo, "status", "--porcelain") == ""  # committed on the branch, not left in the tree


def test_each_delivery_option_implies_the_ones_before_it() -> None:
    assert Options(push=True) == Options(commit=True, push=True)
    assert Options(pull_request=True) == Options(commit=True, push=True, pull_request=True)
    assert Options(commit=True) == Options(commit=True, push=False, pull_request=False)


def test_failed_push_is_reported_and_leaves_no_branch(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("nopush")
    git(repo, "remote", "add", "origin", str(tmp_path / "missing.git"))

    assert main(["update", str(repo), "--push"]) == 1

    assert "failed" in capsys.readouterr().out
    assert git(repo, "branch", "--list", BRANCH) == ""


class _GitHubStandIn(BaseHTTPRequestHandler):
    """Records every request; answers with the next of ``answers`` (default: 201 and the PR's URL).

    An answer is ``(status, json)``, ``(status, json, headers)`` or ``TRICKLE``; ``route``, when
    set, picks the answer from the request instead.
    """

    requests: ClassVar[list[dict]] = []
    answers: ClassVar[list[tuple | str]] = []
    route: ClassVar[Callable[[dict], tuple | None] | None] = None

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": json.loads(body) if body else None,
            }
        )
        routed = type(self).route(self.requests[-1]) if type(self).route else None
        answer = routed or (self.answers.pop(0) if self.answers else (201, {"html_url": _pr_url(self.path)}))
        if answer == TRICKLE:
            self._trickle()
            return
        status, payload, *headers = answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers[0] if headers else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _trickle(self) -> None:
        self.wfile.write(b"HTTP/1.1 201 Created\r\n")
        try:
            for _ in range(150):  # 30 s, far past the deadline the tests set
                self.wfile.write(b"X-Still-Thinking: yes\r\n")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client gave up, as it should

    def log_message(self, *args: object) -> None:
        pass


def _pr_url(path: str, number: int = 1) -> str:
    return f"https://github.com{urlsplit(path).path.removeprefix('/repos')}/{number}"


@pytest.fixture
def github_api(monkeypatch) -> Iterator[type[_GitHubStandIn]]:
    _GitHubStandIn.requests = []
    _GitHubStandIn.answers = []
    _GitHubStandIn.route = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitHubStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setattr(github, "RETRY_DELAY", 0.1)  # for calls made in this process
    yield _GitHubStandIn
    server.shutdown()
    server.server_close()


def _fake_gh(tmp_path: Path, monkeypatch, script: str) -> Path:
    """A stand-in for the gh CLI first on PATH; it records its arguments in gh-args."""
    folder = tmp_path / "fake-bin"
    folder.mkdir(exist_ok=True)
    gh = folder / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" >> {folder}/gh-args\n{script}\n')
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder / "gh-args"


def _check_headers(request: dict, token: str = TOKEN) -> None:
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {token}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == f"naavre-scaffold/{__version__}"
    if request["method"] == "POST":
        assert headers["content-type"] == "application/json"
    else:
        assert request["json"] is None


def _check_create(request: dict, repo: str, head: str, token: str = TOKEN) -> None:
    """A create-pull-request call in full, apart from the body text (checked where it matters)."""
    assert request["method"] == "POST"
    assert request["path"] == f"/repos/NaaVRE/{repo}/pulls"
    _check_headers(request, token)
    assert set(request["json"]) == {"title", "head", "base", "body"}
    assert (request["json"]["head"], request["json"]["base"]) == (head, "main")


def _check_lookup(request: dict, repo: str, head: str) -> None:
    """The search for an open pull request of ``head``, after a 422."""
    assert request["method"] == "GET"
    url = urlsplit(request["path"])
    assert url.path == f"/repos/NaaVRE/{repo}/pulls"
    assert parse_qs(url.query) == {"head": [f"NaaVRE:{head}"], "state": ["open"]}
    _check_headers(request)


def test_pull_request_request_in_full(
    make_service, template_versions: Path, tmp_path: Path, github_api, capsys
) -> None:
    repo = make_service("reviewed")
    with_github_origin(repo, tmp_path)

    assert main(["update", str(repo), "--pr"]) == 0

    (request,) = github_api.requests
    _check_create(request, "NaaVRE-reviewed-service", BRANCH)
    short = {tag: git(template_versions, "log", "-1", "--format=%h", tag) for tag in ("v1.1.0", "v1.1.1")}
    answers_src = yaml.safe_load((repo / ".copier-answers.yml").read_text())["_src_path"]
    assert request["json"] == {
        "title": f"Update the naavre-scaffold template from v1.0.0 to {NEWEST}",
        "head": BRANCH,
        "base": "main",
        "body": "\n".join(
            [
                f"Template {answers_src} from v1.0.0 to {NEWEST}.",
                "",
                "Template changes:",
                f"- Exclude caches from flake8 and the image; no Yarn telemetry ({short['v1.1.0']})",
                f"- Comment the service questions ({short['v1.1.1']})",
                "",
                "Files changed:",
                "- .copier-answers.yml",
                "- .dockerignore",
                "- .flake8",
                "",
                "Made by `naavre-scaffold update`.",
            ]
        ),
    }
    assert "https://github.com/NaaVRE/NaaVRE-reviewed-service/pulls/1" in capsys.readouterr().out.replace(
        "\n", ""
    )


def test_failed_pull_request_does_not_stop_the_others(make_service, tmp_path: Path, github_api) -> None:
    refused = make_service("refused", parent=tmp_path / "a")
    accepted = make_service("fine", parent=tmp_path / "b")
    for repo in (refused, accepted):
        with_github_origin(repo, tmp_path)
    invalid = {"message": "Validation Failed", "errors": [{"code": "invalid", "field": "base"}]}

    def route(request: dict) -> tuple | None:
        if "-refused-" not in request["path"]:
            return None
        return (422, invalid) if request["method"] == "POST" else (200, [])

    github_api.route = staticmethod(route)
    report = tmp_path / "report.json"

    assert main(["update", str(refused), str(accepted), "--pr", "--json", str(report)]) == 1

    rows = {Path(r["path"]).name: r for r in json.loads(report.read_text())["repos"]}
    assert rows["NaaVRE-refused-service"]["verdict"] == "failed"
    assert (
        "GitHub refused the pull request (422): Validation Failed; invalid"
        in (rows["NaaVRE-refused-service"]["message"])
    )
    assert rows["NaaVRE-fine-service"]["verdict"] == "updated"
    assert (
        rows["NaaVRE-fine-service"]["pull_request"] == "https://github.com/NaaVRE/NaaVRE-fine-service/pulls/1"
    )
    by_repo = {"refused": [], "fine": []}
    for request in github_api.requests:
        by_repo["refused" if "-refused-" in request["path"] else "fine"].append(request)
    create, lookup = by_repo["refused"]
    _check_create(create, "NaaVRE-refused-service", BRANCH)
    _check_lookup(lookup, "NaaVRE-refused-service", BRANCH)
    (create,) = by_repo["fine"]
    _check_create(create, "NaaVRE-fine-service", BRANCH)


def test_existing_pull_request_is_reported_not_failed(make_service, tmp_path: Path, github_api) -> None:
    repo = make_service("again")
    with_github_origin(repo, tmp_path)
    exists = {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"A pull request already exists for NaaVRE:{BRANCH}.",
            }
        ],
    }
    existing = "https://github.com/NaaVRE/NaaVRE-again-service/pull/7"
    github_api.answers = [(422, exists), (200, [{"html_url": existing, "number": 7}])]
    report = tmp_path / "report.json"

    assert main(["update", str(repo), "--pr", "--json", str(report)]) == 0

    (row,) = json.loads(report.read_text())["repos"]
    assert (row["verdict"], row["pull_request"]) == ("updated", existing)
    create, lookup = github_api.requests
    _check_create(create, "NaaVRE-again-service", BRANCH)
    _check_lookup(lookup, "NaaVRE-again-service", BRANCH)


def test_pr_without_token_is_a_usage_error(make_service, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    _fake_gh(tmp_path, monkeypatch, "echo 'not logged in' >&2; exit 1")  # gh installed, not logged in
    repo = make_service("token")
    before = git(repo, "for-each-ref")
    assert main(["update", str(repo), "--pr"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("naavre-scaffold update: error: --pr: ")
    assert git(repo, "for-each-ref") == before


# The cases below call github.open_pull_request on a small repository with a GitHub origin:
# the same code `update --pr` runs, without rendering a service each time.


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "NaaVRE-direct-service"
    git(tmp_path, "-c", "init.defaultBranch=main", "init", "--quiet", str(repo))
    (repo / "README.md").write_text("direct\n")
    commit_all(repo, "First")
    git(repo, "remote", "add", "origin", "git@github.com:NaaVRE/NaaVRE-direct-service.git")
    return repo


def _open(checkout: Path) -> str:
    return github.open_pull_request(checkout, "feature", "Title", "Body")


def test_token_from_gh_token(checkout: Path, github_api, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GH_TOKEN", "from-gh-token")

    assert _open(checkout) == "https://github.com/NaaVRE/NaaVRE-direct-service/pulls/1"

    (request,) = github_api.requests
    _check_create(request, "NaaVRE-direct-service", "feature", token="from-gh-token")
    assert request["json"] == {"title": "Title", "head": "feature", "base": "main", "body": "Body"}


def test_token_from_gh_auth_token(checkout: Path, tmp_path: Path, github_api, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    calls = _fake_gh(tmp_path, monkeypatch, "echo from-gh-cli")

    assert github.token() == "from-gh-cli"
    _open(checkout)

    (request,) = github_api.requests
    _check_create(request, "NaaVRE-direct-service", "feature", token="from-gh-cli")
    assert calls.read_text().splitlines() == ["auth token", "auth token"]


def test_no_token_anywhere(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gh on it
    assert github.token() is None


@pytest.mark.parametrize(
    ("status", "answer", "headers", "expected"),
    [
        (
            401,
            {"message": "Bad credentials"},
            {},
            "GitHub rejected the token from GITHUB_TOKEN: Bad credentials (401)",
        ),
        (
            403,
            {"message": "Resource not accessible by personal access token"},
            {},
            "GitHub refused access to NaaVRE/NaaVRE-direct-service: "
            "Resource not accessible by personal access token (403); the token needs",
        ),
        (
            403,
            {"message": "API rate limit exceeded for user ID 1."},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000000"},
            "GitHub's API rate limit is used up until 22:13 UTC: API rate limit exceeded for user ID 1.",
        ),
        (
            404,
            {"message": "Not Found"},
            {},
            "repository NaaVRE/NaaVRE-direct-service not found on GitHub, or the token from "
            "GITHUB_TOKEN cannot see it",
        ),
    ],
)
def test_refusals_are_one_clear_line_and_not_retried(
    checkout: Path, github_api, status: int, answer: dict, headers: dict, expected: str
) -> None:
    github_api.answers = [(status, answer, headers)]

    with pytest.raises(GitHubError) as raised:
        _open(checkout)

    assert expected in str(raised.value)
    assert TOKEN not in str(raised.value)
    (request,) = github_api.requests  # a 4xx is final: no retry
    _check_create(request, "NaaVRE-direct-service", "feature")


def test_server_error_is_retried_once(checkout: Path, github_api) -> None:
    github_api.answers = [
        (500, {"message": "Server Error"}),
        (201, {"html_url": "https://github.com/x/y/pull/2"}),
    ]

    assert _open(checkout) == "https://github.com/x/y/pull/2"

    first, second = github_api.requests
    assert first == second
    _check_create(first, "NaaVRE-direct-service", "feature")


def test_server_error_twice_fails_clearly(checkout: Path, github_api) -> None:
    github_api.answers = [(502, {"message": "Bad Gateway"}), (503, {"message": "Unavailable"})]

    with pytest.raises(GitHubError, match=r"GitHub failed \(503\): Unavailable \(tried twice\)"):
        _open(checkout)

    assert len(github_api.requests) == 2


def test_trickling_server_fails_within_the_deadline(checkout: Path, github_api, monkeypatch) -> None:
    monkeypatch.setenv(github.DEADLINE_VARIABLE, "1")
    github_api.answers = [TRICKLE, TRICKLE]

    started = time.monotonic()
    with pytest.raises(GitHubError, match=r"GitHub did not answer within 1 s .*\(tried twice\)"):
        _open(checkout)
    elapsed = time.monotonic() - started

    # Two attempts of 1 s and the pause between them; the server would trickle for 30 s.
    assert elapsed < 4
    assert len(github_api.requests) == 2
    for request in github_api.requests:
        _check_create(request, "NaaVRE-direct-service", "feature")


def test_non_github_origin_and_detached_head_are_clear(checkout: Path, github_api) -> None:
    git(checkout, "remote", "set-url", "origin", "https://gitlab.com/NaaVRE/x.git")
    with pytest.raises(
        GitHubError, match=r"^origin https://gitlab.com/NaaVRE/x.git is not a GitHub repository$"
    ):
        _open(checkout)
    git(checkout, "remote", "set-url", "origin", "https://github.com/NaaVRE/x.git")
    git(checkout, "checkout", "--quiet", "--detach")
    with pytest.raises(GitHubError, match="HEAD is detached"):
        _open(checkout)
    assert github_api.requests == []

"""`update --push` to a real bare repository, and `--pr` against a local stand-in for the GitHub API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.git import git

NEWEST = "v1.1.1"
BRANCH = f"template-update/{NEWEST}"


def _with_origin(repo: Path, tmp_path: Path) -> Path:
    """Give ``repo`` a GitHub ``origin`` whose pushes land in a bare repository on disk."""
    bare = tmp_path / f"{repo.name}.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    url = f"https://github.com/NaaVRE/{repo.name}.git"
    git(repo, "remote", "add", "origin", url)
    # git's own URL rewriting sends the push to the bare repository instead of GitHub.
    git(repo, "config", f"url.{bare.as_uri()}.insteadOf", url)
    git(repo, "push", "--quiet", "origin", "main")
    return bare


def test_push_reaches_origin(make_service, tmp_path: Path) -> None:
    repo = make_service("pushed")
    origin = _with_origin(repo, tmp_path)

    assert main(["update", str(repo), "--push"]) == 0

    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
    assert git(origin, "rev-parse", "main") == git(repo, "rev-parse", "main")


def test_failed_push_is_reported_and_leaves_no_branch(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("nopush")
    git(repo, "remote", "add", "origin", str(tmp_path / "missing.git"))

    assert main(["update", str(repo), "--push"]) == 1

    assert "failed" in capsys.readouterr().out
    assert git(repo, "branch", "--list", BRANCH) == ""


class _GitHubStandIn(BaseHTTPRequestHandler):
    """Records every request; answers 201 with a PR URL, or 422 for repositories named *-refused-*."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append(
            {"method": "POST", "path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        if "-refused-" in self.path:
            status, answer = 422, {"message": "Validation Failed"}
        else:
            status, answer = 201, {"html_url": f"https://github.com{self.path.removeprefix('/repos')}/1"}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github_api(monkeypatch) -> Iterator[list[dict]]:
    _GitHubStandIn.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitHubStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("GITHUB_TOKEN", "test-token-not-a-secret")
    yield _GitHubStandIn.requests
    server.shutdown()
    server.server_close()


def test_pull_request_request_in_full(
    make_service, template_versions: Path, tmp_path: Path, github_api: list[dict], capsys
) -> None:
    repo = make_service("reviewed")
    _with_origin(repo, tmp_path)

    assert main(["update", str(repo), "--pr"]) == 0

    (request,) = github_api
    assert request["method"] == "POST"
    assert request["path"] == "/repos/NaaVRE/NaaVRE-reviewed-service/pulls"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == "Bearer test-token-not-a-secret"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"naavre-scaffold/{__version__}"
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
                f"- Exclude caches from flake8 and the image; shorter test timeout ({short['v1.1.0']})",
                f"- Comment the service questions ({short['v1.1.1']})",
                "",
                "Files changed:",
                "- .copier-answers.yml",
                "- .dockerignore",
                "- .flake8",
                "- .github/workflows/ci.yml",
                "",
                "Made by `naavre-scaffold update`.",
            ]
        ),
    }
    assert "https://github.com/NaaVRE/NaaVRE-reviewed-service/pulls/1" in capsys.readouterr().out.replace(
        "\n", ""
    )


def test_failed_pull_request_does_not_stop_the_others(
    make_service, tmp_path: Path, github_api: list[dict]
) -> None:
    refused = make_service("pr-refused-one", parent=tmp_path / "a")
    accepted = make_service("fine", parent=tmp_path / "b")
    for repo in (refused, accepted):
        _with_origin(repo, tmp_path)
    report = tmp_path / "report.json"

    assert main(["update", str(refused), str(accepted), "--pr", "--json", str(report)]) == 1

    rows = {Path(r["path"]).name: r for r in json.loads(report.read_text())["repos"]}
    assert rows["NaaVRE-pr-refused-one-service"]["verdict"] == "failed"
    assert "GitHub refused the pull request (422)" in rows["NaaVRE-pr-refused-one-service"]["message"]
    assert git(refused, "branch", "--list", BRANCH) == ""
    assert rows["NaaVRE-fine-service"]["verdict"] == "updated"
    assert (
        rows["NaaVRE-fine-service"]["pull_request"] == "https://github.com/NaaVRE/NaaVRE-fine-service/pulls/1"
    )
    assert len(github_api) == 2


def test_pr_without_token_is_a_usage_error(make_service, monkeypatch, capsys) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    repo = make_service("token")
    before = git(repo, "for-each-ref")
    assert main(["update", str(repo), "--pr"]) == 2
    assert "--pr: needs a GitHub token in the GITHUB_TOKEN environment variable" in capsys.readouterr().err
    assert git(repo, "for-each-ref") == before

"""Pull requests through the GitHub REST API, the one remote service naavre-scaffold calls."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from naavre_scaffold import __version__
from naavre_scaffold.errors import GitError, GitHubError
from naavre_scaffold.git import git

# GitHub Actions sets GITHUB_API_URL (it differs on GitHub Enterprise).
DEFAULT_API_URL = "https://api.github.com"
_GITHUB_REMOTE = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


def repository_of(root: Path) -> tuple[str, str]:
    """Owner and name of the GitHub repository that ``origin`` points at."""
    try:
        # The URL as configured: `git remote get-url` would apply url.*.insteadOf rewriting.
        url = git(root, "config", "--get", "remote.origin.url")
    except GitError:
        raise GitHubError("the repository has no remote 'origin'") from None
    if not (match := _GITHUB_REMOTE.match(url)):
        raise GitHubError(f"origin {url} is not a GitHub repository")
    return match["owner"], match["repo"]


def open_pull_request(root: Path, head: str, title: str, body: str) -> str:
    """Open a pull request of branch ``head`` into the branch ``root`` is on; return its URL."""
    owner, name = repository_of(root)
    try:
        base = git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    except GitError:
        raise GitHubError("HEAD is detached, so there is no base branch for the pull request") from None
    api = os.environ.get("GITHUB_API_URL", DEFAULT_API_URL).rstrip("/")
    request = urllib.request.Request(
        f"{api}/repos/{owner}/{name}/pulls",
        method="POST",
        data=json.dumps({"title": title, "head": head, "base": base, "body": body}).encode(),
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {os.environ.get('GITHUB_TOKEN', '')}",
            "Content-Type": "application/json",
            "User-Agent": f"naavre-scaffold/{__version__}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["html_url"]
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:200]
        raise GitHubError(f"GitHub refused the pull request ({error.code}): {detail}") from None
    except (urllib.error.URLError, TimeoutError, ValueError, KeyError) as error:
        raise GitHubError(f"opening the pull request failed: {error}") from None

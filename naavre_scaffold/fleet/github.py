"""Pull requests through the GitHub REST API, the one remote service naavre-scaffold calls.

Every request has a total deadline (``NAAVRE_SCAFFOLD_GITHUB_DEADLINE`` seconds, 30 by
default), not only a socket timeout: a server that sends one byte every few seconds
would never trip a read timeout. A request that times out, cannot connect or gets a
5xx answer is tried once more after a short pause; a 4xx answer is final.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naavre_scaffold import __version__
from naavre_scaffold.errors import GitError, GitHubError, one_line
from naavre_scaffold.git import current_branch, git

if TYPE_CHECKING:  # httpx itself is imported on first use: every command would pay for it at start
    import httpx

# GitHub Actions sets GITHUB_API_URL (it differs on GitHub Enterprise).
DEFAULT_API_URL = "https://api.github.com"
DEADLINE_VARIABLE = "NAAVRE_SCAFFOLD_GITHUB_DEADLINE"
DEFAULT_DEADLINE = 30.0
RETRY_DELAY = 1.0  # seconds before the one retry
GH_TIMEOUT = 10  # seconds `gh auth token` may take
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
_GITHUB_REMOTE = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


class _Retryable(GitHubError):
    """A failure worth one more try: a timeout, a lost connection, a 5xx answer."""


def _token_and_origin() -> tuple[str | None, str]:
    for variable in TOKEN_VARIABLES:
        if value := os.environ.get(variable, "").strip():
            return value, variable
    if shutil.which("gh"):
        try:
            result = subprocess.run(
                ["gh", "auth", "token"], capture_output=True, text=True, timeout=GH_TIMEOUT, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None, ""
        if result.returncode == 0 and (value := result.stdout.strip()):
            return value, "`gh auth token`"
    return None, ""


def token() -> str | None:
    """The GitHub token: ``GITHUB_TOKEN``, else ``GH_TOKEN``, else ``gh auth token`` if gh is installed."""
    return _token_and_origin()[0]


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


def open_pull_request(root: Path, branch: str, title: str, body: str) -> str:
    """Open a pull request of ``branch`` into the branch ``root`` is on; return its URL.

    If GitHub already has an open pull request for ``branch``, its URL is returned.
    """
    owner, name = repository_of(root)
    base = current_branch(root)
    if base is None:
        raise GitHubError("HEAD is detached, so there is no base branch for the pull request")
    secret, origin = _token_and_origin()
    if secret is None:
        raise GitHubError("no GitHub token: set GITHUB_TOKEN or GH_TOKEN, or log in with `gh auth login`")
    api = os.environ.get("GITHUB_API_URL", DEFAULT_API_URL).rstrip("/")
    pulls = f"{api}/repos/{owner}/{name}/pulls"
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {secret}",
        "User-Agent": f"naavre-scaffold/{__version__}",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    answer = _call("POST", pulls, headers, json={"title": title, "head": branch, "base": base, "body": body})
    if answer.status_code == 201:
        return _field(answer, "html_url")
    if answer.status_code == 422:
        # Most often "A pull request already exists for owner:branch": a rerun finds it.
        existing = _call("GET", pulls, headers, params={"head": f"{owner}:{branch}", "state": "open"})
        found = _json(existing) if existing.status_code == 200 else None
        if isinstance(found, list) and found and isinstance(found[0], dict) and found[0].get("html_url"):
            return str(found[0]["html_url"])
    raise GitHubError(_refusal(answer, f"{owner}/{name}", origin))


def _refusal(answer: httpx.Response, repository: str, token_origin: str) -> str:
    """One line saying why GitHub refused, and what to do about it."""
    status, said = answer.status_code, _message(answer)
    if status == 401:
        return f"GitHub rejected the token from {token_origin}: {said} (401); give a valid token"
    if status == 403:
        if answer.headers.get("x-ratelimit-remaining") == "0":
            reset = answer.headers.get("x-ratelimit-reset", "")
            until = time.strftime(" until %H:%M UTC", time.gmtime(int(reset))) if reset.isdigit() else ""
            return f"GitHub's API rate limit is used up{until}: {said} (403)"
        return (
            f"GitHub refused access to {repository}: {said} (403); the token needs the "
            "'pull requests: write' permission there, or a secondary rate limit was hit"
        )
    if status == 404:
        return f"repository {repository} not found on GitHub, or the token from {token_origin} cannot see it"
    return f"GitHub refused the pull request ({status}): {said}"


def _message(answer: httpx.Response) -> str:
    body = _json(answer)
    if not isinstance(body, dict):
        return one_line(answer.text, 200) or answer.reason_phrase
    details = [e.get("message") or e.get("code") for e in body.get("errors", []) if isinstance(e, dict)]
    return one_line("; ".join(str(part) for part in [body.get("message"), *details] if part), 200)


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _field(answer: httpx.Response, key: str) -> str:
    body = _json(answer)
    if not isinstance(body, dict) or not isinstance(body.get(key), str):
        raise GitHubError(f"GitHub answered {answer.status_code} without a {key}")
    return body[key]


def _call(method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    """One request, tried again once after a pause when it timed out, lost its connection or got a 5xx."""
    try:
        return _request(method, url, headers, **kwargs)
    except _Retryable:
        time.sleep(RETRY_DELAY)
    try:
        return _request(method, url, headers, **kwargs)
    except _Retryable as error:
        raise GitHubError(f"{error} (tried twice)") from None


def deadline() -> float:
    """Seconds one request may take in all, from ``NAAVRE_SCAFFOLD_GITHUB_DEADLINE``."""
    try:
        return float(os.environ.get(DEADLINE_VARIABLE, DEFAULT_DEADLINE))
    except ValueError:
        return DEFAULT_DEADLINE


def _request(method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    import httpx

    seconds = deadline()
    timeout = httpx.Timeout(min(10.0, seconds), read=seconds)
    with _watchdog(seconds) as (trace, expired):
        try:
            with httpx.Client(timeout=timeout, follow_redirects=True) as client:
                answer = client.request(method, url, headers=headers, extensions={"trace": trace}, **kwargs)
        except httpx.TransportError as error:
            if expired.is_set() or isinstance(error, httpx.TimeoutException):
                raise _Retryable(f"GitHub did not answer within {seconds:g} s ({url})") from None
            reason = one_line(str(error)) or type(error).__name__
            raise _Retryable(f"cannot reach GitHub at {url}: {reason}") from None
    if answer.status_code >= 500:
        raise _Retryable(f"GitHub failed ({answer.status_code}): {_message(answer)}")
    return answer


@contextmanager
def _watchdog(seconds: float) -> Iterator[tuple[Callable[[str, dict], None], threading.Event]]:
    """A trace hook for httpx that shuts the request's socket down when ``seconds`` have passed.

    Shutting the socket down wakes a read blocked in another thread, so a request
    ends at the deadline whatever the server trickles.
    """
    sockets: list[socket.socket] = []
    expired = threading.Event()
    lock = threading.Lock()

    def shut(sock: socket.socket) -> None:
        with suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)

    def trace(event: str, info: dict) -> None:
        stream: Any = info.get("return_value") if event.endswith(".complete") else None
        sock = stream.get_extra_info("socket") if hasattr(stream, "get_extra_info") else None
        if isinstance(sock, socket.socket):
            with lock:
                sockets.append(sock)
                if expired.is_set():
                    shut(sock)

    def expire() -> None:
        with lock:
            expired.set()
            for sock in sockets:
                shut(sock)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield trace, expired
    finally:
        timer.cancel()

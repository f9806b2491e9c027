"""The GitHub REST API as ``status`` reads it: paginated GETs, rate limits, update PRs and their CI.

Built on ``github``'s request machinery (its deadline per request, and one more try
after a timeout, a lost connection or a 5xx answer). On top of it:

- pagination: a list is read page by page (``per_page=100``), following the
  ``Link: <...>; rel="next"`` header GitHub sends, and only to the API's own origin,
  so the token never leaves for another host;
- rate limits: a 403 or 429 answer with ``x-ratelimit-remaining: 0`` waits until
  ``x-ratelimit-reset``, one with ``retry-after`` (a secondary limit) waits that long,
  each only when the wait is at most ``NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT`` seconds
  (60 by default); a longer wait fails at once with a line that says when to rerun.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from naavre_scaffold import __version__
from naavre_scaffold.errors import GitHubError, UsageError
from naavre_scaffold.fleet import github

if TYPE_CHECKING:
    import httpx

MAX_WAIT_VARIABLE = "NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT"
DEFAULT_MAX_WAIT = 60.0
PER_PAGE = 100
# Rate-limit waits in a row for one request: a limit that is still used up after this many
# waits is not going to clear; stop rather than loop.
MAX_WAITS = 5
MAX_PAGES = 1000  # a Link header that loops must not keep a run going forever
UPDATE_BRANCH_PREFIX = "template-update/"
# Check-run conclusions that do not fail a pull request (GitHub shows them grey or green).
_PASSING = {"success", "neutral", "skipped"}


def max_wait() -> float:
    """Seconds a rate limit may be waited out, from ``NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT``.

    Raises:
        UsageError: the variable is not a number of seconds, 0 or more.
    """
    text = os.environ.get(MAX_WAIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_WAIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise UsageError(MAX_WAIT_VARIABLE, f"must be a number of seconds, 0 or more (not {text!r})")
    return seconds


def api_url() -> str:
    """The API's base URL: ``GITHUB_API_URL`` (set by GitHub Actions, differs on GHES), else github.com's."""
    return os.environ.get("GITHUB_API_URL", github.DEFAULT_API_URL).rstrip("/")


@dataclass
class Client:
    """GETs against one GitHub API with one token; ``sleep`` is how a rate limit is waited out."""

    token: str
    base: str = field(default_factory=api_url)
    wait_cap: float = field(default_factory=max_wait)
    sleep: Callable[[float], None] = time.sleep

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "User-Agent": f"naavre-scaffold/{__version__}",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def get(
        self, path: str, params: dict[str, str] | None = None, *, url: str | None = None
    ) -> httpx.Response:
        """One GET of ``path`` (or of the full ``url`` a Link header gave), rate limits waited out.

        Any status but a rate limit is returned: the caller knows what a 404 means there.
        """
        target = url or f"{self.base}{path}"
        for _ in range(MAX_WAITS + 1):
            answer = github._call("GET", target, self.headers, **({"params": params} if params else {}))
            wait = self._rate_limit_wait(answer)
            if wait is None:
                return answer
            self.sleep(wait)
        raise GitHubError(f"GitHub's API rate limit is still used up after {MAX_WAITS} waits ({target})")

    def pages(
        self, path: str, params: dict[str, str] | None = None, *, items: str | None = None
    ) -> list[Any]:
        """Every item of a paginated list: the JSON array of each page, or its ``items`` key.

        Raises:
            GitHubError: a page is not 200, or not the expected shape.
        """
        found: list[Any] = []
        answer = self.get(path, {**(params or {}), "per_page": str(PER_PAGE)})
        for _ in range(MAX_PAGES):
            if answer.status_code != 200:
                raise GitHubError(refusal(answer, path))
            body = github._json(answer)
            page = body.get(items) if items and isinstance(body, dict) else body
            if not isinstance(page, list):
                raise GitHubError(f"GitHub answered {path} with something that is not a list")
            found += page
            following = answer.links.get("next", {}).get("url")
            if not following:
                return found
            if not _same_origin(following, self.base):
                raise GitHubError(f"GitHub's next page of {path} is not on {self.base}: {following}")
            answer = self.get(path, url=following)
        raise GitHubError(f"GitHub's list {path} has more than {MAX_PAGES} pages")

    def _rate_limit_wait(self, answer: httpx.Response) -> float | None:
        """Seconds to wait before asking again; None when ``answer`` is no rate limit.

        Raises:
            GitHubError: the wait would be longer than the cap (saying when to rerun).
        """
        if answer.status_code not in (403, 429):
            return None
        headers = answer.headers
        now = time.time()
        if (retry_after := headers.get("retry-after", "")).isdigit():
            wait, until = float(retry_after), now + float(retry_after)
        elif headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            until = float(headers["x-ratelimit-reset"])
            wait = max(0.0, until - now) + 0.5  # GitHub's reset is whole seconds: don't come back early
        else:
            return None  # a plain permission refusal: the caller's to explain
        if wait > self.wait_cap:
            at = time.strftime("%H:%M:%S UTC", time.gmtime(until))
            raise GitHubError(
                f"GitHub's API rate limit is used up until {at} ({wait:.0f} s from now, more than the "
                f"{self.wait_cap:g} s {MAX_WAIT_VARIABLE} allows); rerun after that"
            )
        return wait


def _same_origin(url: str, base: str) -> bool:
    there, here = urlsplit(url), urlsplit(base)
    return (there.scheme, there.netloc) == (here.scheme, here.netloc)


def refusal(answer: httpx.Response, what: str) -> str:
    """One line saying why GitHub answered ``what`` with an error, and what to do about it."""
    status, said = answer.status_code, github._message(answer)
    if status == 401:
        return f"GitHub rejected the token: {said} (401); give a valid token"
    if status == 403:
        return f"GitHub refused {what}: {said} (403); the token needs read access there"
    if status == 404:
        return f"{what} not found on GitHub, or the token cannot see it (404)"
    return f"GitHub refused {what} ({status}): {said}"


class CiState(StrEnum):
    """The CI of a pull request's head commit, its check runs and commit statuses together."""

    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    NONE = "none"  # no check run and no status at all


# A combined commit status's state; "failure" and "error" (and anything new) fail.
_COMBINED = {"success": CiState.SUCCESS, "pending": CiState.PENDING}


@dataclass(frozen=True)
class PullRequest:
    """An open pull request from a ``template-update/*`` branch."""

    number: int
    url: str
    branch: str
    ci: CiState


def update_pull_requests(client: Client, name: str) -> list[PullRequest]:
    """Open pull requests of ``name`` (``owner/repo``) from ``template-update/*`` branches, with CI."""
    pulls = client.pages(f"/repos/{name}/pulls", {"state": "open"})
    found = []
    for pull in pulls:
        head = pull.get("head") or {}
        branch = str(head.get("ref", ""))
        if branch.startswith(UPDATE_BRANCH_PREFIX):
            ci = ci_state(client, name, str(head["sha"]))
            found.append(PullRequest(int(pull["number"]), str(pull["html_url"]), branch, ci))
    return found


def ci_state(client: Client, name: str, sha: str) -> CiState:
    """A commit's CI: its check runs (GitHub Actions) and commit statuses (older CI services) together."""
    runs = client.pages(f"/repos/{name}/commits/{sha}/check-runs", items="check_runs")
    states = [
        (CiState.SUCCESS if run.get("conclusion") in _PASSING else CiState.FAILURE)
        if run.get("status") == "completed"
        else CiState.PENDING
        for run in runs
    ]
    answer = client.get(f"/repos/{name}/commits/{sha}/status", {"per_page": "100"})
    if answer.status_code != 200:
        raise GitHubError(refusal(answer, f"the commit status of {name}@{sha[:7]}"))
    combined = github._json(answer) or {}
    # With no statuses GitHub still says "pending": only a commit that has some counts.
    if combined.get("statuses"):
        states.append(_COMBINED.get(str(combined.get("state")), CiState.FAILURE))
    for verdict in (CiState.FAILURE, CiState.PENDING, CiState.SUCCESS):
        if verdict in states:
            return verdict
    return CiState.NONE

"""``naavre-scaffold status``: the fleet at a glance, from GitHub or from local checkouts.

Per repository: its template, the version it records (``_commit``), the newest
version of its template source (the tag Copier would update to; each source is
fetched once), whether it is behind, and

- for an organisation on GitHub: its open ``template-update/*`` pull requests with
  the state of their CI, and which repositories are not adopted yet (no answers file
  of a naavre-scaffold template at the root of the default branch). Archived
  repositories are skipped. Drift is not checked: that needs the files, so a checkout;
- for local checkouts: drift too, exactly as ``check`` finds it (``check``'s renders).

A flavors repository counts as adopted by its root answers file; its flavors'
answers (``flavors/<name>/``) are not read from GitHub.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.errors import GitError, GitHubError, UsageError
from naavre_scaffold.fleet import github
from naavre_scaffold.fleet.check import CheckReport, FileChange, check_subprojects
from naavre_scaffold.fleet.discovery import find_subprojects
from naavre_scaffold.fleet.github_pages import (
    CiState,
    Client,
    PullRequest,
    max_wait,
    refusal,
    update_pull_requests,
)
from naavre_scaffold.fleet.sources import Blocked, Problem, Sources
from naavre_scaffold.source import is_remote
from naavre_scaffold.templates import TEMPLATES

__all__ = ["CiState", "PullRequest", "RepoStatus", "StatusReport", "Unadopted", "status"]

ANSWERS_FILE = ".copier-answers.yml"
# A GitHub login: letters, digits and single inner hyphens, at most 39 characters.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")


@dataclass
class RepoStatus:
    """Where one adopted repository (or local subproject) stands.

    ``name`` is ``owner/repo`` on GitHub, the subproject's folder for a checkout.
    ``drift`` is None when it was not checked (on GitHub), ``pull_requests`` None when
    they were not looked up (checkouts). ``error`` says why the rest is unknown, and
    ``error_kind`` whose problem that is (as ``check`` says it).
    """

    name: str
    url: str | None = None
    template: str | None = None
    version: str | None = None
    newest: str | None = None
    behind: bool = False
    drift: list[tuple[str, FileChange]] | None = None
    pull_requests: list[PullRequest] | None = None
    error: str | None = None
    error_kind: Problem | None = None

    @property
    def state(self) -> str:
        """current, behind, drifted, "behind, drifted" or failed."""
        if self.error:
            return "failed"
        found = [word for word, yes in (("behind", self.behind), ("drifted", bool(self.drift))) if yes]
        return ", ".join(found) or "current"


@dataclass(frozen=True)
class Unadopted:
    """A repository (or a local folder) with no answers file of a naavre-scaffold template."""

    name: str
    url: str | None = None


@dataclass
class StatusReport:
    """The whole fleet: ``org`` is None for local checkouts; ``archived`` lists the skipped names."""

    org: str | None
    generated_at: datetime
    repos: list[RepoStatus] = field(default_factory=list)
    not_adopted: list[Unadopted] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Repositories per state (behind and drifted: counted in both), and open update pull requests."""
        return {
            "adopted": len(self.repos),
            "current": sum(r.state == "current" for r in self.repos),
            "behind": sum(r.behind for r in self.repos),
            "drifted": sum(bool(r.drift) for r in self.repos),
            "failed": sum(bool(r.error) for r in self.repos),
            "not_adopted": len(self.not_adopted),
            "archived": len(self.archived),
            "pull_requests": sum(len(r.pull_requests or []) for r in self.repos),
        }


def status(
    paths: Sequence[Path] = (),
    *,
    org: str | None = None,
    template_source: str | None = None,
    on_total: Callable[[int], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[str, str], None] | None = None,
) -> StatusReport:
    """The fleet at a glance: per repository its template version, the newest, drift and update PRs.

    With --org, every repository of a GitHub organisation (archived ones are skipped)
    through the GitHub REST API: per adopted repository its template, recorded
    version, the newest version of its template and its open template-update/* pull
    requests with their CI state, then the repositories not adopted yet. With PATHs,
    local checkouts: the same, and drift as check finds it, without pull requests.
    The token comes from GITHUB_TOKEN, else GH_TOKEN, else `gh auth token`.

    Returns:
        A StatusReport. ``on_total``, ``on_start`` and ``on_done`` (name, state) follow the run.
    """
    if bool(org) == bool(paths):
        raise UsageError("--org", "give either --org ORG or PATHs of checkouts, not both and not neither")
    sources = Sources(template_source)
    if org is not None:
        return _organisation(org, sources, on_total, on_start, on_done)
    return _checkouts(list(paths), sources, on_total, on_start, on_done)


def client_for(org: str) -> Client:
    """A client for ``org``'s repositories, every input checked before any request.

    Raises:
        UsageError: ``org`` is not a GitHub login, there is no token, or the wait cap is not a number.
    """
    if not _LOGIN.fullmatch(org):
        raise UsageError(
            "--org",
            f"{org!r} is not a GitHub organisation name: letters, digits and single hyphens, "
            "not at either end, at most 39 characters",
        )
    cap = max_wait()
    token = github.token()
    if token is None:
        raise UsageError(
            "--org", "needs a GitHub token: set GITHUB_TOKEN or GH_TOKEN, or run `gh auth login`"
        )
    return Client(token, wait_cap=cap)


def _organisation(
    org: str,
    sources: Sources,
    on_total: Callable[[int], None] | None,
    on_start: Callable[[str], None] | None,
    on_done: Callable[[str, str], None] | None,
) -> StatusReport:
    client = client_for(org)
    report = StatusReport(org, datetime.now(UTC))
    listed = client.pages(f"/orgs/{org}/repos", {"type": "all"})
    repos = sorted((r for r in listed if isinstance(r, dict)), key=lambda r: str(r.get("name", "")).lower())
    report.archived = [str(r["full_name"]) for r in repos if r.get("archived")]
    active = [r for r in repos if not r.get("archived")]
    if on_total:
        on_total(len(active))
    for repo in active:
        name = str(repo["full_name"])
        if on_start:
            on_start(name)
        found = _remote(client, repo, sources)
        if isinstance(found, Unadopted):
            report.not_adopted.append(found)
        else:
            report.repos.append(found)
        if on_done:
            on_done(name, "not adopted" if isinstance(found, Unadopted) else found.state)
    return report


def _remote(client: Client, repo: dict[str, Any], sources: Sources) -> RepoStatus | Unadopted:
    """One repository on GitHub: its answers at the default branch, its template, its update PRs."""
    name, url = str(repo["full_name"]), repo.get("html_url")
    answer = client.get(f"/repos/{name}/contents/{ANSWERS_FILE}", {"ref": str(repo["default_branch"])})
    if answer.status_code == 404:  # no such file, or an empty repository
        return Unadopted(name, url)
    if answer.status_code != 200:
        raise GitHubError(refusal(answer, f"{ANSWERS_FILE} of {name}"))
    try:
        answers = yaml.safe_load(base64.b64decode(github._json(answer)["content"]))
    except (TypeError, KeyError, ValueError, binascii.Error, yaml.YAMLError):
        return RepoStatus(
            name, url, error=f"{ANSWERS_FILE}: cannot be read as YAML", error_kind=Problem.REPOSITORY
        )
    if not isinstance(answers, dict) or answers.get("template") not in TEMPLATES:
        return Unadopted(name, url)  # another Copier template's answers
    commit = answers.get("_commit")
    found = RepoStatus(name, url, str(answers["template"]), None if commit is None else str(commit))
    try:
        _versions(found, answers, sources)
    except Blocked as blocked:
        found.error, found.error_kind = str(blocked), blocked.problem
    found.pull_requests = update_pull_requests(client, name)
    return found


def _versions(found: RepoStatus, answers: dict[str, Any], sources: Sources) -> None:
    """The newest version of the repository's template, and whether a newer one exists."""
    src = answers.get("_src_path")
    if not found.version or not isinstance(src, str) or not src:
        raise Blocked(f"{ANSWERS_FILE}: has no _src_path or _commit", Problem.REPOSITORY)
    if not (is_remote(src) or Path(src).expanduser().is_absolute()) and not sources.template_source:
        raise Blocked(f"{ANSWERS_FILE}: _src_path {src} is relative to a checkout", Problem.REPOSITORY)
    mirror = sources.mirror(src)
    found.newest = mirror.newest_tag
    if not mirror.has_ref(found.version):
        raise Blocked(
            f"the template {src} has no version {found.version} (the recorded _commit)", Problem.TEMPLATE
        )
    try:
        found.behind = bool(found.newest) and mirror.moves_forward(found.version, str(found.newest))
    except GitError as error:
        raise Blocked(str(error), Problem.TEMPLATE) from None


def _checkouts(
    paths: list[Path],
    sources: Sources,
    on_total: Callable[[int], None] | None,
    on_start: Callable[[str], None] | None,
    on_done: Callable[[str, str], None] | None,
) -> StatusReport:
    report = StatusReport(None, datetime.now(UTC))
    subprojects = [sub for path in dict.fromkeys(paths) for sub in find_subprojects(path)]
    report.not_adopted = [
        Unadopted(str(path))
        for path in dict.fromkeys(paths)
        if not any(sub.folder.is_relative_to(path) for sub in subprojects)
    ]
    if on_total:
        on_total(len(subprojects))
    templates = {sub.folder: sub.answers.get("template") for sub in subprojects}

    def finished(one: CheckReport) -> None:
        found = RepoStatus(
            str(one.path),
            template=templates.get(one.path),
            version=one.version,
            newest=None if one.error else one.newest,
            behind=one.behind,
            drift=None if one.error else list(one.drift),
            error=one.error,
            error_kind=one.error_kind,
        )
        report.repos.append(found)
        if on_done:
            on_done(found.name, found.state)

    check_subprojects(
        subprojects,
        on_start=(lambda sub: on_start(str(sub.folder))) if on_start else None,
        on_report=finished,
        template_source=sources.template_source,
    )
    return report

"""How a ``status`` report is written for machines (JSON) and for a pinned GitHub issue (Markdown).

The JSON report (``status --json FILE|-``), schema ``naavre-scaffold/status``, schema_version 1,
has the envelope every report has (``schema``, ``schema_version``, ``naavre_scaffold_version``),
then the keys of ``REPORT_KEYS``:

- ``org``: the organisation, or null for local checkouts
- ``generated_at``: when, in UTC, ISO 8601 (``2026-12-07T15:40:00Z``)
- ``counts``: ``adopted``, ``current``, ``behind``, ``drifted``, ``failed``, ``not_adopted``,
  ``archived``, ``pull_requests`` (a repository both behind and drifted counts in both)
- ``repos``: one object per adopted repository (a subproject for checkouts), with the keys in
  ``REPO_KEYS``: ``name`` (``owner/repo``, or the folder), ``url`` (or null), ``template``,
  ``version`` (the recorded ``_commit``), ``newest`` (the newest template version, or null),
  ``behind``, ``state`` (``current``, ``behind``, ``drifted``, ``behind, drifted`` or ``failed``),
  ``drift`` (``path`` and ``kind`` ``modified``/``missing`` each; null when not checked: on
  GitHub), ``pull_requests`` (``number``, ``url``, ``branch``, ``ci`` each, ``ci`` one of
  ``success``, ``failure``, ``pending``, ``none``; null when not looked up: for checkouts),
  ``error`` and ``error_kind`` (``repository``/``template``, or null)
- ``not_adopted``: ``name`` and ``url`` (null for a folder) of each repository with no answers
  file of a naavre-scaffold template
- ``archived``: the names of the archived repositories that were skipped
"""

from __future__ import annotations

from typing import Any

from naavre_scaffold import __version__
from naavre_scaffold.fleet.github_pages import CiState
from naavre_scaffold.fleet.status import RepoStatus, StatusReport

REPORT_KEYS = ("org", "generated_at", "counts", "repos", "not_adopted", "archived")
REPO_KEYS = (
    "name",
    "url",
    "template",
    "version",
    "newest",
    "behind",
    "state",
    "drift",
    "pull_requests",
    "error",
    "error_kind",
)
DASHBOARD_TITLE = "Template dashboard"
_CI_MARK = {
    CiState.SUCCESS: "✅",
    CiState.FAILURE: "❌",
    CiState.PENDING: "⏳",
    CiState.NONE: "∅",
}


def generated_at(report: StatusReport) -> str:
    return report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def status_json(report: StatusReport) -> dict[str, Any]:
    """The ``--json`` report without its envelope (``cli._common.write_json`` adds it)."""
    return {
        "org": report.org,
        "generated_at": generated_at(report),
        "counts": report.counts,
        "repos": [_repo_json(repo) for repo in report.repos],
        "not_adopted": [{"name": u.name, "url": u.url} for u in report.not_adopted],
        "archived": list(report.archived),
    }


def _repo_json(repo: RepoStatus) -> dict[str, Any]:
    drift = None if repo.drift is None else [{"path": p, "kind": str(k)} for p, k in repo.drift]
    pulls = repo.pull_requests
    return {
        "name": repo.name,
        "url": repo.url,
        "template": repo.template,
        "version": repo.version,
        "newest": repo.newest,
        "behind": repo.behind,
        "state": repo.state,
        "drift": drift,
        "pull_requests": None
        if pulls is None
        else [{"number": p.number, "url": p.url, "branch": p.branch, "ci": str(p.ci)} for p in pulls],
        "error": repo.error,
        "error_kind": None if repo.error_kind is None else str(repo.error_kind),
    }


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: a ``|`` would split it, a newline end the row."""
    return " ".join(text.split()).replace("|", "\\|")


def _link(text: str, url: str | None) -> str:
    return f"[{_cell(text)}]({url})" if url else _cell(text)


def _pull_requests(repo: RepoStatus) -> str:
    if not repo.pull_requests:
        return "none"
    return "<br>".join(
        f"{_link('#' + str(p.number), p.url)} {_CI_MARK[p.ci]} {p.ci}" for p in repo.pull_requests
    )


def _behind(repo: RepoStatus) -> str:
    if repo.error:
        return f"⚠️ {_cell(repo.error)}"
    return "**behind**" if repo.behind else "current"


def status_markdown(report: StatusReport) -> str:
    """The report as the body of a pinned "Template dashboard" issue.

    A title line, when it was made, the counts, one table row per adopted repository
    (link, template, version → newest, behind or not, update pull requests with their
    CI; drift for checkouts), and the list of repositories not adopted yet.
    """
    counts = report.counts
    where = f"[{report.org}](https://github.com/{report.org})" if report.org else "local checkouts"
    lines = [
        f"# {DASHBOARD_TITLE}",
        "",
        f"Generated at {report.generated_at:%Y-%m-%d %H:%M} UTC by naavre-scaffold {__version__} "
        f"for {where}.",
        "",
        f"**{counts['adopted']}** adopted: {counts['current']} current, {counts['behind']} behind, "
        f"{counts['drifted']} drifted, {counts['failed']} failed; "
        f"**{counts['not_adopted']}** not adopted yet; {counts['archived']} archived (skipped); "
        f"{counts['pull_requests']} open update pull request(s).",
        "",
    ]
    local = report.org is None
    header = ["repository", "template", "version → newest", "behind"]
    header += ["drift"] if local else ["update pull requests"]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for repo in report.repos:
        versions = f"{repo.version or '?'} → {repo.newest or '?'}"
        row = [_link(repo.name, repo.url), _cell(repo.template or "?"), _cell(versions), _behind(repo)]
        if local:
            row.append(f"{len(repo.drift)} file(s)" if repo.drift else "none")
        else:
            row.append(_pull_requests(repo))
        lines.append("| " + " | ".join(row) + " |")
    if not report.repos:
        lines.append("| " + " | ".join(["(none)"] + [""] * (len(header) - 1)) + " |")
    lines += ["", "## Not adopted yet", ""]
    lines += [f"- {_link(u.name, u.url)}" for u in report.not_adopted] or ["(none)"]
    return "\n".join(lines) + "\n"

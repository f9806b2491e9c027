"""`update` under faults: a write that fails, ignored and deleted files, unfinished git operations,
repeated paths, a second run, and pushes and pull requests that fail and are rerun."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.errors import GitHubError, UsageError
from naavre_scaffold.fleet import github
from naavre_scaffold.fleet.update import Options, Verdict, update
from naavre_scaffold.git import git
from tests.helpers import (
    build_template,
    commit_all,
    make_repo,
    snapshot,
    snapshot_detached,
    with_github_origin,
)

BRANCH = "template-update/v1.1.0"
OLD = {"a.txt": "a\n", "b.txt": "b\n", "keep.txt": "k\n"}
# v1.1.0 changes a.txt, deletes b.txt, adds a file in a new folder and one that .env.* matches.
NEW = {"a.txt": "a2\n", "b.txt": None, "zz/new.txt": "n\n", ".env.example": "TOKEN=\n"}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return build_template(tmp_path / "template", {"v1.0.0": OLD, "v1.1.0": NEW})


def _commit(repo: Path) -> str:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"]


def _only(outcomes):
    (outcome,) = outcomes
    return outcome


def test_a_failed_write_puts_every_file_back(template: Path, tmp_path: Path) -> None:
    # As root no permission stops a write, but a folder where a file must go does. The folder is
    # ignored, so the private clone does not have it: the write into the repository fails after
    # a.txt and b.txt were written, and both are put back.
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {".gitignore": "zz/new.txt/\n"})
    (repo / "zz/new.txt").mkdir(parents=True)
    (repo / "zz/new.txt/ours.txt").write_text("an ignored folder, in the way\n")
    before = snapshot(repo)

    outcome = _only(update([repo], Options()))

    assert outcome.verdict == Verdict.FAILED
    assert "put back as it was" in outcome.message and "zz/new.txt: a folder is in the way" in outcome.message
    assert snapshot(repo) == before


def test_a_new_file_the_repository_ignores_still_arrives(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {".gitignore": ".env.*\n"})

    outcome = _only(update([repo], Options()))

    assert outcome.verdict == Verdict.UPDATED
    assert ".env.example" in outcome.files
    assert (repo / ".env.example").read_text() == "TOKEN=\n"
    assert "ignore rules match, not committed (left there, uncommitted): .env.example" in outcome.message
    assert "GIT_CONFIG_COUNT" not in os.environ  # the mirror redirect was for the workers only


def test_a_new_ignored_file_reaches_the_working_tree_not_the_branch(template: Path, tmp_path: Path) -> None:
    """As ``copier update`` leaves it: written, never committed (it may be a secret's place)."""
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {".gitignore": ".env.*\n"})

    outcome = _only(update([repo], Options(commit=True)))

    assert (outcome.verdict, outcome.branch) == (Verdict.UPDATED, BRANCH)
    assert ".env.example" not in git(repo, "ls-tree", "-r", "--name-only", BRANCH)
    assert (repo / ".env.example").read_text() == "TOKEN=\n"
    assert "not committed (written to the working tree): .env.example" in outcome.message
    assert git(repo, "status", "--porcelain") == ""  # ignored, so the checkout stays clean


def test_deleting_a_file_the_project_changed_is_a_conflict(template: Path, tmp_path: Path) -> None:
    changed = make_repo(template, tmp_path / "changed", "v1.0.0", {"b.txt": "b, our way\n"})
    unchanged = make_repo(template, tmp_path / "unchanged", "v1.0.0")
    before = snapshot(changed)

    outcomes = {Path(o.path).name: o for o in update([changed, unchanged], Options())}

    assert outcomes["changed"].verdict == Verdict.CONFLICT
    assert outcomes["changed"].files == ["b.txt"]
    assert "the new template deletes b.txt, which this repository changed" in outcomes["changed"].message
    assert snapshot(changed) == before
    # A file the project left as the template made it simply goes.
    assert outcomes["unchanged"].verdict == Verdict.UPDATED
    assert not (unchanged / "b.txt").exists()


def test_keep_conflicts_keeps_the_changed_file_the_template_deletes(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {"b.txt": "b, our way\n"})

    outcome = _only(update([repo], Options(keep_conflicts=True)))

    assert outcome.verdict == Verdict.CONFLICT
    assert "your version is kept" in outcome.message
    assert (repo / "b.txt").read_text() == "b, our way\n"
    assert (repo / "a.txt").read_text() == "a2\n"


def _merge_in_progress(repo: Path) -> None:
    git(repo, "switch", "--quiet", "-c", "side")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "Nothing")
    git(repo, "switch", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "--no-commit", "side")


def _rebase_in_progress(repo: Path) -> None:
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "Nothing")
    git(repo, "-c", "sequence.editor=sed -i 1ibreak", "rebase", "--quiet", "-i", "HEAD~1")


@pytest.mark.parametrize(
    ("start", "operation"), [(_merge_in_progress, "a merge"), (_rebase_in_progress, "a rebase")]
)
def test_an_unfinished_merge_or_rebase_is_refused(template: Path, tmp_path: Path, start, operation) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    start(repo)
    assert git(repo, "status", "--porcelain") == ""
    before = snapshot_detached(repo)

    outcome = _only(update([repo], Options()))

    assert (outcome.verdict, outcome.message) == (
        Verdict.REFUSED,
        f"{operation} is in progress: finish or abort it first",
    )
    assert snapshot_detached(repo) == before


def test_a_repository_with_no_commit_yet_is_refused(template: Path, tmp_path: Path) -> None:
    rendered = make_repo(template, tmp_path / "rendered", "v1.0.0")
    repo = tmp_path / "repo"
    git(tmp_path, "init", "--quiet", str(repo))
    for path in rendered.iterdir():
        if path.name != ".git":
            (repo / path.name).write_bytes(path.read_bytes())
    (repo / ".git" / "info" / "exclude").write_text("*\n")  # a clean tree, with nothing committed
    before = _work_tree(repo)

    outcome = _only(update([repo], Options()))

    assert (outcome.verdict, outcome.message) == (
        Verdict.REFUSED,
        "its branch has no commit yet: commit the project first",
    )
    assert _work_tree(repo) == before
    assert git(repo, "ls-files") == ""


def _work_tree(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def test_a_repository_reached_twice_is_one_row(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "fleet" / "repo", "v1.1.0")

    outcomes = update([repo, repo, tmp_path / "fleet", repo / "."], Options())

    assert [(Path(o.path).name, o.verdict) for o in outcomes] == [("repo", Verdict.UP_TO_DATE)]


def test_a_missing_path_is_a_usage_error_before_anything_starts(
    template: Path, tmp_path: Path, capsys
) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    before = snapshot(repo)

    with pytest.raises(UsageError, match="no such folder"):
        update([repo, tmp_path / "missing"], Options())
    assert main(["update", str(repo), str(tmp_path / "missing")]) == 2

    assert "missing" in capsys.readouterr().err
    assert snapshot(repo) == before


def test_a_repository_another_run_holds_is_refused(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    before = snapshot(repo)
    with open(repo / ".git/naavre-scaffold.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        outcome = _only(update([repo], Options()))

    assert outcome.verdict == Verdict.REFUSED
    assert outcome.message.startswith("another naavre-scaffold update is working on this repository")
    assert snapshot(repo) == before


def test_a_rerun_names_the_uncommitted_update_of_an_earlier_run(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    assert _only(update([repo], Options())).verdict == Verdict.UPDATED

    outcome = _only(update([repo], Options()))

    assert (outcome.verdict, outcome.message) == (
        Verdict.REFUSED,
        "holds an uncommitted template update from an earlier run (v1.0.0 -> v1.1.0): commit or discard it",
    )


def test_a_push_error_shows_the_hooks_reason(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    origin = with_github_origin(repo, tmp_path)
    hook = origin / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: template updates need a ticket number' >&2\nexit 1\n")
    hook.chmod(0o755)

    outcome = _only(update([repo], Options(commit=True, push=True)))

    assert outcome.verdict == Verdict.FAILED
    assert "policy: template updates need a ticket number" in outcome.message
    assert outcome.branch is None
    assert git(repo, "branch", "--list", BRANCH) == ""


@pytest.fixture
def pull_requests(monkeypatch, tmp_path: Path):
    """Stand in for the GitHub API call only (the HTTP side has its own tests): log each request
    to a file (the call happens in a worker process), and fail while ``failing`` exists."""
    log, failing = tmp_path / "requests.jsonl", tmp_path / "failing"
    monkeypatch.setenv("GITHUB_TOKEN", "test-token-not-a-secret")

    def open_pull_request(root: Path, head: str, title: str, body: str) -> str:
        with log.open("a") as file:
            file.write(json.dumps({"root": str(root), "head": head, "title": title}) + "\n")
        if failing.exists():
            raise GitHubError("GitHub answered 500 (Internal Server Error)")
        return f"https://github.com/NaaVRE/{root.name}/pull/7"

    monkeypatch.setattr(github, "open_pull_request", open_pull_request)
    failing.touch()
    return failing, lambda: [json.loads(line) for line in log.read_text().splitlines()]


def test_a_failed_pull_request_converges_on_rerun(template: Path, tmp_path: Path, pull_requests) -> None:
    failing, requests = pull_requests
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    origin = with_github_origin(repo, tmp_path)

    first = _only(update([repo], Options(commit=True, push=True, pull_request=True)))

    assert first.verdict == Verdict.FAILED
    assert first.branch == BRANCH
    assert first.message.startswith(f"pushed branch {BRANCH} to origin; opening the pull request failed: ")
    assert first.message.endswith("rerun with --pr to open it")
    pushed = git(origin, "rev-parse", BRANCH)
    assert git(repo, "rev-parse", BRANCH) == pushed

    failing.unlink()
    second = _only(update([repo], Options(commit=True, push=True, pull_request=True)))

    assert second.verdict == Verdict.UPDATED
    assert second.pull_request == "https://github.com/NaaVRE/repo/pull/7"
    assert git(origin, "rev-parse", BRANCH) == pushed  # nothing pushed again
    assert [r["head"] for r in requests()] == [BRANCH, BRANCH]


def test_a_rerun_adopts_the_pushed_branch_when_the_local_one_is_gone(
    template: Path, tmp_path: Path, pull_requests
) -> None:
    failing, _ = pull_requests
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    origin = with_github_origin(repo, tmp_path)
    update([repo], Options(commit=True, push=True, pull_request=True))
    pushed = git(origin, "rev-parse", BRANCH)
    git(repo, "branch", "--quiet", "-D", BRANCH)
    failing.unlink()
    # In the same second the rerun's commit would be the very same object (git dates have
    # one-second resolution); a second later it is a new commit with the same tree.
    time.sleep(1.1)

    outcome = _only(update([repo], Options(commit=True, push=True, pull_request=True)))

    assert outcome.verdict == Verdict.UPDATED
    assert outcome.message.startswith(f"branch {BRANCH} on origin already holds this update")
    assert git(repo, "rev-parse", BRANCH) == git(origin, "rev-parse", BRANCH) == pushed


def test_a_rerun_after_new_commits_replaces_its_own_branch(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    origin = with_github_origin(repo, tmp_path)
    update([repo], Options(commit=True, push=True))
    (repo / "notes.txt").write_text("our work goes on\n")
    commit_all(repo, "More work")

    outcome = _only(update([repo], Options(commit=True, push=True)))

    assert (outcome.verdict, outcome.message) == (Verdict.UPDATED, f"pushed branch {BRANCH} to origin")
    assert git(origin, "rev-parse", f"{BRANCH}^") == git(repo, "rev-parse", "main")
    assert git(repo, "rev-parse", BRANCH) == git(origin, "rev-parse", BRANCH)


def test_a_branch_with_someone_elses_commits_is_left_alone(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    git(repo, "branch", BRANCH)
    before = snapshot(repo)

    outcome = _only(update([repo], Options(commit=True)))

    assert outcome.verdict == Verdict.FAILED
    assert outcome.message == f"branch {BRANCH} already exists with other commits; merge or delete it first"
    assert outcome.branch is None
    assert snapshot(repo) == before


def test_a_pull_request_from_a_detached_head_makes_nothing(
    template: Path, tmp_path: Path, pull_requests
) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    with_github_origin(repo, tmp_path)
    git(repo, "checkout", "--quiet", "--detach")

    outcome = _only(update([repo], Options(commit=True, push=True, pull_request=True)))

    assert outcome.verdict == Verdict.FAILED
    assert outcome.message.startswith("HEAD is detached")
    assert git(repo, "branch", "--list", BRANCH) == ""

"""The git domain operations of naavre_scaffold.git, on real repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from naavre_scaffold.git import (
    FALLBACK_IDENTITY,
    GitError,
    commit_of,
    committer,
    current_branch,
    git,
    head_and_git_paths,
    init_and_commit,
    repository_folders,
    uncommitted,
    url_redirects,
    work_tree_status,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "a.txt").write_text("a\n")
    (folder / "b.txt").write_text("b\n")
    init_and_commit(folder, "First", tag="v1.0.0")
    return folder


def test_commit_of_names_tags_branches_and_hashes_and_none_for_the_rest(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert commit_of(repo, "v1.0.0") == commit_of(repo, "main") == commit_of(repo, head[:10]) == head
    assert commit_of(repo, "v9.9.9") is None
    assert commit_of(repo, "--help") is None  # an option is no ref


def test_current_branch_is_none_when_detached(repo: Path) -> None:
    assert current_branch(repo) == "main"
    git(repo, "checkout", "--quiet", "--detach")
    assert current_branch(repo) is None


def test_uncommitted_lists_paths_once_each(repo: Path) -> None:
    assert uncommitted(repo) == []
    (repo / "a.txt").write_text("changed\n")
    git(repo, "mv", "b.txt", "renamed b.txt")
    (repo / "new file.txt").write_text("new\n")
    assert sorted(uncommitted(repo)) == ["a.txt", "new file.txt", "renamed b.txt"]
    assert sorted(uncommitted(repo, untracked=False)) == ["a.txt", "renamed b.txt"]


def test_work_tree_status_reads_uncommitted_and_ignored_files_at_once(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\nbuild/\n")
    git(repo, "add", ".gitignore")
    git(repo, *committer(repo), "commit", "--quiet", "-m", "Ignore rules")
    (repo / "run.log").write_text("log\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_bytes(b"\0")
    assert work_tree_status(repo).uncommitted == []
    # Files, not whole folders: a folder the rules ignore is left out with what is in it.
    assert work_tree_status(repo).ignored == {"run.log"}
    git(repo, "mv", "b.txt", "c.txt")
    (repo / "a.txt").write_text("changed\n")
    status = work_tree_status(repo)
    assert sorted(status.uncommitted) == sorted(uncommitted(repo)) == ["a.txt", "c.txt"]
    assert status.ignored == {"run.log"}


def test_head_and_git_paths_in_one_call(repo: Path, tmp_path: Path) -> None:
    head, paths = head_and_git_paths(repo, "MERGE_HEAD", "rebase-merge")
    assert head == git(repo, "rev-parse", "HEAD")
    assert paths == [repo / ".git" / "MERGE_HEAD", repo / ".git" / "rebase-merge"]
    assert repository_folders(repo) == (repo, repo / ".git")
    unborn = tmp_path / "unborn"
    git(tmp_path, "init", "--quiet", str(unborn))
    assert head_and_git_paths(unborn, "MERGE_HEAD") == (None, [unborn / ".git" / "MERGE_HEAD"])
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        head_and_git_paths(outside, "MERGE_HEAD")


def test_a_linked_worktree_shares_its_common_dir(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "--quiet", "--detach", str(linked))
    top, common = repository_folders(linked)
    assert (top, common.resolve()) == (linked, (repo / ".git").resolve())
    head, (merge_head,) = head_and_git_paths(linked, "MERGE_HEAD")
    assert head == git(repo, "rev-parse", "HEAD")
    assert merge_head.resolve() == (repo / ".git" / "worktrees" / "linked" / "MERGE_HEAD").resolve()


def test_uncommitted_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError):
        uncommitted(tmp_path)


def test_committer_is_the_repositorys_own_or_the_fallback(repo: Path, monkeypatch) -> None:
    git(repo, "config", "user.name", "A Person")
    git(repo, "config", "user.email", "person@example.org")
    assert committer(repo) == ["-c", "user.name=A Person", "-c", "user.email=person@example.org"]
    git(repo, "config", "--unset", "user.name")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no identity from the machine either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    name, email = FALLBACK_IDENTITY
    assert committer(repo) == ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def test_url_redirects_make_git_fetch_a_url_from_a_local_repository(repo: Path, tmp_path: Path) -> None:
    url = "https://github.invalid/NaaVRE/template.git"  # never reached
    env = os.environ | url_redirects({url: repo})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", url, str(clone)], env=env, check=True, capture_output=True)
    assert git(clone, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")
    assert git(clone, "config", "remote.origin.url") == url  # the URL is what git records


def test_uncommitted_counts_a_rename_in_the_work_tree_once(repo: Path) -> None:
    (repo / "a.txt").rename(repo / "moved a.txt")
    git(repo, "add", "--intent-to-add", "moved a.txt")  # git status then reports " R moved a.txt <- a.txt"
    assert uncommitted(repo) == ["moved a.txt"]

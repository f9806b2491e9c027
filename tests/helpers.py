"""Helpers for tests that build template versions and repositories on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from naavre_scaffold.git import git
from naavre_scaffold.template_source import bundled_root, template_files

IDENTITY = ["-c", "user.name=Test Person", "-c", "user.email=test@example.org"]
SERVICE = Path("templates/service/project")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, *IDENTITY, "commit", "--quiet", "--no-verify", "-m", message)


def copy_template(into: Path) -> None:
    """Copy this checkout's template (copier.yml and templates/) into ``into``."""
    root = bundled_root()
    for path in template_files(root):
        target = into / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def snapshot(repo: Path) -> dict[str, object]:
    """Everything a person could lose: HEAD, branch, refs, index entries and every file's bytes."""
    files = {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "--quiet", "HEAD"),
        "refs": git(repo, "for-each-ref"),
        "index": git(repo, "ls-files", "--stage"),
        "files": files,
    }


def has_conflict_markers_in_history(repo: Path) -> bool:
    log = git(repo, "log", "--all", "-p", "--format=")
    return any(line[1:].startswith(("<<<<<<< ", ">>>>>>> ")) for line in log.splitlines())

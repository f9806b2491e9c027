"""Helpers for tests that build template versions and repositories on disk."""

from __future__ import annotations

import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import copier

from naavre_scaffold.git import git
from naavre_scaffold.source import TemplateSource, bundled_root, copy_files, template_files

IDENTITY = ["-c", "user.name=Test Person", "-c", "user.email=test@example.org"]
SERVICE = Path("templates/service/project")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, *IDENTITY, "commit", "--quiet", "--no-verify", "-m", message)


def copy_template(into: Path) -> None:
    """Copy this checkout's template (copier.yml and templates/) into ``into``."""
    root = bundled_root()
    copy_files(root, template_files(root), into)


def tree(folder: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file outside .git, by path: its bytes and whether it is executable."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def snapshot(repo: Path) -> dict[str, object]:
    """Everything a person could lose: HEAD, branch, refs, index entries and every file's bytes."""
    return {**snapshot_detached(repo), "branch": git(repo, "symbolic-ref", "--quiet", "HEAD")}


def has_conflict_markers_in_history(repo: Path) -> bool:
    log = git(repo, "log", "--all", "-p", "--format=")
    return any(line[1:].startswith(("<<<<<<< ", ">>>>>>> ")) for line in log.splitlines())


# A template small enough to update in a blink: the answers file and the files each test gives it.
TINY_COPIER_YML = """\
_subdirectory: project
template:
  type: str
  default: service
name:
  type: str
  default: tiny
"""
TINY_ANSWERS = "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
# A small binary file (git calls it binary: it has NUL bytes), for templates that ship one.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
# Each breaks the rule of .naavre-scaffold.yml in its own way, and the message says which.
BROKEN_PROJECT_CONFIGS = [
    ("project_owned: settings.ini\n", "project_owned must be a list of path patterns (strings)"),
    ("project_owned:\n  - 1\n", "project_owned must be a list of path patterns (strings)"),
    ("- settings.ini\n", "must be a mapping, with project_owned and exclude: lists of path patterns"),
    ("project_owned: [unclosed\n", "cannot be read as YAML (ParserError)"),
    ("exclude: app/auth.py\n", "exclude must be a list of path patterns (strings)"),
]


def build_template(
    repo: Path, versions: dict[str, dict[str, str | bytes | None]], copier_yml: str = TINY_COPIER_YML
) -> Path:
    """A git template repository with one tagged commit per version.

    Each version lists the files of ``project/`` it changes from the one before:
    text or bytes to write, or None to delete the file. A name such as ``../NOTES.md``
    changes a file outside ``project/``: a release that renders the same.
    """
    project = repo / "project"
    project.mkdir(parents=True)
    (repo / "copier.yml").write_text(copier_yml)
    (project / "{{_copier_conf.answers_file}}.jinja").write_text(TINY_ANSWERS)
    git(repo, "-c", "init.defaultBranch=main", "init", "--quiet")
    for tag, files in versions.items():
        for name, content in files.items():
            _write(project / name, content)
        commit_all(repo, f"Template {tag}")
        git(repo, "tag", tag)
    return repo


def _write(path: Path, content: str | bytes | None) -> None:
    if content is None:
        path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def make_repo(
    template: Path, dest: Path, version: str, before_commit: dict[str, str | bytes] | None = None
) -> Path:
    """A repository rendered from ``template`` at ``version``, with ``before_commit`` files, committed."""
    copier.run_copy(str(template), dest, vcs_ref=version, defaults=True, quiet=True)
    for name, content in (before_commit or {}).items():
        _write(dest / name, content)
    git(dest, "-c", "init.defaultBranch=main", "init", "--quiet")
    git(dest, "config", "user.name", "Test Person")
    git(dest, "config", "user.email", "test@example.org")
    commit_all(dest, "Made from the template")
    return dest


def snapshot_detached(repo: Path) -> dict[str, object]:
    """``snapshot`` without the branch, for a repository whose HEAD may be detached (a rebase half-way)."""
    files = {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "refs": git(repo, "for-each-ref"),
        "index": git(repo, "ls-files", "--stage"),
        "files": files,
    }


@contextmanager
def git_daemon(base: Path, log: Path) -> Iterator[str]:
    """Serve the repositories under ``base`` over git:// on 127.0.0.1; yields the base URL.

    ``--verbose`` makes the daemon log one "Request upload-pack" line per fetch or clone.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["git", "daemon", "--verbose", "--export-all", "--reuseaddr", f"--base-path={base}"]
    with log.open("wb") as output:
        daemon = subprocess.Popen(
            [*command, "--listen=127.0.0.1", f"--port={port}"], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert daemon.poll() is None, f"git daemon exited: {log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "git daemon did not start in 10 s"
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def render(source: TemplateSource, dest: Path, template: str, **answers: object) -> Path:
    """Render ``template`` with plain Copier, defaults for what ``answers`` leaves out."""
    copier.run_copy(
        source.path,
        dest,
        data={"template": template, **answers},
        vcs_ref=source.vcs_ref,
        defaults=True,
        quiet=True,
    )
    return dest


def with_github_origin(repo: Path, tmp_path: Path) -> Path:
    """Give ``repo`` a GitHub ``origin`` whose pushes land in a bare repository on disk."""
    bare = tmp_path / f"{repo.name}.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    url = f"https://github.com/NaaVRE/{repo.name}.git"
    git(repo, "remote", "add", "origin", url)
    # git's own URL rewriting sends the push to the bare repository instead of GitHub.
    git(repo, "config", f"url.{bare.as_uri()}.insteadOf", url)
    git(repo, "push", "--quiet", "origin", "main")
    return bare


def render_with_copie(copie_session, template_git: TemplateSource, answers: dict[str, object]) -> Path:
    """A render by pytest-copie of the snapshot, never of the checkout itself.

    pytest-copie renders the checkout by default, and Copier copies a dirty checkout
    whole: stray files and repositories in the working tree (such as the service the
    README's first command makes there) would become part of the template.
    """
    result = copie_session.copy(
        extra_answers=answers, template_dir=Path(template_git.path), vcs_ref=template_git.vcs_ref
    )
    assert result.exit_code == 0, result.exception
    return result.project_dir

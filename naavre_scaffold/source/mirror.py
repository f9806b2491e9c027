"""Template sources fetched once per run: a local mirror per ``_src_path``.

``copier update`` fetches the template for every repository it updates. For a
fleet, each ``_src_path`` is mirrored here once, and git's own ``insteadOf``
rewriting (passed through the environment) points Copier's fetches at the
mirror, so the answers files keep recording the real ``_src_path``.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from packaging.version import Version

from naavre_scaffold import _copier
from naavre_scaffold.git import GitError, commit_of, git, url_redirects
from naavre_scaffold.source import cache_dir


@dataclass(frozen=True)
class Mirror:
    """A bare mirror of one template source, fetched at the start of a run."""

    src_path: str
    path: Path
    # What git said of each ref and commit (and the newest tag), kept for the run: the mirror does
    # not move during it, and every repository of a fleet asks the same few questions.
    _commits: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)
    _versions: dict[str, Version | None] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def newest_tag(self) -> str | None:
        """The tag Copier updates to by default (its own choice: PEP 440, pre-releases left out)."""
        tag = _copier.latest_tag(str(self.path))
        return None if tag == "HEAD" else tag

    def commit(self, ref: str) -> str:
        """The commit ``ref`` names (a tag, a branch, HEAD, a hash).

        Raises:
            GitError: the mirror has no such ref.
        """
        found = self._commit_of(ref)
        if found is None:
            raise GitError(f"the template {self.src_path} has no ref {ref}")
        return found

    def moves_forward(self, recorded: str, target: str) -> bool:
        """Whether updating from ``recorded`` to ``target`` is a step forward, as Copier orders versions.

        The same commit is no step. Versions Copier can read (tags, and ``git describe``
        output such as ``v1.2.0-3-gabc1234``, made from unreleased template work) are
        compared as Copier compares them; untagged commits by history.
        """
        old, new = self.commit(recorded), self.commit(target)
        if old == new:
            return False
        old_version, new_version = self._version(old), self._version(new)
        if old_version is not None and new_version is not None:
            return old_version < new_version
        try:
            git(self.path, "merge-base", "--is-ancestor", old, new)
        except GitError:
            return False
        return True

    def _version(self, commit: str) -> Version | None:
        """The version Copier reads for ``commit``; None without a tag before it.

        Not from a bare hash: one like ``1234567`` or ``5b3e1c0`` reads as a PEP 440 version.
        """
        if commit not in self._versions:
            try:
                self._versions[commit] = _copier.describe_version(
                    git(self.path, "describe", "--tags", commit)
                )
            except GitError:
                self._versions[commit] = None
        return self._versions[commit]

    def has_ref(self, ref: str) -> bool:
        return self._commit_of(ref) is not None

    def _commit_of(self, ref: str) -> str | None:
        if ref not in self._commits:
            self._commits[ref] = commit_of(self.path, ref)
        return self._commits[ref]

    def changes(self, old: str, new: str) -> list[str]:
        """Subjects of the template commits from ``old`` to ``new``, oldest first."""
        try:
            log = git(self.path, "log", "--reverse", "--format=%s (%h)", f"{old}..{new}")
        except GitError:  # an old ref the mirror no longer has: say nothing rather than guess
            return []
        return log.splitlines()


def fetch_mirror(src_path: str, fetched_from: str | None = None) -> Mirror:
    """Create or refresh the mirror of ``src_path`` (one network fetch).

    ``fetched_from`` (a checkout or a git URL) stands in for ``src_path``: the
    mirror holds its history, and Copier's fetches of ``src_path`` are sent there.
    Runs at once take turns on a mirror (an ``flock`` the kernel releases if a run
    dies); a mirror left half-cloned by a killed run is cloned again.
    """
    origin = fetched_from or src_path
    digest = hashlib.sha256(origin.encode()).hexdigest()[:16]
    path = cache_dir() / "mirrors" / f"{digest}.git"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / "HEAD").is_file() and _is_mirror(path):
            git(path, "remote", "update", "--prune")
        else:
            shutil.rmtree(path, ignore_errors=True)
            git(path.parent, "clone", "--quiet", "--mirror", origin, str(path))
    return Mirror(src_path, path)


def _is_mirror(path: Path) -> bool:
    try:
        return git(path, "rev-parse", "--is-bare-repository") == "true"
    except GitError:
        return False


def redirect_env(mirrors: list[Mirror]) -> dict[str, str]:
    """Environment that makes git fetch each source from its mirror (``url.<mirror>.insteadOf``)."""
    return url_redirects({mirror.src_path: mirror.path for mirror in mirrors})

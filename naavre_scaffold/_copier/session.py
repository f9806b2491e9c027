"""The work that the renders and updates of one run share: the session object.

A session owns a scratch folder, in memory where it can (``scratch_root``). Each
process that renders inside it (the caller, or worker processes forked inside) keeps
its temporary files there, in a folder of its own, together with its checkouts of
template versions, one per (source, version); the session's folder goes at the end.
``fetched`` maps template sources to local repositories that hold them (the run's
mirrors): versions are checked out from there.

Copier itself creates temporary folders with ``tempfile`` and finds its mirror
cache through ``COPIER_CACHE_DIR``, neither of which takes an argument: so a
process's folder becomes ``tempfile.tempdir`` while the session lasts, and the
session is found through ``current()`` by the Worker that Copier builds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from copier._template import Template

from naavre_scaffold._copier import jinja_cache
from naavre_scaffold.git import GitError, git
from naavre_scaffold.source import is_remote, location

_current: Session | None = None
# Memory-backed scratch: a fleet run writes three renders and a clone per repository, and
# on a disk those file operations take longer than the rendering (kernel time).
SHARED_MEMORY = Path("/dev/shm")
SHARED_MEMORY_FREE_BYTES = 1 << 30  # left for the session: used only with at least this much free


class Session:
    """Template checkouts and compiled code shared by the renders of one run; see the module."""

    def __init__(self, folder: Path, fetched: Mapping[str, Path]) -> None:
        self.folder = folder
        self.fetched = dict(fetched)  # template source -> the local repository it was fetched to
        self.templates: dict[tuple[str, str | None, bool], Template] = {}
        self._process_folder: Path | None = None

    def process_folder(self) -> Path:
        """This process's folder in the session, made its default temporary folder."""
        own = self.folder / f"process-{os.getpid()}"
        # Compared whole: a forked process has its own.
        if self._process_folder != own:
            self._process_folder = own
            own.mkdir(exist_ok=True)
            tempfile.tempdir = str(own)
            self.templates.clear()  # checkouts made by the process this one was forked from are not its own
        return own

    def discard_process_folder(self) -> None:
        """Remove this process's folder, and the session's when it is the last: for an orphaned worker."""
        if self._process_folder is not None:
            shutil.rmtree(self._process_folder, ignore_errors=True)
            with suppress(OSError):
                self.folder.rmdir()

    def shared(self, template: Template) -> Template:
        """The session's Template for the same (source, version), checked out at most once."""
        # A relative path means the template beside the repository being updated: key on where it is.
        key = (location(template.url, Path.cwd()), template.ref, template.use_prereleases)
        if key not in self.templates:
            self.templates[key] = template
            self._check_out(template)
        return self.templates[key]

    def _check_out(self, template: Template) -> None:
        """Check a tagged or named version out of a local repository, as Copier's clone would.

        Copier clones through a mirror of its own, a worktree and submodule steps (a
        quarter of a second); a shared clone of the local repository at the same
        commit has the same files, tags and index. HEAD (whose uncommitted changes
        Copier includes), remote sources not fetched here and templates with
        submodules are left to Copier.
        """
        if template.ref is None or template.ref == "HEAD":
            return
        local = self.fetched.get(location(template.url, Path.cwd())) or Path(template.url)
        if is_remote(str(local)) or not local.is_dir():
            return
        folder = Path(tempfile.mkdtemp(prefix="naavre-template-"))
        try:
            git(folder, "clone", "--quiet", "--shared", "--no-checkout", str(local), ".")
            git(folder, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", template.ref)
        except GitError:
            shutil.rmtree(folder, ignore_errors=True)
            return
        if (folder / ".gitmodules").exists():
            shutil.rmtree(folder, ignore_errors=True)
            return
        template.__dict__["local_abspath"] = folder.resolve()


def scratch_root(environ: Mapping[str, str] = os.environ) -> str | None:
    """Where a session keeps its scratch folder: None for the temporary folder (``tempfile``'s).

    ``/dev/shm`` (memory) when nobody chose a temporary folder (no ``TMPDIR``) and it is
    a writable folder with room to spare; a ``TMPDIR`` is always respected.
    """
    if environ.get("TMPDIR") or not SHARED_MEMORY.is_dir() or not os.access(SHARED_MEMORY, os.W_OK | os.X_OK):
        return None
    try:
        free = shutil.disk_usage(SHARED_MEMORY).free
    except OSError:
        return None
    return str(SHARED_MEMORY) if free >= SHARED_MEMORY_FREE_BYTES else None


def current() -> Session | None:
    """The session this process renders in, None outside one."""
    return _current


@contextmanager
def session(fetched: Mapping[str, Path] | None = None) -> Iterator[Session]:
    """Open a session for the renders and updates inside; one inside another is the same session."""
    global _current
    if _current is not None:
        yield _current
        return
    saved_tempdir = tempfile.tempdir
    _current = Session(Path(tempfile.mkdtemp(prefix="naavre-session-", dir=scratch_root())), fetched or {})
    try:
        yield _current
    finally:
        shutil.rmtree(_current.folder, ignore_errors=True)
        tempfile.tempdir, _current = saved_tempdir, None
        jinja_cache.clear()

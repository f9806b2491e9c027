"""Where a template is rendered from: the copy bundled with this package, a checkout, or a URL.

Every source ends up as a git repository on this machine, so that Copier records
``_commit`` (a later ``copier update`` needs it), the questions can be read and
checked before anything is written, and ``new`` works offline:

- the bundled template becomes a small git repository tagged ``v<version>``,
  cached by content; git is pointed at it for the public URL, so the answers file
  records ``_src_path: https://github.com/NaaVRE/naavre-scaffold.git``;
- a local checkout is rendered as it is (``HEAD``, uncommitted changes included),
  unless ``--vcs-ref`` names another version;
- a URL is fetched once into a mirror, and git is pointed at the mirror for it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from platformdirs import user_cache_path

from naavre_scaffold import __version__
from naavre_scaffold.errors import GitError, TemplateSourceError, UsageError
from naavre_scaffold.git import commit_of, git, git_bytes, init_and_commit, uncommitted

# A full URL rather than Copier's `gh:` shorthand: Renovate's copier manager needs it.
PUBLIC_SOURCE = "https://github.com/NaaVRE/naavre-scaffold.git"
_REMOTE_PREFIXES = ("http://", "https://", "git://", "ssh://", "git@", "gh:", "gl:", "git+")


@dataclass(frozen=True)
class TemplateSource:
    """What Copier renders: ``path`` (recorded as ``_src_path``) at ``vcs_ref``.

    ``fetch_from`` is a local git repository that git reads in place of ``path``
    (the bundled snapshot, or a mirror of a URL); ``version`` says what is rendered.
    """

    path: str
    vcs_ref: str | None = None
    fetch_from: Path | None = None
    version: str = ""

    @property
    def repository(self) -> Path:
        """The local git repository (or folder) that holds the template."""
        return self.fetch_from or Path(self.path)

    @property
    def label(self) -> str:
        return f"{self.path} at {self.version or self.vcs_ref or 'its newest tag'}"


def cache_dir() -> Path:
    """Per-user cache: ``$NAAVRE_SCAFFOLD_CACHE``, else the platform's cache folder for the tool."""
    if explicit := os.environ.get("NAAVRE_SCAFFOLD_CACHE"):
        return Path(explicit)
    return user_cache_path("naavre-scaffold", appauthor=False)


def bundled_root() -> Path:
    """Folder holding the bundled ``copier.yml`` and ``templates/``: in the wheel or the checkout."""
    package = Path(__file__).resolve().parent.parent  # naavre_scaffold/
    for root in (package / "template", package.parent):
        if (root / "copier.yml").is_file() and (root / "templates").is_dir():
            return root
    raise TemplateSourceError(f"no bundled template found next to {package}; reinstall naavre-scaffold")


def template_files(root: Path) -> list[Path]:
    """The files that make up the template in ``root``: copier.yml and templates/.

    In a git checkout, only what git tracks or would track: stray files, ignored
    caches and repositories created inside the checkout are not part of it.
    """
    if (root / ".git").exists():
        listed = git(
            root,
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            "copier.yml",
            "templates",
        )
        files = {root / name for name in listed.split("\0") if name}
        return sorted(path for path in files if path.is_file() and not path.is_symlink())
    found = [root / "copier.yml"]
    found += sorted(
        p for p in (root / "templates").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    return found


def copy_files(root: Path, files: list[Path], into: Path) -> None:
    """Copy ``files`` (under ``root``, e.g. its ``template_files``) to the same places under ``into``."""
    for path in files:
        target = into / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def bundled_snapshot() -> Path:
    """A git repository of the bundled template, tagged ``v<version>``, built once per content."""
    root = bundled_root()
    files = template_files(root)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    tag = f"v{__version__}"
    snapshot = cache_dir() / "templates" / f"{tag}-{digest.hexdigest()[:16]}"
    if (snapshot / ".git").is_dir():
        return snapshot
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=snapshot.parent))
    try:
        copy_files(root, files, building)
        init_and_commit(building, f"naavre-scaffold template {tag}", tag=tag)
        # A rename is atomic: a parallel run either sees no snapshot or a whole one.
        try:
            building.rename(snapshot)
        except OSError:
            if not (snapshot / ".git").is_dir():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return snapshot


def bundled_source() -> TemplateSource:
    """The template bundled with this version, recorded as the public repository at ``v<version>``."""
    tag = f"v{__version__}"
    return TemplateSource(PUBLIC_SOURCE, tag, fetch_from=bundled_snapshot(), version=tag)


def is_remote(spec: str) -> bool:
    return spec.startswith(_REMOTE_PREFIXES)


def location(src_path: str, base: Path) -> str:
    """Where a recorded ``_src_path`` points: a relative local path is taken from ``base``, as Copier
    takes it from the folder it runs in; URLs and absolute paths are kept as written."""
    if is_remote(src_path) or Path(src_path).expanduser().is_absolute():
        return src_path
    return str((base / src_path).resolve())


def _describe(repo: Path, ref: str) -> str:
    try:
        return git(repo, "describe", "--tags", "--always", ref)
    except GitError:
        return ref


def _local(spec: str, vcs_ref: str | None) -> TemplateSource:
    path = Path(spec).expanduser()
    if not path.exists():
        raise UsageError("--template-source", f"{spec} does not exist")
    if not path.is_dir():
        raise UsageError("--template-source", f"{spec} is not a folder")
    path = path.resolve()
    if not (path / "copier.yml").is_file():
        raise UsageError(
            "--template-source", f"{spec} is not a naavre-scaffold template: it has no copier.yml"
        )
    if not (path / ".git").exists():
        raise UsageError(
            "--template-source",
            f"{spec} is not a git repository: Copier records a template version only for git "
            "sources, and without one the new repository could never be updated",
        )
    # A checkout is rendered as it is unless a version is named: that is why one passes it.
    ref = vcs_ref or "HEAD"
    _require_ref(path, ref)
    version = _describe(path, ref)
    if ref == "HEAD" and uncommitted(path, untracked=False):
        version += " with its uncommitted changes"
    return TemplateSource(str(path), ref, version=version)


def _remote(spec: str, vcs_ref: str | None) -> TemplateSource:
    from naavre_scaffold.source.mirror import fetch_mirror  # it imports this module for cache_dir

    try:
        mirror = fetch_mirror(spec)
    except GitError as error:
        raise TemplateSourceError(f"cannot fetch the template {spec}: {error}") from None
    ref = vcs_ref or mirror.newest_tag or "HEAD"
    _require_ref(mirror.path, ref)
    return TemplateSource(spec, ref, fetch_from=mirror.path, version=_describe(mirror.path, ref))


def _require_ref(repo: Path, ref: str) -> None:
    if commit_of(repo, ref) is None:
        raise UsageError("--vcs-ref", f"the template has no version {ref!r} (a tag, branch or commit)")


def resolve(spec: str | None, vcs_ref: str | None = None) -> TemplateSource:
    """The source for ``--template-source SPEC --vcs-ref REF``; the bundled template for None."""
    if spec is None:
        if vcs_ref:
            raise UsageError("--vcs-ref", "needs --template-source (the bundled template has one version)")
        return bundled_source()
    if spec.startswith("file://"):  # a checkout named as a URL: Copier reads it as a folder
        spec = unquote(urlparse(spec).path)
    return _remote(spec, vcs_ref) if is_remote(spec) else _local(spec, vcs_ref)


def questions_root(source: TemplateSource) -> Path:
    """A folder with the template's copier.yml and templates/ as Copier will render them."""
    repo = source.repository
    ref = source.vcs_ref or "HEAD"
    if ref == "HEAD" and source.fetch_from is None:
        return repo  # the working tree, uncommitted changes included, as Copier renders it
    commit = git(repo, "rev-parse", f"{ref}^{{commit}}")
    extracted = cache_dir() / "sources" / commit
    if not (extracted / "copier.yml").is_file():
        archive = git_bytes(repo, "archive", "--format=tar", commit)
        building = Path(tempfile.mkdtemp(prefix=".extracting-", dir=_made(extracted.parent)))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(building, filter="data")
        try:
            building.rename(extracted)
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
    if not (extracted / "copier.yml").is_file():
        raise UsageError(
            "--template-source", f"{source.path} at {ref} is not a template: it has no copier.yml"
        )
    return extracted


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@functools.cache
def read_questions(root: Path) -> dict[str, dict[str, Any]]:
    """The questions of the template in ``root``, as Copier reads them."""
    # Imported here: the commands that never read questions (verify, register) need no Copier.
    from naavre_scaffold import _copier

    return _copier.load_questions(root)

"""Where a template is rendered from: the copy bundled with this package, or a named source.

The bundled template is turned into a small git repository tagged ``v<version>``
(cached by content), because Copier records ``_commit`` only for git sources and a
later ``copier update`` needs it. The answers file then names the public repository
as ``_src_path``, so the new repo updates from there like any other.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold import __version__
from naavre_scaffold.git import init_and_commit

# A full URL rather than Copier's `gh:` shorthand: Renovate's copier manager needs it.
PUBLIC_SOURCE = "https://github.com/NaaVRE/naavre-scaffold.git"


@dataclass(frozen=True)
class TemplateSource:
    """What Copier renders from, and what the answers file should record as ``_src_path``."""

    path: str
    vcs_ref: str | None = None
    recorded_path: str | None = None

    @property
    def label(self) -> str:
        where = self.recorded_path or self.path
        return f"{where} at {self.vcs_ref}" if self.vcs_ref else where

    @property
    def local_root(self) -> Path | None:
        """The template's folder when it is on this machine (needed to read its questions)."""
        path = Path(self.path).expanduser()
        return path if (path / "copier.yml").is_file() else None


def bundled_root() -> Path:
    """Folder holding the bundled ``copier.yml`` and ``templates/``: in the wheel or the checkout."""
    here = Path(__file__).resolve().parent
    for root in (here / "template", here.parent):
        if (root / "copier.yml").is_file() and (root / "templates").is_dir():
            return root
    raise FileNotFoundError(f"no bundled template found next to {here}")


def cache_dir() -> Path:
    """Per-user cache: ``$NAAVRE_SCAFFOLD_CACHE``, else ``$XDG_CACHE_HOME/naavre-scaffold``."""
    if explicit := os.environ.get("NAAVRE_SCAFFOLD_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "naavre-scaffold"


def template_files(root: Path) -> list[Path]:
    """The files that make up the template in ``root``: copier.yml and templates/."""
    files = [root / "copier.yml"]
    files += sorted(
        p for p in (root / "templates").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    return files


def bundled_source() -> TemplateSource:
    """A git snapshot of the bundled template, tagged ``v<version>``, built once per content."""
    root = bundled_root()
    files = template_files(root)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    tag = f"v{__version__}"
    snapshot = cache_dir() / "templates" / f"{tag}-{digest.hexdigest()[:16]}"
    if not (snapshot / ".git").is_dir():
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=snapshot.parent))
        try:
            for path in files:
                target = building / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            init_and_commit(building, f"naavre-scaffold template {tag}", tag=tag)
            # A rename is atomic: a parallel run either sees no snapshot or a whole one.
            try:
                building.rename(snapshot)
            except OSError:
                if not (snapshot / ".git").is_dir():
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return TemplateSource(path=str(snapshot), vcs_ref=tag, recorded_path=PUBLIC_SOURCE)


class _IncludeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built with it
    """Reads copier.yml with its ``!include`` documents, as Copier does."""


@functools.cache
def read_questions(root: Path) -> dict[str, dict[str, Any]]:
    """The questions of the template in ``root``: name -> settings (``_``-keys left out)."""

    def include(loader: yaml.Loader, node: yaml.Node) -> list[Any]:
        docs: list[Any] = []
        for path in sorted(root.glob(loader.construct_scalar(node))):
            docs.extend(yaml.load_all(path.read_text(), Loader=_IncludeLoader))
        return docs

    loader_cls = type("_Loader", (_IncludeLoader,), {})
    loader_cls.add_constructor("!include", include)
    questions: dict[str, dict[str, Any]] = {}
    for doc in yaml.load_all((root / "copier.yml").read_text(), Loader=loader_cls):
        for part in doc if isinstance(doc, list) else [doc]:
            for key, value in (part or {}).items():
                if not key.startswith("_"):
                    questions[key] = value if isinstance(value, dict) else {"default": value}
    return questions

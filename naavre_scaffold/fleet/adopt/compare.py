"""One subproject's render compared with what the repository has, file by file: what adopting does.

See the package's docstring for the rules; ``compare`` applies them to one rendered
subproject (the repository, or one of its flavors) and says what the branch writes.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatch
from pathlib import Path

import yaml

from naavre_scaffold.fleet.discovery import PROJECT_CONFIG
from naavre_scaffold.git import merge_files, no_index_patch

ANSWERS_FILE = ".copier-answers.yml"
# The project's own code: what the template would put there stands in for it, so it is
# left out; files the project has there are its own. Globs, relative to the repository.
OWN_CODE = {
    "service": ("app/**",),
    "jupyterlab": ("src/**", "style/**", "schema/**", "ui-tests/**", "dev/**", "*_jupyterlab/**"),
    "flavors-repo": ("flavors/**",),
}
# Files the project writes itself although they sit among the template's files.
OWN_FILES = {
    "service": ("helm/*/values.yaml", "helm/*/values-example.yaml", "requirements*.txt", "environment.y*ml"),
    "jupyterlab": (
        "pyproject.toml",
        "tsconfig.json",
        "jest.config.js",
        "babel.config.js",
        "setup.py",
        "install.json",
    ),
    "flavors-repo": (),
}


class FileFate(StrEnum):
    """What adopting does to one file; the value is what the report shows."""

    IDENTICAL = "identical"  # the template's already
    ADDED = "added"  # the template adds it
    REPLACED = "replaced"  # the template's version replaces the project's (diff in the report)
    MERGED = "merged"  # the template's version with the project's changes since the common base
    KEPT = "kept"  # the project's own, left as it is
    NOT_ADDED = "not added"  # a template file where the project's own code stands


@dataclass(frozen=True)
class AdoptedFile:
    path: str
    fate: FileFate
    diff: str = ""


@dataclass
class Comparison:
    """What adopting one subproject does: its files' fates, what the branch writes, and the
    ``.naavre-scaffold.yml`` it gets (empty for none). Paths are the repository's."""

    files: list[AdoptedFile] = field(default_factory=list)
    writes: dict[str, tuple[Path, int]] = field(default_factory=dict)
    config: str = ""
    replaced_answers: str | None = None  # the source of another template's answers file it replaces
    unmerged: list[str] = field(default_factory=list)  # project changes since the base that conflict


def compare(
    project: Path,
    rendered: Path,
    kind: str,
    skipped: Callable[[Path], bool],
    scratch: Path,
    prefix: str = "",
    base: Path | None = None,
) -> Comparison:
    """Compare the render of ``kind`` in ``rendered`` with ``project``, whose paths in the repository
    are ``prefix`` + their own.

    ``base`` is a common ancestor rendered (the template the project was first made from, at
    its version): a file the template replaces then keeps the project's own changes since
    that base where they merge cleanly (three-way), and becomes the project's; where they
    conflict, the template's version goes in and the file is listed in ``unmerged``.
    """
    owned_code = OWN_CODE.get(kind, ())
    own_files = (*owned_code, *OWN_FILES.get(kind, ()))
    result = Comparison()
    project_owned: list[str] = []
    exclude: list[str] = []
    for file in sorted(p for p in rendered.rglob("*") if p.is_file() or p.is_symlink()):
        relative = file.relative_to(rendered).as_posix()
        mine, shown = project / relative, prefix + relative
        content, mode = _content(file)
        if relative == ANSWERS_FILE:
            result.replaced_answers = _other_answers_source(mine)
            result.writes[shown] = (file, mode)
            continue
        if not (mine.exists() or mine.is_symlink()):
            if _under(relative, owned_code) and _folder_exists(project, relative):
                result.files.append(AdoptedFile(shown, FileFate.NOT_ADDED))
                exclude.append(relative)
            else:
                result.files.append(AdoptedFile(shown, FileFate.ADDED))
                result.writes[shown] = (file, mode)
            continue
        if _content(mine) == (content, mode):
            result.files.append(AdoptedFile(shown, FileFate.IDENTICAL))
        elif skipped(Path(relative)):
            result.files.append(AdoptedFile(shown, FileFate.KEPT))
        elif _under(relative, own_files):
            result.files.append(AdoptedFile(shown, FileFate.KEPT))
            project_owned.append(relative)
        elif (merged := _merged(mine, base, relative, file, scratch / "merged" / shown)) is not None:
            result.files.append(AdoptedFile(shown, FileFate.MERGED, _diff(mine, merged, shown, scratch)))
            result.writes[shown] = (merged, mode)
            project_owned.append(relative)  # it differs from the template's render: the project's now
        else:
            diff = _diff(mine, file, shown, scratch)
            result.files.append(AdoptedFile(shown, FileFate.REPLACED, diff))
            result.writes[shown] = (file, mode)
            if base is not None and (base / relative).is_file() and not _same(mine, base / relative):
                result.unmerged.append(shown)
    result.config = _project_config(project, project_owned, exclude)
    return result


def _merged(mine: Path, base: Path | None, relative: str, template: Path, into: Path) -> Path | None:
    """``template`` with the project's changes to ``base``'s file, in ``into``; None if there is no
    base file, nothing of the project's to carry over, or a conflict."""
    if base is None or not (base / relative).is_file() or _same(mine, base / relative):
        return None
    merged = merge_files(mine, base / relative, template)
    if merged is None:
        return None
    into.parent.mkdir(parents=True, exist_ok=True)
    into.write_bytes(merged)
    return into


def _same(one: Path, other: Path) -> bool:
    return one.read_bytes() == other.read_bytes()


def _project_config(root: Path, project_owned: list[str], exclude: list[str]) -> str:
    """The ``.naavre-scaffold.yml`` after adopting: the repository's own entries kept, adopt's added."""
    existing = (
        yaml.safe_load((root / PROJECT_CONFIG).read_text()) if (root / PROJECT_CONFIG).is_file() else {}
    )
    config = dict(existing or {})
    for key, added in (("project_owned", project_owned), ("exclude", exclude)):
        merged = list(dict.fromkeys([*config.get(key, []), *added]))
        if merged:
            config[key] = merged
    if not config:
        return ""
    header = (
        "# Written by naavre-scaffold adopt. project_owned: files this repository writes itself\n"
        "# (update leaves them alone, check does not call them drift). exclude: template files\n"
        "# that this repository's own code stands in for (never written here).\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False)


def _content(path: Path) -> tuple[bytes, int]:
    if path.is_symlink():
        return str(path.readlink()).encode(), 0o120000
    executable = path.stat().st_mode & stat.S_IXUSR
    return path.read_bytes(), 0o100755 if executable else 0o100644


def _under(relative: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(relative, pattern) for pattern in patterns)


def _folder_exists(root: Path, relative: str) -> bool:
    """Whether the project has the top folder of ``relative`` (its own code lives there).

    Compared without case: the NaaVRE extensions keep their Python code in
    ``NaaVRE_<x>_jupyterlab/``, where the template writes ``naavre_<x>_jupyterlab/``.
    """
    if "/" not in relative:
        return False
    top = relative.split("/", 1)[0].lower()
    return any(entry.is_dir() and entry.name.lower() == top for entry in root.iterdir())


def _other_answers_source(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        answers = yaml.safe_load(path.read_text())
    except (ValueError, yaml.YAMLError):
        return "an unreadable answers file"
    source = answers.get("_src_path") if isinstance(answers, dict) else None
    commit = answers.get("_commit") if isinstance(answers, dict) else None
    return f"{source or 'another template'}{f' at {commit}' if commit else ''}"


def _diff(mine: Path, template: Path, relative: str, scratch: Path) -> str:
    folder = scratch / "diff"
    for side, origin in (("a", mine), ("b", template)):
        target = folder / side / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(origin.read_bytes())
    return no_index_patch(folder, relative)

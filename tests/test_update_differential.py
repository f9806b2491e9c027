"""``naavre-scaffold update`` against stock ``copier update``: the same trees, case by case.

Copier is the authority on what an update means. Each case makes a service at
v1.0.0 of a template, changes it the way a project does, commits, and updates a
copy with each tool to v2.0.0 (``--keep-conflicts``, so that both leave conflicts
in the working tree). The working trees must be byte for byte and mode for mode the
same, and the verdict must be what Copier's tree shows. The few places where
naavre-scaffold means to differ are cases of their own, each asserting exactly
the difference.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from naavre_scaffold.fleet.check import check
from naavre_scaffold.fleet.outcome import Options, Verdict
from naavre_scaffold.fleet.update import update
from naavre_scaffold.git import git
from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource
from tests.helpers import commit_all, copy_template, replace_in, tree

SERVICE = Path("templates/service/project")
COPIER = Path(sys.executable).parent / "copier"
# app/config.py: the line the new version changes, and lines around it that a project edits.
CHANGED_LINE = (
    "        raise ConfigFileError("
    'f"CONFIG_FILE_URL={location}: only a path or a file:// URL is supported")\n'
)
NEW_LINE = CHANGED_LINE.replace("only a path or a file:// URL is supported", "give a path or a file:// URL")
FAR_LINE = '"""The optional JSON configuration file named by CONFIG_FILE_URL.\n'
NEAR_LINE = "    return Path(location)\n"  # two lines below the changed one
ADJACENT_LINE = "    if parts.scheme:\n"  # right above it


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1.0.0 and v2.0.0 of this checkout's template.

    v2 changes service files, deletes one, adds CONTRIBUTING.md and build/README.txt, which
    the service's .gitignore ignores (Copier writes it all the same); it also changes flavor files.
    """
    repo = tmp_path_factory.mktemp("differential") / "template"
    copy_template(repo)
    project = repo / SERVICE
    git(repo, "-c", "init.defaultBranch=main", "init", "--quiet")
    commit_all(repo, "Template v1")
    git(repo, "tag", "v1.0.0")
    replace_in(project / "app/config.py", CHANGED_LINE, NEW_LINE)
    (project / ".flake8").write_text(
        (project / ".flake8").read_text() + "per-file-ignores = app/tests/*:S101\n"
    )
    dockerignore = (project / ".dockerignore").read_text().splitlines(keepends=True)
    (project / ".dockerignore").write_text("".join(dockerignore[:-1]) + "*.log\n")
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "\n# Local notes\nnotes/\n")
    (project / "app/tests/test_health.py").unlink()
    (project / "CONTRIBUTING.md").write_text("# Contributing\n\nOpen an issue first.\n")
    (project / "build").mkdir()
    (project / "build/README.txt").write_text("Build outputs land here; git ignores this folder.\n")
    # Forced: the template's own .gitignore (the one it renders) ignores build/ here too.
    git(repo, "add", "--force", str(SERVICE / "build/README.txt"))
    flavor_tests = repo / "templates/flavor/project/tests/tests.sh.jinja"
    flavor_tests.write_text(flavor_tests.read_text() + "# (v2: one more line)\n")
    flavors_gitignore = repo / "templates/flavors-repo/project/.gitignore"
    flavors_gitignore.write_text(flavors_gitignore.read_text() + "*.bak\n")
    commit_all(repo, "Template v2")
    git(repo, "tag", "v2.0.0")
    return repo


def _append(path: str, line: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).write_text((repo / path).read_text() + line)


def _replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda repo: replace_in(repo / path, old, new)


def _delete(path: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).unlink()


def _make_executable(path: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).chmod((repo / path).stat().st_mode | stat.S_IXUSR)


def _add_own_files(repo: Path) -> None:
    (repo / "notes.md").write_text("The team's notes.\n")
    (repo / "app/routes/extra.py").write_text('"""An extra route of this service."""\n')


def _add_what_the_new_version_adds(repo: Path) -> None:
    (repo / "CONTRIBUTING.md").write_text("# How we work\n\nAsk in the team channel.\n")
    (repo / "build").mkdir()
    (repo / "build/README.txt").write_text("Our own notes on the build.\n")
    git(repo, "add", "--force", "build/README.txt")  # the service's .gitignore ignores build/


CASES: dict[str, Callable[[Path], None]] = {
    "untouched": lambda repo: None,
    "edit far from a template change": _replace(
        "app/config.py", FAR_LINE, FAR_LINE.replace("optional", "only")
    ),
    "edit within 3 lines of a template change": _replace(
        "app/config.py", NEAR_LINE, "    return Path(location)  # local\n"
    ),
    "edit on the line next to a template change": _replace(
        "app/config.py", ADJACENT_LINE, "    if parts.scheme:  # remote\n"
    ),
    "conflict at the end of a file": _append(".dockerignore", "tmp/\n"),
    "a changed file deleted": _delete(".gitignore"),
    "an unchanged file deleted": _delete("LICENSE"),
    "the project's own files": _add_own_files,
    "a project-owned file edited": _append("README.md", "\nMore about this service.\n"),
    "a project-owned file deleted": _delete("app/routes/me.py"),
    "exec bit set on a changed file": _make_executable(".flake8"),
    "files added by both the project and the new version": _add_what_the_new_version_adds,
}


# The cases where Copier leaves conflict markers (the same markers both ways, as the trees show).
CONFLICTING = {
    "edit within 3 lines of a template change",
    "edit on the line next to a template change",
    "conflict at the end of a file",
    "files added by both the project and the new version",
}


def _has_conflicts(tree: dict[str, tuple[bytes, bool]]) -> bool:
    return any(name.endswith(".rej") or b"\n<<<<<<< " in b"\n" + data for name, (data, _) in tree.items())


def _both(template: Path, tmp_path: Path, change: Callable[[Path], None], project_owned: str = "") -> tuple:
    """The service changed by ``change`` and committed, updated by copier (first) and by naavre-scaffold."""
    original = tmp_path / "original" / "NaaVRE-case-service"
    create("service", "case", dest=original, source=TemplateSource(str(template), "v1.0.0"))
    change(original)
    if project_owned:
        (original / ".naavre-scaffold.yml").write_text(f"project_owned:\n  - {project_owned}\n")
    if git(original, "status", "--porcelain"):
        commit_all(original, "The project's changes")
    by_copier, by_us = tmp_path / "copier" / original.name, tmp_path / "ours" / original.name
    for copy in (by_copier, by_us):
        shutil.copytree(original, copy, symlinks=True)
    stock = subprocess.run(
        [str(COPIER), "update", "--defaults", "--quiet", "--vcs-ref", "v2.0.0"],
        cwd=by_copier,
        capture_output=True,
        text=True,
        env={**os.environ, "COPIER_CACHE_DIR": str(tmp_path / "copier-cache")},
        check=False,
    )
    assert stock.returncode in (0, 1), stock.stderr  # 1: Copier's own exit on conflicts it left
    [outcome] = update([by_us], Options(vcs_ref="v2.0.0", keep_conflicts=True), jobs=1)
    return tree(by_copier), tree(by_us), outcome


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_tree_as_copier_update(template: Path, tmp_path: Path, case: str) -> None:
    copier_tree, our_tree, outcome = _both(template, tmp_path, CASES[case])

    assert our_tree.keys() == copier_tree.keys()
    different = sorted(name for name in our_tree if our_tree[name] != copier_tree[name])
    assert different == []
    conflict = _has_conflicts(copier_tree)
    assert conflict == (case in CONFLICTING)  # the corpus keeps covering both kinds
    assert outcome.verdict == (Verdict.CONFLICT if conflict else Verdict.UPDATED), outcome.message


def test_a_template_deletion_of_a_changed_file_keeps_it_where_copier_deletes_it(
    template: Path, tmp_path: Path
) -> None:
    """The one intended difference in the files: Copier would lose the project's work."""
    edited = _append("app/tests/test_health.py", "# A test of our own below.\n")
    copier_tree, our_tree, outcome = _both(template, tmp_path, edited)

    assert "app/tests/test_health.py" not in copier_tree
    assert our_tree["app/tests/test_health.py"][0].endswith(b"# A test of our own below.\n")
    assert outcome.verdict == Verdict.CONFLICT
    assert {name for name in our_tree if our_tree[name] != copier_tree.get(name)} == {
        "app/tests/test_health.py"
    }


def test_project_owned_patterns_keep_a_file_copier_would_update(template: Path, tmp_path: Path) -> None:
    """``project_owned`` in .naavre-scaffold.yml is naavre-scaffold's: Copier does not know it."""
    edited = _replace("app/config.py", FAR_LINE, FAR_LINE.replace("optional", "only"))
    copier_tree, our_tree, outcome = _both(template, tmp_path, edited, project_owned="app/config.py")

    assert NEW_LINE.encode() in copier_tree["app/config.py"][0]
    assert CHANGED_LINE.encode() in our_tree["app/config.py"][0]  # the project's file, as it was
    assert {name for name in our_tree if our_tree[name] != copier_tree[name]} == {"app/config.py"}
    assert outcome.verdict == Verdict.UPDATED


def test_a_flavors_repository_and_its_flavor_folder_as_copier_updates_them(
    template: Path, tmp_path: Path
) -> None:
    """Three subprojects in one repository (the repository, vanilla, eco): Copier updates each folder,
    with a commit between as it needs a clean tree; naavre-scaffold updates all in one run."""
    original = tmp_path / "original" / "flavors"
    source = TemplateSource(str(template), "v1.0.0")
    create("flavors-repo", "flavors", dest=original, source=source)
    create("flavor", "eco", dest=original / "flavors" / "eco", source=source)
    (original / "flavors/eco/tests/test_own.py").write_text("print('our own check')\n")
    commit_all(original, "The eco flavor")
    by_copier, by_us = tmp_path / "copier" / "flavors", tmp_path / "ours" / "flavors"
    for copy in (by_copier, by_us):
        shutil.copytree(original, copy, symlinks=True)
    env = {**os.environ, "COPIER_CACHE_DIR": str(tmp_path / "copier-cache")}
    for folder in (by_copier, by_copier / "flavors" / "vanilla", by_copier / "flavors" / "eco"):
        command = [str(COPIER), "update", "--defaults", "--quiet", "--vcs-ref", "v2.0.0"]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, done.stderr
        commit_all(by_copier, f"Update {folder.name}")

    outcomes = update([by_us], Options(vcs_ref="v2.0.0"), jobs=1)

    assert [o.verdict for o in outcomes] == [Verdict.UPDATED] * 3, outcomes  # the repository, vanilla, eco
    copier_tree, our_tree = tree(by_copier), tree(by_us)
    assert our_tree == copier_tree
    assert our_tree["flavors/eco/tests/tests.sh"][0].endswith(b"# (v2: one more line)\n")
    assert "flavors/eco/tests/test_own.py" in our_tree
    assert b"*.bak" in our_tree[".gitignore"][0]


def test_check_lists_what_the_update_adds_modifies_and_removes(template: Path, tmp_path: Path) -> None:
    repo = tmp_path / "NaaVRE-listed-service"
    create("service", "listed", dest=repo, source=TemplateSource(str(template), "v1.0.0"))

    [report] = check(repo, vcs_ref="v2.0.0")

    assert report.behind and report.drift == []
    assert dict(report.changes) == {
        "CONTRIBUTING.md": "added",
        ".dockerignore": "modified",
        ".flake8": "modified",
        ".gitignore": "modified",
        "app/config.py": "modified",
        "app/tests/test_health.py": "removed",
        "build/README.txt": "added",
    }

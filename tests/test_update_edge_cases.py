"""``naavre-scaffold update`` against stock ``copier update`` on repositories as real ones are.

The corpus in ``test_update_differential.py`` updates services of the real
template. Here each case is a tiny template and a repository with what real
repositories hold and templates never see: their own ``.gitattributes``, ignore
rules, git settings, binary files, symlinks, odd tags. Each case updates two
copies of one repository, one with ``copier update`` (the command, as a person
runs it in the repository) and one with ``naavre-scaffold update``, and holds
the results equal: every file's bytes, type and mode, the git index (staged
modes and unmerged entries included), the recorded answers and the verdict.
The deliberate differences are cases of their own, asserted exactly.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.fleet.outcome import Options, Outcome, Verdict
from naavre_scaffold.fleet.update import update
from naavre_scaffold.git import git
from tests.helpers import IDENTITY, TINY_ANSWERS, TINY_COPIER_YML, commit_all

COPIER = Path(sys.executable).parent / "copier"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@dataclass(frozen=True)
class Executable:
    """A template file with its exec bit set."""

    text: str


@dataclass(frozen=True)
class Link:
    """A symlink in the template."""

    target: str


FileSpec = str | bytes | Executable | Link | None  # None: delete the file in this version


@dataclass
class Case:
    """A template's versions, how the project changes its repository, and what to update to."""

    versions: dict[str, dict[str, FileSpec]]
    change: Callable[[Path], None] = lambda repo: None
    vcs_ref: str | None = "v2.0.0"  # None: each tool picks the newest version itself
    copy_from: str | None = None  # how the project named the template when it was made (relative path)
    options: dict[str, bool] = field(default_factory=dict)


def _write(path: Path, spec: FileSpec) -> None:
    if os.path.lexists(path):
        path.unlink()
    if spec is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, Link):
        path.symlink_to(spec.target)
    elif isinstance(spec, Executable):
        path.write_text(spec.text)
        path.chmod(0o755)
    elif isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(spec)


def _template(folder: Path, case: Case) -> Path:
    project = folder / "project"
    project.mkdir(parents=True)
    (folder / "copier.yml").write_text(TINY_COPIER_YML)
    (project / "{{_copier_conf.answers_file}}.jinja").write_text(TINY_ANSWERS)
    git(folder, "-c", "init.defaultBranch=main", "init", "--quiet")
    for tag, files in case.versions.items():
        for name, spec in files.items():
            _write(project / name, spec)
        git(folder, "add", "--all", "--force")
        git(folder, *IDENTITY, "commit", "--quiet", "--allow-empty", "-m", f"Template {tag}")
        git(folder, "tag", tag)
    return folder


def _project(tmp_path: Path, case: Case) -> Path:
    """The repository, made from the first version by Copier and changed by the project, committed."""
    template = _template(tmp_path / "tpl", case)
    repo = tmp_path / "original" / "repo"
    repo.mkdir(parents=True)
    src = case.copy_from or str(template)
    first = next(iter(case.versions))
    done = subprocess.run(
        [str(COPIER), "copy", "--defaults", "--quiet", "--vcs-ref", first, src, "."],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    git(repo, "-c", "init.defaultBranch=main", "init", "--quiet")
    git(repo, "config", "user.name", "Test Person")
    git(repo, "config", "user.email", "test@example.org")
    commit_all(repo, "Made from the template")
    case.change(repo)
    if git(repo, "status", "--porcelain"):
        commit_all(repo, "The project's changes")
    return repo


def state(repo: Path) -> dict[str, object]:
    """What an update can change: each path's kind, bytes or target and mode; the index; the answers."""
    files: dict[str, tuple[str, object, int]] = {}
    for path in sorted(repo.rglob("*")):
        relative = path.relative_to(repo)
        if ".git" in relative.parts or (path.is_dir() and not path.is_symlink()):
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            files[relative.as_posix()] = ("link", os.readlink(path), 0)
        else:
            files[relative.as_posix()] = ("file", path.read_bytes(), mode)
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    return {"files": files, "index": git(repo, "ls-files", "--stage"), "answers": answers}


def copier_verdict(repo: Path) -> Verdict:
    """What stock Copier's result means: conflict markers or unmerged entries, changes, or none."""
    if git(repo, "ls-files", "--unmerged") or any(
        line.startswith(("<<<<<<< before updating", ">>>>>>> after updating"))
        for path in repo.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(repo).parts
        for line in path.read_bytes().decode(errors="replace").splitlines()
    ):
        return Verdict.CONFLICT
    changed = git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored=matching")
    return Verdict.UPDATED if changed else Verdict.UP_TO_DATE


def both(tmp_path: Path, case: Case) -> tuple[Path, Path, Outcome]:
    """The project updated by ``copier update`` (first) and by ``naavre-scaffold update``."""
    original = _project(tmp_path, case)
    by_copier, by_us = tmp_path / "copier" / "repo", tmp_path / "ours" / "repo"
    for copy in (by_copier, by_us):
        shutil.copytree(original, copy, symlinks=True)
    command = [str(COPIER), "update", "--defaults", "--quiet"]
    if case.vcs_ref:
        command += ["--vcs-ref", case.vcs_ref]
    env = {**os.environ, "COPIER_CACHE_DIR": str(tmp_path / "copier-cache")}
    stock = subprocess.run(command, cwd=by_copier, capture_output=True, text=True, env=env, check=False)
    assert stock.returncode in (0, 1), stock.stderr  # 1: the conflicts Copier left
    options = Options(vcs_ref=case.vcs_ref, **case.options)
    [outcome] = update([by_us], options, jobs=1)
    return by_copier, by_us, outcome


def assert_same(tmp_path: Path, case: Case) -> tuple[Path, Outcome]:
    by_copier, by_us, outcome = both(tmp_path, case)
    ours, theirs = state(by_us), state(by_copier)
    assert ours["answers"] == theirs["answers"]
    assert ours["index"] == theirs["index"]
    assert ours["files"].keys() == theirs["files"].keys()  # type: ignore[union-attr]
    assert [p for p in ours["files"] if ours["files"][p] != theirs["files"][p]] == []  # type: ignore[index]
    assert outcome.verdict == copier_verdict(by_copier), outcome.message
    return by_copier, outcome


def _append(path: str, text: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).write_text((repo / path).read_text() + text)


def _edit_json_with_attributes(attributes: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        (repo / ".gitattributes").write_text(attributes)
        _append("data.json", '{"own": true}\n')(repo)

    return change


def _add_submodule(repo: Path, where: str) -> None:
    """A repository of its own at ``where``, recorded as a submodule (a gitlink) of ``repo``."""
    inner = repo / where
    inner.mkdir(parents=True)
    (inner / "lib.txt").write_text("a library\n")
    git(inner, "-c", "init.defaultBranch=main", "init", "--quiet")
    commit_all(inner, "The library")
    (repo / ".gitmodules").write_text(f'[submodule "lib"]\n\tpath = {where}\n\turl = ./lib.git\n')
    git(repo, "add", ".gitmodules", where)


JSON_AND_APP = {
    "v1.0.0": {"data.json": '{"a": 1}\n', "app.txt": "one\ntwo\nthree\n"},
    "v2.0.0": {"app.txt": "one\ntwo\nthree, changed\n"},
}


# Each of these was a difference from Copier on the main branch before this file.
CASES: dict[str, Case] = {
    # 1. The project's own attributes must not shape the diff that carries its changes.
    "attributes: -diff on a file the project edited": Case(
        JSON_AND_APP, _edit_json_with_attributes("*.json -diff\n")
    ),
    "attributes: binary on a file the project edited": Case(
        JSON_AND_APP, _edit_json_with_attributes("*.json binary\n")
    ),
    "attributes: eol=crlf on files the template writes": Case(
        {
            "v1.0.0": {"notes.txt": "a\nb\n"},
            "v2.0.0": {"notes.txt": "a\nb\nc\n", "more.txt": "new\n"},
        },
        lambda repo: (repo / ".gitattributes").write_text("*.txt eol=crlf\n"),
    ),
    "attributes: text=auto and a CRLF file of the template": Case(
        {
            "v1.0.0": {"win.bat": b"@echo off\r\necho one\r\n"},
            "v2.0.0": {"win.bat": b"@echo off\r\necho two\r\n"},
        },
        lambda repo: (repo / ".gitattributes").write_text("* text=auto\n"),
    ),
    "attributes: ident": Case(
        {
            "v1.0.0": {"version.txt": "$Id$\nv1\n"},
            "v2.0.0": {"version.txt": "$Id$\nv2\n"},
        },
        lambda repo: (repo / ".gitattributes").write_text("version.txt ident\n"),
    ),
    # 2. Files the template renders and the project's .gitignore ignores.
    "an ignored file the template renders and changes": Case(
        {
            "v1.0.0": {".gitignore": ".env\n", ".env": "A=1\n", "app.txt": "one\n"},
            "v2.0.0": {".env": "A=1\nB=2\n", "app.txt": "one\ntwo\n"},
        }
    ),
    "a new version adds a file and the line that ignores it": Case(
        {
            "v1.0.0": {".gitignore": "build/\n", "app.txt": "one\n"},
            "v2.0.0": {".gitignore": "build/\nlocal.cfg\n", "local.cfg": "x=1\n"},
        }
    ),
    # 3. _folder_name is the repository's folder, not the private clone's.
    "_folder_name in a question's default": Case(
        {
            "v1.0.0": {"app.txt": "one\n"},
            "v2.0.0": {
                "../copier.yml": TINY_COPIER_YML + "folder:\n  type: str\n  default: '{{ _folder_name }}'\n",
                "folder.txt.jinja": "{{ folder }}\n",
            },
        }
    ),
    # 4. core.fileMode=false: Copier puts the exec bit the template adds in the index.
    "core.fileMode=false and an exec bit the template adds": Case(
        {
            "v1.0.0": {"run.sh": "echo one\n"},
            "v2.0.0": {"run.sh": Executable("echo one\n"), "new.sh": Executable("echo new\n")},
        },
        lambda repo: git(repo, "config", "core.fileMode", "false"),
    ),
    # 5. --keep-conflicts: conflicted files unmerged in the index, as Copier records them.
    "--keep-conflicts records unmerged entries": Case(
        {"v1.0.0": {"app.txt": "one\ntwo\n"}, "v2.0.0": {"app.txt": "one\ntwo, theirs\n"}},
        _append("app.txt", "three, ours\n"),
        options={"keep_conflicts": True},
    ),
    # 6. A file that shows conflict markers as text is not a conflict.
    "a template file that shows <<<<<<< HEAD lines": Case(
        {
            "v1.0.0": {"app.txt": "one\n"},
            "v2.0.0": {
                "RESOLVING.md": "When git stops:\n\n<<<<<<< HEAD\nyours\n=======\ntheirs\n>>>>>>> main\n",
            },
        }
    ),
    # 7. Two tags of one version on different commits: Copier's choice of the newest.
    "tags v2.0 and v2.0.0 on different commits": Case(
        {
            "v1.0.0": {"app.txt": "one\n"},
            "v2.0.0": {"app.txt": "two (v2.0.0)\n"},
            "v2.0": {"app.txt": "two (v2.0)\n"},
        },
        vcs_ref=None,
    ),
    # 9. A release whose only change is a comment of the answers file: Copier records the new version.
    "only the answers file's comment changes": Case(
        {
            "v1.0.0": {"app.txt": "one\n"},
            "v2.0.0": {
                "{{_copier_conf.answers_file}}.jinja": "# Managed by Copier\n"
                "{{ _copier_answers|to_nice_yaml -}}\n"
            },
        }
    ),
    # Beyond the list: what real repositories hold.
    "symlinks the template adds and changes": Case(
        {
            "v1.0.0": {"docs/a.md": "a\n", "docs/b.md": "b\n", "current.md": Link("docs/a.md")},
            "v2.0.0": {"current.md": Link("docs/b.md"), "latest.md": Link("docs/b.md")},
        }
    ),
    "a binary file the template changes and the project did not": Case(
        {"v1.0.0": {"logo.png": PNG}, "v2.0.0": {"logo.png": PNG + b"\x00v2"}}
    ),
    "a project's hooks and an info/exclude rule": Case(
        JSON_AND_APP,
        lambda repo: (
            (repo / ".git/hooks/post-checkout").write_text("#!/bin/sh\necho hooked >> hooked.txt\n"),
            (repo / ".git/hooks/post-checkout").chmod(0o755),
            (repo / ".git/info/exclude").write_text("local/\n"),
            _append("data.json", "{}\n")(repo),
        ),
    ),
    "core.autocrlf=true in the repository's config": Case(
        {
            "v1.0.0": {"notes.txt": "a\nb\nc\nd\ne\n"},
            "v2.0.0": {"notes.txt": "a, changed\nb\nc\nd\ne\n"},
        },
        lambda repo: (git(repo, "config", "core.autocrlf", "true"), _append("notes.txt", "f\n")(repo)),
    ),
    "an LFS pointer file the project tracks": Case(
        JSON_AND_APP,
        lambda repo: (
            (repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n"),
            (repo / "model.bin").write_text(
                "version https://git-lfs.github.com/spec/v1\n"
                "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
                "size 12345\n"
            ),
        ),
    ),
    "a large file of the project beside a template change": Case(
        JSON_AND_APP, lambda repo: (repo / "data.csv").write_bytes(b"x,y\n" * 300_000)
    ),
    "names with spaces, quotes and non-ASCII letters": Case(
        {
            "v1.0.0": {'docs/über "notes".md': "a\nb\nc\nd\ne\nf\n", "tab\tname.txt": "x\n"},
            "v2.0.0": {'docs/über "notes".md': "a, changed\nb\nc\nd\ne\nf\n", "neu ü.txt": "n\n"},
        },
        _append('docs/über "notes".md', "g\n"),
    ),
    "a file the project turned to CRLF line endings": Case(
        {
            "v1.0.0": {"app.txt": "one\ntwo\nthree\nfour\nfive\nsix\n", "other.txt": "o\n"},
            "v2.0.0": {"other.txt": "o2\n"},
        },
        lambda repo: (repo / "app.txt").write_bytes((repo / "app.txt").read_bytes().replace(b"\n", b"\r\n")),
    ),
    "the project drops an exec bit the template set": Case(
        {
            "v1.0.0": {"run.sh": Executable("echo one\n"), "app.txt": "one\n"},
            "v2.0.0": {"app.txt": "one\ntwo\n"},
        },
        lambda repo: (repo / "run.sh").chmod(0o644),
    ),
    "a submodule in the project": Case(JSON_AND_APP, lambda repo: _add_submodule(repo, "vendor/lib")),
    "core.hooksPath in the project's config, with hooks that fail": Case(
        JSON_AND_APP,
        lambda repo: (
            (repo / "hooks").mkdir(),
            (repo / "hooks/post-checkout").write_text("#!/bin/sh\nexit 1\n"),
            (repo / "hooks/post-checkout").chmod(0o755),
            git(repo, "config", "core.hooksPath", "hooks"),
            _append("data.json", "{}\n")(repo),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_result_as_copier_update(tmp_path: Path, name: str) -> None:
    assert_same(tmp_path, CASES[name])


def test_a_relative_template_path_is_found_from_the_repository(tmp_path: Path) -> None:
    """``copier copy ../tpl .`` records ``_src_path: ../tpl``; Copier resolves it from the repository."""
    case = Case(JSON_AND_APP, copy_from="../../tpl")
    by_copier, outcome = assert_same(tmp_path, case)

    assert outcome.verdict == Verdict.UPDATED
    assert yaml.safe_load((by_copier / ".copier-answers.yml").read_text())["_src_path"] == "../../tpl"


def test_the_tag_copier_prefers_is_the_one_updated_to(tmp_path: Path) -> None:
    by_copier, outcome = assert_same(tmp_path, CASES["tags v2.0 and v2.0.0 on different commits"])

    assert outcome.to_version == yaml.safe_load((by_copier / ".copier-answers.yml").read_text())["_commit"]


def test_an_ignored_file_is_left_uncommitted_in_the_working_tree_with_commit(tmp_path: Path) -> None:
    """With ``--commit`` the branch holds what git tracks; the ignored file reaches the working tree."""
    case = CASES["an ignored file the template renders and changes"]
    original = _project(tmp_path, case)
    (original / ".env").write_text("A=1\n")  # as Copier left it at v1: untracked, ignored

    [outcome] = update([original], Options(vcs_ref="v2.0.0", commit=True), jobs=1)

    assert outcome.verdict == Verdict.UPDATED, outcome.message
    assert ".env" not in git(original, "ls-tree", "-r", "--name-only", "template-update/v2.0.0")
    assert (original / ".env").read_text() == "A=1\nB=2\n"
    assert ".env" in outcome.message


def test_an_ignored_file_the_person_changed_is_kept(tmp_path: Path) -> None:
    """Deliberate: Copier overwrites a .env the person edited (never in git, so gone for good)."""
    case = CASES["an ignored file the template renders and changes"]
    original = _project(tmp_path, case)
    (original / ".env").write_text("A=1\nSECRET=ours\n")
    by_copier, by_us = tmp_path / "copier2" / "repo", tmp_path / "ours2" / "repo"
    for copy in (by_copier, by_us):
        shutil.copytree(original, copy, symlinks=True)
    subprocess.run(
        [str(COPIER), "update", "--defaults", "--quiet", "--vcs-ref", "v2.0.0"], cwd=by_copier, check=True
    )

    [outcome] = update([by_us], Options(vcs_ref="v2.0.0"), jobs=1)

    assert (by_copier / ".env").read_text() == "A=1\nB=2\n"  # Copier: the person's line is gone
    assert (by_us / ".env").read_text() == "A=1\nSECRET=ours\n"
    ours, theirs = state(by_us), state(by_copier)
    assert [p for p in ours["files"] if ours["files"][p] != theirs["files"][p]] == [".env"]  # type: ignore[index]
    assert outcome.verdict == Verdict.UPDATED
    assert ".env" in outcome.message


def test_a_binary_file_the_project_changed_is_kept_where_copier_reverts_it(tmp_path: Path) -> None:
    """Deliberate: Copier puts the template's logo back on every update; we keep the project's."""
    case = Case(
        {"v1.0.0": {"logo.png": PNG, "app.txt": "one\n"}, "v2.0.0": {"app.txt": "one\ntwo\n"}},
        lambda repo: (repo / "logo.png").write_bytes(PNG + b"ours"),
    )
    by_copier, by_us, outcome = both(tmp_path, case)

    assert (by_copier / "logo.png").read_bytes() == PNG
    assert (by_us / "logo.png").read_bytes() == PNG + b"ours"
    ours, theirs = state(by_us), state(by_copier)
    assert [p for p in ours["files"] if ours["files"][p] != theirs["files"][p]] == ["logo.png"]  # type: ignore[index]
    assert ours["index"] == theirs["index"]
    assert outcome.verdict == Verdict.UPDATED  # the template did not change it: nothing to resolve


def test_a_binary_file_both_changed_is_kept_and_a_conflict(tmp_path: Path) -> None:
    case = Case(
        {"v1.0.0": {"logo.png": PNG}, "v2.0.0": {"logo.png": PNG + b"v2"}},
        lambda repo: (repo / "logo.png").write_bytes(PNG + b"ours"),
        options={"keep_conflicts": True},
    )
    by_copier, by_us, outcome = both(tmp_path, case)

    assert (by_copier / "logo.png").read_bytes() == PNG + b"v2"
    assert (by_us / "logo.png").read_bytes() == PNG + b"ours"
    assert outcome.verdict == Verdict.CONFLICT
    assert outcome.files == ["logo.png"]
    assert "logo.png" in outcome.message


def test_a_file_the_new_version_ignores_is_named_and_in_the_working_tree_with_commit(tmp_path: Path) -> None:
    case = CASES["a new version adds a file and the line that ignores it"]
    original = _project(tmp_path, case)

    [outcome] = update([original], Options(vcs_ref="v2.0.0", commit=True), jobs=1)

    assert outcome.verdict == Verdict.UPDATED, outcome.message
    on_branch = git(original, "ls-tree", "-r", "--name-only", "template-update/v2.0.0").split()
    assert ".gitignore" in on_branch and "local.cfg" not in on_branch
    assert (original / "local.cfg").read_text() == "x=1\n"
    assert "local.cfg" in outcome.message and "local.cfg" in outcome.files


def test_a_linked_worktree_is_updated_as_copier_updates_it(tmp_path: Path) -> None:
    """``git worktree add``: the settings and objects live in the main checkout's .git."""
    edit = Case(JSON_AND_APP, lambda repo: (repo / "data.json").write_text('{"own": 1}\n'))
    repo = _project(tmp_path, edit)
    by_copier, by_us = tmp_path / "wt-copier", tmp_path / "wt-ours"
    for worktree in (by_copier, by_us):
        git(repo, "worktree", "add", "--quiet", "-b", worktree.name, str(worktree))
    command = [str(COPIER), "update", "--defaults", "--quiet", "--vcs-ref", "v2.0.0"]
    subprocess.run(command, cwd=by_copier, capture_output=True, check=True)

    [outcome] = update([by_us], Options(vcs_ref="v2.0.0"), jobs=1)

    assert outcome.verdict == Verdict.UPDATED, outcome.message
    assert state(by_us) == state(by_copier)
    assert (by_us / "data.json").read_text() == '{"own": 1}\n'

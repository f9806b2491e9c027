"""The mechanics of ``check`` on a tiny template: version, behind, drift, changes, diffs, owned files.

Each test builds its own template of a few files with three releases
(``helpers.build_template``): v1.1.0 changes a setting, a binary file and the
README (the project's file once made: ``_skip_if_exists``), deletes a file and
adds one; v1.1.1 changes only a file outside the rendered folder, so it renders
exactly like v1.1.0. The real template is for the end-to-end tests
(``test_check.py``, ``test_check_cli.py``) and the differential ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from naavre_scaffold import check
from naavre_scaffold.cli import main
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK
from naavre_scaffold.fleet.check import FileChange
from naavre_scaffold.git import git
from tests.helpers import (
    BROKEN_PROJECT_CONFIGS,
    PNG,
    TINY_COPIER_YML,
    build_template,
    commit_all,
    make_repo,
)

NEWEST = "v1.1.1"
SETTINGS = "[test]\ntimeout = 20\n"
SETTINGS_NEW = "[test]\ntimeout = 15\n"
LOGO_NEW = PNG + b"as v1.1.0 has it"
VERSIONS: dict[str, dict[str, str | bytes | None]] = {
    "v1.0.0": {
        "README.md": "# tiny\n",
        "app.txt": "one\ntwo\n",
        "settings.ini": SETTINGS,
        "old.txt": "to be removed\n",
        "logo.png": PNG,
    },
    "v1.1.0": {
        "README.md": "# tiny, as v1.1.0 has it\n",
        "settings.ini": SETTINGS_NEW,
        "old.txt": None,
        "new.txt": "added by v1.1.0\n",
        "logo.png": LOGO_NEW,
    },
    "v1.1.1": {"../CHANGELOG.md": "v1.1.1: nothing that renders\n"},
}
SKIPPING_README = TINY_COPIER_YML + "_skip_if_exists:\n  - README.md\n"
# What v1.1.1 changes for a repository made at v1.0.0; README.md is the project's, so not listed.
CHANGES = [
    ("logo.png", "modified"),
    ("new.txt", "added"),
    ("old.txt", "removed"),
    ("settings.ini", "modified"),
]


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return build_template(tmp_path / "template", VERSIONS, SKIPPING_README)


def _check(capsys, path: Path, *options: str) -> tuple[int, str]:
    code = main(["check", str(path), *options])
    return code, capsys.readouterr().out


def test_current_and_clean_passes(template: Path, tmp_path: Path, capsys) -> None:
    repo = make_repo(template, tmp_path / "fresh", NEWEST)

    code, out = _check(capsys, repo)

    assert code == EXIT_OK, out
    assert out.splitlines() == [
        f"PASS  {repo}: version {NEWEST}",
        f"PASS  {repo}: no drift from the template at {NEWEST}",
        "1 current, 0 behind, 0 drifted, 0 failed",
    ]


def test_a_release_that_renders_the_same_is_not_behind(template: Path, tmp_path: Path, capsys) -> None:
    repo = make_repo(template, tmp_path / "fresh", "v1.1.0")

    [report] = check(repo)
    code, out = _check(capsys, repo)

    assert (report.behind, report.changes, report.newest) == (False, [], NEWEST)
    assert report.version_note == f"{NEWEST} changes nothing here"
    assert code == EXIT_OK, out
    assert f"PASS  {repo}: version v1.1.0 ({NEWEST} changes nothing here)\n" in out


def test_behind_fails_listing_what_the_newest_version_changes(template: Path, tmp_path: Path, capsys) -> None:
    repo = make_repo(template, tmp_path / "old", "v1.0.0")

    [report] = check(repo)
    code, out = _check(capsys, repo)

    assert (report.behind, report.version, report.newest, report.drift) == (True, "v1.0.0", NEWEST, [])
    assert [(path, str(kind)) for path, kind in report.changes] == CHANGES
    assert code == EXIT_FAILED
    assert out.splitlines() == [
        f"FAIL  {repo}: version v1.0.0 is behind the newest template {NEWEST}, which changes 4 file(s):",
        "        modified logo.png",
        "        added    new.txt",
        "        removed  old.txt",
        "        modified settings.ini",
        f"PASS  {repo}: no drift from the template at v1.0.0",
        "0 current, 1 behind, 0 drifted, 0 failed",
    ]


def test_a_recorded_version_newer_than_the_one_asked_for_has_nothing_to_update_to(
    template: Path, tmp_path: Path, capsys
) -> None:
    repo = make_repo(template, tmp_path / "newer", "v1.1.0")

    code, out = _check(capsys, repo, "--vcs-ref", "v1.0.0")

    assert code == EXIT_OK, out
    note = "the same as or newer than v1.0.0: nothing to update to"
    assert out.splitlines()[:2] == [
        f"PASS  {repo}: version v1.1.0 ({note})",
        f"PASS  {repo}: no drift from the template at v1.1.0",
    ]


def test_hand_edits_are_drift_with_a_patch_that_undoes_them(template: Path, tmp_path: Path, capsys) -> None:
    repo = make_repo(template, tmp_path / "edited", NEWEST)
    (repo / "settings.ini").write_text("[test]\ntimeout = 25\n")
    (repo / "app.txt").unlink()
    commit_all(repo, "Hand edits")

    code, out = _check(capsys, repo, "--diff")

    assert code == EXIT_FAILED
    assert f"PASS  {repo}: version {NEWEST}\n" in out  # drift, not behind
    assert (
        f"FAIL  {repo}: 2 file(s) differ from the template at {NEWEST}:\n"
        "        missing  app.txt\n"
        "        modified settings.ini\n"
    ) in out
    # A patch that brings back the template's files, named from the repository root.
    assert "diff --git a/app.txt b/app.txt\nnew file mode 100644\n" in out
    assert "--- /dev/null\n+++ b/app.txt\n" in out
    assert "diff --git a/settings.ini b/settings.ini\n" in out
    assert "--- a/settings.ini\n+++ b/settings.ini\n" in out
    assert "-timeout = 25\n+timeout = 15\n" in out

    applied = subprocess.run(["git", "apply", "-"], cwd=repo, input=out.encode(), capture_output=True)
    assert applied.returncode == 0, applied.stderr.decode()
    assert (repo / "app.txt").read_text() == "one\ntwo\n"
    assert (repo / "settings.ini").read_text() == SETTINGS_NEW
    assert _check(capsys, repo)[0] == EXIT_OK


def _binary_drift(template: Path, tmp_path: Path) -> Path:
    """A repository whose binary file and one text file were changed by hand."""
    repo = make_repo(template, tmp_path / "binary", NEWEST)
    (repo / "logo.png").write_bytes(PNG + b"ours")
    (repo / "settings.ini").write_text("[test]\ntimeout = 25\n")
    commit_all(repo, "Our logo, our timeout")
    return repo


def test_a_changed_binary_file_is_drift_with_a_binary_patch(template: Path, tmp_path: Path) -> None:
    repo = _binary_drift(template, tmp_path)

    [report] = check(repo)

    assert report.drift == [("logo.png", FileChange.MODIFIED), ("settings.ini", FileChange.MODIFIED)]
    assert report.diffs["logo.png"].startswith("diff --git a/logo.png b/logo.png\n")
    assert "GIT binary patch\n" in report.diffs["logo.png"]
    for path in ("logo.png", "settings.ini"):
        applied = subprocess.run(
            ["git", "apply", "-"], cwd=repo, input=report.diffs[path].encode(), check=False
        )
        assert applied.returncode == 0, path
    assert (repo / "logo.png").read_bytes() == LOGO_NEW
    assert (repo / "settings.ini").read_text() == SETTINGS_NEW
    assert check(repo)[0].ok


def test_the_printed_diff_of_a_binary_drift_applies(template: Path, tmp_path: Path, capsys) -> None:
    repo = _binary_drift(template, tmp_path)

    code, out = _check(capsys, repo, "--diff")

    assert code == EXIT_FAILED and "GIT binary patch\n" in out
    applied = subprocess.run(["git", "apply", "-"], cwd=repo, input=out.encode(), capture_output=True)
    assert applied.returncode == 0, applied.stderr
    assert (repo / "logo.png").read_bytes() == LOGO_NEW
    assert (repo / "settings.ini").read_text() == SETTINGS_NEW


def test_drift_patches_of_a_subproject_are_named_from_the_repository_root(
    template: Path, tmp_path: Path
) -> None:
    outer = tmp_path / "outer"
    inner = make_repo(template, outer / "sub", NEWEST)
    shutil.rmtree(inner / ".git")
    git(outer, "-c", "init.defaultBranch=main", "init", "--quiet")
    (inner / "settings.ini").write_text("[test]\ntimeout = 25\n")
    commit_all(outer, "A subproject in a folder, edited")

    [report] = check(outer)

    assert report.drift == [("settings.ini", FileChange.MODIFIED)]
    assert report.diffs["settings.ini"].startswith("diff --git a/sub/settings.ini b/sub/settings.ini\n")


def test_project_owned_files_are_not_drift(template: Path, tmp_path: Path) -> None:
    """The template's ``_skip_if_exists`` and the patterns of ``.naavre-scaffold.yml``; a file of the
    project's own that the template does not have."""
    edits = {"README.md": "# Our service\n", "settings.ini": "[test]\ntimeout = 25\n", "extra.txt": "ours\n"}
    repo = make_repo(template, tmp_path / "owned", NEWEST, edits)

    [report] = check(repo)

    assert report.drift == [("settings.ini", FileChange.MODIFIED)]  # README.md is the project's

    (repo / ".naavre-scaffold.yml").write_text("project_owned:\n  - '*.ini'\n")
    commit_all(repo, "settings.ini is ours")
    [report] = check(repo)

    assert (report.drift, report.ok) == ([], True)


def test_excluded_files_are_neither_rendered_nor_missing(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "excluded", NEWEST, {"settings.ini": None})  # type: ignore[dict-item]

    [report] = check(repo)

    assert report.drift == [("settings.ini", FileChange.MISSING)]

    (repo / ".naavre-scaffold.yml").write_text("exclude:\n  - settings.ini\n")
    commit_all(repo, "settings.ini is not ours to have")
    [report] = check(repo)

    assert (report.drift, report.ok) == ([], True)


def test_project_owned_files_are_left_out_of_the_changes(template: Path, tmp_path: Path) -> None:
    config = {".naavre-scaffold.yml": "project_owned:\n  - settings.ini\n  - '*.png'\n"}
    repo = make_repo(template, tmp_path / "owned", "v1.0.0", config)

    [report] = check(repo)

    assert report.behind
    assert [(path, str(kind)) for path, kind in report.changes] == [
        ("new.txt", "added"),
        ("old.txt", "removed"),
    ]


def test_a_release_that_changes_only_project_owned_files_is_not_behind(
    template: Path, tmp_path: Path
) -> None:
    """From v1.1.0 on, a new release changing only README.md leaves the repository current."""
    (template / "project/README.md").write_text("# tiny, as v1.2.0 has it\n")
    commit_all(template, "Template v1.2.0")
    git(template, "tag", "v1.2.0")
    repo = make_repo(template, tmp_path / "current", NEWEST, {"README.md": "# Our service\n"})

    [report] = check(repo)

    assert (report.newest, report.behind, report.ok) == ("v1.2.0", False, True)
    assert report.version_note == "v1.2.0 changes nothing here"


@pytest.mark.parametrize(("text", "rule"), BROKEN_PROJECT_CONFIGS)
def test_a_broken_project_config_is_the_repositorys_problem(
    template: Path, tmp_path: Path, capsys, text: str, rule: str
) -> None:
    repo = make_repo(template, tmp_path / "config", NEWEST, {".naavre-scaffold.yml": text})
    named = f"{repo}/.naavre-scaffold.yml: "

    code = main(["check", str(repo), "--json", "-"])
    captured = capsys.readouterr()

    assert code == EXIT_FAILED, captured.err  # not 3: the template is fine
    [entry] = json.loads(captured.out)["repos"]
    assert (entry["error"], entry["error_kind"]) == (named + rule, "repository")
    fails = [line for line in captured.err.splitlines() if line.startswith("FAIL")]
    assert fails == [f"FAIL  {repo}: {named}{rule}"]
    assert "Traceback" not in captured.err


def test_a_vcs_ref_only_one_template_source_has_fails_only_the_others(
    template: Path, tmp_path: Path, capsys
) -> None:
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "--quiet", str(template), str(fork))
    git(fork, "branch", "fork-only", "v1.0.0")
    fleet = tmp_path / "fleet"
    plain = make_repo(template, fleet / "plain", NEWEST)
    forked = make_repo(fork, fleet / "forked", NEWEST)

    code = main(["check", str(fleet), "--vcs-ref", "fork-only", "--json", "-"])
    captured = capsys.readouterr()

    assert code == EXIT_FAILED, captured.err  # per repository, as update: not a usage error (2)
    entries = {Path(entry["path"]).name: entry for entry in json.loads(captured.out)["repos"]}
    # Checked against the fork's branch, older than its recorded version.
    assert (entries[forked.name]["error"], entries[forked.name]["newest"]) == (None, "fork-only")
    assert entries[forked.name]["version_note"] == "the same as or newer than fork-only: nothing to update to"
    assert (entries[plain.name]["error"], entries[plain.name]["error_kind"]) == (
        f"the template {template} has no ref fork-only",
        "repository",
    )

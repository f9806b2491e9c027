"""The mechanics of ``update`` on a tiny template: what arrives, what stays, what is refused.

Each test builds its own template of a few files with three releases
(``helpers.build_template``): v1.1.0 changes a text file at its end, changes a
setting, deletes a file, adds one and changes a binary one; v1.1.1 changes only a
file outside the rendered folder, so it renders exactly like v1.1.0. The real
template is for the end-to-end tests (``test_update.py``) and the differential
ones (``test_update_differential.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from naavre_scaffold import Options, update
from naavre_scaffold.cli import main
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from naavre_scaffold.fleet.update import Verdict
from naavre_scaffold.git import git
from tests.helpers import (
    BROKEN_PROJECT_CONFIGS,
    PNG,
    TINY_COPIER_YML,
    build_template,
    has_conflict_markers_in_history,
    make_repo,
    snapshot,
    tree,
)

NEWEST = "v1.1.1"
APP = "".join(f"line {n}\n" for n in range(1, 9))
APP_NEW = APP.replace("line 8\n", "line 8, as v1.1.0 has it\n")
OURS = APP.replace("line 1\n", "line 1, as the project has it\n")  # far from the template's change
SETTINGS = "[test]\ntimeout = 20\n"
SETTINGS_NEW = "[test]\ntimeout = 15\n"
SETTINGS_OURS = "[test]\ntimeout = 25\n"  # the line the template changes: a conflict
LOGO_NEW = PNG + b"as v1.1.0 has it"
VERSIONS: dict[str, dict[str, str | bytes | None]] = {
    "v1.0.0": {"app.txt": APP, "settings.ini": SETTINGS, "old.txt": "to be removed\n", "logo.png": PNG},
    "v1.1.0": {
        "app.txt": APP_NEW,
        "settings.ini": SETTINGS_NEW,
        "old.txt": None,
        "new.txt": "added by v1.1.0\n",
        "logo.png": LOGO_NEW,
    },
    "v1.1.1": {"../CHANGELOG.md": "v1.1.1: nothing that renders\n"},
}
# What updating a repository left as v1.0.0 made it changes.
UPDATED_FILES = [".copier-answers.yml", "app.txt", "logo.png", "new.txt", "old.txt", "settings.ini"]
SKIPPING_README = TINY_COPIER_YML + "_skip_if_exists:\n  - README.md\n"  # the project's file once made


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return build_template(tmp_path / "template", VERSIONS)


def _commit(repo: Path) -> str:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"]


def _report(tmp_path: Path, *args: str) -> tuple[int, dict[str, dict]]:
    """Run ``update --json`` and return the exit code and the JSON rows by folder name."""
    report = tmp_path / "report.json"
    code = main(["update", *args, "--json", str(report)])
    rows = json.loads(report.read_text())["repos"]
    return code, {Path(row["path"]).name: row for row in rows}


def _conflicting(template: Path, tmp_path: Path) -> Path:
    """A repository that changed the very line v1.1.0 changes."""
    return make_repo(template, tmp_path / "clash", "v1.0.0", {"settings.ini": SETTINGS_OURS})


def test_template_changes_arrive_and_the_projects_work_stays(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {"app.txt": OURS, "notes.md": "our notes\n"})
    head = git(repo, "rev-parse", "HEAD")

    code, rows = _report(tmp_path, str(repo))

    assert code == EXIT_OK
    row = rows["repo"]
    assert (row["verdict"], row["from_version"], row["to_version"]) == ("updated", "v1.0.0", NEWEST)
    assert row["files"] == UPDATED_FILES
    # Each kind of template change arrived: a text change, a new file, a removed one, a binary one ...
    assert (repo / "settings.ini").read_text() == SETTINGS_NEW
    assert (repo / "new.txt").read_text() == "added by v1.1.0\n"
    assert not (repo / "old.txt").exists()
    assert (repo / "logo.png").read_bytes() == LOGO_NEW
    assert _commit(repo) == NEWEST
    # ... merged with the project's own line in the same file, and its own file is kept.
    assert (repo / "app.txt").read_text() == OURS.replace("line 8\n", "line 8, as v1.1.0 has it\n")
    assert (repo / "notes.md").read_text() == "our notes\n"
    # Nothing committed for the person, and no conflict anywhere.
    assert git(repo, "rev-parse", "HEAD") == head
    assert "<<<<<<<" not in git(repo, "diff")
    assert git(repo, "status", "--porcelain", "--", "old.txt") == " D old.txt"


def test_a_conflict_is_refused_and_leaves_the_repository_byte_for_byte_unchanged(
    template: Path, tmp_path: Path
) -> None:
    repo = _conflicting(template, tmp_path)
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == EXIT_FAILED
    row = rows["clash"]
    assert (row["verdict"], row["files"]) == ("conflict", ["settings.ini"])
    assert row["message"] == "left untouched; rerun on this repository alone with --keep-conflicts to resolve"
    assert snapshot(repo) == before  # the other files of the update did not arrive either
    assert not has_conflict_markers_in_history(repo)


def test_keep_conflicts_leaves_markers_for_a_person_and_the_rest_of_the_update(
    template: Path, tmp_path: Path
) -> None:
    repo = _conflicting(template, tmp_path)
    head = git(repo, "rev-parse", "HEAD")

    code, rows = _report(tmp_path, str(repo), "--keep-conflicts")

    assert code == EXIT_FAILED
    assert (rows["clash"]["verdict"], rows["clash"]["files"]) == ("conflict", ["settings.ini"])
    assert (repo / "settings.ini").read_text() == (
        "[test]\n<<<<<<< before updating\ntimeout = 25\n=======\ntimeout = 15\n>>>>>>> after updating\n"
    )
    assert git(repo, "ls-files", "--unmerged", "--", "settings.ini") != ""  # as Copier records it
    assert (repo / "app.txt").read_text() == APP_NEW
    assert (repo / "new.txt").is_file() and not (repo / "old.txt").exists()
    assert _commit(repo) == NEWEST
    assert git(repo, "rev-parse", "HEAD") == head
    assert not has_conflict_markers_in_history(repo)


def test_keep_conflicts_needs_a_single_repository(template: Path, tmp_path: Path, capsys) -> None:
    one = make_repo(template, tmp_path / "one", "v1.0.0")
    two = make_repo(template, tmp_path / "two", "v1.0.0")
    before = [snapshot(one), snapshot(two)]

    assert main(["update", str(one), str(two), "--keep-conflicts"]) == EXIT_USAGE

    assert "--keep-conflicts: works on a single repository" in capsys.readouterr().err
    assert [snapshot(one), snapshot(two)] == before


def test_a_binary_file_only_the_project_changed_is_kept(template: Path, tmp_path: Path) -> None:
    """Copier's diff cannot carry a binary change: it would put the template's logo back."""
    repo = make_repo(template, tmp_path / "repo", "v1.1.0", {"logo.png": PNG + b"ours"})

    [outcome] = update([repo], Options(), jobs=1)

    assert (outcome.verdict, outcome.files) == (Verdict.UPDATED, [".copier-answers.yml"])
    assert (repo / "logo.png").read_bytes() == PNG + b"ours"


def test_a_binary_file_both_changed_is_a_conflict(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {"logo.png": PNG + b"ours"})
    before = snapshot(repo)

    [outcome] = update([repo], Options(), jobs=1)

    assert (outcome.verdict, outcome.files) == (Verdict.CONFLICT, ["logo.png"])
    assert outcome.message.startswith("the new template changes logo.png, which this repository changed")
    assert snapshot(repo) == before


def test_project_owned_files_and_patterns_are_left_as_the_project_has_them(tmp_path: Path) -> None:
    """The template's ``_skip_if_exists`` and the project's ``.naavre-scaffold.yml`` patterns."""
    versions: dict[str, dict[str, str | bytes | None]] = {
        "v1.0.0": {"README.md": "# tiny\n", "settings.ini": SETTINGS, "app.txt": APP},
        "v1.1.0": {"README.md": "# tiny, v1.1.0\n", "settings.ini": SETTINGS_NEW, "app.txt": APP_NEW},
    }
    template = build_template(tmp_path / "template", versions, SKIPPING_README)
    owned = {"README.md": "# Our service\n", "settings.ini": SETTINGS_OURS}
    config = {".naavre-scaffold.yml": "project_owned:\n  - '*.ini'\n"}
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {**owned, **config})
    plain = make_repo(template, tmp_path / "plain", "v1.0.0", owned)

    outcomes = {Path(o.path).name: o for o in update([repo, plain], Options(), jobs=1)}

    assert (outcomes["repo"].verdict, outcomes["repo"].files) == (
        Verdict.UPDATED,
        [".copier-answers.yml", "app.txt"],
    )
    assert (repo / "README.md").read_text() == "# Our service\n"
    assert (repo / "settings.ini").read_text() == SETTINGS_OURS
    assert (repo / "app.txt").read_text() == APP_NEW
    # Without the pattern the same edit is a conflict; README.md is the project's either way.
    assert (outcomes["plain"].verdict, outcomes["plain"].files) == (Verdict.CONFLICT, ["settings.ini"])


def test_excluded_paths_are_never_written(tmp_path: Path) -> None:
    """``exclude`` in ``.naavre-scaffold.yml`` (what adopt writes): Copier's exclude, per repository."""
    versions: dict[str, dict[str, str | bytes | None]] = {
        "v1.0.0": {"README.md": "# tiny\n", "app.txt": APP},
        "v1.1.0": {"README.md": "# tiny\n", "app.txt": APP_NEW, "lib/helper.txt": "new\n"},
    }
    template = build_template(tmp_path / "template", versions)
    config = {".naavre-scaffold.yml": "exclude:\n  - app.txt\n  - lib/*\n"}
    repo = make_repo(template, tmp_path / "repo", "v1.0.0", {"app.txt": None, **config})  # type: ignore[dict-item]
    plain = make_repo(template, tmp_path / "plain", "v1.0.0", {"app.txt": None})  # type: ignore[dict-item]

    outcomes = {Path(o.path).name: o for o in update([repo, plain], Options(), jobs=1)}

    assert (outcomes["repo"].verdict, outcomes["repo"].files) == (Verdict.UPDATED, [".copier-answers.yml"])
    assert not (repo / "app.txt").exists() and not (repo / "lib").exists()
    # Without it, Copier's rules: the deleted file stays deleted, the new one arrives.
    assert outcomes["plain"].verdict == Verdict.UPDATED
    assert not (plain / "app.txt").exists() and (plain / "lib" / "helper.txt").read_text() == "new\n"


def test_a_dirty_repository_is_refused_and_untouched(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "dirty", "v1.0.0")
    (repo / "app.txt").write_text(APP + "work in progress\n")
    (repo / "scratch.txt").write_text("not committed yet\n")
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == EXIT_FAILED
    assert rows["dirty"]["verdict"] == "refused"
    assert "uncommitted changes" in rows["dirty"]["message"]
    assert snapshot(repo) == before


def test_a_broken_answers_file_fails_naming_the_file(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "broken", "v1.0.0", {".copier-answers.yml": "_commit: [v1.0.0\n"})
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == EXIT_FAILED
    assert rows["broken"]["verdict"] == "failed"
    assert str(repo / ".copier-answers.yml") in rows["broken"]["message"]
    assert snapshot(repo) == before


@pytest.mark.parametrize(("text", "rule"), BROKEN_PROJECT_CONFIGS)
def test_a_broken_project_config_fails_the_repository(
    template: Path, tmp_path: Path, text: str, rule: str
) -> None:
    repo = make_repo(template, tmp_path / "config", "v1.0.0", {".naavre-scaffold.yml": text})
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == EXIT_FAILED
    # Named as update names the repositories it resolved; not "copier update failed".
    named = f"{repo.resolve()}/.naavre-scaffold.yml: "
    assert (rows["config"]["verdict"], rows["config"]["message"]) == ("failed", named + rule)
    assert snapshot(repo) == before


def test_a_release_that_renders_the_same_records_the_new_version(template: Path, tmp_path: Path) -> None:
    """As Copier: the answers file moves to the new version, so that check calls it current."""
    repo = make_repo(template, tmp_path / "current", "v1.1.0")

    code, rows = _report(tmp_path, str(repo))

    assert code == EXIT_OK
    assert (rows["current"]["verdict"], rows["current"]["files"]) == ("updated", [".copier-answers.yml"])
    assert _commit(repo) == NEWEST
    assert git(repo, "status", "--porcelain") == " M .copier-answers.yml"


def test_a_repository_on_the_newest_version_is_up_to_date(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "newest", NEWEST)
    before = snapshot(repo)

    [outcome] = update([repo], Options(), jobs=1)

    assert (outcome.verdict, outcome.message) == (Verdict.UP_TO_DATE, f"already on {NEWEST}")
    assert snapshot(repo) == before


def test_a_dry_run_writes_nothing_and_its_patch_gives_the_update(template: Path, tmp_path: Path) -> None:
    # The project's attributes make git call settings.ini binary: the patch must carry it all the same.
    repo = make_repo(
        template, tmp_path / "dry", "v1.0.0", {".gitattributes": "*.ini -diff\n", "app.txt": OURS}
    )
    reference = tmp_path / "reference"
    shutil.copytree(repo, reference, symlinks=True)
    assert update([reference], Options(), jobs=1)[0].verdict == Verdict.UPDATED
    before = snapshot(repo)

    [outcome] = update([repo], Options(dry_run=True), jobs=1)

    assert outcome.verdict == Verdict.UPDATED
    assert outcome.message.startswith("dry run: nothing was written")
    assert outcome.files == UPDATED_FILES
    assert snapshot(repo) == before
    patch = tmp_path / "update.patch"
    patch.write_text(outcome.patch)
    git(repo, "apply", str(patch))
    assert tree(repo) == tree(reference)  # the very files of a real update, binary ones included


def test_commit_makes_a_branch_and_leaves_the_current_one(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "commit", "v1.0.0", {"app.txt": OURS})
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo), "--commit")

    assert code == EXIT_OK
    branch = f"template-update/{NEWEST}"
    assert rows["commit"]["branch"] == branch
    after = snapshot(repo)
    kept = ("head", "branch", "index", "files")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert git(repo, "rev-parse", f"{branch}^") == before["head"]
    title, _, body = git(repo, "log", "-1", "--format=%B", branch).partition("\n\n")
    assert title == f"Update the naavre-scaffold template from v1.0.0 to {NEWEST}"
    changes = [line for line in body.splitlines() if line.startswith("- Template v")]
    assert [line.split(" (")[0] for line in changes] == ["- Template v1.1.0", "- Template v1.1.1"]
    for line in UPDATED_FILES:
        assert f"- {line}\n" in body
    changed = git(repo, "diff", "--name-only", "HEAD", branch).splitlines()
    assert sorted(changed) == UPDATED_FILES
    assert git(repo, "show", f"{branch}:app.txt") + "\n" == OURS.replace(
        "line 8\n", "line 8, as v1.1.0 has it\n"
    )
    assert git(repo, "show", f"{branch}:settings.ini") + "\n" == SETTINGS_NEW


def test_an_unknown_template_version_fails_and_touches_nothing(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "unknown", "v1.0.0")
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo), "--vcs-ref", "v9.9.9")

    assert code == EXIT_FAILED
    assert rows["unknown"]["verdict"] == "failed"
    assert rows["unknown"]["message"] == f"the template {template} has no ref v9.9.9"
    assert snapshot(repo) == before


def test_a_vcs_ref_only_one_template_source_has_fails_only_the_others(template: Path, tmp_path: Path) -> None:
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "--quiet", str(template), str(fork))
    git(fork, "branch", "fork-only", "v1.1.0")
    fleet = tmp_path / "fleet"
    plain = make_repo(template, fleet / "plain", "v1.0.0")
    forked = make_repo(fork, fleet / "forked", "v1.0.0")
    before = snapshot(plain)

    code, rows = _report(tmp_path, str(fleet), "--vcs-ref", "fork-only")

    assert code == EXIT_FAILED
    assert (rows["forked"]["verdict"], rows["forked"]["to_version"]) == ("updated", "fork-only")
    assert (forked / "settings.ini").read_text() == SETTINGS_NEW
    assert (rows["plain"]["verdict"], rows["plain"]["message"]) == (
        "failed",
        f"the template {template} has no ref fork-only",
    )
    assert snapshot(plain) == before

"""``naavre-scaffold update``: the update path, conflicts, refusals, commits, pushes and pull requests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.fleet.update import Options, update
from naavre_scaffold.git import git
from tests.conftest import CURRENT_TIMEOUT, EXCLUDE_LINE, OLD_TIMEOUT
from tests.helpers import commit_all, has_conflict_markers_in_history, replace_in, snapshot

NEWEST = "v1.1.1"


def _answers(repo: Path) -> dict:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def _report(tmp_path: Path, *args: str) -> tuple[int, dict[str, dict]]:
    """Run `update --json` and return the exit code and the JSON rows by repo folder name."""
    report = tmp_path / "report.json"
    code = main(["update", *args, "--json", str(report)])
    rows = json.loads(report.read_text())["repos"]
    return code, {Path(row["path"]).name: row for row in rows}


def _edit_locally(repo: Path) -> None:
    """A project's own work: a new module, and a line in a template file the update leaves alone."""
    (repo / "app/routes/extra.py").write_text('"""Our own router."""\n')
    auth = repo / "app/auth.py"
    auth.write_text("# Reviewed by the data-quality team.\n" + auth.read_text())
    commit_all(repo, "Our own work")


def test_update_path_keeps_local_work_and_brings_template_changes(make_service, tmp_path: Path) -> None:
    repo = make_service("qc")
    assert EXCLUDE_LINE not in (repo / ".flake8").read_text()
    _edit_locally(repo)
    head = git(repo, "rev-parse", "HEAD")

    code, rows = _report(tmp_path, str(repo))

    assert code == 0
    row = rows["NaaVRE-qc-service"]
    assert (row["verdict"], row["from_version"], row["to_version"]) == ("updated", "v1.0.0", NEWEST)
    assert set(row["files"]) == {
        ".copier-answers.yml",
        ".flake8",
        ".dockerignore",
        ".github/workflows/ci.yml",
    }
    # The new template content arrived ...
    assert EXCLUDE_LINE in (repo / ".flake8").read_text()
    assert (repo / ".dockerignore").is_file()
    assert CURRENT_TIMEOUT in (repo / ".github/workflows/ci.yml").read_text()
    assert _answers(repo)["_commit"] == NEWEST
    # ... and the local work survived, with nothing committed for the person.
    assert (repo / "app/auth.py").read_text().startswith("# Reviewed by the data-quality team.\n")
    assert (repo / "app/routes/extra.py").is_file()
    assert git(repo, "rev-parse", "HEAD") == head
    assert "<<<<<<<" not in git(repo, "diff")


def _conflicting_repo(make_service) -> Path:
    repo = make_service("clash")
    workflow = repo / ".github/workflows/ci.yml"
    replace_in(workflow, OLD_TIMEOUT, OLD_TIMEOUT.replace("20", "25"))
    commit_all(repo, "Our tests need more time")
    return repo


def test_conflict_leaves_the_repo_byte_for_byte_unchanged(make_service, tmp_path: Path) -> None:
    repo = _conflicting_repo(make_service)
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == 1
    row = rows["NaaVRE-clash-service"]
    assert row["verdict"] == "conflict"
    assert row["files"] == [".github/workflows/ci.yml"]
    assert snapshot(repo) == before
    assert not has_conflict_markers_in_history(repo)


def test_keep_conflicts_leaves_markers_for_a_person(make_service, tmp_path: Path) -> None:
    repo = _conflicting_repo(make_service)
    head = git(repo, "rev-parse", "HEAD")

    code, rows = _report(tmp_path, str(repo), "--keep-conflicts")

    assert code == 1
    assert rows["NaaVRE-clash-service"]["verdict"] == "conflict"
    workflow = (repo / ".github/workflows/ci.yml").read_text()
    assert "<<<<<<< before updating" in workflow and ">>>>>>> after updating" in workflow
    assert git(repo, "rev-parse", "HEAD") == head
    assert not has_conflict_markers_in_history(repo)


def test_keep_conflicts_needs_a_single_repository(make_service, capsys) -> None:
    one, two = make_service("one"), make_service("two")
    assert main(["update", str(one), str(two), "--keep-conflicts"]) == 2
    assert "--keep-conflicts: works on a single repository" in capsys.readouterr().err


def test_dirty_repo_is_refused_and_untouched(make_service, tmp_path: Path) -> None:
    repo = make_service("dirty")
    (repo / "app/auth.py").write_text((repo / "app/auth.py").read_text() + "# work in progress\n")
    (repo / "notes.txt").write_text("not committed yet")
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == 1
    row = rows["NaaVRE-dirty-service"]
    assert row["verdict"] == "refused"
    assert "uncommitted changes" in row["message"]
    assert snapshot(repo) == before


def test_broken_answers_file_fails_naming_the_file(make_service, tmp_path: Path) -> None:
    repo = make_service("broken")
    (repo / ".copier-answers.yml").write_text("_commit: [v1.0.0\n")
    commit_all(repo, "Break the answers")
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo))

    assert code == 1
    row = rows["NaaVRE-broken-service"]
    assert row["verdict"] == "failed"
    assert str(repo / ".copier-answers.yml") in row["message"]
    assert snapshot(repo) == before


def test_release_that_changes_nothing_else_records_the_new_version(make_service, tmp_path: Path) -> None:
    """As Copier: the answers file moves to the new version, so that check calls it current."""
    repo = make_service("current", version="v1.1.0")

    code, rows = _report(tmp_path, str(repo))

    assert code == 0
    row = rows["NaaVRE-current-service"]
    assert (row["verdict"], row["files"]) == ("updated", [".copier-answers.yml"])
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == NEWEST


def test_dry_run_writes_nothing(make_service, tmp_path: Path) -> None:
    repo = make_service("dry")
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo), "--dry-run")

    assert code == 0
    assert rows["NaaVRE-dry-service"]["verdict"] == "updated"
    assert rows["NaaVRE-dry-service"]["message"].startswith("dry run: nothing was written")
    assert snapshot(repo) == before


def test_dry_run_patch_applies_and_gives_the_update(make_service, tmp_path: Path) -> None:
    repo = make_service("patch")
    before = snapshot(repo)

    (outcome,) = update([repo], Options(dry_run=True))

    assert snapshot(repo) == before
    patch = tmp_path / "update.patch"
    patch.write_text(outcome.patch)
    git(repo, "apply", "--check", str(patch))
    git(repo, "apply", str(patch))
    assert _answers(repo)["_commit"] == NEWEST
    assert EXCLUDE_LINE in (repo / ".flake8").read_text()
    assert (repo / ".dockerignore").is_file()


def test_commit_makes_a_branch_and_leaves_the_current_one(make_service, tmp_path: Path) -> None:
    repo = make_service("commit")
    _edit_locally(repo)
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo), "--commit")

    assert code == 0
    branch = f"template-update/{NEWEST}"
    assert rows["NaaVRE-commit-service"]["branch"] == branch
    after = snapshot(repo)
    assert {k: after[k] for k in ("head", "branch", "index", "files")} == {
        k: before[k] for k in ("head", "branch", "index", "files")
    }
    assert git(repo, "rev-parse", f"{branch}^") == before["head"]
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert message.startswith(f"Update the naavre-scaffold template from v1.0.0 to {NEWEST}\n")
    assert "- Exclude caches from flake8 and the image; shorter test timeout" in message
    changed = git(repo, "diff", "--name-only", "HEAD", branch).splitlines()
    assert sorted(changed) == [".copier-answers.yml", ".dockerignore", ".flake8", ".github/workflows/ci.yml"]
    assert EXCLUDE_LINE in git(repo, "show", f"{branch}:.flake8") + "\n"


def test_unknown_template_version_fails_and_touches_nothing(make_service, tmp_path: Path) -> None:
    repo = make_service("unknown")
    before = snapshot(repo)

    code, rows = _report(tmp_path, str(repo), "--vcs-ref", "v9.9.9")

    assert code == 1
    row = rows["NaaVRE-unknown-service"]
    assert row["verdict"] == "failed"
    assert row["message"].endswith("has no ref v9.9.9")
    assert snapshot(repo) == before

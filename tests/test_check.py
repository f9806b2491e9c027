"""``naavre-scaffold check``: version and drift, for the CI of a generated repository."""

from __future__ import annotations

from pathlib import Path

from naavre_scaffold.cli import main
from tests.helpers import commit_all


def _check(capsys, repo: Path, *options: str) -> tuple[int, str]:
    code = main(["check", str(repo), *options])
    return code, capsys.readouterr().out


def test_current_and_clean_passes(make_service, capsys) -> None:
    repo = make_service("fresh", version="v1.1.1")
    code, out = _check(capsys, repo)
    assert code == 0, out
    assert f"PASS  {repo}: version v1.1.1\n" in out
    assert f"PASS  {repo}: no drift from the template at v1.1.1" in out


def test_release_that_changes_nothing_still_passes(make_service, capsys) -> None:
    repo = make_service("fresh", version="v1.1.0")
    code, out = _check(capsys, repo)
    assert code == 0, out
    assert "version v1.1.0 (v1.1.1 changes nothing here)" in out


def test_behind_fails(make_service, capsys) -> None:
    repo = make_service("old", version="v1.0.0")
    code, out = _check(capsys, repo)
    assert code == 1
    assert f"FAIL  {repo}: version v1.0.0 is behind the newest template v1.1.1" in out
    assert "no drift" in out


def test_hand_edit_of_a_template_file_is_drift(make_service, capsys) -> None:
    repo = make_service("edited", version="v1.1.1")
    flake8 = repo / ".flake8"
    flake8.write_text(flake8.read_text().replace("120", "79"))
    (repo / ".dockerignore").unlink()
    commit_all(repo, "Hand edits")

    code, out = _check(capsys, repo, "--diff")

    assert code == 1
    assert f"FAIL  {repo}: 2 file(s) differ from the template at v1.1.1:" in out
    assert "        missing  .dockerignore" in out
    assert "        modified .flake8" in out
    # A patch that brings back the template's files, named from the repository root.
    assert "diff --git a/.flake8 b/.flake8\n" in out
    assert "--- a/.flake8\n+++ b/.flake8\n" in out
    assert "-max-line-length = 79\n+max-line-length = 120\n" in out
    assert "diff --git a/.dockerignore b/.dockerignore\nnew file mode 100644\n" in out
    assert "--- /dev/null\n+++ b/.dockerignore\n" in out


def test_project_owned_files_are_not_drift(make_service, capsys) -> None:
    repo = make_service("owned", version="v1.1.1")
    (repo / "README.md").write_text("# Our service\n")  # the template leaves README.md to the project
    (repo / "app/routes/extra.py").write_text('"""Our own router."""\n')  # not a template file
    workflow = repo / ".github/workflows/ci.yml"
    workflow.write_text(workflow.read_text() + "# our own note\n")
    (repo / ".naavre-scaffold.yml").write_text("project_owned:\n  - .github/workflows/ci.yml\n")
    commit_all(repo, "Our own files")

    code, out = _check(capsys, repo)

    assert code == 0, out
    assert "no drift" in out


def test_no_answers_file_fails(tmp_path: Path, capsys) -> None:
    code, out = _check(capsys, tmp_path)
    assert code == 1
    assert "no .copier-answers*.yml of a naavre-scaffold template found" in out

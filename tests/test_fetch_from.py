"""``check`` and ``update`` with ``--template-source``: a template fetched in place of the recorded
``_src_path`` (a local clone, offline), which stays recorded; the exit codes they share."""

from __future__ import annotations

from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.helpers import build_template, commit_all

UNREACHABLE = "https://example.invalid/naavre-scaffold.git"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository made from a template whose recorded source cannot be reached from here."""
    template = build_template(
        tmp_path / "template", {"v1.0.0": {"a.txt": "a\n"}, "v1.1.0": {"a.txt": "a2\n"}}
    )
    repo = tmp_path / "repo"
    copier.run_copy(str(template), repo, vcs_ref="v1.0.0", defaults=True, quiet=True)
    answers = repo / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(str(template), UNREACHABLE))
    git(repo, "-c", "init.defaultBranch=main", "init", "--quiet")
    commit_all(repo, "Made from the template")
    return repo


def _recorded(repo: Path) -> dict[str, str]:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def test_update_fetches_from_the_template_source_and_keeps_the_recorded_one(
    repo: Path, tmp_path: Path
) -> None:
    code = main(["update", str(repo), "--template-source", str(tmp_path / "template"), "-q"])

    assert code == 0
    assert (repo / "a.txt").read_text() == "a2\n"
    assert _recorded(repo)["_src_path"] == UNREACHABLE
    assert _recorded(repo)["_commit"] == "v1.1.0"


def test_check_fetches_from_the_template_source(repo: Path, tmp_path: Path, capsys) -> None:
    code = main(["check", str(repo), "--template-source", str(tmp_path / "template")])

    assert code == 1  # behind v1.1.0
    assert "behind the newest template v1.1.0" in capsys.readouterr().out


def test_an_unreachable_template_is_exit_3_in_check_and_in_update(repo: Path) -> None:
    assert main(["check", str(repo), "-q"]) == 3
    assert main(["update", str(repo), "-q"]) == 3
    assert git(repo, "status", "--porcelain") == ""


def test_a_template_source_that_does_not_exist_is_a_usage_error(repo: Path, tmp_path: Path, capsys) -> None:
    for command in ("check", "update"):
        assert main([command, str(repo), "--template-source", str(tmp_path / "nowhere")]) == 2
        assert "--template-source:" in capsys.readouterr().err


def test_check_takes_many_paths_and_counts_a_folder_without_answers_as_failed(
    repo: Path, tmp_path: Path, capsys
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    code = main(["check", str(repo), str(empty), "--template-source", str(tmp_path / "template")])

    out = capsys.readouterr().out
    assert code == 1
    assert f"FAIL  {empty}: no .copier-answers*.yml" in out
    assert out.splitlines()[-1] == "0 current, 1 behind, 0 drifted, 1 failed"

"""One error hierarchy, and whose problem each failure is: the same answer from `check` and `update`."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from naavre_scaffold import errors
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.helpers import commit_all, snapshot

PACKAGE = Path(errors.__file__).parent
# Exceptions defined elsewhere that never reach a person: each is caught and turned into a
# report, or into one of errors.py's, where it is raised.
INTERNAL = {
    "fleet/check.py": {"_CannotCheck"},  # a CheckReport's error and Problem
    "fleet/github.py": {"_Retryable"},  # a GitHubError, retried once
    "registration/yaml_text.py": {"LayoutError"},  # plan.edit: a ScaffoldError naming the file
    "registration/edits.py": {"AlreadyThere"},  # plan.edit: AlreadyRegistered
}


def _exception_classes(path: Path) -> set[str]:
    """Classes defined in ``path`` whose bases are exceptions (by name: ...Error, Exception, or ours)."""
    ours = {name for name in errors.__all__ if not name.startswith("EXIT_")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base).split(".")[-1] for base in node.bases}
            if bases & ours or any(b.endswith(("Error", "Exception")) for b in bases):
                found.add(node.name)
    return found


def test_every_error_a_person_meets_is_defined_in_errors_py() -> None:
    defined = {
        path.relative_to(PACKAGE).as_posix(): classes
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "errors.py" and (classes := _exception_classes(path))
    }
    assert defined == INTERNAL


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UsageError", errors.EXIT_USAGE),
        ("RepositoryError", errors.EXIT_FAILED),
        ("RepositoryBusy", errors.EXIT_FAILED),
        ("AlreadyRegistered", errors.EXIT_FAILED),
        ("TemplateSourceError", errors.EXIT_TOOL),
        ("GitError", errors.EXIT_TOOL),
        ("GitHubError", errors.EXIT_TOOL),
        ("ToolMissingError", errors.EXIT_TOOL),
        ("Interrupted", errors.EXIT_INTERRUPTED),
    ],
)
def test_each_error_carries_its_exit_code(name: str, code: int) -> None:
    error = getattr(errors, name, None)
    assert error is not None and issubclass(error, errors.ScaffoldError), f"errors.py has no {name}"
    assert name in errors.__all__
    assert error.exit_code == code


def test_the_old_homes_still_name_the_same_classes() -> None:
    from naavre_scaffold.registration import AlreadyRegistered

    assert AlreadyRegistered is getattr(errors, "AlreadyRegistered", None)


# Each breaks the rule of .naavre-scaffold.yml in its own way, and the message says which.
BROKEN_CONFIGS = [
    ("project_owned: .github/workflows/ci.yml\n", "project_owned must be a list of path patterns (strings)"),
    ("project_owned:\n  - 1\n", "project_owned must be a list of path patterns (strings)"),
    ("- .github/workflows/ci.yml\n", "must be a mapping, with project_owned: a list of path patterns"),
    ("project_owned: [unclosed\n", "cannot be read as YAML (ParserError)"),
]


def _break_config(repo: Path, text: str) -> None:
    (repo / ".naavre-scaffold.yml").write_text(text)
    commit_all(repo, "A broken project config")


@pytest.mark.parametrize(("text", "rule"), BROKEN_CONFIGS)
def test_check_reports_a_broken_project_config_as_the_repositorys_problem(
    make_service, capsys, text: str, rule: str
) -> None:
    repo = make_service("config", version="v1.1.1")
    _break_config(repo, text)
    named = f"{repo}/.naavre-scaffold.yml: "

    code = main(["check", str(repo), "--json", "-"])
    captured = capsys.readouterr()

    assert code == errors.EXIT_FAILED, captured.err  # not 3: the template is fine
    [entry] = json.loads(captured.out)["repos"]
    assert (entry["error"], entry["error_kind"]) == (named + rule, "repository")
    fails = [line for line in captured.err.splitlines() if line.startswith("FAIL")]
    assert fails == [f"FAIL  {repo}: {named}{rule}"]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(("text", "rule"), BROKEN_CONFIGS)
def test_update_fails_a_repository_with_a_broken_project_config(
    make_service, tmp_path: Path, text: str, rule: str
) -> None:
    repo = make_service("config")  # behind: update would change it
    _break_config(repo, text)
    named = f"{repo.resolve()}/.naavre-scaffold.yml: "  # update names the repositories it resolved
    before = snapshot(repo)

    report = tmp_path / "report.json"
    code = main(["update", str(repo), "--json", str(report)])

    assert code == errors.EXIT_FAILED
    [row] = json.loads(report.read_text())["repos"]
    assert (row["verdict"], row["message"]) == ("failed", named + rule)  # not "copier update failed"
    assert snapshot(repo) == before


def _on_a_fork(repo: Path, template: Path, tmp_path: Path) -> None:
    """Point ``repo``'s ``_src_path`` at a clone of ``template`` that has a branch ``fork-only``."""
    fork = tmp_path / "fork"
    if not fork.exists():
        git(tmp_path, "clone", "--quiet", str(template), str(fork))
        git(fork, "branch", "fork-only")
    answers_file = repo / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text())
    answers["_src_path"] = str(fork)
    answers_file.write_text(yaml.safe_dump(answers))
    commit_all(repo, "The template comes from a fork")


def test_check_fails_only_the_repository_whose_template_lacks_the_vcs_ref(
    make_service, template_versions: Path, tmp_path: Path, capsys
) -> None:
    fleet = tmp_path / "fleet"
    plain = make_service("plain", version="v1.1.1", parent=fleet)
    forked = make_service("forked", version="v1.1.1", parent=fleet)
    _on_a_fork(forked, template_versions, tmp_path)

    code = main(["check", str(fleet), "--vcs-ref", "fork-only", "--json", "-"])
    captured = capsys.readouterr()

    assert code == errors.EXIT_FAILED, captured.err  # per repository, as update: not a usage error (2)
    entries = {Path(entry["path"]).name: entry for entry in json.loads(captured.out)["repos"]}
    assert entries[forked.name]["error"] is None  # checked against the fork's branch
    assert entries[plain.name]["error"] == f"the template {template_versions} has no ref fork-only"
    assert entries[plain.name]["error_kind"] == "repository"


def test_update_fails_only_the_repository_whose_template_lacks_the_vcs_ref(
    make_service, template_versions: Path, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet"
    plain = make_service("plain", parent=fleet)
    forked = make_service("forked", parent=fleet)
    _on_a_fork(forked, template_versions, tmp_path)

    report = tmp_path / "report.json"
    code = main(["update", str(fleet), "--vcs-ref", "fork-only", "--json", str(report)])

    assert code == errors.EXIT_FAILED
    rows = {Path(row["path"]).name: row for row in json.loads(report.read_text())["repos"]}
    assert rows[forked.name]["verdict"] == "updated"
    assert (rows[plain.name]["verdict"], rows[plain.name]["message"]) == (
        "failed",
        f"the template {template_versions} has no ref fork-only",
    )

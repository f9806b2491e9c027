"""``naavre-scaffold update`` end to end: a service of the real template, updated through the CLI.

The mechanics (conflicts, --keep-conflicts, refusals, dry runs, commits, deleted and
binary files, project-owned files) are tested on tiny templates in test_update_mechanics.py;
stock Copier's agreement on the real template in test_update_differential.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.conftest import EXCLUDE_LINE
from tests.helpers import commit_all

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
    assert not (repo / ".dockerignore").exists()
    _edit_locally(repo)
    head = git(repo, "rev-parse", "HEAD")

    code, rows = _report(tmp_path, str(repo))

    assert code == 0
    row = rows["NaaVRE-qc-service"]
    assert (row["verdict"], row["from_version"], row["to_version"]) == ("updated", "v1.0.0", NEWEST)
    assert set(row["files"]) == {".copier-answers.yml", ".flake8", ".dockerignore"}
    # The new template content arrived ...
    assert EXCLUDE_LINE in (repo / ".flake8").read_text()
    assert (repo / ".dockerignore").is_file()
    assert _answers(repo)["_commit"] == NEWEST
    # ... and the local work survived, with nothing committed for the person.
    assert (repo / "app/auth.py").read_text().startswith("# Reviewed by the data-quality team.\n")
    assert (repo / "app/routes/extra.py").is_file()
    assert git(repo, "rev-parse", "HEAD") == head
    assert "<<<<<<<" not in git(repo, "diff")

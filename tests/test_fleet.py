"""A fleet updated in one run with --jobs 2: every verdict at once, and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from naavre_scaffold.cli import main
from tests.helpers import commit_all, snapshot


def test_fleet_of_twelve_with_mixed_verdicts(make_service, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    updated = [make_service(f"ok{n}", parent=fleet) for n in range(5)]
    current = [make_service(f"current{n}", version="v1.1.1", parent=fleet) for n in range(2)]
    clash = make_service("clash", parent=fleet)
    (clash / ".dockerignore").write_text("# Our own, before the template had one.\n")  # v1.1.0 adds it
    commit_all(clash, "Our own .dockerignore")
    dirty = make_service("dirty", parent=fleet)
    (dirty / "scratch.txt").write_text("uncommitted")
    broken = make_service("broken", parent=fleet)
    (broken / ".copier-answers.yml").write_text("template: service\n_commit: [\n")
    commit_all(broken, "Break the answers")
    not_git = make_service("nogit", parent=fleet)
    for item in sorted((not_git / ".git").rglob("*"), reverse=True):
        item.unlink() if item.is_file() or item.is_symlink() else item.rmdir()
    (not_git / ".git").rmdir()
    empty = fleet / "no-answers"
    empty.mkdir()
    untouched = {repo: snapshot(repo) for repo in (*current, clash, dirty, broken)}
    report = tmp_path / "fleet.json"

    code = main(["update", *map(str, sorted(fleet.iterdir())), "--jobs", "2", "--json", str(report)])

    assert code == 1
    data = json.loads(report.read_text())
    verdicts = {Path(row["path"]).name: row["verdict"] for row in data["repos"]}
    expected = {repo.name: "updated" for repo in updated}
    expected |= {repo.name: "up-to-date" for repo in current}
    expected |= {clash.name: "conflict", dirty.name: "refused", broken.name: "failed"}
    expected |= {not_git.name: "refused", empty.name: "refused"}
    assert verdicts == expected
    counts = {verdict: n for verdict, n in data["counts"].items() if n}
    assert counts == {"updated": 5, "up-to-date": 2, "conflict": 1, "refused": 3, "failed": 1}
    rows = {Path(row["path"]).name: row for row in data["repos"]}
    assert rows[not_git.name]["message"] == "not in a git repository"
    assert rows[empty.name]["message"] == "no .copier-answers*.yml of a naavre-scaffold template found"
    assert rows["NaaVRE-current0-service"]["message"] == "already on v1.1.1"
    for repo in updated:
        row = rows[repo.name]
        assert (row["from_version"], row["to_version"]) == ("v1.0.0", "v1.1.1")
        assert ".flake8" in row["files"]
        assert "v1.1.1" in (repo / ".copier-answers.yml").read_text()
    for repo, before in untouched.items():
        assert snapshot(repo) == before, f"{repo.name} was touched"

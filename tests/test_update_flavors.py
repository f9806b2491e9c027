"""`update` and `check` on a flavors repository: the repository and each flavor folder are subprojects.

Template versions come from ``template_versions`` (conftest): from v1.0.0 to v1.1.0
the flavor template's tests/tests.sh gets a longer comment and the flavors-repo
template's .gitignore gets `*.orig`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource
from tests.conftest import FLAVOR_TESTS_LINE, FLAVOR_TESTS_OLD_LINE, ORIG_LINE
from tests.helpers import commit_all, has_conflict_markers_in_history, replace_in

NEWEST = "v1.1.1"
FLAVORS = ("vanilla", "ecology", "geo")


@pytest.fixture
def flavors_repo(template_versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A flavors repository at v1.0.0 with vanilla (made with it), ecology and geo, all committed."""
    source = TemplateSource(str(template_versions), "v1.0.0")
    repo = tmp_path / "flavors"
    create("flavors-repo", "flavors", dest=repo, source=source)
    monkeypatch.chdir(repo)
    for name in FLAVORS[1:]:
        create("flavor", name, source=source)
        commit_all(repo, f"Add the {name} flavor")
    return repo


def _rows(tmp_path: Path, *args: str) -> tuple[int, dict[str, dict]]:
    report = tmp_path / "update.json"
    code = main(["update", *args, "--json", str(report)])
    rows = json.loads(report.read_text())["repos"]
    return code, {Path(row["path"]).resolve().name: row for row in rows}


def _tests_sh(repo: Path, flavor: str) -> Path:
    return repo / "flavors" / flavor / "tests/tests.sh"


def test_one_run_updates_the_repository_and_every_flavor(flavors_repo: Path, tmp_path: Path) -> None:
    repo = flavors_repo
    assert FLAVOR_TESTS_OLD_LINE in _tests_sh(repo, "geo").read_text()
    ecology_env = repo / "flavors/ecology/environment.yaml"
    ecology_env.write_text(ecology_env.read_text() + "# pinned by the ecology lab\n")
    tests_sh = _tests_sh(repo, "vanilla")
    tests_sh.write_text(tests_sh.read_text() + "# checked by the vanilla maintainers\n")
    commit_all(repo, "Our own flavor work")

    code, rows = _rows(tmp_path, str(repo))

    assert code == 0, rows
    assert set(rows) == {"flavors", *FLAVORS}
    for row in rows.values():
        assert (row["verdict"], row["from_version"], row["to_version"]) == ("updated", "v1.0.0", NEWEST), row
    assert ORIG_LINE in (repo / ".gitignore").read_text()
    for flavor in FLAVORS:
        assert FLAVOR_TESTS_LINE in _tests_sh(repo, flavor).read_text(), flavor
        answers = yaml.safe_load((repo / "flavors" / flavor / ".copier-answers.yml").read_text())
        assert (answers["_commit"], answers["name"]) == (NEWEST, flavor)
    # Local work stays: a project-owned file and a local line in a template-owned one.
    assert ecology_env.read_text().endswith("# pinned by the ecology lab\n")
    assert tests_sh.read_text().endswith("# checked by the vanilla maintainers\n")
    aliases = yaml.safe_load((repo / "flavors/vanilla/flavor_config.yaml").read_text())["aliases"]
    assert aliases == ["python", "r"]


def test_a_conflict_in_one_flavor_leaves_that_flavor_and_only_it_untouched(
    flavors_repo: Path, tmp_path: Path
) -> None:
    repo = flavors_repo
    replace_in(_tests_sh(repo, "geo"), FLAVOR_TESTS_OLD_LINE, "# fails when one fails (geo wording).\n")
    commit_all(repo, "Our wording")
    geo_before = {p: p.read_bytes() for p in (repo / "flavors/geo").rglob("*") if p.is_file()}

    code, rows = _rows(tmp_path, str(repo))

    assert code == 1
    assert (rows["geo"]["verdict"], rows["geo"]["files"]) == ("conflict", ["flavors/geo/tests/tests.sh"])
    assert {p: p.read_bytes() for p in (repo / "flavors/geo").rglob("*") if p.is_file()} == geo_before
    assert {name: row["verdict"] for name, row in rows.items() if name != "geo"} == dict.fromkeys(
        ("flavors", "vanilla", "ecology"), "updated"
    )
    assert FLAVOR_TESTS_LINE in _tests_sh(repo, "ecology").read_text()
    assert ORIG_LINE in (repo / ".gitignore").read_text()
    assert not has_conflict_markers_in_history(repo)


def test_check_sees_each_flavor_behind(flavors_repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "check.json"
    assert main(["check", str(flavors_repo), "--json", str(report)]) == 1
    rows = {Path(row["path"]).resolve().name: row for row in json.loads(report.read_text())["repos"]}
    assert set(rows) == {"flavors", *FLAVORS}
    assert all(row["behind"] and row["drift"] == [] for row in rows.values()), rows

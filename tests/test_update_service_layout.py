"""A service made before the template machinery left ``app/main.py`` takes the new layout by update.

``app/main.py`` is the project's own, so ``copier update`` never touches it: the
middleware, the start-up checks and the auth fixes that used to live there only reach
an existing repository as new template-owned modules. This test makes a service
from this repository's own template as it was then (a commit of its history), checks
it against the current template, updates it, and runs its tests with its old
``main.py`` still in place.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.errors import GitError
from naavre_scaffold.fleet.check import check
from naavre_scaffold.git import git
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification import python as python_check
from tests.helpers import commit_all

ROOT = Path(__file__).resolve().parent.parent
# The last commit whose service template kept the root-path middleware and the
# start-up checks in the project-owned app/main.py.
BEFORE_THE_MOVE = "fa72b8f"
TEMPLATE_PATHS = ("copier.yml", "templates")


@pytest.fixture
def two_versions(template_git: TemplateSource, tmp_path: Path) -> Path:
    """A template repository: v1.0.0 is the template at BEFORE_THE_MOVE, v2.0.0 this checkout's."""
    try:
        git(ROOT, "cat-file", "-e", f"{BEFORE_THE_MOVE}^{{commit}}")
    except GitError:
        pytest.skip(f"needs commit {BEFORE_THE_MOVE} of this repository's history (a shallow clone lacks it)")
    repo = tmp_path / "template"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "config", "user.name", "Template Maintainer")
    git(repo, "config", "user.email", "maintainer@example.org")
    archive = tmp_path / "before.tar"
    git(ROOT, "archive", "--format=tar", f"--output={archive}", BEFORE_THE_MOVE, *TEMPLATE_PATHS)
    with tarfile.open(archive) as tar:
        tar.extractall(repo, filter="data")
    commit_all(repo, "The template before the move")
    git(repo, "tag", "v1.0.0")
    for name in TEMPLATE_PATHS:
        target = repo / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        source = Path(template_git.path) / name
        shutil.copytree(source, target) if source.is_dir() else shutil.copy2(source, target)
    commit_all(repo, "Template machinery in template-owned modules")
    git(repo, "tag", "v2.0.0")
    return repo


def test_check_lists_the_moved_machinery_and_update_brings_it(
    two_versions: Path, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    source = ["--template-source", str(two_versions)]
    assert main(["new", "service", "early", "--defaults", "-q", *source, "--vcs-ref", "v1.0.0"]) == 0
    repo = tmp_path / "NaaVRE-early-service"
    old_main = (repo / "app" / "main.py").read_text()
    assert "class RootPathMiddleware" in old_main  # made as it was then

    [report] = check(repo)
    assert (report.version, report.newest, report.behind, report.drift) == ("v1.0.0", "v2.0.0", True, [])
    changes = dict(report.changes)
    new_modules = {path for path, kind in changes.items() if kind == "added" and path.startswith("app/")}
    assert new_modules, f"the update adds no template-owned app module: {changes}"
    assert changes.get("app/auth.py") == "modified"
    assert "app/main.py" not in changes  # the project's own
    capsys.readouterr()

    assert main(["update", str(repo), "--commit"]) == 0
    assert "updated" in capsys.readouterr().out
    git(repo, "checkout", "--quiet", "template-update/v2.0.0")
    assert not list(repo.rglob("*.rej"))
    assert (repo / "app" / "main.py").read_text() == old_main
    for path in new_modules:
        assert (repo / path).is_file()
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == "v2.0.0"
    [after] = check(repo)
    assert after.ok, (after.behind, after.drift, after.error)

    # The updated tests, with the old main.py still in place, pass (verify's own python check).
    results = python_check.run(repo)
    assert results and all(result.ok for result in results), [(r.name, r.detail) for r in results]

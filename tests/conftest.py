"""Shared fixtures: an isolated cache, a git copy of this template, and rendered services."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from platformdirs import user_cache_path

from naavre_scaffold import __version__
from naavre_scaffold.git import git
from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource, bundled_snapshot
from tests.helpers import SERVICE, commit_all, copy_template, render_with_copie, replace_in

ROOT = Path(__file__).resolve().parent.parent
# The GitHub stand-in's fixture (github_api), for the workflow and fleet tests.
pytest_plugins = ["tests.github_standin"]

# The render matrix: every combination is rendered once per session and verified.
SERVICE_RENDERS = {
    "defaults": {"name": "data-quality"},
    "custom": {
        "name": "x",
        "port": 9090,
        "github_org": "MyOrg",
        "registry": "registry.example.org/team",
        "python_version": "3.12",
        "description": "A custom service: with a colon & an ampersand",
    },
}


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Template snapshots and test environments go to a per-session cache, not the user's.

    Except Yarn's package cache: it is content-addressed, safe to share, and a cold one
    costs about a minute per jupyterlab build, so it lasts in the user's cache folder.
    """
    cache = tmp_path_factory.mktemp("cache")
    lasting_yarn = user_cache_path("naavre-scaffold", appauthor=False) / "yarn"
    lasting_yarn.mkdir(parents=True, exist_ok=True)
    (cache / "yarn").symlink_to(lasting_yarn, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAAVRE_SCAFFOLD_CACHE", str(cache))
        yield


@pytest.fixture(scope="session", autouse=True)
def _own_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Temporary files go to a folder per session (per xdist worker); no naavre-* may stay in it.

    naavre-scaffold removes every temporary folder it makes, also in the tools and
    commands the tests start (they inherit TMPDIR): a leftover fails the session here,
    by name, instead of piling up in /tmp run after run. Each worker has its own
    folder, so one worker's work in progress never counts as another's leftover.
    """
    folder = tmp_path_factory.mktemp("tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(folder))
        patch.setattr(tempfile, "tempdir", str(folder))
        yield
    left = sorted(path.name for path in folder.glob("naavre-*"))
    if left:
        pytest.fail(f"temporary folders left in {folder}: {', '.join(left)}", pytrace=False)


@pytest.fixture(scope="session")
def template_git() -> TemplateSource:
    """This checkout's template (what git tracks, and would track) as a git repository tagged v<version>."""
    return TemplateSource(str(bundled_snapshot()), f"v{__version__}")


@pytest.fixture
def template_repo(template_git: TemplateSource, tmp_path: Path) -> Path:
    """A private, writable clone of ``template_git`` with its tags, for tests that add versions."""
    clone = tmp_path / "template"
    shutil.copytree(template_git.path, clone)
    git(clone, "config", "user.name", "Template Maintainer")
    git(clone, "config", "user.email", "maintainer@example.org")
    return clone


@pytest.fixture(scope="session", params=sorted(SERVICE_RENDERS))
def service_render(request: pytest.FixtureRequest, copie_session, template_git: TemplateSource) -> Path:
    """A service rendered by pytest-copie from this checkout, once per matrix entry."""
    return render_with_copie(
        copie_session, template_git, {"template": "service", **SERVICE_RENDERS[request.param]}
    )


@pytest.fixture(scope="session")
def template_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository with three releases built from this checkout.

    v1.0.0 is older: for services, no .dockerignore (a whole file) and no `exclude` line
    in .flake8; for extensions, no `enableTelemetry` line in .yarnrc.yml; for flavors, a
    shorter comment in tests/tests.sh; for flavors repos, no `*.orig` in .gitignore.
    v1.1.0 is the current tree. v1.1.1 changes only a comment of the questions, so
    it renders exactly like v1.1.0.

    Each line edit is of a line these tests name (EXCLUDE_LINE and the others below);
    when the template loses one, ``replace_in`` fails naming the line and the file.
    The mechanics of update and check (conflicts, deletions, binary files, drift) are
    tested on tiny templates: test_update_mechanics.py and test_check_mechanics.py.
    """
    repo = tmp_path_factory.mktemp("versions") / "template"
    copy_template(repo)
    project = repo / SERVICE
    flake8 = (project / ".flake8").read_text()
    dockerignore = (project / ".dockerignore").read_text()
    yarnrc = (repo / JUPYTERLAB / ".yarnrc.yml").read_text()
    gitignore = (repo / FLAVORS_REPO / ".gitignore").read_text()
    replace_in(project / ".flake8", EXCLUDE_LINE, "")
    (project / ".dockerignore").unlink()
    replace_in(repo / JUPYTERLAB / ".yarnrc.yml", TELEMETRY_LINE, "")
    replace_in(repo / FLAVOR_TESTS, FLAVOR_TESTS_LINE, FLAVOR_TESTS_OLD_LINE)
    replace_in(repo / FLAVORS_REPO / ".gitignore", ORIG_LINE, "")
    git(repo, "-c", "init.defaultBranch=main", "init", "--quiet")
    commit_all(repo, "Template as it was")
    git(repo, "tag", "v1.0.0")
    (project / ".flake8").write_text(flake8)
    (project / ".dockerignore").write_text(dockerignore)
    (repo / JUPYTERLAB / ".yarnrc.yml").write_text(yarnrc)
    replace_in(repo / FLAVOR_TESTS, FLAVOR_TESTS_OLD_LINE, FLAVOR_TESTS_LINE)
    (repo / FLAVORS_REPO / ".gitignore").write_text(gitignore)
    commit_all(repo, "Exclude caches from flake8 and the image; no Yarn telemetry")
    git(repo, "tag", "v1.1.0")
    questions = repo / "templates/service/questions.yml"
    questions.write_text(questions.read_text() + "# A comment that changes no render.\n")
    commit_all(repo, "Comment the service questions")
    git(repo, "tag", "v1.1.1")
    return repo


JUPYTERLAB = Path("templates/jupyterlab/project")
FLAVOR_TESTS = Path("templates/flavor/project/tests/tests.sh.jinja")
FLAVOR_TESTS_LINE = "# fails when any of them fails, and when there are none.\n"
FLAVOR_TESTS_OLD_LINE = "# fails when any of them fails.\n"
FLAVORS_REPO = Path("templates/flavors-repo/project")
ORIG_LINE = "*.orig\n"
TELEMETRY_LINE = "enableTelemetry: false\n"
EXCLUDE_LINE = "exclude = .git,.venv,__pycache__,.pytest_cache\n"


@pytest.fixture
def make_service(template_versions: Path, tmp_path: Path):
    """Create a service repository from ``template_versions`` at a given release."""

    def make(name: str, version: str = "v1.0.0", parent: Path | None = None) -> Path:
        dest = (parent or tmp_path) / f"NaaVRE-{name}-service"
        create("service", name, dest=dest, source=TemplateSource(str(template_versions), version))
        return dest

    return make


@pytest.fixture
def make_extension(template_versions: Path, tmp_path: Path):
    """Create a JupyterLab extension repository from ``template_versions`` at a given release."""

    def make(name: str, version: str = "v1.0.0", **answers: object) -> Path:
        dest = tmp_path / f"NaaVRE-{name}-jupyterlab"
        source = TemplateSource(str(template_versions), version)
        create("jupyterlab", name, dest=dest, data=dict(answers), source=source)
        return dest

    return make

"""The Renovate preset templates/_shared/renovate-copier.json, against Renovate's own release.

Renovate's npm package (pinned below, fetched once into npm's cache) ships the JSON
schema of its configuration, with each manager's defaults, and its compiled code. The
preset must be valid under that schema, use only options it knows, and find exactly
the answers files of generated repositories. The command Renovate's copier manager
runs is read from that code, and run with stock Copier on generated repositories:
it must move them cleanly to a newer template tag, to the same tree as
``naavre-scaffold update``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.helpers import IDENTITY, tree

ROOT = Path(__file__).resolve().parent.parent
PRESET = ROOT / "templates/_shared/renovate-copier.json"
RENOVATE_VERSION = "44.121.2"
COPIER = Path(sys.executable).with_name("copier")
NEWEST = "v1.1.1"


@pytest.fixture(scope="module")
def renovate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unpacked npm package of Renovate (its ``package/`` folder)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("needs npm to fetch Renovate's package (its schema and copier manager)")
    folder = tmp_path_factory.mktemp("renovate")
    packed = subprocess.run(
        [npm, "pack", f"renovate@{RENOVATE_VERSION}", "--pack-destination", str(folder), "--prefer-offline"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert packed.returncode == 0, packed.stderr
    (tarball,) = folder.glob("renovate-*.tgz")
    wanted = ("package/renovate-schema.json", "package/dist/modules/manager/copier/artifacts.js")
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, members=[archive.getmember(name) for name in wanted], filter="data")
    return folder / "package"


@pytest.fixture(scope="module")
def schema(renovate: Path) -> dict:
    return json.loads((renovate / "renovate-schema.json").read_text())


def _preset() -> dict:
    return json.loads(PRESET.read_text())


def test_the_preset_is_valid_under_renovates_schema(schema: dict) -> None:
    preset = _preset()
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(preset)] == []
    # The schema lets unknown keys through, so each key is checked against the options it lists.
    options = set(schema["properties"])
    assert set(preset) - {"$schema"} <= options
    definitions = schema["definitions"]
    assert set(preset["copier"]) <= set(definitions["copier"]["items"]["allOf"][0]["properties"])
    rule_only = set(definitions["packageRules"]["items"]["allOf"][0]["properties"])  # match* and the like
    for rule in preset["packageRules"]:
        assert set(rule) <= options | rule_only
    # Checks that the check can fail: a wrong type, as Renovate would refuse it.
    broken = {**preset, "copier": {**preset["copier"], "enabled": "yes"}}
    assert [error.message for error in validator.iter_errors(broken)] == ["'yes' is not of type 'boolean'"]


def _matches(pattern: str, path: str) -> bool:
    """Renovate's reading of a managerFilePatterns entry: ``/regex/`` searched in the path."""
    assert pattern.startswith("/") and pattern.endswith("/"), f"only regular expressions here: {pattern}"
    return re.search(pattern[1:-1], path) is not None


@pytest.fixture(scope="module")
def generated(template_versions: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A service and a flavors repository with a second flavor, at v1.0.0 of ``template_versions``."""
    folder = tmp_path_factory.mktemp("renovate-repos")
    source = ["--template-source", str(template_versions), "--vcs-ref", "v1.0.0", "--defaults", "-q"]
    service, flavors = folder / "NaaVRE-qc-service", folder / "flavors"
    assert main(["new", "service", "qc", "--dest", str(service), *source]) == 0
    assert main(["new", "flavors-repo", "flavors", "--dest", str(flavors), *source]) == 0
    assert main(["new", "flavor", "ecology", "--dest", str(flavors / "flavors/ecology"), *source]) == 0
    git(flavors, "add", "--all")
    git(flavors, *IDENTITY, "commit", "--quiet", "-m", "Add the ecology flavor")
    return {"service": service, "flavors": flavors}


def test_the_file_patterns_find_exactly_the_answers_files(schema: dict, generated: dict[str, Path]) -> None:
    ours = _preset()["copier"]["managerFilePatterns"]
    # managerFilePatterns is mergeable: Renovate adds ours to its default ones.
    default = schema["definitions"]["copier"]["default"]["managerFilePatterns"]
    expected = {
        "service": {".copier-answers.yml"},
        "flavors": {
            ".copier-answers.yml",
            "flavors/vanilla/.copier-answers.yml",
            "flavors/ecology/.copier-answers.yml",
        },
    }
    for kind, repo in generated.items():
        files = git(repo, "ls-files").splitlines()
        assert len(files) > 10
        for patterns in (ours, default, ours + default):
            found = {path for path in files if any(_matches(p, path) for p in patterns)}
            assert found == expected[kind], (kind, patterns)
    near_misses = ["copier-answers.yml", "docs/.copier-answers.yml.bak", ".copier-answers.yml.orig", "x.yml"]
    assert not [path for path in near_misses if any(_matches(p, path) for p in ours)]


def _renovate_command(artifacts: str, tag: str) -> list[str]:
    """The copier command that Renovate's copier manager builds, read from its code.

    The manager runs `copier update` with its default options, --answers-file with the
    answers file's base name and --vcs-ref with the new tag, in the answers file's
    folder (cwdFile), and --trust only where a self-hosted admin allows scripts.
    """
    options = re.search(r"DEFAULT_COMMAND_OPTIONS = \[([^\]]*)\]", artifacts)
    assert options, "Renovate's copier manager changed: read its artifacts code again"
    defaults = re.findall(r'"([^"]+)"', options.group(1))
    assert re.search(
        r'"--answers-file",\s*quote\(upath\.basename\(packageFileName\)\),\s*"--vcs-ref"', artifacts
    )
    assert "cwdFile: packageFileName" in artifacts
    assert re.search(
        r'GlobalConfig\.get\("allowScripts"\) && !config\.ignoreScripts\) command\.push\("--trust"\)',
        artifacts,
    )
    return ["copier", "update", *defaults, "--answers-file", ".copier-answers.yml", "--vcs-ref", tag]


def test_renovates_copier_command_updates_generated_repositories_cleanly(
    renovate: Path, generated: dict[str, Path], tmp_path: Path
) -> None:
    command = _renovate_command((renovate / "dist/modules/manager/copier/artifacts.js").read_text(), NEWEST)
    assert command == [
        *("copier", "update", "--skip-answered", "--defaults"),
        *("--answers-file", ".copier-answers.yml", "--vcs-ref", NEWEST),
    ]
    for kind, made in generated.items():
        by_renovate, by_us = tmp_path / f"{kind}-renovate", tmp_path / f"{kind}-ours"
        for copy in (by_renovate, by_us):
            shutil.copytree(made, copy, symlinks=True)
        root, *flavors = sorted(by_renovate.glob("**/.copier-answers.yml"))
        assert root.parent == by_renovate and len(flavors) == (0 if kind == "service" else 2)
        # The preset's two branches: the repository's own answers file, then every flavor's.
        _renovate_branch(by_renovate, "renovate/root", [root], command)
        if flavors:
            _renovate_branch(by_renovate, "renovate/flavors-root", flavors, command, refused=root)
        git(by_renovate, "checkout", "--quiet", "main")
        for branch in git(by_renovate, "branch", "--list", "renovate/*", "--format=%(refname:short)").split():
            git(by_renovate, *IDENTITY, "merge", "--quiet", "--no-edit", branch)
        assert main(["update", str(by_us), "--vcs-ref", NEWEST, "-q"]) == 0
        assert tree(by_renovate) == tree(by_us), kind


def _renovate_branch(
    repo: Path, branch: str, answers_files: list[Path], command: list[str], refused: Path | None = None
) -> None:
    """One Renovate branch from main: the command in each answers file's folder, then one commit.

    ``refused``: an answers file whose update, in this branch's uncommitted state, Copier
    must refuse (its folder holds the other updates): why the preset splits the branches.
    """
    git(repo, "checkout", "--quiet", "-b", branch, "main")
    for answers in answers_files:
        ran = _run(command, answers.parent)
        assert ran.returncode == 0, ran.stderr
        assert yaml.safe_load(answers.read_text())["_commit"] == NEWEST
        assert git(repo, "diff", "--name-only", "--diff-filter=U") == ""
    assert "<<<<<<<" not in git(repo, "diff")
    if refused is not None:
        before = refused.read_text()
        attempt = _run(command, refused.parent)
        assert attempt.returncode != 0 and "Destination repository is dirty" in attempt.stderr
        assert refused.read_text() == before
    git(repo, "add", "--all")
    git(repo, *IDENTITY, "commit", "--quiet", "-m", f"Update the naavre-scaffold template to {NEWEST}")


def _run(command: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """``command`` with this checkout's stock Copier, in ``folder``, as Renovate runs it (cwdFile)."""
    return subprocess.run(
        [str(COPIER), *command[1:]], cwd=folder, capture_output=True, text=True, timeout=300
    )

"""``adopt`` on repositories shaped like NaaVRE-containerizer-service and NaaVRE-catalogue-jupyterlab.

Each is adopted at v1.0.0 of a template repository, its branch merged; then ``check``
finds it current with no drift, and ``update`` brings only what v1.1.0 changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from naavre_scaffold import _copier
from naavre_scaffold.cli import main
from naavre_scaffold.git import git, url_redirects
from naavre_scaffold.source import TemplateSource
from tests.adopt_shapes import AUTHOR, catalogue_jupyterlab, containerizer_service, flavors
from tests.helpers import build_template, commit_all, render


def _adopt(capsys, repo: Path, template: Path, *options: str) -> tuple[int, str, str]:
    source = ["--template-source", str(template), "--vcs-ref", "v1.0.0"]
    code = main(["adopt", str(repo), *source, "--defaults", *options])
    out, err = capsys.readouterr()
    return code, out, err


def _state(repo: Path) -> dict[str, object]:
    """Everything adopt must leave alone: files on disk, HEAD, the index (refs apart from its branch)."""
    files = {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {"files": files, "head": git(repo, "rev-parse", "HEAD"), "index": git(repo, "ls-files", "-s")}


def _at(repo: Path, ref: str, path: str) -> str:
    return git(repo, "show", f"{ref}:{path}")


def test_a_service_shaped_like_the_containerizer_is_adopted_then_checked_and_updated(
    template_versions: Path, tmp_path: Path, capsys
) -> None:
    repo = containerizer_service(tmp_path)
    before = _state(repo)
    report_file = tmp_path / "adopt.json"

    code, out, err = _adopt(capsys, repo, template_versions, "--json", str(report_file))

    assert code == 0, err
    assert _state(repo) == before  # the working tree, HEAD and index are as they were
    report = json.loads(report_file.read_text())
    answers = {key: (a["value"], a["source"]) for key, a in report["answers"].items()}
    chart = "helm/naavre-containerizer-service"
    assert answers["name"] == ("containerizer", f"{chart}/Chart.yaml (name: naavre-containerizer-service)")
    assert answers["port"] == (8000, f"{chart}/values.yaml (service.port)")
    assert answers["python_version"] == ("3.11", "docker/Dockerfile (FROM python:3.11)")
    assert answers["registry"] == (
        "ghcr.io/naavre",
        ".github/workflows/make.yml (oci_repo: ghcr.io/naavre/charts)",
    )
    assert answers["github_org"] == ("NaaVRE", "git remote origin")
    assert answers["author"][1] == "default"
    branch = "template-adopt/v1.0.0"
    assert (report["branch"], report["template"], report["version"]) == (branch, "service", "v1.0.0")
    fates = {f["path"]: f["fate"] for f in report["files"]}
    # The project's code and chart values stay; the template's app files are not mixed into it.
    for kept in ("app/main.py", "app/settings.py", f"{chart}/values.yaml", "README.md"):
        assert fates[kept] == "kept"
        assert _at(repo, branch, kept) == _at(repo, "HEAD", kept)
    assert fates["app/auth.py"] == fates["app/tests/test_health.py"] == "not added"
    assert _at(repo, branch, "app/models/cell.py") == _at(repo, "HEAD", "app/models/cell.py")
    # Infrastructure becomes the template's, with the diff in the report.
    replaced = {f["path"]: f["diff"] for f in report["files"] if f["fate"] == "replaced"}
    assert {"docker/Dockerfile", "LICENSE", f"{chart}/Chart.yaml"} <= set(replaced)
    assert "-FROM condaforge/mambaforge" in replaced["docker/Dockerfile"]
    assert fates[".github/workflows/ci.yml"] == "added"
    assert ".github/workflows/make.yml" in report["untouched"]
    assert any("requirements.txt" in note for note in report["notes"])
    config = yaml.safe_load(_at(repo, branch, ".naavre-scaffold.yml"))
    assert f"{chart}/values.yaml" in config["project_owned"] and "app/auth.py" in config["exclude"]
    answers_file = yaml.safe_load(_at(repo, branch, ".copier-answers.yml"))
    assert (answers_file["template"], answers_file["_commit"], answers_file["port"]) == (
        "service",
        "v1.0.0",
        8000,
    )
    assert f"on branch {branch}" in out and f"git -C {repo} merge {branch}" in out

    git(repo, "merge", "--quiet", "--ff-only", branch)
    assert main(["check", str(repo), "--vcs-ref", "v1.0.0"]) == 0, capsys.readouterr().out
    capsys.readouterr()

    assert main(["update", str(repo), "--commit", "--json", str(tmp_path / "update.json")]) == 0
    (outcome,) = json.loads((tmp_path / "update.json").read_text())["repos"]
    assert (outcome["verdict"], outcome["to_version"]) == ("updated", "v1.1.1")
    # Only what the template changed since v1.0.0: .dockerignore and a line of .flake8.
    assert sorted(outcome["files"]) == [".copier-answers.yml", ".dockerignore", ".flake8"]
    assert _at(repo, "HEAD", "app/main.py") == _at(repo, branch, "app/main.py")


def test_an_extension_shaped_like_the_catalogue_is_adopted_then_checked_and_updated(
    template_versions: Path, tmp_path: Path, capsys
) -> None:
    repo = catalogue_jupyterlab(tmp_path)

    code, out, err = _adopt(capsys, repo, template_versions, "--json", "-")

    assert code == 0, err
    report = json.loads(out)
    answers = {key: (a["value"], a["source"]) for key, a in report["answers"].items()}
    assert answers["name"] == ("catalogue", "package.json (name: @naavre/catalogue-jupyterlab)")
    assert answers["author"] == (AUTHOR, "package.json (author.name)")
    assert answers["service"] == ("catalogue", "schema/plugin.json (catalogueServiceUrl)")
    assert answers["has_settings"][0] is True and answers["kind"][0] == "frontend"
    assert report["replaced_answers"] == "https://github.com/jupyterlab/extension-template at v4.5.1"
    fates = {f["path"]: f["fate"] for f in report["files"]}
    for kept in ("package.json", "pyproject.toml", "schema/plugin.json", "src/index.ts", "README.md"):
        assert fates[kept] == "kept"
    # The template's lowercase package folder is not added beside NaaVRE_catalogue_jupyterlab/.
    assert fates["naavre_catalogue_jupyterlab/__init__.py"] == "not added"
    assert fates[".github/workflows/release.yml"] == "added"
    branch = report["branch"]
    assert "Adopt the naavre-scaffold jupyterlab template v1.0.0" in git(
        repo, "log", "-1", "--format=%s", branch
    )

    git(repo, "merge", "--quiet", "--ff-only", branch)
    assert main(["check", str(repo), "--vcs-ref", "v1.0.0"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(["update", str(repo), "--json", str(tmp_path / "update.json")]) == 0
    (outcome,) = json.loads((tmp_path / "update.json").read_text())["repos"]
    assert outcome["verdict"] == "updated"
    assert sorted(outcome["files"]) == [".copier-answers.yml", ".yarnrc.yml"]


def test_a_flavors_repository_is_adopted_with_its_flavors(
    template_versions: Path, tmp_path: Path, capsys
) -> None:
    repo = flavors(tmp_path)
    # A flavor rendered from the flavor template is on it already: adopt leaves it to update.
    render(TemplateSource(str(template_versions), "v1.0.0"), repo / "flavors" / "geo", "flavor", name="geo")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "A flavor from the template")
    geo_answers = (repo / "flavors" / "geo" / ".copier-answers.yml").read_text()
    capsys.readouterr()

    code, out, err = _adopt(capsys, repo, template_versions, "--json", "-")

    assert code == 0, err
    report = json.loads(out)
    answers = {key: (a["value"], a["source"]) for key, a in report["answers"].items()}
    assert report["template"] == "flavors-repo" and report["commit"] is not None
    assert answers["name"] == ("flavors", "the folder name flavors")
    assert answers["registry"] == (
        "ghcr.io/naavre/flavors",
        ".github/workflows/make.yaml (image_repo: ghcr.io/naavre/flavors)",
    )
    assert answers["image_prefix"] == (
        "naavre-fl-",
        ".github/workflows/make-flavor.yaml (image_name: naavre-fl-<flavor>-…)",
    )
    assert sorted(report["flavors"]) == ["vanilla"]
    assert not any(f["path"].startswith("flavors/geo/") for f in report["files"])
    flavor = {key: (a["value"], a["source"]) for key, a in report["flavors"]["vanilla"].items()}
    assert flavor["languages"] == ("python", "flavors/vanilla/environment.yaml (no r-base)")
    assert flavor["build_jupyter"] == (True, "flavors/vanilla/flavor_config.yaml (build_jupyter)")
    assert flavor["github_org"] == ("NaaVRE", "git remote origin")  # from the repository, as new gives it
    fates = {f["path"]: f["fate"] for f in report["files"]}
    assert fates["flavors/vanilla/environment.yaml"] == "kept"  # the flavor's packages are its own
    assert fates["flavors/vanilla/tests/tests.sh"] == "added"
    branch = report["branch"]
    flavor_answers = yaml.safe_load(_at(repo, branch, "flavors/vanilla/.copier-answers.yml"))
    assert (flavor_answers["template"], flavor_answers["name"]) == ("flavor", "vanilla")

    git(repo, "merge", "--quiet", "--ff-only", branch)
    assert main(["check", str(repo), "--vcs-ref", "v1.0.0"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(["update", str(repo), "--json", str(tmp_path / "update.json")]) == 0
    outcomes = {o["folder"]: o for o in json.loads((tmp_path / "update.json").read_text())["repos"]}
    # Only what v1.1.0 changed: a line of the repository's .gitignore, a comment of the flavor's tests.
    assert sorted(outcomes[""]["files"] if "" in outcomes else outcomes["."]["files"]) == [
        ".copier-answers.yml",
        ".gitignore",
    ]
    assert _at(repo, "HEAD", "flavors/geo/.copier-answers.yml") == geo_answers.rstrip("\n")
    assert sorted(outcomes["flavors/vanilla"]["files"]) == [
        "flavors/vanilla/.copier-answers.yml",
        "flavors/vanilla/tests/tests.sh",
    ]


def test_a_dry_run_reports_and_writes_nothing(template_versions: Path, tmp_path: Path, capsys) -> None:
    repo = containerizer_service(tmp_path)
    refs = git(repo, "for-each-ref")
    before = _state(repo)

    code, out, _ = _adopt(capsys, repo, template_versions, "--dry-run", "--diff")

    assert code == 0
    assert (git(repo, "for-each-ref"), _state(repo)) == (refs, before)
    assert "would adopt NaaVRE-containerizer-service as a service at v1.0.0" in out
    assert "--- a/docker/Dockerfile" in out  # --diff shows what replaces the project's file

    git(repo, "branch", "template-adopt/v1.0.0")
    code, out, _ = _adopt(capsys, repo, template_versions, "--dry-run")

    assert code == 0  # a dry run reports, and names what a real run would refuse
    assert "Note: the branch template-adopt/v1.0.0 exists already: merge or delete it before adopting" in out


@pytest.mark.parametrize(
    ("spoil", "options", "message"),
    [
        (
            lambda repo: (repo / "app" / "main.py").write_text("# unsaved\n"),
            (),
            "has uncommitted changes: app/main.py",
        ),
        (lambda repo: None, ("-d", "port=80"), "port: must be between 1024 and 65535 (got 80)"),
        (
            lambda repo: git(repo, "branch", "template-adopt/v1.0.0"),
            (),
            "already has a branch template-adopt/v1.0.0",
        ),
        (lambda repo: None, ("--template", "jupyterlab", "-d", "colour=blue"), "colour"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    template_versions: Path, tmp_path: Path, capsys, spoil, options, message
) -> None:
    repo = containerizer_service(tmp_path)
    spoil(repo)
    refs, before = git(repo, "for-each-ref"), _state(repo)

    code, _, err = _adopt(capsys, repo, template_versions, *options)

    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert (git(repo, "for-each-ref"), _state(repo)) == (refs, before)


def test_a_copy_without_git_can_be_reported_on(template_versions: Path, tmp_path: Path, capsys) -> None:
    """A dry run reads only files: it works on a copy of a repository without its .git folder."""
    repo = containerizer_service(tmp_path / "clone")
    copy = tmp_path / "copy" / repo.name
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git"))

    code, out, err = _adopt(capsys, copy, template_versions, "--dry-run", "--json", "-")

    assert code == 0, err
    report = json.loads(out)
    assert report["answers"]["name"]["value"] == "containerizer" and report["commit"] is None
    assert "github_org" not in {k for k, a in report["answers"].items() if a["source"] == "git remote origin"}
    assert ".github/workflows/make.yml" in report["untouched"]
    assert not (copy / ".git").exists()


def test_a_folder_that_is_no_repository_or_already_adopted_is_refused(
    make_service, template_versions: Path, tmp_path: Path, capsys
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = _adopt(capsys, plain, template_versions)
    assert code == 2 and "is not in a git repository: adopt makes a branch (--dry-run reports only)" in err

    made = make_service("made")
    code, _, err = _adopt(capsys, made, template_versions)
    assert code == 2 and "is already made from the service template: use update" in err


UPSTREAM = "https://github.com/jupyterlab/extension-template"


def test_an_extension_keeps_its_changes_since_the_extension_template_where_they_merge(
    template_versions: Path, tmp_path: Path, capsys
) -> None:
    """Three-way: the common base is jupyterlab/extension-template at the answers file's _commit,
    served here by a local repository behind its URL (git's insteadOf, as for a mirror)."""
    first = catalogue_jupyterlab(tmp_path / "first")
    assert _adopt(capsys, first, template_versions, "--json", "-")[0] == 0
    ours = {
        name: _at(first, "template-adopt/v1.0.0", name) + "\n" for name in (".gitignore", ".prettierignore")
    }
    # The base: the template's .gitignore without its last lines, and a .prettierignore whose first
    # line the template changed; the team then added a line on top of one and changed the other's first.
    base_gitignore = "".join(ours[".gitignore"].splitlines(keepends=True)[:-3])
    rest = "".join(ours[".prettierignore"].splitlines(keepends=True)[1:])
    upstream = build_template(
        tmp_path / "upstream",
        {"v4.5.1": {".gitignore": base_gitignore, ".prettierignore": "base-line\n" + rest}},
    )
    repo = catalogue_jupyterlab(tmp_path / "second")
    (repo / ".gitignore").write_text("dev/catalogue-config.json\n" + base_gitignore)
    (repo / ".prettierignore").write_text("team-line\n" + rest)
    commit_all(repo, "The team's ignore rules")

    # Copier fetches the URL with .git added; git takes the longest matching insteadOf.
    with _copier.environment(url_redirects({UPSTREAM: upstream, f"{UPSTREAM}.git": upstream})):
        code, out, err = _adopt(capsys, repo, template_versions, "--json", "-")

    assert code == 0, err
    report = json.loads(out)
    assert report["base"] == f"{UPSTREAM} at v4.5.1"
    fates = {f["path"]: f["fate"] for f in report["files"]}
    assert (fates[".gitignore"], fates[".prettierignore"]) == ("merged", "replaced")
    branch = report["branch"]
    assert _at(repo, branch, ".gitignore") + "\n" == "dev/catalogue-config.json\n" + ours[".gitignore"]
    assert _at(repo, branch, ".prettierignore") + "\n" == ours[".prettierignore"]  # no conflict markers
    assert report["unmerged"] == [".prettierignore"]
    assert any(".prettierignore conflict with the template's" in note for note in report["notes"])
    assert ".gitignore" in yaml.safe_load(_at(repo, branch, ".naavre-scaffold.yml"))["project_owned"]

    git(repo, "merge", "--quiet", "--ff-only", branch)
    assert main(["check", str(repo), "--vcs-ref", "v1.0.0"]) == 0, capsys.readouterr().out

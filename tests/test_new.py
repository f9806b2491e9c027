"""``naavre-scaffold new``: answers checked first, a committed repo, next steps, updatable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from naavre_scaffold.source import PUBLIC_SOURCE
from tests.helpers import IDENTITY

COPIER = str(Path(sys.executable).parent / "copier")


def _answers(repo: Path) -> dict:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def _new_qc(dest: Path, *options: str) -> int:
    """`naavre-scaffold new service qc --defaults` into ``dest``, with more options."""
    return main(["new", "service", "qc", "--dest", str(dest), "--defaults", *options])


def test_new_service_with_defaults(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "data-quality", "--defaults"]) == 0
    repo = tmp_path / "NaaVRE-data-quality-service"
    out = capsys.readouterr().out

    answers = _answers(repo)
    assert answers["_src_path"] == PUBLIC_SOURCE
    assert answers["_commit"] == f"v{__version__}"
    assert answers["template"] == "service"
    assert answers["name"] == "data-quality"
    assert answers["port"] == 8000
    # One commit holding every file, and nothing left uncommitted.
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--show-current") == "main"
    assert (repo / "helm/naavre-data-quality-service/Chart.yaml").is_file()
    # Next steps: the register command, and its changes written out for someone without a checkout.
    assert "  naavre-scaffold register . --naavre-helm ../NaaVRE-helm" in out
    assert "- name: naavre-data-quality-service" in out
    assert "repository: oci://ghcr.io/naavre/charts" in out
    assert "condition: naavre-data-quality-service.enabled" in out
    assert 'rootPath: "/{{ $basePath }}"' in out


def test_new_respects_dest_and_data(tmp_path: Path) -> None:
    dest = tmp_path / "somewhere" / "svc"
    code = _new_qc(dest, "-d", "port=9000", "-d", "github_org=MyOrg")
    assert code == 0
    answers = _answers(dest)
    assert (answers["port"], answers["github_org"], answers["registry"]) == (
        9000,
        "MyOrg",
        "ghcr.io/myorg",
    )


BAD_ANSWERS = [
    (["Bad_Name"], "name", "only lowercase letters, digits and single hyphens"),
    (["bad--name"], "name", "single hyphens"),
    (["1abc"], "name", "must start with a lowercase letter"),
    ([""], "name", "is required"),
    (["a" * 41], "name", "at most 40 characters"),
    (["ok", "-d", "port=80"], "port", "between 1024 and 65535"),
    (["ok", "-d", "port=70000"], "port", "between 1024 and 65535"),
    (["ok", "-d", "port=eighty"], "port", "must be a whole number"),
    (["ok", "-d", "prot=9000"], "prot", "unknown question"),
    (["ok", "-d", "slug=other"], "slug", "derived from the other answers"),
    (["ok", "-d", "github_org=-bad"], "github_org", "GitHub account name"),
    (["ok", "-d", "registry=GHCR.io/Bad"], "registry", "lowercase registry host"),
    (["ok", "-d", "python_version=2.7"], "python_version", "2.7"),
]


@pytest.mark.parametrize(("args", "field", "rule"), BAD_ANSWERS, ids=[" ".join(a[0]) for a in BAD_ANSWERS])
def test_bad_answer_is_rejected_before_writing(
    tmp_path: Path, monkeypatch, capsys, args, field, rule
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", *args, "--defaults"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"naavre-scaffold new: error: {field}: ")
    assert rule in err
    assert list(tmp_path.iterdir()) == []


def test_existing_destination_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    dest = tmp_path / "NaaVRE-qc-service"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    assert _new_qc(dest) == 2
    assert "dest: " in capsys.readouterr().err
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert (dest / "notes.txt").read_text() == "mine"


def test_created_repo_updates_with_plain_copier(template_repo: Path, tmp_path: Path) -> None:
    """A repo made from a named source records it, and plain `copier update` moves it on."""
    dest = tmp_path / "svc"
    assert _new_qc(dest, "--template-source", str(template_repo)) == 0
    answers = _answers(dest)
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"] == f"v{__version__}"

    _plain_copier_update_brings(template_repo, dest, "templates/service/project", ".flake8")


def _plain_copier_update_brings(template: Path, repo: Path, project: str, file: str) -> None:
    """A template release v99.0.0 that adds a line to ``file`` reaches ``repo`` through plain Copier."""
    changed = template / project / file
    changed.write_text(changed.read_text() + "# A line added by template v99.0.0.\n")
    git(template, "commit", "-qam", "Template change")
    git(template, "tag", "v99.0.0")
    # Plain Copier's command line, with no naavre-scaffold involved and no --trust.
    subprocess.run([COPIER, "update", "--defaults", "--quiet"], cwd=repo, check=True)
    assert "# A line added by template v99.0.0." in (repo / file).read_text()
    assert _answers(repo)["_commit"] == "v99.0.0"


def test_plain_copier_copy_of_root_template(template_git, tmp_path: Path) -> None:
    """`copier copy` of this repository works without naavre-scaffold and without --trust."""
    dest = tmp_path / "plain"
    subprocess.run(
        [
            COPIER,
            "copy",
            "--defaults",
            "--quiet",
            "-d",
            "template=service",
            "-d",
            "name=x",
            template_git.path,
            str(dest),
        ],
        check=True,
    )
    answers = _answers(dest)
    assert answers["_src_path"] == template_git.path
    assert answers["_commit"] == template_git.vcs_ref
    recorded = {k for k in answers if not k.startswith("_")}
    assert recorded == {
        "template",
        "name",
        "description",
        "author",
        "github_org",
        "registry",
        "port",
        "python_version",
    }
    assert (dest / "helm/naavre-x-service/values.yaml").is_file()


def test_copier_api_validation_matches_cli(template_git) -> None:
    """The validators live in the template, so plain Copier enforces the same rules."""
    with pytest.raises(ValueError, match="between 1024 and 65535"):
        copier.run_copy(
            template_git.path,
            "unused",
            data={"template": "service", "name": "ok", "port": 80},
            defaults=True,
            quiet=True,
        )
    assert not Path("unused").exists()


def test_plain_copier_copies_and_updates_an_extension(template_repo: Path, tmp_path: Path) -> None:
    """`copier copy -d template=jupyterlab`, then `copier update`, with no naavre-scaffold involved."""
    dest = tmp_path / "NaaVRE-plain-jupyterlab"
    copy = [COPIER, "copy", "--defaults", "--quiet", "-d", "template=jupyterlab", "-d", "name=plain"]
    subprocess.run([*copy, "-d", "service=containerizer", str(template_repo), str(dest)], check=True)
    answers = _answers(dest)
    recorded = {k for k in answers if not k.startswith("_")}
    shared = {"template", "name", "description", "author", "github_org"}
    assert recorded == shared | {"kind", "has_settings", "service"}
    assert json.loads((dest / "package.json").read_text())["name"] == "@naavre/plain-jupyterlab"
    git(dest, "init", "--quiet", "-b", "main")
    git(dest, "add", "--all")
    git(dest, *IDENTITY, "commit", "--quiet", "-m", "Create")

    _plain_copier_update_brings(template_repo, dest, "templates/jupyterlab/project", ".yarnrc.yml")
    assert _answers(dest)["service"] == "containerizer"

"""Repositories made from unreleased template work: ``_commit`` is an untagged commit or
``git describe`` output (``v0.2.0-1-gabc1234``), as Copier records them. ``check`` and
``update`` order them as Copier does, and never stop a whole run over one of them."""

from __future__ import annotations

from pathlib import Path

import copier
import yaml
from packaging.version import Version

from naavre_scaffold.fleet.check import check
from naavre_scaffold.fleet.outcome import Options, Verdict
from naavre_scaffold.fleet.update import update
from naavre_scaffold.git import git
from naavre_scaffold.source.mirror import Mirror
from tests.helpers import TINY_ANSWERS, TINY_COPIER_YML, commit_all


def _template(folder: Path, tags: list[str | None]) -> Path:
    """A template with one commit per entry of ``tags``, each adding a line to app.txt; tagged if named."""
    (folder / "project").mkdir(parents=True)
    (folder / "copier.yml").write_text(TINY_COPIER_YML)
    (folder / "project/{{_copier_conf.answers_file}}.jinja").write_text(TINY_ANSWERS)
    git(folder, "-c", "init.defaultBranch=main", "init", "--quiet")
    for number, tag in enumerate(tags):
        (folder / "project/app.txt").write_text("".join(f"line {n}\n" for n in range(number + 1)))
        commit_all(folder, f"Commit {number}")
        if tag:
            git(folder, "tag", tag)
    return folder


def _repo(template: Path, dest: Path, ref: str) -> Path:
    copier.run_copy(str(template), dest, vcs_ref=ref, defaults=True, quiet=True)
    git(dest, "-c", "init.defaultBranch=main", "init", "--quiet")
    commit_all(dest, "Made from unreleased template work")
    return dest


def _commit(repo: Path) -> str:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"]


def test_a_repository_ahead_of_the_newest_tag_is_current(tmp_path: Path) -> None:
    template = _template(tmp_path / "tpl", ["v0.1.0", "v0.2.0", None])
    repo = _repo(template, tmp_path / "ahead", "HEAD")
    assert _commit(repo).startswith("v0.2.0-1-g")

    [report] = check(repo)
    [outcome] = update([repo], Options(), jobs=1)

    assert report.ok and not report.behind and "v0.2.0" in report.version_note
    assert outcome.verdict == Verdict.UP_TO_DATE, outcome.message
    assert git(repo, "status", "--porcelain") == ""


def test_a_repository_behind_a_tag_from_an_untagged_commit_updates(tmp_path: Path) -> None:
    template = _template(tmp_path / "tpl", [None, "v0.2.0"])
    repo = _repo(template, tmp_path / "early", "HEAD~1")
    assert not _commit(repo).startswith("v")  # an untagged commit: its hash

    [report] = check(repo)
    [outcome] = update([repo], Options(), jobs=1)

    assert report.behind and dict(report.changes) == {"app.txt": "modified"}
    assert outcome.verdict == Verdict.UPDATED, outcome.message
    assert _commit(repo) == "v0.2.0"


def test_a_template_without_tags_is_checked_and_updated_at_its_head(tmp_path: Path) -> None:
    template = _template(tmp_path / "tpl", [None, None])
    behind = _repo(template, tmp_path / "behind", "HEAD~1")
    current = _repo(template, tmp_path / "current", "HEAD")

    reports = {r.path.name: r for r in check(tmp_path)}
    outcomes = {Path(o.path).name: o for o in update([behind, current], Options(), jobs=1)}

    assert reports["behind"].behind and not reports["behind"].error
    assert reports["current"].ok, reports["current"].error
    assert outcomes["behind"].verdict == Verdict.UPDATED, outcomes["behind"].message
    assert (behind / "app.txt").read_text() == "line 0\nline 1\n"
    assert outcomes["current"].verdict == Verdict.UP_TO_DATE, outcomes["current"].message


def test_an_older_version_asked_for_is_copiers_downgrade_refusal(tmp_path: Path) -> None:
    template = _template(tmp_path / "tpl", ["v0.1.0", "v0.2.0", None])
    repo = _repo(template, tmp_path / "ahead", "HEAD")

    [outcome] = update([repo], Options(vcs_ref="v0.1.0"), jobs=1)

    assert outcome.verdict == Verdict.FAILED
    assert "Downgrades are not supported" in outcome.message


def test_an_untagged_commit_is_ordered_by_history_whatever_its_hash_reads_as(tmp_path: Path) -> None:
    """A short hash such as 1234567 or 5b3e1c0 is a valid PEP 440 version: it must not be read as one."""
    template = _template(tmp_path / "tpl", [None, "v0.2.0"])
    mirror = Mirror(str(template), template)
    untagged = git(template, "rev-parse", "--short", "HEAD~1")

    assert mirror._version(untagged) is None
    assert mirror._version("v0.2.0") == Version("0.2.0")
    assert mirror.moves_forward(untagged, "v0.2.0")
    assert not mirror.moves_forward("v0.2.0", untagged)

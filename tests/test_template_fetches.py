"""Template fetches: one per source per `update` run, and Copier's mirror cache private to each run.

The template is served by a real `git daemon`, whose log counts every fetch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from copier._vcs import CACHE_DIR_ENV_VAR

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from naavre_scaffold.new.create import create
from naavre_scaffold.source import resolve
from naavre_scaffold.source.mirror import fetch_mirror
from tests.helpers import git_daemon

FETCH = "Request upload-pack"


def _fetches(log: Path) -> int:
    return log.read_text().count(FETCH)


def test_update_fetches_each_source_once_for_a_fleet(
    template_versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Copier's own cache would otherwise spare it the fetches this test counts.
    monkeypatch.setenv(CACHE_DIR_ENV_VAR, str(tmp_path / "copier-cache"))
    log = tmp_path / "daemon.log"
    with git_daemon(template_versions.parent, log) as base:
        url = f"{base}/{template_versions.name}"
        repos = []
        for name in ("one", "two", "three"):
            dest = tmp_path / f"NaaVRE-{name}-service"
            create("service", name, dest=dest, source=resolve(url, "v1.0.0"))
            repos.append(dest)
        before = _fetches(log)
        assert before >= 1

        assert main(["update", *map(str, repos), "--jobs", "2", "--quiet"]) == 0

        # One fetch for the run's mirror; each repo's `copier update` reads that mirror.
        assert _fetches(log) - before == 1
    for repo in repos:
        assert "_commit: v1.1.1" in (repo / ".copier-answers.yml").read_text()
        assert git(repo, "status", "--porcelain") != ""


def test_new_leaves_copiers_shared_cache_alone(tmp_path: Path) -> None:
    """Runs at once must not share Copier's mirror cache: they race on its checkouts."""
    shared = tmp_path / "copier-cache"
    env = {**os.environ, CACHE_DIR_ENV_VAR: str(shared)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "naavre_scaffold", "new", "service", name, "--quiet"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("first", "second", "third")
    ]
    for run in runs:
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 0, output
    for name in ("first", "second", "third"):
        assert (tmp_path / f"NaaVRE-{name}-service" / ".copier-answers.yml").is_file()
    assert not shared.exists() or not any(shared.iterdir())


def test_a_mirror_left_half_made_is_cloned_again(template_versions: Path) -> None:
    src = str(template_versions)
    broken = fetch_mirror(src).path
    shutil.rmtree(broken / "objects")  # as a run killed mid-clone leaves it

    mirror = fetch_mirror(src)

    assert mirror.path == broken
    assert mirror.newest_tag == "v1.1.1"

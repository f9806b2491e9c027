"""Commands leave nothing in the temporary folder, however often they run in one process.

A template checkout made in the second ``check`` or ``update`` of a process once
went to the temporary folder itself instead of the session's, and stayed there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from naavre_scaffold.fleet.check import check
from naavre_scaffold.fleet.outcome import Options, Verdict
from naavre_scaffold.fleet.update import update
from tests.helpers import build_template, commit_all, make_repo

VERSIONS = {"v1.0.0": {"a.txt": "a\n"}, "v1.1.0": {"a.txt": "b\n"}, "v1.2.0": {"a.txt": "c\n"}}


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty temporary folder for this process and the tools it starts."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_check_and_update_twice_in_one_process_leave_no_temporary_folder(
    tmp_path: Path, scratch: Path
) -> None:
    template = build_template(tmp_path / "template", VERSIONS)
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")

    for version in ("v1.1.0", "v1.2.0"):
        assert check(repo)  # a report: the repository was checked
        [outcome] = update([repo], Options(vcs_ref=version), jobs=1)
        assert outcome.verdict == Verdict.UPDATED, outcome.message
        commit_all(repo, f"Update to {version}")

    assert (repo / "a.txt").read_text() == "c\n"
    assert sorted(p.name for p in scratch.iterdir()) == []

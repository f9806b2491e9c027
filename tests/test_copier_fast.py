"""``_copier.fast``: used on the Copier versions it was tested with, stock Copier on any other.

What it renders and merges is held equal to stock Copier here for copies (a yield
folder included) and the ``rej`` fallback, and for updates, case by case, in
``test_update_differential.py``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import copier
import pytest
from packaging.requirements import Requirement

from naavre_scaffold._copier import fast, session
from naavre_scaffold._copier.lean_update import LeanUpdate
from naavre_scaffold.fleet.outcome import Options, Verdict
from naavre_scaffold.fleet.update import update
from naavre_scaffold.git import git
from tests.helpers import build_template, commit_all, make_repo, tree

ROOT = Path(__file__).resolve().parent.parent

# A folder per item (Copier's yield tag), a file rendered in each, and plain files around them.
YIELD_TEMPLATE = {
    "v1.0.0": {
        "{% yield item from ['alpha', 'beta'] %}{{ item }}{% endyield %}/about.md.jinja": "# {{ item }}\n",
        "README.md.jinja": "# {{ name }}\n",
        "notes.txt": "plain\n",
    },
    "v2.0.0": {
        "README.md.jinja": "# {{ name }}, second version\n\nKeep this line.\n",
        "notes.txt": None,
    },
}


def test_the_fast_path_runs_only_on_the_copier_versions_it_was_tested_with() -> None:
    assert fast.enabled(copier.__version__)  # the installed one: the tests check the fast path
    assert fast.enabled("9.19.1")
    for other in ("9.18.0", "9.19.0", "9.20.0", "10.0.0"):
        assert not fast.enabled(other), other


def test_pyproject_allows_exactly_the_tested_copier_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    [copier_requirement] = [Requirement(r) for r in project["dependencies"] if r.startswith("copier")]
    assert copier_requirement.specifier == fast.TESTED_COPIER


def _marking(tmp_path: Path, name: str, call):
    """``call``, leaving a file named ``name`` behind: worker processes cannot report otherwise."""

    def marked(*args, **kwargs):
        (tmp_path / name).touch()
        return call(*args, **kwargs)

    return marked


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    """The yield template and a repository made from its v1.0.0, committed."""
    template = build_template(tmp_path / "template", YIELD_TEMPLATE)
    return template, make_repo(template, tmp_path / "repo", "v1.0.0")


def test_update_takes_the_fast_path_on_a_tested_copier(
    tiny: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LeanUpdate, "run", _marking(tmp_path, "fast", LeanUpdate.run))
    monkeypatch.setattr(copier, "run_update", _marking(tmp_path, "stock", copier.run_update))

    [outcome] = update([tiny[1]], Options(vcs_ref="v2.0.0"), jobs=1)

    assert outcome.verdict == Verdict.UPDATED, outcome.message
    assert (tmp_path / "fast").exists() and not (tmp_path / "stock").exists()


def test_another_copier_version_updates_with_stock_copier(
    tiny: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copier, "__version__", "9.20.0")
    monkeypatch.setattr(LeanUpdate, "run", _marking(tmp_path, "fast", LeanUpdate.run))
    monkeypatch.setattr(copier, "run_update", _marking(tmp_path, "stock", copier.run_update))

    with fast.session():
        assert fast.process_folder() is None  # no session on this version
    [outcome] = update([tiny[1]], Options(vcs_ref="v2.0.0"), jobs=1)

    assert outcome.verdict == Verdict.UPDATED, outcome.message
    assert (tmp_path / "stock").exists() and not (tmp_path / "fast").exists()
    assert (tiny[1] / "README.md").read_text() == "# tiny, second version\n\nKeep this line.\n"


def test_copies_in_a_session_are_copier_copies(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    """Twice in one session (the second from shared checkouts and compiled code), as stock Copier."""
    template = str(tiny[0])
    copier.run_copy(template, tmp_path / "stock", vcs_ref="v1.0.0", defaults=True, quiet=True)
    with fast.session():
        for name in ("first", "second"):
            fast.run_copy(template, tmp_path / name, vcs_ref="v1.0.0", defaults=True, quiet=True)
        shared = fast.process_folder()
        current = session.current()
        assert shared is not None and current is not None
        assert len(current.templates) == 1  # one checkout for both
    assert not shared.exists()  # gone with the session

    stock = tree(tmp_path / "stock")
    assert {"alpha/about.md", "beta/about.md", "README.md", "notes.txt"} <= stock.keys()
    assert tree(tmp_path / "first") == stock
    assert tree(tmp_path / "second") == stock


def test_the_rej_conflict_mode_is_left_to_copier_and_gives_its_result(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    _, repo = tiny
    (repo / "README.md").write_text("# tiny, our own title\n")
    commit_all(repo, "Our title")
    stock = tmp_path / "stock"
    git(tmp_path, "clone", "--quiet", str(repo), str(stock))
    settings = {"vcs_ref": "v2.0.0", "defaults": True, "overwrite": True, "quiet": True, "conflict": "rej"}

    copier.run_update(stock, skip_answered=True, **settings)
    with fast.session():
        fast.run_update(repo, skip_answered=True, **settings)

    assert "README.md.rej" in tree(stock)
    assert tree(repo) == tree(stock)


def test_a_session_keeps_its_scratch_in_memory_unless_tmpdir_says_otherwise(monkeypatch) -> None:
    memory = session.SHARED_MEMORY
    if session.scratch_root({}) is None:
        pytest.skip(f"{memory} is not a writable folder with room to spare here")
    assert session.scratch_root({}) == str(memory)
    assert session.scratch_root({"TMPDIR": "/somewhere"}) is None  # a chosen folder is respected
    monkeypatch.setattr(session, "SHARED_MEMORY_FREE_BYTES", 1 << 60)
    assert session.scratch_root({}) is None  # not enough room: the temporary folder


def test_an_update_without_tmpdir_runs_in_memory_and_leaves_nothing_there(
    tiny: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = session.SHARED_MEMORY
    if session.scratch_root({}) is None:
        pytest.skip(f"{memory} is not a writable folder with room to spare here")
    monkeypatch.delenv("TMPDIR")
    before = set(memory.glob("naavre-*"))
    with fast.session():
        folder = fast.process_folder()
        assert folder is not None and folder.parent.parent == memory
        [outcome] = update([tiny[1]], Options(vcs_ref="v2.0.0"), jobs=1)
    assert outcome.verdict == Verdict.UPDATED, outcome.message
    assert (tiny[1] / "README.md").read_text() == "# tiny, second version\n\nKeep this line.\n"
    assert set(memory.glob("naavre-*")) == before

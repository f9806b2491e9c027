"""``naavre-scaffold check`` end to end: a service freshly made from the real template has no drift.

The mechanics (behind, drift, the changes list, patches, project-owned files, a release
that renders the same, nothing to update to) are tested on tiny templates in
test_check_mechanics.py; the CLI's output on the real template in test_check_cli.py.
"""

from __future__ import annotations

from pathlib import Path

from naavre_scaffold.cli import main


def _check(capsys, repo: Path, *options: str) -> tuple[int, str]:
    code = main(["check", str(repo), *options])
    return code, capsys.readouterr().out


def test_current_and_clean_passes(make_service, capsys) -> None:
    repo = make_service("fresh", version="v1.1.1")
    code, out = _check(capsys, repo)
    assert code == 0, out
    assert f"PASS  {repo}: version v1.1.1\n" in out
    assert f"PASS  {repo}: no drift from the template at v1.1.1" in out


def test_no_answers_file_fails(tmp_path: Path, capsys) -> None:
    code, out = _check(capsys, tmp_path)
    assert code == 1
    assert "no .copier-answers*.yml of a naavre-scaffold template found" in out

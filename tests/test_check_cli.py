"""``naavre-scaffold check`` as CI meets it: progress, summary, quiet, JSON, exit codes, patches."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import yaml

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.cli._common import coloured_verdicts
from naavre_scaffold.git import git
from tests.helpers import commit_all


def _check(capsys, path: Path, *options: str) -> tuple[int, str, str]:
    code = main(["check", str(path), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _set_answer(repo: Path, key: str, value: str) -> None:
    answers_file = repo / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text())
    answers[key] = value
    answers_file.write_text(yaml.safe_dump(answers))
    commit_all(repo, f"Answers: {key}")


def _drift(folder: Path, repo: Path | None = None) -> None:
    """Change one template file and remove another in ``folder``, as a hand edit would."""
    flake8 = folder / ".flake8"
    flake8.write_text(flake8.read_text().replace("120", "79"))
    (folder / ".dockerignore").unlink()
    commit_all(repo or folder, "Hand edits")


def test_progress_per_repository_on_stderr_and_a_summary(make_service, tmp_path: Path, capsys) -> None:
    fleet = tmp_path / "fleet"
    current = make_service("current", version="v1.1.1", parent=fleet)
    old = make_service("old", version="v1.0.0", parent=fleet)

    code, out, err = _check(capsys, fleet)

    assert code == 1
    # Without a terminal, one line per repository as it finishes, so a CI log is never silent.
    assert err.splitlines() == [f"[1/2] {current}: PASS", f"[2/2] {old}: FAIL (behind)"]
    assert out.splitlines()[-1] == "1 current, 1 behind, 0 drifted, 0 failed"


def test_quiet_prints_only_failures_and_the_summary(make_service, tmp_path: Path, capsys) -> None:
    fleet = tmp_path / "fleet"
    make_service("current", version="v1.1.1", parent=fleet)
    old = make_service("old", version="v1.0.0", parent=fleet)

    code, out, err = _check(capsys, fleet, "--quiet")

    assert code == 1
    assert err == ""
    assert out.splitlines() == [
        f"FAIL  {old}: version v1.0.0 is behind the newest template v1.1.1, which changes 2 file(s):",
        "        added    .dockerignore",
        "        modified .flake8",
        "1 current, 1 behind, 0 drifted, 0 failed",
    ]


def test_json_on_stdout_holds_only_the_report(make_service, capsys) -> None:
    repo = make_service("edited", version="v1.0.0")
    flake8 = repo / ".flake8"
    flake8.write_text(flake8.read_text().replace("120", "79"))
    commit_all(repo, "Hand edit")

    code, out, err = _check(capsys, repo, "--json", "-", "--diff")

    assert code == 1
    report = json.loads(out)  # stdout is the JSON alone: the human lines went to stderr
    assert report["schema"] == "naavre-scaffold/check"
    assert report["schema_version"] == 1
    assert report["naavre_scaffold_version"] == __version__
    assert report["counts"] == {"current": 0, "behind": 1, "drifted": 1, "failed": 0}
    [entry] = report["repos"]
    assert entry["path"] == str(repo)
    assert (entry["version"], entry["newest"], entry["behind"]) == ("v1.0.0", "v1.1.1", True)
    assert (entry["ok"], entry["error"], entry["error_kind"]) == (False, None, None)
    assert [(d["path"], d["kind"]) for d in entry["drift"]] == [(".flake8", "modified")]
    assert [(c["path"], c["kind"]) for c in entry["changes"]] == [
        (".dockerignore", "added"),
        (".flake8", "modified"),
    ]
    assert "-max-line-length = 79\n+max-line-length = 120\n" in entry["drift"][0]["diff"]
    assert f"FAIL  {repo}: version v1.0.0 is behind the newest template v1.1.1" in err
    assert "0 current, 1 behind, 1 drifted, 0 failed" in err


def test_json_file_without_diff(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("fresh", version="v1.1.0")
    target = tmp_path / "report.json"

    code, out, _ = _check(capsys, repo, "--json", str(target))

    assert code == 0
    assert out.splitlines()[-1] == "1 current, 0 behind, 0 drifted, 0 failed"
    report = json.loads(target.read_text())
    assert report["counts"] == {"current": 1, "behind": 0, "drifted": 0, "failed": 0}
    [entry] = report["repos"]
    assert entry["version_note"] == "v1.1.1 changes nothing here"
    assert (entry["drift"], entry["ok"]) == ([], True)


def test_unwritable_json_target_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    code, out, err = _check(capsys, tmp_path, "--json", str(tmp_path / "no-such-folder" / "r.json"))
    assert code == 2
    assert out == ""
    assert "--json: the folder" in err


def test_unreachable_template_is_exit_3_naming_the_source(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("lost", version="v1.1.1")
    gone = tmp_path / "no-such-template"
    _set_answer(repo, "_src_path", str(gone))

    code, out, err = _check(capsys, repo)

    assert code == 3, out + err
    [line] = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert line.startswith(f"FAIL  {repo}: cannot fetch the template {gone}: ")
    assert "Traceback" not in out + err
    assert err == f"[1/1] {repo}: FAIL (could not be checked)\n"
    assert out.splitlines()[-1] == "0 current, 0 behind, 0 drifted, 1 failed"


def test_unknown_recorded_version_is_exit_3(make_service, capsys) -> None:
    repo = make_service("unknown", version="v1.1.1")
    _set_answer(repo, "_commit", "v9.9.9")

    code, out, _ = _check(capsys, repo, "--json", "-")

    assert code == 3
    [entry] = json.loads(out)["repos"]
    assert entry["error_kind"] == "template"
    assert entry["error"].endswith("has no version v9.9.9 (the recorded _commit)")


def test_broken_answers_file_needs_a_person(make_service, capsys) -> None:
    repo = make_service("broken", version="v1.1.1")
    _set_answer(repo, "_commit", "")

    code, out, _ = _check(capsys, repo)

    assert code == 1
    assert f"FAIL  {repo}: {repo}/.copier-answers.yml: has no _commit, so it cannot be updated" in out


def test_unknown_vcs_ref_fails_the_repository_as_update_does(make_service, capsys) -> None:
    repo = make_service("ref", version="v1.1.1")
    code, out, err = _check(capsys, repo, "--vcs-ref", "nope")
    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert line.startswith(f"FAIL  {repo}: the template ") and line.endswith(" has no ref nope")
    assert "error:" not in err


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys) -> None:
    code, _, err = _check(capsys, tmp_path / "nope")
    assert code == 2
    assert "error: path: " in err


def test_printed_diff_applies_with_git_apply_and_check_passes_again(make_service, capsys) -> None:
    repo = make_service("patched", version="v1.1.1")
    _drift(repo)
    ci = repo / ".github/workflows/ci.yml"
    ci.write_text(ci.read_text().replace("\n", "\r\n", 3).rstrip("\n"))  # CRs, no final newline
    commit_all(repo, "More hand edits")

    code, out, _ = _check(capsys, repo, "--diff")
    assert code == 1
    applied = subprocess.run(["git", "apply", "-"], cwd=repo, input=out.encode(), capture_output=True)
    assert applied.returncode == 0, applied.stderr.decode()

    code, out, _ = _check(capsys, repo)
    assert code == 0, out
    assert f"PASS  {repo}: no drift from the template at v1.1.1" in out


def test_patch_paths_start_at_the_repository_root(make_service, tmp_path: Path, capsys) -> None:
    # A subproject in a folder of a bigger repository, as a flavor is in the flavors repo.
    outer = tmp_path / "outer"
    inner = make_service("inside", version="v1.1.1", parent=outer)
    shutil.rmtree(inner / ".git")
    git(outer, "-c", "init.defaultBranch=main", "init", "--quiet")
    commit_all(outer, "The service in a folder")
    _drift(inner, outer)

    code, out, _ = _check(capsys, outer, "--diff")

    assert code == 1
    folder = inner.name
    assert f"--- a/{folder}/.flake8\n+++ b/{folder}/.flake8\n" in out
    assert f"--- /dev/null\n+++ b/{folder}/.dockerignore\n" in out
    applied = subprocess.run(["git", "apply", "-"], cwd=outer, input=out.encode(), capture_output=True)
    assert applied.returncode == 0, applied.stderr.decode()
    assert _check(capsys, outer)[0] == 0


def test_pass_and_fail_are_coloured_only_in_a_terminal(monkeypatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    lines = ["PASS  x: version v1", "FAIL  y: drift", "        modified a.txt"]

    coloured = coloured_verdicts(lines, Terminal())
    monkeypatch.setenv("NO_COLOR", "1")

    assert coloured == ["\033[32mPASS\033[0m  x: version v1", "\033[31mFAIL\033[0m  y: drift", lines[2]]
    assert coloured_verdicts(lines, io.StringIO()) == lines  # a file or a pipe
    assert coloured_verdicts(lines, Terminal()) == lines  # NO_COLOR

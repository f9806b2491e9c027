"""`update`'s output: the table at any width, progress, --quiet, --json, --diff; exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console

from naavre_scaffold.cli import main
from naavre_scaffold.cli.report import REPO_KEYS, update_json, update_table
from naavre_scaffold.fleet.update import Outcome, Verdict
from naavre_scaffold.git import git
from tests.helpers import snapshot

ROOT = Path(__file__).resolve().parent.parent

# The README's example, and a repository whose message is long.
OUTCOMES = [
    Outcome(
        "NaaVRE-catalogue-service",
        Verdict("conflict"),
        "v1.3.0",
        "v1.4.0",
        [".flake8"],
        "left untouched; rerun on this repository alone with --keep-conflicts to resolve",
    ),
    Outcome(
        "NaaVRE-containerizer-service",
        Verdict("updated"),
        "v1.3.0",
        "v1.4.0",
        [".copier-answers.yml", ".flake8", ".github/workflows/ci.yml"],
        "changes left uncommitted in the working tree",
    ),
    Outcome("NaaVRE-environment-service", Verdict("up-to-date"), "v1.4.0", "v1.4.0", [], "already on v1.4.0"),
    Outcome(
        "NaaVRE-workflow-service",
        Verdict("refused"),
        "v1.3.0",
        None,
        [],
        "the working tree has uncommitted changes: app/auth.py and 3 more",
    ),
    Outcome("NaaVRE-svc04-service", Verdict("skipped"), "v1.3.0", message="interrupted before it started"),
]


def _render(outcomes: list[Outcome], width: int, terminal: bool = True, **kwargs) -> str:
    console = Console(
        width=width,
        record=True,
        file=open(os.devnull, "w"),  # noqa: SIM115
        highlight=False,
        force_terminal=terminal,
        color_system=None,
    )
    update_table(outcomes, console, **kwargs)
    return console.export_text()


def _words(text: str) -> set[str]:
    return {word.strip(",│┃") for word in text.split()}


@pytest.mark.parametrize("width", [80, 100])
def test_table_breaks_no_word_at_80_and_100_columns(width: int) -> None:
    text = _render(OUTCOMES, width)

    assert max(len(line) for line in text.splitlines()) <= width
    words = _words(text)
    for outcome in OUTCOMES:
        assert outcome.path in words  # the name whole, on one line
        assert set(outcome.message.split()) <= words
        assert set(outcome.files) <= words
    assert text.splitlines()[-1] == "1 updated, 1 up-to-date, 1 conflict, 1 refused, 1 skipped"
    assert not [line for line in text.splitlines() if line.endswith(" ")]  # clean in a CI log


def test_a_name_wider_than_the_console_stays_whole() -> None:
    long = "/home/someone/src/naavre/" + "deeply/nested/" * 4 + "NaaVRE-data-quality-service"
    outcome = Outcome(long, Verdict("updated"), "v1.0.0", "v1.1.0", [".flake8"], "changes left uncommitted")

    lines = _render([outcome], 80).splitlines()

    assert lines[0].startswith(long + "  updated")
    assert max(len(line) for line in lines[1:]) <= 80


def test_wide_console_gets_one_row_per_repository() -> None:
    text = _render(OUTCOMES, 220)

    assert max(len(line) for line in text.splitlines()) <= 220
    for outcome in OUTCOMES:
        (row,) = [line for line in text.splitlines() if outcome.path in line]
        assert str(outcome.verdict) in row
        assert outcome.message in row


def test_output_that_is_no_terminal_is_one_line_per_repository_whatever_its_width() -> None:
    text = _render(OUTCOMES, 220, terminal=False)

    assert "│" not in text and "┃" not in text
    for outcome in OUTCOMES:
        (row,) = [line for line in text.splitlines() if line.startswith(outcome.path)]
        assert str(outcome.verdict) in row


def test_a_dry_run_says_would_update_in_its_rows_and_summary() -> None:
    for terminal in (True, False):
        text = _render(OUTCOMES[:3], 220, terminal=terminal, dry_run=True)
        (row,) = [line for line in text.splitlines() if "NaaVRE-containerizer-service" in line]
        assert "would update" in row and " updated" not in row
        assert text.splitlines()[-1] == "1 would update, 1 up-to-date, 1 conflict"


def test_only_problems_leaves_out_what_needs_nobody() -> None:
    text = _render(OUTCOMES, 80, only_problems=True)
    assert "NaaVRE-containerizer-service" not in text
    assert "NaaVRE-environment-service" not in text
    assert "NaaVRE-catalogue-service" in text and "NaaVRE-workflow-service" in text
    assert text.splitlines()[-1] == "1 updated, 1 up-to-date, 1 conflict, 1 refused, 1 skipped"


def test_json_shape_has_every_verdict_and_every_documented_key() -> None:
    report = update_json(OUTCOMES, dry_run=True)

    assert report["dry_run"] is True and report["interrupted"] is False
    assert report["counts"] == {
        "updated": 1,
        "up-to-date": 1,
        "conflict": 1,
        "refused": 1,
        "failed": 0,
        "skipped": 1,
    }
    for row in report["repos"]:
        assert tuple(row) == REPO_KEYS
    assert report["repos"][1]["verdict"] == "updated"
    json.dumps(report)  # nothing that JSON cannot hold


# The command itself, on real repositories, without a terminal (as in CI).

PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] (.+?): (would update|\S+)$")


def test_progress_lines_without_a_terminal_and_quiet(make_service, tmp_path: Path, capsys) -> None:
    repos = [make_service("one"), make_service("two")]

    assert main(["update", *map(str, repos), "--dry-run"]) == 0

    out, err = capsys.readouterr()
    lines = [PROGRESS.match(line) for line in err.splitlines()]
    assert all(lines), err
    assert sorted((m[1], m[2]) for m in lines) == [("1", "2"), ("2", "2")]
    assert sorted(Path(m[3]).name for m in lines) == [r.name for r in repos]
    assert {m[4] for m in lines} == {"would update"}  # a dry run updates nothing
    assert out.splitlines()[-1] == "2 would update"

    assert main(["update", *map(str, repos), "--dry-run", "--quiet"]) == 0

    out, err = capsys.readouterr()
    assert (out, err) == ("2 would update\n", "")


def test_dry_run_diff_is_a_patch_git_applies(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("patched")
    before = snapshot(repo)

    assert main(["update", str(repo), "--dry-run", "--diff"]) == 0

    out = capsys.readouterr().out
    assert snapshot(repo) == before
    patch = tmp_path / "update.patch"
    patch.write_text(out)  # the whole output, table included: git apply skips what is not a patch
    git(repo, "apply", "--check", str(patch))
    git(repo, "apply", str(patch))
    assert (repo / ".dockerignore").is_file()
    assert "_commit: v1.1.1" in (repo / ".copier-answers.yml").read_text()


def test_json_to_stdout_holds_only_json_and_the_patches(make_service, capsys) -> None:
    repo = make_service("machine")

    assert main(["update", str(repo), "--dry-run", "--diff", "--json", "-"]) == 0

    out, err = capsys.readouterr()
    report = json.loads(out)
    assert (report["schema"], report["schema_version"]) == ("naavre-scaffold/update", 1)
    assert report["dry_run"] is True
    assert report["counts"]["updated"] == 1
    (row,) = report["repos"]
    assert row["verdict"] == "updated" and row["patch"].startswith("diff --git ")
    assert "1 would update" in err  # the table went to stderr


def test_diff_needs_dry_run(make_service, capsys) -> None:
    repo = make_service("nodiff")
    before = snapshot(repo)
    assert main(["update", str(repo), "--diff"]) == 2
    assert capsys.readouterr().err == "naavre-scaffold update: error: --diff: works only with --dry-run\n"
    assert snapshot(repo) == before


def test_missing_path_is_a_usage_error_and_touches_nothing(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("present")
    before = snapshot(repo)

    assert main(["update", str(repo), str(tmp_path / "nonexistent")]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"naavre-scaffold update: error: path: {tmp_path / 'nonexistent'} does not exist\n"
    assert snapshot(repo) == before


def test_unwritable_json_is_refused_before_any_work(make_service, tmp_path: Path, capsys) -> None:
    repo = make_service("jsonless")
    before = snapshot(repo)

    assert main(["update", str(repo), "--json", str(tmp_path / "missing" / "report.json")]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("naavre-scaffold update: error: --json: the folder ") and err.count("\n") == 1
    assert snapshot(repo) == before


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_reports_what_happened_and_exits_130(make_service, tmp_path: Path, stop: int) -> None:
    repos = [make_service(f"stop{n}", parent=tmp_path / "fleet") for n in range(4)]
    before = {repo.name: snapshot(repo) for repo in repos}
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "naavre_scaffold", "update", *map(str, repos), "--jobs", "1"]
    process = subprocess.Popen(
        [*command, "--json", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    try:
        first = process.stderr.readline()  # the first repository is done: stop the run
        process.send_signal(stop)
        out, rest = process.communicate()
    finally:
        watchdog.cancel()

    assert PROGRESS.match(first), first
    assert process.returncode == 130
    errors = [line for line in rest.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in rest
    data = json.loads(report.read_text())
    assert data["interrupted"] is True
    verdicts = {Path(r["path"]).name: r["verdict"] for r in data["repos"]}
    assert set(verdicts) == set(before)
    assert verdicts[Path(PROGRESS.match(first)[3]).name] == "updated"
    assert data["counts"]["skipped"] >= 1
    for name, verdict in verdicts.items():
        assert name in out  # every row is in the table
        if verdict == "skipped":
            assert snapshot(tmp_path / "fleet" / name) == before[name]
    assert "skipped" in out.splitlines()[-1]


@pytest.mark.parametrize("command", ["check", "verify"])
def test_missing_path_names_the_command(command: str, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nonexistent"
    assert main([command, str(missing)]) == 2
    assert capsys.readouterr().err == f"naavre-scaffold {command}: error: path: {missing} does not exist\n"

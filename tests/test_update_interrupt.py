"""`update` stopped half-way: by Ctrl-C, SIGTERM or SIGKILL, or by a second run on the same repositories.

Whatever stops it, every repository ends updated or byte-for-byte untouched, and
nothing of the run stays behind: no branch, no temporary folder, no process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from naavre_scaffold.errors import Interrupted
from naavre_scaffold.fleet.update import Options, Verdict, update
from tests.helpers import build_template, make_repo, snapshot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny_fleet(tmp_path: Path):
    template = build_template(tmp_path / "template", {"v1.0.0": {"a.txt": "a\n"}, "v1.1.0": {"a.txt": "b\n"}})
    return lambda n: [make_repo(template, tmp_path / "fleet" / f"repo{i}", "v1.0.0") for i in range(n)]


def test_an_interrupt_starts_nothing_more_and_reports_what_happened(tiny_fleet) -> None:
    repos = tiny_fleet(4)
    before = {repo: snapshot(repo) for repo in repos}

    def interrupt(outcomes: list) -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, in the parent, after the first repository

    with pytest.raises(Interrupted) as stopped:
        update(repos, Options(), jobs=1, on_done=interrupt)

    verdicts = [outcome.verdict for outcome in stopped.value.partial]
    assert verdicts == [Verdict.UPDATED, Verdict.SKIPPED, Verdict.SKIPPED, Verdict.SKIPPED]
    assert (repos[0] / "a.txt").read_text() == "b\n"
    for repo in repos[1:]:
        assert snapshot(repo) == before[repo], f"{repo.name} was touched after the interrupt"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "naavre_scaffold", "update", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_two_runs_at_once_never_both_update_a_repository(tiny_fleet, tmp_path: Path) -> None:
    repos = tiny_fleet(6)
    reports = [tmp_path / "one.json", tmp_path / "two.json"]

    runs = [_run(*map(str, repos), "--jobs", "2", "--json", str(report)) for report in reports]
    for run in runs:
        run.wait(timeout=120)

    rows = [{Path(r["path"]).name: r for r in json.loads(report.read_text())["repos"]} for report in reports]
    for repo in repos:
        both = [rows[0][repo.name], rows[1][repo.name]]
        assert sorted(row["verdict"] for row in both) == ["refused", "updated"], both
        (refused,) = [row for row in both if row["verdict"] == "refused"]
        # Which refusal depends on timing: the other run still holds the lock, or it has delivered.
        assert refused["message"].startswith(
            ("another naavre-scaffold update is working", "holds an uncommitted template update")
        ), refused
        assert (repo / "a.txt").read_text() == "b\n"


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: its parent and its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            found[int(entry.name)] = (parent, command)
    return found


def _descendants(pid: int) -> set[int]:
    processes, found, frontier = _processes(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in processes.items() if parent in frontier} - found
        found |= frontier
    return found


def _wait_until_gone(pids: set[int], fleet: Path, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes = _processes()
        left = [cmd for pid, (_, cmd) in processes.items() if pid in pids or str(fleet) in cmd]
        if not left:
            return []
        time.sleep(0.2)
    return left


def test_killed_runs_leave_every_repository_updated_or_untouched(make_service, tmp_path: Path) -> None:
    pristine = make_service("kill")
    original = snapshot(pristine)
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference, symlinks=True)
    assert update([reference], Options())[0].verdict == Verdict.UPDATED
    updated = snapshot(reference)
    fleet = tmp_path / "fleet"
    for n in range(40):  # enough that a stop at a random moment finds repositories not started
        shutil.copytree(pristine, fleet / f"NaaVRE-kill{n:02}-service", symlinks=True)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    rng = random.Random(20240606)

    for stop in (signal.SIGKILL, signal.SIGINT, signal.SIGKILL, signal.SIGINT):
        delay = rng.uniform(0.5, 3)
        run = _run(str(fleet), "--jobs", "2", env=env)
        time.sleep(delay)
        family = _descendants(run.pid)
        still_running = run.poll() is None
        run.send_signal(stop)
        code = run.wait(timeout=120)
        if stop == signal.SIGINT and still_running:
            assert code == 130, run.stderr.read().decode()
        assert _wait_until_gone(family, fleet) == [], f"processes left after {stop.name} at {delay:.1f}s"
        assert list(scratch.iterdir()) == [], f"temporary files left after {stop.name} at {delay:.1f}s"
        states = {}
        for repo in sorted(fleet.iterdir()):
            state = snapshot(repo)
            assert state in (original, updated), f"{repo.name} half-updated after {stop.name} at {delay:.1f}s"
            states[repo.name] = "updated" if state == updated else "untouched"
        run.stderr.close()
    assert "untouched" in states.values(), "the runs were never stopped half-way"

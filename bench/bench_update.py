"""Time `naavre-scaffold update` on a fleet against a loop of plain `copier update`.

The script builds a template repository with two versions (v1.0.0 and v1.1.0)
from the bundled template, serves it with `git daemon` on 127.0.0.1 so it is
fetched like a remote, and generates 20 service repositories from v1.0.0. Each
run then updates fresh copies of those repositories to v1.1.0 twice, starting
from empty caches each time: once with one `naavre-scaffold update` over all of
them (default --jobs), once with `copier update` called on each in turn. It
prints the median wall times, their ratio (goal on a 2-core machine: at least
15 with 20 repositories, at least 25 with 100) and whether both sides left the
same working trees.

    python bench/bench_update.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from naavre_scaffold.source import bundled_root

REPOS = 20
GOALS = {20: 15, 100: 25}  # repositories -> the ratio to reach; others have none
OLD_TAG, NEW_TAG = "v1.0.0", "v1.1.0"
OURS, PLAIN = "naavre-scaffold update", "copier update loop"
# The lines the old template version lacks: the new version adds them back.
WORKFLOW = Path("templates/service/project/.github/workflows/ci.yml.jinja")
WORKFLOW_LINE = "- run: uv run coverage report"
FLAKE8 = Path("templates/service/project/.flake8")
BINDIR = Path(sys.executable).parent
DAEMON_START_SECONDS = 10
COMMAND_TIMEOUT_SECONDS = 900


def _run(args: list[str], cwd: Path | None = None) -> None:
    """Run a command, quietly; on failure stop with its own output."""
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} ... exited {done.returncode}:\n{done.stdout}{done.stderr}")


def _build_template(repo: Path) -> None:
    """A template git repository: an older version tagged OLD_TAG, the bundled one tagged NEW_TAG."""
    root = bundled_root()
    shutil.copy2(root / "copier.yml", repo / "copier.yml")
    shutil.copytree(root / "templates", repo / "templates", ignore=shutil.ignore_patterns("__pycache__"))
    current = {path: (repo / path).read_text() for path in (FLAKE8, WORKFLOW)}

    flake8_lines = current[FLAKE8].splitlines(keepends=True)
    (repo / FLAKE8).write_text("".join(flake8_lines[:-1]))
    workflow_lines = current[WORKFLOW].splitlines(keepends=True)
    dropped = next((i for i, line in enumerate(workflow_lines) if WORKFLOW_LINE in line), None)
    if dropped is None:
        raise RuntimeError(f"{WORKFLOW} has no line with {WORKFLOW_LINE!r} to leave out of {OLD_TAG}")
    (repo / WORKFLOW).write_text("".join(workflow_lines[:dropped] + workflow_lines[dropped + 1 :]))
    _run(["git", "init", "--quiet", "--initial-branch=main"], repo)
    _run(["git", "add", "--all"], repo)
    _run(["git", "commit", "--quiet", "--no-verify", "-m", "Service template"], repo)
    _run(["git", "tag", OLD_TAG], repo)

    for path, text in current.items():
        (repo / path).write_text(text)
    message = "flake8 skips tool folders; CI prints the coverage report"
    _run(["git", "commit", "--quiet", "--no-verify", "--all", "-m", message], repo)
    _run(["git", "tag", NEW_TAG], repo)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _git_daemon(base: Path, log: Path) -> Iterator[int]:
    """Serve the repositories under ``base`` on a loopback port; always stopped on exit."""
    port = _free_port()
    command = [
        "git",
        "daemon",
        "--export-all",
        f"--base-path={base}",
        "--listen=127.0.0.1",
        f"--port={port}",
        "--reuseaddr",
    ]
    with log.open("wb") as output:
        daemon = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + DAEMON_START_SECONDS
        while True:
            if daemon.poll() is not None:
                raise RuntimeError(f"git daemon exited {daemon.returncode}: {log.read_text().strip()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    message = f"git daemon not accepting on port {port} after {DAEMON_START_SECONDS} s"
                    raise RuntimeError(message) from None
                time.sleep(0.05)
        yield port
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=5)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` except .git: relative path -> content (a link's target for a link)."""
    files: dict[str, bytes] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != ".git"]
        for name in names:
            path = Path(folder) / name
            content = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            files[path.relative_to(root).as_posix()] = content
    return files


def _differences(left: Path, right: Path) -> list[str]:
    """Paths whose content differs, or that exist on one side only."""
    left_files, right_files = _tree(left), _tree(right)
    paths = sorted(left_files.keys() | right_files.keys())
    return [path for path in paths if left_files.get(path) != right_files.get(path)]


def _on_new_tag(repo: Path) -> bool:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text()).get("_commit") == NEW_TAG


def _fresh_copies(originals: list[Path], dest: Path) -> list[Path]:
    copies = [dest / repo.name for repo in originals]
    for repo, copy in zip(originals, copies, strict=True):
        shutil.copytree(repo, copy, symlinks=True)
    return copies


def _update_with_naavre(repos: list[Path]) -> None:
    _run([str(BINDIR / "naavre-scaffold"), "update", *map(str, repos)])


def _update_with_copier(repos: list[Path]) -> None:
    for repo in repos:
        _run([str(BINDIR / "copier"), "update", "--defaults", "--quiet", "--vcs-ref", NEW_TAG], repo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--repos", type=int, default=REPOS, help=f"repositories (default {REPOS})")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-update-"))
    caches = [work / "naavre-cache", work / "xdg-cache"]
    os.environ["NAAVRE_SCAFFOLD_CACHE"], os.environ["XDG_CACHE_HOME"] = map(str, caches)
    # Copier keeps its mirrors of remote templates under XDG_CACHE_HOME unless told otherwise.
    os.environ.pop("COPIER_CACHE_DIR", None)
    for role in ("AUTHOR", "COMMITTER"):
        os.environ[f"GIT_{role}_NAME"] = "naavre-scaffold bench"
        os.environ[f"GIT_{role}_EMAIL"] = "bench@example.invalid"
    sides = {OURS: _update_with_naavre, PLAIN: _update_with_copier}
    times: dict[str, list[float]] = {label: [] for label in sides}
    mismatches: list[str] = []
    all_updated = True
    try:
        served = work / "served"
        (served / "template").mkdir(parents=True)
        _build_template(served / "template")
        with _git_daemon(served, work / "git-daemon.log") as port:
            url = f"git://127.0.0.1:{port}/template"
            originals = [work / "originals" / f"svc-{n}" for n in range(1, args.repos + 1)]
            for repo in originals:
                new = [str(BINDIR / "naavre-scaffold"), "new", "service", repo.name, "--defaults"]
                _run([*new, "--template-source", url, "--vcs-ref", OLD_TAG, "--dest", str(repo)])
            for run in range(args.runs):
                # Alternate which side goes first, so neither always meets a warmer machine.
                order = list(sides) if run % 2 == 0 else list(reversed(sides))
                updated: dict[str, list[Path]] = {}
                for label in order:
                    repos = _fresh_copies(originals, work / f"run-{run}" / label.replace(" ", "-"))
                    for cache in caches:
                        shutil.rmtree(cache, ignore_errors=True)
                    start = time.perf_counter()
                    sides[label](repos)
                    times[label].append(time.perf_counter() - start)
                    updated[label] = repos
                    all_updated = all_updated and all(_on_new_tag(repo) for repo in repos)
                for left, right in zip(updated[OURS], updated[PLAIN], strict=True):
                    mismatches += [f"run {run}, {left.name}: {path}" for path in _differences(left, right)]
                shutil.rmtree(work / f"run-{run}")
                ours, plain = times[OURS][-1], times[PLAIN][-1]
                print(
                    f"run {run + 1}: ours {ours:.2f} s, copier loop {plain:.2f} s, ratio {plain / ours:.2f}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for label, measured in times.items():
        spread = f"min {min(measured):.2f}, max {max(measured):.2f}"
        print(f"{label + ':':<28}median {statistics.median(measured):.2f} s ({spread})")
    print(f"{'repos, runs per side:':<28}{args.repos}, {args.runs} (cores: {os.cpu_count()})")
    ratios = [plain / ours for plain, ours in zip(times[PLAIN], times[OURS], strict=True)]
    listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(
        f"{'ratio copier loop / ours:':<28}median {statistics.median(ratios):.2f} ({listed}"
        + (f"; goal >= {GOALS[args.repos]})" if args.repos in GOALS else ")")
    )
    print(
        f"{'per repository:':<28}ours {statistics.median(times[OURS]) / args.repos:.3f} s, "
        f"copier loop {statistics.median(times[PLAIN]) / args.repos:.3f} s"
    )
    print(f"{f'all repos on {NEW_TAG}:':<28}{all_updated}")
    print(f"{'same working trees:':<28}{not mismatches}")
    for mismatch in mismatches[:20]:
        print(f"  differs: {mismatch}")


if __name__ == "__main__":
    main()

"""Time `new flavor` against `copier copy`, and `update` of a flavors repo against a loop of `copier update`.

A template repository with two versions is built from the bundled template: v1.1.0
changes the flavor template's tests/tests.sh. A flavors repository with 24 flavors
is made from v1.0.0. Then:
- `naavre-scaffold new flavor -q` and `copier copy --quiet -d template=flavor` write
  one more flavor into it (goal: at most 1.2 times as long);
- one `naavre-scaffold update` moves the repository and its 24 flavors to v1.1.0,
  against plain `copier update` run in each of the 25 folders in turn, with the
  commit that Copier needs before it updates the next folder of the same repository.
It prints median wall times, the ratios, and the files in which the two sides differ.

    python bench/bench_flavors.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_new import differences

from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource, bundled_root, copy_files, template_files

FLAVORS = 24
OLD_TAG, NEW_TAG = "v1.0.0", "v1.1.0"
TESTS_SH = Path("templates/flavor/project/tests/tests.sh.jinja")
BINDIR = Path(sys.executable).parent
IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@example.org"]


def _run(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _commit(repo: Path, message: str) -> None:
    _run(["git", "add", "--all"], repo)
    _run(["git", *IDENTITY, "commit", "--quiet", "--no-verify", "-m", message], repo)


def _template(repo: Path) -> None:
    root = bundled_root()
    copy_files(root, template_files(root), repo)
    current = (repo / TESTS_SH).read_text()
    (repo / TESTS_SH).write_text(current.replace("# Tests of the flavor", "# Tests (older) of the flavor", 1))
    _run(["git", "init", "--quiet", "--initial-branch=main"], repo)
    _commit(repo, "Older flavor template")
    _run(["git", "tag", OLD_TAG], repo)
    (repo / TESTS_SH).write_text(current)
    _commit(repo, "Newer flavor template")
    _run(["git", "tag", NEW_TAG], repo)


def _flavors_repo(template: Path, dest: Path) -> None:
    source = TemplateSource(str(template), OLD_TAG)
    create("flavors-repo", "flavors", dest=dest, source=source)
    for index in range(FLAVORS - 1):  # vanilla is the 24th
        create("flavor", f"flavor{index:02d}", dest=dest / "flavors" / f"flavor{index:02d}", source=source)
        _commit(dest, f"Add flavor{index:02d}")  # new flavor wants a clean repository


def _timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    _run(args, cwd)
    return time.perf_counter() - start


def _copier_loop(repo: Path) -> None:
    for folder in [repo, *sorted((repo / "flavors").iterdir())]:
        _run([str(BINDIR / "copier"), "update", "--defaults", "--quiet", "--vcs-ref", NEW_TAG], folder)
        _commit(repo, f"Update {folder.name}")  # Copier updates only a clean repository


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per side (default 3)")
    runs = parser.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="bench-flavors-"))
    os.environ["NAAVRE_SCAFFOLD_CACHE"] = str(work / "cache")
    try:
        (work / "template").mkdir()
        _template(work / "template")
        _flavors_repo(work / "template", work / "base")
        new, copy, ours, loop = [], [], [], []
        differ: set[str] = set()
        for run in range(runs):
            repo = work / f"repo-{run}"
            shutil.copytree(work / "base", repo, symlinks=True)
            new.append(
                _timed(
                    [
                        str(BINDIR / "naavre-scaffold"),
                        "new",
                        "flavor",
                        "extra",
                        "-q",
                        "--defaults",
                        "--template-source",
                        str(work / "template"),
                        "--vcs-ref",
                        OLD_TAG,
                    ],
                    repo,
                )
            )
            shutil.rmtree(repo / "flavors/extra")
            copy.append(
                _timed(
                    [
                        str(BINDIR / "copier"),
                        "copy",
                        "--defaults",
                        "--quiet",
                        "--vcs-ref",
                        OLD_TAG,
                        "-d",
                        "template=flavor",
                        "-d",
                        "name=extra",
                        str(work / "template"),
                        "flavors/extra",
                    ],
                    repo,
                )
            )
            shutil.rmtree(repo / "flavors/extra")
            twin = work / f"twin-{run}"
            shutil.copytree(repo, twin, symlinks=True)
            ours.append(
                _timed([str(BINDIR / "naavre-scaffold"), "update", ".", "-q", "--vcs-ref", NEW_TAG], repo)
            )
            loop.append(
                _timed(
                    [
                        sys.executable,
                        "-c",
                        f"import bench_flavors as b; from pathlib import Path; "
                        f"b._copier_loop(Path({str(twin)!r}))",
                    ],
                    Path(__file__).parent,
                )
            )
            differ.update(differences(repo, twin))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median = statistics.median
    print(f"new flavor:               median {median(new):.3f} s")
    print(f"copier copy (flavor):     median {median(copy):.3f} s")
    print(f"ratio new / copier copy:  {median(new) / median(copy):.2f} (goal <= 1.2)")
    print(f"update, {FLAVORS} flavors + repo: median {median(ours):.1f} s")
    print(f"copier update loop:       median {median(loop):.1f} s")
    print(f"ratio loop / update:      {median(loop) / median(ours):.2f}")
    # naavre-scaffold leaves a repository whose render a release does not change at its
    # version (verdict up-to-date); copier update records the new tag in its answers file.
    print(f"files that differ:        {sorted(differ) or 'none'}   runs: {runs}")


if __name__ == "__main__":
    main()

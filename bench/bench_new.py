"""Time `naavre-scaffold new service` against plain `copier copy` of the same template.

Both sides are run as commands, from the same local git repository of the
template, several times each, both quiet (`new -q`, `copier copy --quiet`); the
script prints the median wall times, their ratio (goal: at most 1.2) and whether
both sides rendered the same files. Two more rows, not in the ratio, time the
default path (`new` from the bundled template) and `new` printing its next steps,
which asks uv which Pythons are installed.

    python bench/bench_new.py [--runs 7]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from naavre_scaffold.source import bundled_snapshot


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def differences(left: Path, right: Path) -> list[str]:
    """The files (relative paths) that differ between two trees, or exist in one only; .git aside."""
    found: list[str] = []
    stack = [(filecmp.dircmp(left, right, ignore=[".git"]), Path())]
    while stack:
        current, where = stack.pop()
        odd = current.left_only + current.right_only + current.diff_files + current.funny_files
        found += [(where / name).as_posix() for name in odd]
        stack += [(sub, where / name) for name, sub in current.subdirs.items()]
    return sorted(found)


def compare_with_copier(template_name: str, runs: int) -> None:
    """Time ``new <template_name>`` against ``copier copy`` and print the rows and their ratio."""
    work = Path(tempfile.mkdtemp(prefix="bench-new-"))
    os.environ["NAAVRE_SCAFFOLD_CACHE"] = str(work / "cache")
    template = str(bundled_snapshot())
    bindir = Path(sys.executable).parent
    new = [str(bindir / "naavre-scaffold"), "new", template_name, "bench", "--defaults", "-q"]
    copier_answers = ["--defaults", "--quiet", "-d", f"template={template_name}", "-d", "name=bench"]
    sides: dict[str, Callable[[Path], list[str]]] = {
        "naavre-scaffold new": lambda dest: [*new, "--template-source", template, "--dest", str(dest)],
        "copier copy": lambda dest: [str(bindir / "copier"), "copy", *copier_answers, template, str(dest)],
        # The default path: the bundled template, its cached snapshot found by content hash.
        "new, bundled template": lambda dest: [*new, "--dest", str(dest)],
        "new, with next steps": lambda dest: [*new[:-1], "--dest", str(dest)],
    }
    times: dict[str, list[float]] = {label: [] for label in sides}
    try:
        for run in range(runs):
            for label, command in sides.items():
                times[label].append(_timed(command(work / f"{label}-{run}")))
        same = not differences(work / "naavre-scaffold new-0", work / "copier copy-0")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for label, measured in times.items():
        spread = f"min {min(measured):.3f}, max {max(measured):.3f}"
        print(f"{label + ':':<26}median {statistics.median(measured):.3f} s ({spread})")
    print(f"runs per side:            {runs}")
    ratio = statistics.median(times["naavre-scaffold new"]) / statistics.median(times["copier copy"])
    print(f"ratio new / copier copy:  {ratio:.2f} (goal <= 1.2)")
    print(f"same rendered files:      {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per side (default 7)")
    compare_with_copier("service", parser.parse_args().runs)


if __name__ == "__main__":
    main()

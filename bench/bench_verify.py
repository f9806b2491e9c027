"""Time `naavre-scaffold verify --skip python` on a fresh service (goal: under 3 s wall on 2 cores).

The script renders a service with default answers from the bundled template, then
runs the command on it several times and prints the median wall time and the CPU
time of the command and the tools it started (user + system), with their spread.

    python bench/bench_verify.py [--runs 5]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 3.0
BINDIR = Path(sys.executable).parent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_verify(runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    try:
        service = work / "NaaVRE-bench-service"
        new = [str(BINDIR / "naavre-scaffold"), "new", "service", "bench", "--defaults", "-q"]
        subprocess.run([*new, "--dest", str(service)], check=True, stdout=subprocess.DEVNULL)
        walls, cpus = [], []
        for _ in range(runs):
            cpu_before, start = _children_cpu(), time.perf_counter()
            done = subprocess.run(
                [str(BINDIR / "naavre-scaffold"), "verify", str(service), "--skip", "python", "-q"],
                capture_output=True,
                text=True,
                check=False,
            )
            walls.append(time.perf_counter() - start)
            cpus.append(_children_cpu() - cpu_before)
            if done.returncode != 0:
                sys.exit(f"verify failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        print(f"checks:          {done.stdout.splitlines()[-1]}")
        for label, seconds in (("wall", walls), ("cpu", cpus)):
            spread = f"min {min(seconds):.2f}, max {max(seconds):.2f}"
            print(f"{label + ':':<17}median {statistics.median(seconds):.2f} s ({spread})")
        print(f"runs:            {runs}")
        print(f"goal:            wall < {GOAL_SECONDS:.0f} s: {statistics.median(walls) < GOAL_SECONDS}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    time_verify(parser.parse_args().runs)


if __name__ == "__main__":
    main()

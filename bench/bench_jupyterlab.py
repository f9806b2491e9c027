"""Time `naavre-scaffold new jupyterlab` against plain `copier copy`, and the full `verify` of one render.

The first part is bench_new's comparison for the jupyterlab template (goal: at most
1.2 times as long). The second renders one extension and times `naavre-scaffold
verify` on it twice: with an empty Yarn cache (cold), then again with the cache the
first run filled (warm; goal under 90 s). Yarn's cache lives in naavre-scaffold's
cache folder, which this script points at a fresh temporary folder.

    python bench/bench_jupyterlab.py [--runs 5] [--kind frontend|frontend-and-server]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_new import compare_with_copier

WARM_GOAL_SECONDS = 90


def _verify(repo: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "naavre-scaffold"), "verify", str(repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stdout[-3000:])
    return elapsed, done.returncode


def time_verify(kind: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-jupyterlab-"))
    os.environ["NAAVRE_SCAFFOLD_CACHE"] = str(work / "cache")  # an empty Yarn cache for the cold run
    try:
        repo = work / "NaaVRE-bench-jupyterlab"
        subprocess.run(
            [
                str(Path(sys.executable).parent / "naavre-scaffold"),
                "new",
                "jupyterlab",
                "bench",
                "--defaults",
                "-q",
                "-d",
                f"kind={kind}",
                "-d",
                "service=containerizer",
                "--dest",
                str(repo),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cold, cold_rc = _verify(repo)
        warm, warm_rc = _verify(repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"verify, cold Yarn cache:  {cold:.1f} s (exit {cold_rc})")
    print(f"verify, warm Yarn cache:  {warm:.1f} s (exit {warm_rc}; goal < {WARM_GOAL_SECONDS} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per side of new/copier copy (default 5)")
    parser.add_argument("--kind", default="frontend", choices=["frontend", "frontend-and-server"])
    args = parser.parse_args()
    compare_with_copier("jupyterlab", args.runs)
    time_verify(args.kind)


if __name__ == "__main__":
    main()

"""``naavre-scaffold verify PATH``.

Each check's PASS/FAIL line is printed as soon as that check finishes, so a log
(CI) shows progress without a separate progress line; in a terminal a bar on
stderr also shows the kinds done out of those to run and the kind running.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from naavre_scaffold.cli._common import (
    add_command,
    add_json,
    add_quiet,
    check_json_target,
    coloured_verdicts,
    existing_folder,
    progress,
    write_json,
)
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK
from naavre_scaffold.verification.run import CHECKS, verify
from naavre_scaffold.verification.tools import CheckResult


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "verify",
        verify,
        epilog=(
            "exit status: 0 when every check passes, 1 when any fails or nothing was found to verify, "
            "2 for a usage error, 3 when a check tool is not installed, 130 when interrupted (Ctrl-C or "
            "SIGTERM: the tools it started are stopped and its temporary files removed)"
        ),
    )
    parser.add_argument("path", type=existing_folder, help="repository to check")
    parser.add_argument(
        "--skip",
        action="append",
        choices=sorted(CHECKS),
        default=[],
        metavar="KIND",
        help=f"leave out a kind of check (repeatable): {', '.join(CHECKS)}",
    )
    add_json(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def result_line(result: CheckResult) -> str:
    """What ``verify`` prints for one check: PASS or FAIL, its name, and why it failed."""
    line = f"{'PASS' if result.ok else 'FAIL'}  {result.name}"
    return f"{line}: {result.detail}" if result.detail and not result.ok else line


def _failed(results: list[CheckResult]) -> int:
    """How many checks failed; a folder with nothing to verify is one failure."""
    return sum(not r.ok for r in results) if results else 1


def verify_json(path: Path, results: list[CheckResult]) -> dict[str, Any]:
    """The ``--json`` report: ``path``, ``checks`` (kind, name, ok, detail, in order) and ``counts``."""
    failed = _failed(results)
    return {
        "path": str(path),
        "checks": [{"kind": r.kind, "name": r.name, "ok": r.ok, "detail": r.detail} for r in results],
        "counts": {"passed": sum(r.ok for r in results), "failed": failed},
    }


def run(args: argparse.Namespace) -> int:
    check_json_target(args.json)

    def say(line: str) -> None:
        # Looked up at each line: in a terminal the progress bar redirects the streams.
        out = sys.stderr if args.json == "-" else sys.stdout
        print(coloured_verdicts([line], out)[0], file=out, flush=True)

    def on_result(result: CheckResult) -> None:
        if result.ok and args.quiet:
            return
        say(result_line(result))

    kinds = [kind for kind in CHECKS if kind not in args.skip]
    # The result lines are the progress in a log; the bar is for a terminal only.
    plain = args.quiet or not Console(stderr=True).is_terminal
    with progress(len(kinds), plain, "verifying") as shown:
        results = verify(
            args.path,
            skip=args.skip,
            on_start=shown.started,
            on_result=on_result,
            on_finish=shown.finished,
        )
    if not results:
        say(f"FAIL  nothing to verify in {args.path}: no chart, Dockerfile, workflow or Python project found")
    failed = _failed(results)
    say(f"{sum(r.ok for r in results)} passed, {failed} failed")
    if args.json:
        write_json(args.json, "verify", verify_json(args.path, results))
    return EXIT_FAILED if failed else EXIT_OK

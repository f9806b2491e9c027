"""``naavre-scaffold verify PATH``."""

from __future__ import annotations

import argparse

from naavre_scaffold.cli._common import add_command, add_json, add_quiet, existing_folder
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK
from naavre_scaffold.verify import CHECKS, verify


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "verify", verify)
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


def run(args: argparse.Namespace) -> int:
    results = verify(args.path, skip=args.skip)
    if not results:
        print(
            f"FAIL  nothing to verify in {args.path}: no chart, Dockerfile, workflow or Python project found"
        )
        return EXIT_FAILED
    for result in results:
        line = f"{'PASS' if result.ok else 'FAIL'}  {result.name}"
        print(f"{line}: {result.detail}" if result.detail and not result.ok else line)
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK

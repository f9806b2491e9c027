"""``naavre-scaffold check PATH``."""

from __future__ import annotations

import argparse

from naavre_scaffold.check import check
from naavre_scaffold.cli._common import add_command, add_json, add_quiet, add_vcs_ref, existing_folder
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK
from naavre_scaffold.report import check_lines


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "check", check)
    parser.add_argument("path", type=existing_folder, help="repository (every answers file below it is checked)")
    add_vcs_ref(parser, "compare with this template version, not the newest tag")
    parser.add_argument("--diff", action="store_true", help="show a unified diff of every drifted file")
    add_json(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    reports = check(args.path, args.vcs_ref)
    if not reports:
        print(f"FAIL  {args.path}: no .copier-answers*.yml of a naavre-scaffold template found")
        return EXIT_FAILED
    for report in reports:
        print("\n".join(check_lines(report, args.diff)))
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED

"""``naavre-scaffold update PATH...``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from naavre_scaffold.cli._common import (
    add_command,
    add_json,
    add_quiet,
    add_vcs_ref,
    check_json_target,
    human_output,
    progress,
    write_json,
)
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK, UsageError
from naavre_scaffold.report import update_json, update_table
from naavre_scaffold.update import NEEDS_NOTHING, Options, update


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "update",
        update,
        epilog=(
            "exit status: 0 when every repository is updated or up-to-date, 1 when any needs "
            "a person (conflict, refused, failed), 2 for a usage error, 130 when interrupted"
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="repositories, or folders of them")
    add_vcs_ref(parser, "template version to move to (default: its newest tag)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="repositories updated at once (default: the number of cores, %(default)s here)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    parser.add_argument(
        "--keep-conflicts",
        action="store_true",
        help="for a single repository: leave Copier's conflict markers in its working tree to resolve",
    )
    parser.add_argument(
        "--commit",
        action="store_true",
        help="commit each update on a new branch template-update/<version>; the current branch stays",
    )
    parser.add_argument("--push", action="store_true", help="push that branch to origin (implies --commit)")
    parser.add_argument(
        "--pr",
        action="store_true",
        help="open a pull request for it through the GitHub API, token from GITHUB_TOKEN (implies --push)",
    )
    add_json(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs", "must be at least 1")
    check_json_target(args.json)
    options = Options(
        vcs_ref=args.vcs_ref,
        dry_run=args.dry_run,
        keep_conflicts=args.keep_conflicts,
        commit=args.commit or args.push or args.pr,
        push=args.push or args.pr,
        pull_request=args.pr,
    )
    with progress(0, args.quiet, "updating") as shown:
        outcomes = update(
            [Path(p).expanduser() for p in args.paths],
            options,
            args.jobs,
            on_done=lambda done: [shown.finished(o.path, o.verdict) for o in done],
        )
    update_table(outcomes, human_output(args))
    if args.json:
        write_json(args.json, "update", update_json(outcomes))
    return EXIT_OK if all(o.verdict in NEEDS_NOTHING for o in outcomes) else EXIT_FAILED

"""``naavre-scaffold update PATH...``."""

from __future__ import annotations

import argparse
import sys

from naavre_scaffold.cli._common import (
    ProgressReporter,
    add_command,
    add_json,
    add_quiet,
    add_template_source,
    add_vcs_ref,
    check_json_target,
    existing_folder,
    human_output,
    progress,
    write_json,
)
from naavre_scaffold.cli.report import update_json, update_table, verdict_label
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK, EXIT_TOOL, Interrupted, UsageError
from naavre_scaffold.fleet.update import NEEDS_NOTHING, Options, Outcome, default_jobs, unreachable, update


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "update",
        update,
        epilog=(
            "exit status: 0 when every repository is updated or up-to-date, 1 when any needs "
            "a person (conflict, refused, failed), 2 for a usage error, 3 when a template could "
            "not be fetched, 130 when interrupted"
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="repositories, or folders of them")
    add_vcs_ref(parser, "template version to move to (default: its newest tag)")
    add_template_source(parser)
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        metavar="N",
        help="repositories updated at once (default: one more than the cores, %(default)s here)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    parser.add_argument(
        "--diff",
        action="store_true",
        help="with --dry-run: after the table, print what each repository would get as a patch "
        "that `git apply` accepts in that repository (with --json -, in the JSON 'patch' field instead)",
    )
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
        help="open a pull request for it through the GitHub API (implies --push); the token comes "
        "from GITHUB_TOKEN, else GH_TOKEN, else `gh auth token`",
    )
    add_json(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def _repository_label(outcome: Outcome) -> str:
    """The label ``update`` gave the repository of ``outcome`` when it started it."""
    folder = outcome.folder.strip("/")
    if folder in ("", ".") or not outcome.path.endswith(f"/{folder}"):
        return outcome.path
    return outcome.path[: -len(folder) - 1] or "."


def _finished(shown: ProgressReporter, outcomes: list[Outcome], dry_run: bool) -> None:
    """One progress step per repository, whose status lists its subprojects' verdicts."""
    if not outcomes:
        return
    label = _repository_label(outcomes[0])
    if len(outcomes) == 1:
        status = verdict_label(outcomes[0].verdict, dry_run)
    else:
        status = ", ".join(f"{o.folder} {verdict_label(o.verdict, dry_run)}" for o in outcomes)
    shown.finished(label, status)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs", "must be at least 1")
    if args.diff and not args.dry_run:
        raise UsageError("--diff", "works only with --dry-run")
    # Checked here, not as an argparse type, so that the error names this command.
    paths = [existing_folder(p) for p in args.paths]
    check_json_target(args.json)
    options = Options(
        vcs_ref=args.vcs_ref,
        template_source=args.template_source,
        dry_run=args.dry_run,
        keep_conflicts=args.keep_conflicts,
        commit=args.commit,
        push=args.push,
        pull_request=args.pr,
    )
    try:
        with progress(0, args.quiet, "updating") as shown:
            outcomes = update(
                paths,
                options,
                jobs=args.jobs,
                on_discovered=shown.set_total,
                on_start=shown.started,
                on_done=lambda done: _finished(shown, done, args.dry_run),
            )
    except Interrupted as stop:
        # What did happen is still reported: finished repositories and the skipped ones.
        _report(args, list(stop.partial or []), interrupted=True)
        raise
    _report(args, outcomes, interrupted=False)
    if any(unreachable(o) for o in outcomes):
        return EXIT_TOOL
    return EXIT_OK if all(o.verdict in NEEDS_NOTHING for o in outcomes) else EXIT_FAILED


def _report(args: argparse.Namespace, outcomes: list[Outcome], interrupted: bool) -> None:
    console = human_output(args)
    update_table(outcomes, console, dry_run=args.dry_run, only_problems=args.quiet)
    if args.json:
        write_json(args.json, "update", update_json(outcomes, args.dry_run, interrupted=interrupted))
    if args.diff and args.json != "-":
        _print_patches(outcomes)


def _print_patches(outcomes: list[Outcome]) -> None:
    """Each subproject's would-be patch, after a comment line saying where it applies.

    `git apply` skips lines that are not part of a patch, so the whole output (table
    included) can be fed to it when the run covered one repository.
    """
    for outcome in outcomes:
        if not outcome.patch:
            continue
        sys.stdout.write(f"# {outcome.path}: `git apply` this in {_repository_label(outcome)}\n")
        sys.stdout.write(outcome.patch if outcome.patch.endswith("\n") else outcome.patch + "\n")
    sys.stdout.flush()

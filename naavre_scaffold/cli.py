"""The ``naavre-scaffold`` command: parses arguments, calls the library, prints results."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from naavre_scaffold import __version__
from naavre_scaffold.check import check
from naavre_scaffold.checks import ToolMissingError
from naavre_scaffold.git import GitError
from naavre_scaffold.new import DESTINATIONS, UsageError, create
from naavre_scaffold.next_steps import next_steps
from naavre_scaffold.report import check_lines, update_table, write_update_json
from naavre_scaffold.template_source import TemplateSource, bundled_root, read_questions
from naavre_scaffold.update import NEEDS_NOTHING, Options, update
from naavre_scaffold.verify import CHECKS, verify

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _questions_help() -> str:
    """The questions of the bundled template, for ``new --help``."""
    lines = ["questions (answer with -d KEY=VALUE; the rest are asked, or take their default):"]
    for key, question in read_questions(bundled_root()).items():
        if key not in {"template", "name"} and question.get("when") is not False:
            default = question.get("default")
            shown = f" (default: {default})" if default is not None else ""
            lines.append(f"  {key:<16}{question.get('help', '')}{shown}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="naavre-scaffold",
        description="Create, update and check NaaVRE repositories from Copier templates.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    new = commands.add_parser(
        "new",
        help="create a new NaaVRE repository from a template",
        description=(
            "Create a NaaVRE repository from a template: check every answer, render it with "
            "Copier, run git init and make a first commit, then print the next steps. "
            "Without a terminal, or with --defaults, unanswered questions take their defaults; "
            "otherwise they are asked."
        ),
        epilog=_questions_help() + "\n\nexample: naavre-scaffold new service data-quality -d port=8080\n"
        "  creates ./NaaVRE-data-quality-service, a git repository with one commit",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    new.add_argument("template", choices=sorted(DESTINATIONS), help="kind of repository")
    new.add_argument("name", help="short name, e.g. data-quality (lowercase letters, digits, single hyphens)")
    new.add_argument("--dest", type=Path, help="where to create it (default: ./NaaVRE-<name>-service)")
    new.add_argument(
        "-d",
        "--data",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="answer a question, e.g. -d port=8080 -d github_org=MyOrg (repeatable)",
    )
    new.add_argument(
        "--defaults", action="store_true", help="never ask: use defaults for unanswered questions"
    )
    new.add_argument(
        "--template-source",
        metavar="SRC",
        help="render from this Copier source (a path or git URL) instead of the bundled template",
    )
    new.add_argument(
        "--vcs-ref",
        metavar="REF",
        help="git ref of --template-source to render (default: its newest tag, else HEAD)",
    )

    check = commands.add_parser(
        "verify",
        help="run the render checks on a repository",
        description=(
            "Run the render checks on a NaaVRE repository: Helm charts (lint, render, "
            "kubernetes-validate --strict), Dockerfiles (hadolint), GitHub workflows "
            "(actionlint, zizmor, check-jsonschema) and the Python test suite (uv). "
            "Prints one line per check; exits 1 if any check fails."
        ),
    )
    check.add_argument("path", type=Path, help="repository to check")
    check.add_argument(
        "--skip",
        action="append",
        choices=sorted(CHECKS),
        default=[],
        metavar="KIND",
        help=f"leave out a kind of check (repeatable): {', '.join(CHECKS)}",
    )
    update = commands.add_parser(
        "update",
        help="move repositories to a newer template version",
        description=(
            "Update every repository (or flavor folder) under the given paths to a newer "
            "template version with copier update, in parallel, each template fetched once. "
            "Each repository is updated in a private clone: only a clean result reaches it, "
            "so a conflict, a refusal or a failure leaves it exactly as it was. Prints a "
            "table of verdicts: updated, up-to-date, conflict, refused, failed."
        ),
        epilog=(
            "exit status: 0 when every repository is updated or up-to-date, 1 when any needs "
            "a person (conflict, refused, failed), 2 for a usage error"
        ),
    )
    update.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="repositories, or folders of them"
    )
    update.add_argument(
        "--vcs-ref", metavar="REF", help="template version to move to (default: its newest tag)"
    )
    update.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="repositories updated at once (default: the number of cores, %(default)s here)",
    )
    update.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON to FILE")
    update.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    update.add_argument(
        "--keep-conflicts",
        action="store_true",
        help="for a single repository: leave Copier's conflict markers in its working tree to resolve",
    )
    update.add_argument(
        "--commit",
        action="store_true",
        help="commit each update on a new branch template-update/<version>; the current branch stays",
    )
    update.add_argument("--push", action="store_true", help="push that branch to origin (implies --commit)")
    update.add_argument(
        "--pr",
        action="store_true",
        help="open a pull request for it through the GitHub API, token from GITHUB_TOKEN (implies --push)",
    )

    drift = commands.add_parser(
        "check",
        help="for CI: is a repository on the newest template, and unchanged from its render?",
        description=(
            "Exit 0 when the repository is on the newest template version (or the newer ones "
            "change nothing in it) and its template files match a fresh render of its recorded "
            "version with its recorded answers; exit 1 otherwise, saying which failed. Files "
            "the template leaves to the project, and patterns under project_owned in "
            ".naavre-scaffold.yml beside the answers file, are not drift."
        ),
    )
    drift.add_argument("path", type=Path, help="repository (every answers file below it is checked)")
    drift.add_argument(
        "--vcs-ref", metavar="REF", help="compare with this template version, not the newest tag"
    )
    drift.add_argument("--diff", action="store_true", help="show a unified diff of every drifted file")
    return parser


def _run_update(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs", "must be at least 1")
    options = Options(
        vcs_ref=args.vcs_ref,
        dry_run=args.dry_run,
        keep_conflicts=args.keep_conflicts,
        commit=args.commit or args.push or args.pr,
        push=args.push or args.pr,
        pull_request=args.pr,
    )
    errors = Console(stderr=True)
    with Progress(console=errors, transient=True, disable=not errors.is_terminal) as progress:
        task = progress.add_task("updating", total=None)
        outcomes = update(
            args.paths, options, args.jobs, on_done=lambda done: progress.advance(task, len(done))
        )
    # In a log or a pipe, keep each row on one line rather than folding it into 80 columns.
    output = Console()
    update_table(outcomes, output if output.is_terminal else Console(width=1000))
    if args.json:
        write_update_json(outcomes, args.json)
    return EXIT_OK if all(o.verdict in NEEDS_NOTHING for o in outcomes) else EXIT_FAILED


def _run_check(args: argparse.Namespace) -> int:
    if not args.path.is_dir():
        raise UsageError("path", f"{args.path} is not a folder")
    reports = check(args.path, args.vcs_ref)
    if not reports:
        print(f"FAIL  {args.path}: no .copier-answers*.yml of a naavre-scaffold template found")
        return EXIT_FAILED
    for report in reports:
        print("\n".join(check_lines(report, args.diff)))
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def _run_new(args: argparse.Namespace) -> int:
    if args.vcs_ref and not args.template_source:
        raise UsageError("--vcs-ref", "needs --template-source (the bundled template has one version)")
    source = TemplateSource(args.template_source, args.vcs_ref) if args.template_source else None
    interactive = not args.defaults and sys.stdin.isatty() and sys.stdout.isatty()
    repo = create(
        args.template,
        args.name,
        args.dest,
        dict(args.data),
        source=source,
        defaults=not interactive,
    )
    print(f"Created {repo.path} from {repo.source.label} (commit {repo.commit[:8]}).\n")
    print(next_steps(repo))
    return EXIT_OK


def _run_verify(args: argparse.Namespace) -> int:
    if not args.path.is_dir():
        raise UsageError("path", f"{args.path} is not a folder")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``naavre-scaffold``; returns the exit code."""
    args = _parser().parse_args(argv)
    handlers = {"new": _run_new, "verify": _run_verify, "update": _run_update, "check": _run_check}
    try:
        return handlers[args.command](args)
    except UsageError as error:
        print(f"naavre-scaffold {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (GitError, ToolMissingError) as error:
        print(f"naavre-scaffold {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILED

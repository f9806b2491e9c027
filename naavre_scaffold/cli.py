"""The ``naavre-scaffold`` command: parses arguments, calls the library, prints results."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from naavre_scaffold import __version__
from naavre_scaffold.checks import ToolMissingError
from naavre_scaffold.git import GitError
from naavre_scaffold.new import DESTINATIONS, UsageError, create
from naavre_scaffold.next_steps import next_steps
from naavre_scaffold.template_source import TemplateSource, bundled_root, read_questions
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
    return parser


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
    handlers = {"new": _run_new, "verify": _run_verify}
    try:
        return handlers[args.command](args)
    except UsageError as error:
        print(f"naavre-scaffold {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (GitError, ToolMissingError) as error:
        print(f"naavre-scaffold {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILED

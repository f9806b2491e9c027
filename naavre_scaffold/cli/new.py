"""``naavre-scaffold new TEMPLATE NAME``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from naavre_scaffold.cli._common import add_command, add_vcs_ref
from naavre_scaffold.errors import EXIT_OK, UsageError
from naavre_scaffold.new import create
from naavre_scaffold.template_source import TemplateSource, bundled_root, read_questions
from naavre_scaffold.templates import TEMPLATES


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


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "new",
        create,
        epilog=_questions_help() + "\n\nexample: naavre-scaffold new service data-quality -d port=8080\n"
        "  creates ./NaaVRE-data-quality-service, a git repository with one commit",
    )
    parser.add_argument("template", choices=sorted(TEMPLATES), help="kind of repository")
    parser.add_argument(
        "name", help="short name, e.g. data-quality (lowercase letters, digits, single hyphens)"
    )
    parser.add_argument("--dest", help="where to create it (default: ./NaaVRE-<name>-service)")
    parser.add_argument(
        "-d",
        "--data",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="answer a question, e.g. -d port=8080 -d github_org=MyOrg (repeatable)",
    )
    parser.add_argument(
        "--defaults", action="store_true", help="never ask: use defaults for unanswered questions"
    )
    parser.add_argument(
        "--template-source",
        metavar="SRC",
        help="render from this Copier source (a path or git URL) instead of the bundled template",
    )
    add_vcs_ref(parser, "git ref of --template-source to render (default: its newest tag, else HEAD)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.vcs_ref and not args.template_source:
        raise UsageError("--vcs-ref", "needs --template-source (the bundled template has one version)")
    source = TemplateSource(args.template_source, args.vcs_ref) if args.template_source else None
    interactive = not args.defaults and sys.stdin.isatty()
    repo = create(
        args.template,
        args.name,
        Path(args.dest).expanduser() if args.dest else None,
        dict(args.data),
        source=source,
        defaults=not interactive,
    )
    print(f"Created {repo.path} from {repo.source.label} (commit {repo.commit[:8]}).\n")
    print(TEMPLATES[repo.template].next_steps(repo.path, repo.answers))
    return EXIT_OK

"""``naavre-scaffold new TEMPLATE NAME``."""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import jinja2

from naavre_scaffold._copier.prompts import NO_TERMINAL_NOTICE
from naavre_scaffold.cli._common import add_answers, add_command, add_quiet, add_vcs_ref, answers_given
from naavre_scaffold.errors import EXIT_OK
from naavre_scaffold.new.answers import template_asks
from naavre_scaffold.new.create import NewRepo, create
from naavre_scaffold.source import TemplateSource, bundled_root, read_questions, resolve
from naavre_scaffold.templates import TEMPLATES

NAME_PLACEHOLDER = "<name>"


def _shown_default(default: Any, context: dict[str, Any]) -> str:
    """A question's default as it would be computed for a repository named ``<name>``."""
    if not isinstance(default, str) or "{" not in default:
        return str(default)
    try:
        return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(default).render(context)
    except jinja2.TemplateError:
        return "derived from the other answers"


def _questions_help(template: str) -> list[str]:
    """The questions the bundled ``template`` asks, with their defaults as computed."""
    width = min(shutil.get_terminal_size((80, 24)).columns, 100)
    context: dict[str, Any] = {"template": template, "name": NAME_PLACEHOLDER}
    lines = [f"questions of the {template} template (answer with -d KEY=VALUE):"]
    for key, question in read_questions(bundled_root()).items():
        if key in context:
            continue
        if not template_asks(question, template):
            continue
        default = question.get("default")
        context[key] = _shown_default(default, context) if default is not None else ""
        text = _shown_default(question.get("help", ""), context).strip()  # a help may be a template too
        if default is not None:
            shown = {"": "empty", "True": "yes", "False": "no"}.get(str(context[key]), context[key])
            text += f" (default: {shown})"
        if choices := question.get("choices"):
            values = choices.values() if isinstance(choices, dict) else choices
            text += f" (one of: {', '.join(map(str, values))})"
        lines.append(
            textwrap.fill(
                text,
                width,
                initial_indent=f"  {key:<16}",
                subsequent_indent=" " * 18,
                break_on_hyphens=False,
                break_long_words=False,
            )
        )
    return lines


def _epilog() -> str:
    lines: list[str] = []
    for template in TEMPLATES:
        lines += [*_questions_help(template), ""]
    lines += [
        "examples:",
        "  naavre-scaffold new service data-quality --defaults",
        "      creates ./NaaVRE-data-quality-service, a git repository with one commit",
        "  naavre-scaffold new service qc -d port=8080 --pretend",
        "      lists the files it would write, and writes nothing",
        "  naavre-scaffold new jupyterlab my-tool -d service=containerizer --defaults",
        "      creates ./NaaVRE-my-tool-jupyterlab, which calls the containerizer service",
        "  naavre-scaffold new flavor ecology -d languages=both",
        "      at the root of a flavors repo: writes ./flavors/ecology, not committed",
    ]
    return "\n".join(lines)


def add(commands: argparse._SubParsersAction) -> None:
    destinations = ", ".join(f"./{kind.destination.format(name='<name>')}" for kind in TEMPLATES.values())
    parser = add_command(commands, "new", create, epilog=_epilog)  # built only for --help
    parser.add_argument("template", choices=sorted(TEMPLATES), help="kind of repository")
    parser.add_argument(
        "name", help="short name, e.g. data-quality (lowercase letters, digits, single hyphens)"
    )
    parser.add_argument("--dest", metavar="PATH", help=f"where to create it (default: {destinations})")
    data = add_answers(parser, "e.g. -d port=8080 -d github_org=MyOrg")
    data.completer = _question_keys  # type: ignore[attr-defined]  # argcomplete reads it
    parser.add_argument(
        "--defaults", action="store_true", help="never ask: use defaults for unanswered questions"
    )
    parser.add_argument(
        "-n",
        "--pretend",
        action="store_true",
        help="check the answers and list the files that would be written; write nothing",
    )
    parser.add_argument(
        "--template-source",
        metavar="SRC",
        help="render this template (a checkout or a git URL) instead of the bundled one; "
        "a checkout is rendered as it is, uncommitted changes included, unless --vcs-ref is given",
    )
    add_vcs_ref(
        parser, "version of --template-source to render (default: a checkout's HEAD, a URL's newest tag)"
    )
    add_quiet(parser)
    parser.set_defaults(run=run)


def _question_keys(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """What Tab offers after -d: ``KEY=`` for each question the chosen template asks."""
    template = getattr(parsed_args, "template", None)
    keys = [
        key
        for key, question in read_questions(bundled_root()).items()
        if key not in ("template", "name")  # the command's arguments
        and question.get("when") is not False  # derived, never asked
        and (template is None or template_asks(question, template))
    ]
    return [f"{key}=" for key in keys if key.startswith(prefix)]


def run(args: argparse.Namespace) -> int:
    data = answers_given(args)
    source = resolve(args.template_source, args.vcs_ref)
    interactive = not args.defaults and sys.stdin.isatty()
    notice = not interactive and not args.defaults and not args.quiet
    repo = create(
        args.template,
        args.name,
        dest=Path(args.dest).expanduser() if args.dest else None,
        data=data,
        source=source,
        defaults=not interactive,
        pretend=args.pretend,
        next_steps=not args.quiet,
        announce=functools.partial(_announce, source, notice, args.pretend),
    )
    if repo.next_steps:
        print()
        print(repo.next_steps)
    return EXIT_OK


def _announce(source: TemplateSource, notice: bool, pretend: bool, repo: NewRepo) -> None:
    """Say what ``new`` made, or would make; until this is printed, a failure undoes the run."""
    if notice:  # after the checks: an error stays one line
        print(f"naavre-scaffold new: {NO_TERMINAL_NOTICE}", file=sys.stderr)
    if pretend:
        print(f"Would create {_shown(repo.path)} from {source.label}, with {len(repo.files)} files:")
        print("\n".join(f"  {file}" for file in repo.files))
        print("Nothing was written (--pretend).")
        return
    made = (
        f"the new repository's first commit is {repo.commit[:8]}"
        if repo.commit
        else "not committed: part of the repository around it"
    )
    print(f"Created {_shown(repo.path)} from {source.label} ({made}).", flush=True)


def _shown(path: Path) -> str:
    """``path`` as it was given, unless that names no folder of its own (``.``, ``..``): then in full."""
    return str(path.resolve() if path.name in ("", "..") else path)

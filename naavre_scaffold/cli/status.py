"""``naavre-scaffold status --org ORG`` and ``naavre-scaffold status PATH...``.

Progress goes to stderr, one ``[n/total] repo: state`` line per repository (a bar in
a terminal); the table, the repositories not adopted yet and a summary line go to
stdout (to stderr when ``--json -`` or ``--markdown -`` holds stdout).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from naavre_scaffold.cli._common import (
    add_command,
    add_json,
    add_quiet,
    add_template_source,
    check_json_target,
    existing_folder,
    progress,
    write_json,
)
from naavre_scaffold.errors import EXIT_OK, EXIT_TOOL, UsageError
from naavre_scaffold.fleet.sources import Problem
from naavre_scaffold.fleet.status import RepoStatus, StatusReport, client_for, status
from naavre_scaffold.fleet.status_output import status_json, status_markdown

_STYLE = {"current": "green", "failed": "red"}  # behind and drifted: yellow


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "status",
        status,
        epilog=(
            "exit status: 0 when the status was shown (behind or drifted repositories included); "
            "2 for a usage error (both --org and PATHs, or neither; a bad organisation name; no "
            "token for --org); 3 when the GitHub API or a template source could not be read"
        ),
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="local checkouts, or folders of them (instead of --org)"
    )
    parser.add_argument(
        "--org",
        metavar="ORG",
        help="every repository of this GitHub organisation, archived ones skipped; the API is "
        "GITHUB_API_URL (default https://api.github.com); a rate limit is waited out for at most "
        "NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT seconds (default 60)",
    )
    add_template_source(parser)
    add_json(parser)
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        help="also write the report as Markdown for a pinned 'Template dashboard' issue to FILE "
        "('-': standard output)",
    )
    add_quiet(parser)
    parser.set_defaults(run=run)


def _check_markdown_target(target: str | None, json_target: str | None) -> None:
    if target is None:
        return
    if target == "-":
        if json_target == "-":
            raise UsageError("--markdown", "- and --json - cannot both have standard output")
        return
    path = Path(target).expanduser()
    if path.is_dir():
        raise UsageError("--markdown", f"{target} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError("--markdown", f"the folder {path.parent} does not exist")


def run(args: argparse.Namespace) -> int:
    # Every input is checked before the first request or render.
    if args.org is not None and args.paths:
        raise UsageError("--org", "give either --org ORG or PATHs of checkouts, not both")
    if args.org is None and not args.paths:
        raise UsageError("path", "give PATHs of checkouts, or --org ORG for a GitHub organisation")
    paths = [existing_folder(p) for p in args.paths]
    if args.org is not None:
        client_for(args.org)  # the organisation's name, the token and the wait cap
    check_json_target(args.json)
    _check_markdown_target(args.markdown, args.json)
    with progress(0, args.quiet, "reading") as shown:
        report = status(
            paths,
            org=args.org,
            template_source=args.template_source,
            on_total=shown.set_total,
            on_start=shown.started,
            on_done=shown.finished,
        )
    # The human report goes to stderr when stdout holds the JSON or the Markdown.
    stream = sys.stderr if "-" in (args.json, args.markdown) else sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else 100, highlight=False, soft_wrap=False)
    if not args.quiet:
        table = status_table(report)
        # In a log, never cut a repository's name: the table is as wide as it needs.
        if not stream.isatty():
            console.width = max(
                console.width, Measurement.get(console, console.options.update_width(10_000), table).maximum
            )
        console.print(table)
        if report.not_adopted:
            print("not adopted yet: " + ", ".join(u.name for u in report.not_adopted), file=stream)
    print(summary_line(report), file=stream, flush=True)
    if args.json:
        write_json(args.json, "status", status_json(report))
    if args.markdown == "-":
        sys.stdout.write(status_markdown(report))
        sys.stdout.flush()
    elif args.markdown:
        Path(args.markdown).expanduser().write_text(status_markdown(report))
    template_failed = any(r.error_kind == Problem.TEMPLATE for r in report.repos)
    return EXIT_TOOL if template_failed else EXIT_OK


def _drift(repo: RepoStatus) -> str:
    return f"{len(repo.drift)} file(s)" if repo.drift else ""


def _pull_requests(repo: RepoStatus) -> str:
    if repo.pull_requests is None:
        return ""
    return "\n".join(f"#{p.number} {p.ci}" for p in repo.pull_requests) or "none"


def status_table(report: StatusReport) -> Table:
    """One row per adopted repository: versions, state, and update PRs (GitHub) or drift (checkouts)."""
    table = Table(show_edge=False, pad_edge=False)
    for column in ("repo", "template", "version", "newest", "state"):
        table.add_column(column, no_wrap=True)
    local = report.org is None
    table.add_column("drift" if local else "update PRs", no_wrap=True)
    errors = any(repo.error for repo in report.repos)
    if errors:  # a column of blanks would only pad every line
        table.add_column("message", overflow="fold")
    for repo in report.repos:
        state = Text(repo.state, style=_STYLE.get(repo.state, "yellow"))
        # Text, not strings: rich would read a [bracket] in a name or a message as markup.
        cells = [
            Text(repo.name),
            Text(repo.template or ""),
            Text(repo.version or ""),
            Text(repo.newest or ""),
            state,
            Text(_drift(repo) if local else _pull_requests(repo)),
        ]
        table.add_row(*cells, *([Text(repo.error or "")] if errors else []))
    return table


def summary_line(report: StatusReport) -> str:
    counts = report.counts
    parts = [
        f"{counts[key]} {key.replace('_', ' ')}"
        for key in ("adopted", "current", "behind", "drifted", "failed")
    ]
    parts.append(f"{counts['not_adopted']} not adopted yet")
    if report.org is not None:
        parts += [f"{counts['archived']} archived (skipped)", f"{counts['pull_requests']} update PR(s)"]
    return ", ".join(parts)

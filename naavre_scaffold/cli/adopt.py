"""``naavre-scaffold adopt PATH``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from naavre_scaffold.cli._common import (
    add_answers,
    add_command,
    add_json,
    add_quiet,
    add_vcs_ref,
    answers_given,
    check_json_target,
    existing_folder,
    write_json,
)
from naavre_scaffold.errors import EXIT_OK
from naavre_scaffold.fleet.adopt import AdoptReport, FileFate, adopt
from naavre_scaffold.fleet.adopt.infer import ADOPTABLE, Inferred
from naavre_scaffold.source import resolve


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "adopt", adopt)
    parser.add_argument("path", type=existing_folder, metavar="PATH", help="the repository's top folder")
    parser.add_argument(
        "--template",
        choices=ADOPTABLE,
        help="the template to adopt (default: read from the repository's shape)",
    )
    add_answers(parser, "over what the repository says, e.g. -d port=8080")
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="never ask: a question the repository does not answer takes its default",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what adopting would do; make no branch"
    )
    parser.add_argument(
        "--diff", action="store_true", help="print the diff of each file the template's version replaces"
    )
    parser.add_argument(
        "--template-source",
        metavar="SRC",
        help="adopt this template (a checkout or a git URL) instead of the bundled one",
    )
    add_vcs_ref(
        parser, "version of --template-source to adopt (default: a checkout's HEAD, a URL's newest tag)"
    )
    add_json(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_json_target(args.json)
    source = resolve(args.template_source, args.vcs_ref)
    report = adopt(
        args.path,
        template=args.template,
        data=answers_given(args),
        data_source="--data or --data-file",
        source=source,
        defaults=args.defaults or not sys.stdin.isatty(),
        dry_run=args.dry_run,
    )
    if args.json:
        write_json(args.json, "adopt", _json(report))
    # Plain lines, never wrapped: the next steps are commands to copy.
    stream = sys.stderr if args.json == "-" else sys.stdout
    print("\n".join(_lines(report, args.quiet, args.diff)), file=stream)
    return EXIT_OK


def _lines(report: AdoptReport, quiet: bool, diff: bool) -> list[str]:
    counts = ", ".join(f"{len(report.of(fate))} {fate.value}" for fate in FileFate if report.of(fate))
    what = f"{report.path.name} as a {report.template} at {report.version}"
    done = f"would adopt {what}" if report.commit is None else f"adopted {what} on branch {report.branch}"
    summary = f"{done}: {counts}; {len(report.untouched)} files of the project's not in the template"
    if quiet:
        return [summary]
    lines = ["Answers:"]
    lines += [f"  {key} = {found.value!r}  ({found.source})" for key, found in sorted(report.answers.items())]
    for flavor, answers in report.flavors.items():
        lines.append(f"Answers of the flavor {flavor}:")
        lines += [f"  {key} = {found.value!r}  ({found.source})" for key, found in sorted(answers.items())]
    if report.replaced_answers:
        lines.append(f"Answers file: replaces the one of {report.replaced_answers}")
    if report.base:
        lines.append(f"Common base: {report.base} (your changes since then are kept where they merge)")
    for fate in (FileFate.ADDED, FileFate.REPLACED, FileFate.MERGED, FileFate.KEPT, FileFate.NOT_ADDED):
        if files := report.of(fate):
            lines.append(f"{fate.value.capitalize()} ({_meaning(fate)}):")
            lines += [f"  {f.path}" for f in files]
    if diff:
        changed = report.of(FileFate.REPLACED) + report.of(FileFate.MERGED)
        lines += [f.diff.rstrip("\n") for f in changed if f.diff]
    lines += [f"Note: {note}" for note in report.notes]
    lines.append(summary)
    if report.commit is not None:
        lines += [
            "Next: review the branch, then merge it:",
            f"  git -C {report.path} diff HEAD...{report.branch}",
            f"  git -C {report.path} merge {report.branch}",
        ]
    return lines


def _answers(answers: dict[str, Inferred]) -> dict[str, dict[str, Any]]:
    return {key: {"value": found.value, "source": found.source} for key, found in sorted(answers.items())}


def _meaning(fate: FileFate) -> str:
    return {
        FileFate.ADDED: "the template adds them",
        FileFate.REPLACED: "the template's version replaces the project's; --diff shows how",
        FileFate.MERGED: "the template's version with the project's changes since the common base; "
        "the project's from now on",
        FileFate.KEPT: "the project's own, left as they are",
        FileFate.NOT_ADDED: "template files where the project's own code stands: never written here",
    }[fate]


def _json(report: AdoptReport) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "template": report.template,
        "version": report.version,
        "branch": report.branch,
        "commit": report.commit,
        "dry_run": report.commit is None,
        "answers": _answers(report.answers),
        "flavors": {flavor: _answers(answers) for flavor, answers in report.flavors.items()},
        "replaced_answers": report.replaced_answers,
        "base": report.base,
        "unmerged": report.unmerged,
        "files": [{"path": f.path, "fate": f.fate.value, "diff": f.diff or None} for f in report.files],
        "untouched": report.untouched,
        "notes": report.notes,
    }

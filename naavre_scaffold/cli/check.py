"""``naavre-scaffold check PATH``."""

from __future__ import annotations

import argparse

from naavre_scaffold.check import CheckReport, check
from naavre_scaffold.cli._common import add_command, add_json, add_quiet, add_vcs_ref, existing_folder
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK


def check_lines(report: CheckReport, show_diff: bool) -> list[str]:
    """What ``check`` prints for one subproject."""
    where = str(report.path)
    if report.error:
        return [f"FAIL  {where}: {report.error}"]
    if report.behind:
        lines = [f"FAIL  {where}: version {report.version} is behind the newest template {report.newest}"]
    else:
        note = f" ({report.version_note})" if report.version_note else ""
        lines = [f"PASS  {where}: version {report.version}{note}"]
    if report.drift:
        lines.append(
            f"FAIL  {where}: {len(report.drift)} file(s) differ from the template at {report.version}:"
        )
        lines += [f"        {kind:<9}{path}" for path, kind in report.drift]
        if show_diff:
            lines += [report.diffs[path].rstrip("\n") for path, _ in report.drift if report.diffs[path]]
    else:
        lines.append(f"PASS  {where}: no drift from the template at {report.version}")
    return lines


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "check", check)
    parser.add_argument(
        "path", type=existing_folder, help="repository (every answers file below it is checked)"
    )
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

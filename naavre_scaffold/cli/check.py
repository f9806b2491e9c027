"""``naavre-scaffold check PATH...``.

Progress goes to stderr as each subproject finishes (a bar in a terminal); the
report, one PASS/FAIL line per question and subproject, then a summary line,
goes to stdout (to stderr with ``--json -``). Drift diffs are git patches.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from naavre_scaffold.cli._common import (
    add_command,
    add_json,
    add_quiet,
    add_template_source,
    add_vcs_ref,
    check_json_target,
    coloured_verdicts,
    existing_folder,
    progress,
    write_json,
)
from naavre_scaffold.errors import EXIT_FAILED, EXIT_OK, EXIT_TOOL
from naavre_scaffold.fleet.check import CheckReport, Problem, check, check_subprojects
from naavre_scaffold.fleet.discovery import find_subprojects


def check_lines(report: CheckReport, show_diff: bool, quiet: bool = False) -> list[str]:
    """What ``check`` prints for one subproject; ``quiet`` keeps only the FAIL lines."""
    where = str(report.path)
    if report.error:
        return [f"FAIL  {where}: {report.error}"]
    lines = []
    if report.behind:
        lines.append(
            f"FAIL  {where}: version {report.version} is behind the newest template {report.newest},"
            f" which changes {len(report.changes)} file(s):"
        )
        lines += [f"        {kind:<9}{path}" for path, kind in report.changes]
    elif not quiet:
        note = f" ({report.version_note})" if report.version_note else ""
        lines.append(f"PASS  {where}: version {report.version}{note}")
    if report.drift:
        lines.append(
            f"FAIL  {where}: {len(report.drift)} file(s) differ from the template at {report.version}:"
        )
        lines += [f"        {kind:<9}{path}" for path, kind in report.drift]
        if show_diff:
            # Only the newline the join adds back: a binary patch ends with a blank line git apply needs.
            lines += [
                report.diffs[path].removesuffix("\n") for path, _ in report.drift if report.diffs.get(path)
            ]
    elif not quiet:
        lines.append(f"PASS  {where}: no drift from the template at {report.version}")
    return lines


def counts(reports: list[CheckReport]) -> dict[str, int]:
    """How many subprojects are current, behind, drifted, failed (both behind and drifted: counted twice)."""
    return {
        "current": sum(r.ok for r in reports),
        "behind": sum(r.behind for r in reports),
        "drifted": sum(bool(r.drift) for r in reports),
        "failed": sum(bool(r.error) for r in reports),
    }


def check_json(reports: list[CheckReport], show_diff: bool) -> dict[str, Any]:
    """The ``--json`` report: ``repos`` (one per subproject) and ``counts``; diffs with ``--diff``."""
    return {"repos": [_repo_json(report, show_diff) for report in reports], "counts": counts(reports)}


def _repo_json(report: CheckReport, show_diff: bool) -> dict[str, Any]:
    drift = [{"path": path, "kind": kind} for path, kind in report.drift]
    if show_diff:
        drift = [{**entry, "diff": report.diffs.get(entry["path"], "")} for entry in drift]
    return {
        "path": str(report.path),
        "version": report.version,
        "newest": report.newest,
        "behind": report.behind,
        "changes": [{"path": path, "kind": kind} for path, kind in report.changes],
        "version_note": report.version_note,
        "drift": drift,
        "error": report.error,
        "error_kind": report.error_kind,
        "ok": report.ok,
    }


def _nothing_found(path: Path) -> CheckReport:
    """The report of a folder with no answers file of ours: the repository's problem."""
    message = "no .copier-answers*.yml of a naavre-scaffold template found"
    return CheckReport(path, None, error=message, error_kind=Problem.REPOSITORY)


def progress_status(report: CheckReport) -> str:
    """How a finished subproject shows in the progress lines: PASS, or FAIL and why."""
    if report.ok:
        return "PASS"
    return f"FAIL ({'could not be checked' if report.error else report.status})"


def summary_line(reports: list[CheckReport]) -> str:
    return ", ".join(f"{number} {word}" for word, number in counts(reports).items())


def exit_code(reports: list[CheckReport]) -> int:
    """3 if the tool could not check a subproject, 1 if any needs a person (or none was found), else 0."""
    if any(r.error_kind == Problem.TEMPLATE for r in reports):
        return EXIT_TOOL
    return EXIT_OK if reports and all(r.ok for r in reports) else EXIT_FAILED


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "check",
        check,
        epilog=(
            "exit status: 0 when every subproject is current and matches its render; 1 when any is "
            "behind, has drifted, has a broken answers file, its template has no --vcs-ref, or none was "
            "found; 2 for a usage error; 3 when the template could not be fetched or does not have the "
            "recorded version"
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="repositories, or folders of them (every answers file below)"
    )
    add_vcs_ref(parser, "compare with this template version, not the newest tag")
    add_template_source(parser)
    parser.add_argument(
        "--diff",
        action="store_true",
        help="show each drifted file as a git patch that brings back the template's version "
        "(the output can be piped to git apply at the repository's root)",
    )
    add_json(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Checked here, not as an argparse type, so that the error names this command.
    paths = list(dict.fromkeys(existing_folder(p) for p in args.paths))
    check_json_target(args.json)
    subprojects = [sub for path in paths for sub in find_subprojects(path)]
    with progress(len(subprojects), args.quiet, "checking") as shown:
        reports = check_subprojects(
            subprojects,
            vcs_ref=args.vcs_ref,
            on_start=lambda sub: shown.started(str(sub.folder)),
            on_report=lambda r: shown.finished(str(r.path), progress_status(r)),
            template_source=args.template_source,
        )
    reports += [
        _nothing_found(path)
        for path in paths
        if not any(sub.folder.is_relative_to(path) for sub in subprojects)
    ]
    # Written as they are, not through rich: a patch keeps its tabs, carriage returns and brackets.
    out = sys.stderr if args.json == "-" else sys.stdout
    for report in reports:
        lines = check_lines(report, args.diff, args.quiet)
        if lines:
            print("\n".join(coloured_verdicts(lines, out)), file=out)
    print(summary_line(reports), file=out, flush=True)
    if args.json:
        write_json(args.json, "check", check_json(reports, args.diff))
    return exit_code(reports)

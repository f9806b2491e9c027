"""How ``update`` results are shown: a table for people, JSON for machines.

The JSON report (``update --json FILE|-``), schema ``naavre-scaffold/update``, schema_version 1:

- ``schema``, ``schema_version``, ``naavre_scaffold_version``: the envelope every report has
- ``dry_run``: true when nothing was written
- ``interrupted``: true when Ctrl-C or SIGTERM stopped the run; ``skipped`` rows never started
- ``counts``: the number of repositories per verdict, every verdict present (zeros too)
- ``repos``: one object per subproject (a repository, or a flavor folder in one), with
  the keys in ``REPO_KEYS``: ``path`` (as given, relative to the current folder when below it),
  ``verdict``, ``from_version`` and ``to_version`` (template versions, or null), ``files``
  (the files the update changes or would change, relative to the repository root), ``message``
  (one line for a person), ``branch`` (the branch made by ``--commit``, or null), ``pull_request`` (its URL,
  or null), ``source`` (the template's ``_src_path``, or null), ``folder`` (the subproject's
  folder inside its git repository, ``.`` for the whole repository) and ``patch`` (for a dry
  run, what would be delivered as a ``git apply`` patch relative to the repository root;
  otherwise null).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from naavre_scaffold.fleet.update import NEEDS_NOTHING, Outcome, Verdict

# Every verdict, in the order counts show them.
VERDICTS = tuple(str(verdict) for verdict in Verdict)
REPO_KEYS = (
    "path",
    "verdict",
    "from_version",
    "to_version",
    "files",
    "message",
    "branch",
    "pull_request",
    "source",
    "folder",
    "patch",
)
_STYLE = {
    Verdict.UPDATED: "green",
    Verdict.UP_TO_DATE: "dim",
    Verdict.CONFLICT: "yellow",
    Verdict.REFUSED: "yellow",
    Verdict.FAILED: "red",
    Verdict.SKIPPED: "magenta",
}
SHOWN_FILES = 4
DETAIL_INDENT = 4
# The message column of the one-row-per-repository table gets at least this much room;
# with less, each repository gets a line and its details wrap below it.
MIN_MESSAGE_WIDTH = 36


def _files(files: list[str]) -> list[str]:
    shown = files[:SHOWN_FILES]
    return [*shown, f"(+{len(files) - SHOWN_FILES} more)"] if len(files) > SHOWN_FILES else shown


def verdict_label(verdict: Verdict, dry_run: bool = False) -> str:
    """How a verdict reads: ``would update`` in a dry run, where nothing was updated."""
    return "would update" if dry_run and verdict == Verdict.UPDATED else str(verdict)


def _verdict(outcome: Outcome, dry_run: bool) -> Text:
    return Text(verdict_label(outcome.verdict, dry_run), style=_STYLE.get(outcome.verdict, ""))


def _table(outcomes: list[Outcome], dry_run: bool) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("repo", "verdict", "from", "to"):
        table.add_column(column, no_wrap=True)
    table.add_column("files", no_wrap=True)
    table.add_column("message", overflow="fold")  # wraps at spaces; folds only a longer word
    for o in outcomes:
        files = "\n".join(_files(o.files))
        table.add_row(
            o.path, _verdict(o, dry_run), o.from_version or "", o.to_version or "", files, o.message
        )
    return table


def _fits(console: Console, outcomes: list[Outcome], dry_run: bool) -> bool:
    """Whether the table leaves its message column room enough to wrap at spaces only."""
    without_message = Table(show_edge=False, pad_edge=False)
    for column in ("repo", "verdict", "from", "to", "files"):
        without_message.add_column(column, no_wrap=True)
    for o in outcomes:
        without_message.add_row(
            o.path,
            verdict_label(o.verdict, dry_run),
            o.from_version or "",
            o.to_version or "",
            "\n".join(_files(o.files)),
        )
    used = Measurement.get(console, console.options, without_message).maximum + 3  # + " │ "
    longest_word = max((len(w) for o in outcomes for w in o.message.split()), default=0)
    return console.width - used >= max(MIN_MESSAGE_WIDTH, longest_word)


def _stacked(outcomes: list[Outcome], console: Console, dry_run: bool) -> None:
    """A line per repository (name, verdict, versions), its files and message wrapped below."""
    name_width = max(len(o.path) for o in outcomes)
    verdict_width = max(len(verdict_label(o.verdict, dry_run)) for o in outcomes)
    for o in outcomes:
        versions = " -> ".join(v for v in (o.from_version, o.to_version) if v)
        if o.from_version and o.from_version == o.to_version:
            versions = o.from_version
        line = Text.assemble(
            o.path.ljust(name_width),
            "  ",
            _verdict(o, dry_run),
            " " * (verdict_width - len(verdict_label(o.verdict, dry_run))),
            "  ",
        )
        line.append(versions)
        line.rstrip()
        # A repository's name is never broken, even when it is wider than the console.
        console.print(line, no_wrap=True, overflow="ignore", crop=False)
        details = [o.message] if o.message else []
        if o.files:
            details.append("files: " + ", ".join(_files(o.files)))
        for detail in details:
            # Wrapped at spaces; only a word longer than the whole line is folded.
            for wrapped in Text(detail).wrap(
                console, max(console.width - DETAIL_INDENT, 20), overflow="fold"
            ):
                wrapped.rstrip()
                console.print(Text(" " * DETAIL_INDENT) + wrapped, no_wrap=True, crop=False)


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """The number of outcomes per verdict, every verdict included."""
    return {verdict: sum(o.verdict == verdict for o in outcomes) for verdict in VERDICTS}


def summary(outcomes: list[Outcome], dry_run: bool = False) -> str:
    """The last line: how many repositories got each verdict (``would update`` in a dry run)."""
    parts = [
        f"{n} {verdict_label(Verdict(verdict), dry_run)}" for verdict, n in counts(outcomes).items() if n
    ]
    return ", ".join(parts) or "no repositories found"


def update_table(
    outcomes: list[Outcome], console: Console, dry_run: bool = False, only_problems: bool = False
) -> None:
    """The verdicts, readable at any width, then the summary line.

    A wide terminal gets one row per subproject; a narrow one (or a long message), and
    any output that is not a terminal (a log, a file: one shape, whatever the content),
    gets a line per subproject with its message and files wrapped at spaces below it. With
    ``only_problems``, only the rows that need a person are shown (``--quiet``).
    """
    shown = [o for o in outcomes if o.verdict not in NEEDS_NOTHING] if only_problems else outcomes
    if shown:
        if console.is_terminal and _fits(console, shown, dry_run):
            console.print(_table(shown, dry_run))
        else:
            _stacked(shown, console, dry_run)
    console.print(summary(outcomes, dry_run), no_wrap=False)


def update_json(outcomes: list[Outcome], dry_run: bool, interrupted: bool = False) -> dict[str, Any]:
    """The ``update`` report for ``--json``: see this module's documentation for its keys."""
    return {
        "dry_run": dry_run,
        "interrupted": interrupted,
        "counts": counts(outcomes),
        "repos": [{**asdict(o), "verdict": str(o.verdict)} for o in outcomes],
    }

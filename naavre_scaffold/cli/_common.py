"""What every subcommand shares: help formatting, shared options, JSON output, progress lines."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from naavre_scaffold import __version__
from naavre_scaffold.errors import UsageError
from naavre_scaffold.source import is_remote

JSON_SCHEMA_VERSION = 1


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose to the terminal; keeps indented lines (lists, examples) as they are written."""

    def __init__(self, prog: str) -> None:
        width = min(shutil.get_terminal_size((80, 24)).columns, 100)
        super().__init__(prog, width=width, max_help_position=28)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for block in textwrap.dedent(text).strip("\n").split("\n\n"):
            if block.startswith(" ") or "\n " in block:  # a list or an example: as written
                paragraphs.append("\n".join(indent + line for line in block.splitlines()))
            else:
                paragraphs.append(
                    textwrap.fill(
                        " ".join(block.split()),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                        break_on_hyphens=False,
                    )
                )
        return "\n\n".join(paragraphs)


def summary(function: Callable[..., Any]) -> str:
    """The first paragraph of a library function's docstring: the command's one-line help."""
    doc = inspect.getdoc(function) or ""
    return " ".join(doc.split("\n\n")[0].split())


def description(function: Callable[..., Any]) -> str:
    """A library function's docstring up to its first section of notes, as command help.

    The help of a command is its function's documentation, so the two cannot drift.
    """
    doc = inspect.getdoc(function) or ""
    return re.split(r"\n\n(?:Raises|Returns|Args):", doc)[0]


def add_command(
    commands: argparse._SubParsersAction, name: str, function: Callable[..., Any], **kwargs: Any
) -> argparse.ArgumentParser:
    """A subcommand whose help comes from ``function``'s docstring; no abbreviated options."""
    parser = commands.add_parser(
        name,
        help=summary(function),
        description=description(function),
        formatter_class=HelpFormatter,
        allow_abbrev=False,
        **kwargs,
    )
    parser.set_defaults(parser=parser)  # so that main() reports stray arguments with this usage
    return parser


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def add_answers(parser: argparse.ArgumentParser, example: str) -> argparse.Action:
    """``-d KEY=VALUE`` and ``--data-file FILE``, as ``new`` and ``adopt`` take answers; returns ``-d``."""
    data = parser.add_argument(
        "-d",
        "--data",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help=f"answer a question, {example} (repeatable); a yes/no question takes true/false, yes/no, "
        "y/n, on/off or 1/0",
    )
    parser.add_argument(
        "--data-file",
        metavar="FILE",
        help="answers from a YAML file of KEY: VALUE lines (-d wins over it)",
    )
    return data


def answers_given(args: argparse.Namespace) -> dict[str, Any]:
    """The answers of ``--data-file``, then ``-d`` over them."""
    return _data_file(args.data_file) | dict(args.data)


def _data_file(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    file = Path(path).expanduser()
    try:
        data = yaml.safe_load(file.read_text())
    except OSError as error:
        raise UsageError("--data-file", f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError:
        raise UsageError("--data-file", f"{path} is not valid YAML") from None
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise UsageError("--data-file", f"{path} must be a mapping of question names to answers")
    return data


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors and the final summary line"
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write the report as JSON to FILE ('-': standard output, which then holds only the JSON)",
    )


def add_vcs_ref(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--vcs-ref", metavar="REF", help=help)


_VERDICT_COLOURS = {"PASS": "\033[32m", "FAIL": "\033[31m"}  # green, red


def coloured_verdicts(lines: list[str], stream: TextIO) -> list[str]:
    """``lines`` with their leading PASS or FAIL in colour, when ``stream`` is a terminal that wants it."""
    if not stream.isatty() or os.environ.get("NO_COLOR"):
        return lines
    return [
        f"{_VERDICT_COLOURS[line[:4]]}{line[:4]}\033[0m{line[4:]}" if line[:4] in _VERDICT_COLOURS else line
        for line in lines
    ]


def add_template_source(parser: argparse.ArgumentParser) -> None:
    """``--template-source`` of check and update: a template fetched in place of every ``_src_path``."""
    parser.add_argument(
        "--template-source",
        metavar="SRC",
        type=_fetchable,
        help="fetch the template from SRC (a checkout's commits and tags, or a git URL) instead of "
        "each repository's recorded _src_path, which stays recorded; e.g. a local clone, offline",
    )


def _fetchable(text: str) -> str:
    """A git URL as it is, or a local folder made absolute (git fetches it from anywhere)."""
    if is_remote(text):
        return text
    return str(existing_folder(text, "--template-source").resolve())


def existing_folder(text: str, field: str = "path") -> Path:
    """An argument that must name a folder; ``~`` is expanded as a shell would."""
    path = Path(text).expanduser()
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise UsageError(field, f"{text} {what}")
    return path


def folder_option(option: str) -> Callable[[str], Path]:
    """The argument type of an option that names a folder: errors name the option."""

    def parse(text: str) -> Path:
        return existing_folder(text, option)

    return parse


def check_json_target(target: str | None) -> None:
    """Refuse an unwritable ``--json FILE`` before any work starts, not after it."""
    if target is None or target == "-":
        return
    path = Path(target).expanduser()
    if path.is_dir():
        raise UsageError("--json", f"{target} is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError("--json", f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError("--json", f"{target} cannot be written")


def write_json(target: str, command: str, report: dict[str, Any]) -> None:
    """Write a command's report as versioned JSON to ``target`` (a file, or ``-`` for stdout).

    Every report has ``schema`` (``naavre-scaffold/<command>``), ``schema_version``
    (raised whenever a key changes meaning or goes away) and ``naavre_scaffold_version``.
    """
    document = {
        "schema": f"naavre-scaffold/{command}",
        "schema_version": JSON_SCHEMA_VERSION,
        "naavre_scaffold_version": __version__,
        **report,
    }
    text = json.dumps(document, indent=2, default=str) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(target).expanduser().write_text(text)


def human_output(args: argparse.Namespace) -> Console:
    """Where the human report goes: stdout, or stderr when ``--json -`` holds stdout."""
    stderr = getattr(args, "json", None) == "-"
    width = None if (sys.stderr if stderr else sys.stdout).isatty() else 100
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


class ProgressReporter:
    """Progress of a many-item command: a bar in a terminal, a line per finished item otherwise.

    In a terminal the bar shows done/total and the item being worked on; in a log
    (CI) each finished item prints one line, so a long run is never silent.
    """

    def __init__(self, progress: Progress | None, total: int, quiet: bool) -> None:
        self._progress = progress
        self._task = progress.add_task("", total=total or None, item="") if progress else None
        self._quiet = quiet
        self._total = total
        self._done = 0
        self._running: list[str] = []

    def set_total(self, total: int) -> None:
        """The number of items, once it is known."""
        self._total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total or None)

    def started(self, item: str) -> None:
        self._running.append(item)
        self._show()

    def finished(self, item: str, status: str = "") -> None:
        self._done += 1
        if item in self._running:
            self._running.remove(item)
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
            self._show()
        elif not self._quiet:
            count = f"[{self._done}/{self._total}] " if self._total else ""
            print(f"{count}{item}{': ' + status if status else ''}", file=sys.stderr, flush=True)

    def _show(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, item=", ".join(self._running))


@contextmanager
def progress(total: int, quiet: bool = False, label: str = "working") -> Iterator[ProgressReporter]:
    """A ProgressReporter on stderr for ``total`` items (0 when the count is not known yet)."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield ProgressReporter(None, total, quiet)
        return
    with Progress(
        TextColumn(label),
        BarColumn(complete_style="blue", finished_style="green"),  # rich's default pink-red reads as failure
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}", style="dim"),
        console=console,
        transient=True,
    ) as bar:
        yield ProgressReporter(bar, total, quiet)

# PYTHON_ARGCOMPLETE_OK (tells argcomplete this command completes itself)
"""The ``naavre-scaffold`` command: one module per subcommand, errors handled once, here.

Each subcommand module has ``add(commands)``, which declares its arguments and sets
``run``, a function that calls the library, prints and returns the exit code.
Every error a person can cause or meet ends here as one line on stderr with the
exit code of its class (see ``naavre_scaffold.errors``); Ctrl-C and SIGTERM exit
130 and a closed pipe ends the output quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from naavre_scaffold import __version__
from naavre_scaffold.errors import EXIT_INTERRUPTED, EXIT_TOOL, EXIT_USAGE, ScaffoldError, one_line

# The subcommand modules import Copier (most of a start's time): loaded when a command runs, not
# for --version.
COMMAND_NAMES = ("new", "update", "check", "status", "adopt", "verify", "register")
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process that SIGPIPE ended


def subcommands(names: Sequence[str] = COMMAND_NAMES) -> list[ModuleType]:
    """The modules of the subcommands ``names``, in the order help lists them."""
    return [importlib.import_module(f"naavre_scaffold.cli.{name}") for name in names]


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with a usage error in one line (not the whole usage block) and where to look.

    Its epilog may be a function, called only when the help is shown: ``new``'s lists the
    questions of every template, which takes reading them, and no other run needs it.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def format_help(self) -> str:
        if callable(self.epilog):
            self.epilog = self.epilog()
        return super().format_help()


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: all subcommands, or only ``command``'s (what a run of it needs).

    Each subcommand module imports what its command runs; building only the one that
    runs keeps a command from paying for the others' imports.
    """
    from naavre_scaffold.cli._common import HelpFormatter

    top = _Parser(
        prog="naavre-scaffold",
        description="Create, update and check NaaVRE repositories from Copier templates.",
        epilog=(
            "exit status, for every command: 0 done; 1 something needs a person (a conflict, a "
            "failed check, drift); 2 usage error, nothing written; 3 the tool could not do its job "
            "(an unreachable template, a missing tool); 130 interrupted"
        ),
        formatter_class=HelpFormatter,
        allow_abbrev=False,
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in subcommands([command] if command else COMMAND_NAMES):
        module.add(commands)
    return top


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM stops a command the way Ctrl-C does, so its cleanup runs."""
    raise KeyboardInterrupt


def _error(command: str | None, message: str) -> None:
    print(f"naavre-scaffold{' ' + command if command else ''}: error: {message}", file=sys.stderr)


def _copier_error(error: Exception) -> tuple[str, int] | None:
    """The line and exit code for one of Copier's errors; None for any other exception.

    Looked up, not imported: only the commands that load Copier can raise its errors, and
    importing it costs verify and register a third of a second.
    """
    copier_errors = sys.modules.get("copier.errors")
    if copier_errors is None or not isinstance(error, copier_errors.CopierError):
        return None
    if isinstance(error, copier_errors.UserMessageError):
        return one_line(str(error)), EXIT_USAGE
    return one_line(f"Copier: {error}"), EXIT_TOOL


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``naavre-scaffold``; returns the exit code."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)
    words = sys.argv[1:] if argv is None else list(argv)
    # Known before parsing: an argument type (an existing folder) may fail while argparse reads it.
    command = next((word for word in words if word in COMMAND_NAMES), None)
    # A run names its command first; anything else (--help, a typo) gets the whole parser.
    runs = words[0] if words and words[0] in COMMAND_NAMES else None
    if words == ["--version"]:
        print(f"naavre-scaffold {__version__}")
        return 0
    try:
        args, stray = parser(runs).parse_known_args(words)
        command = args.command
        if stray:
            args.parser.error(f"unrecognized arguments: {' '.join(stray)}")
        return args.run(args)
    except ScaffoldError as error:
        _error(command, str(error))
        return error.exit_code
    except KeyboardInterrupt:  # Copier's CopierAnswersInterrupt is one too
        _error(command, "interrupted; nothing more was started")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop writing, and let nothing print a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:  # the disk, a permission, a vanished file: not a bug to trace
        _error(
            command,
            one_line(error.strerror or str(error)) + (f": {error.filename}" if error.filename else ""),
        )
        return EXIT_TOOL
    except Exception as error:
        reported = _copier_error(error)
        if reported is None:
            raise
        _error(command, reported[0])
        return reported[1]
    except SystemExit as stop:  # argparse: --help, --version, usage errors
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE


def run() -> None:
    """Console-script entry point."""
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions; argcomplete answers and exits
        import argcomplete

        argcomplete.autocomplete(parser())
    code = main()
    # Done, and said so: a Ctrl-C while the interpreter shuts down must not turn it into 130.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)

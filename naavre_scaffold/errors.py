"""Every error naavre-scaffold reports to a person, under one root that carries the exit code.

The CLI catches ``ScaffoldError`` (and Copier's own errors) in one place and prints
``str(error)`` as one line. The exit codes are the same for every command:

- 0: done, nothing needs a person
- 1: done, but something needs a person (a conflict, a failed check, drift)
- 2: usage error: bad arguments or answers; nothing was written
- 3: the tool could not do its job (an unreachable template, a missing check tool)
- 130: interrupted (Ctrl-C or SIGTERM)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TOOL",
    "EXIT_USAGE",
    "AlreadyRegistered",
    "GitError",
    "GitHubError",
    "Interrupted",
    "RepositoryBusy",
    "RepositoryError",
    "ScaffoldError",
    "TemplateSourceError",
    "ToolMissingError",
    "UsageError",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TOOL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def one_line(text: str, limit: int = 300) -> str:
    """``text`` with its white space folded into one line, cut at ``limit`` characters."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."


class ScaffoldError(Exception):
    """Root of naavre-scaffold's errors: ``str()`` is one line meant for the user."""

    exit_code = EXIT_TOOL

    def __str__(self) -> str:
        return one_line(super().__str__())


class UsageError(ScaffoldError):
    """Bad input from the user (an argument or an answer): nothing was written.

    The message is ``<field>: <rule>``; a rule that starts by naming its field
    again (as Copier validators do, so that plain Copier reads well) loses that word.
    """

    exit_code = EXIT_USAGE

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        rule = one_line(rule)
        if rule.startswith(f"{field} ") and len(rule) > len(field) + 1:
            rule = rule[len(field) + 1 :]
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class RepositoryError(ScaffoldError):
    """A repository's own file is broken (its answers, its ``.naavre-scaffold.yml``): a person fixes it.

    The message names the file and the rule it breaks.
    """

    exit_code = EXIT_FAILED


class RepositoryBusy(ScaffoldError):
    """Another naavre-scaffold process holds the repository's lock: rerun when it has finished.

    ``update`` reports it as that repository's ``refused`` verdict, which needs a person (exit 1).
    """

    exit_code = EXIT_FAILED


class AlreadyRegistered(ScaffoldError):
    """A checkout already has the component ``register`` was asked to add: nothing was written."""

    exit_code = EXIT_FAILED


class TemplateSourceError(ScaffoldError):
    """A template source that exists but cannot be reached or read (network, git)."""


class GitError(ScaffoldError):
    """A git command failed; the message holds git's own error output."""


class GitHubError(ScaffoldError):
    """A GitHub API call failed; the message says why and what is left to do."""


class ToolMissingError(ScaffoldError):
    """A check tool is not installed; the message says how to install it."""


class Interrupted(ScaffoldError):
    """Ctrl-C or SIGTERM stopped a command; ``partial`` holds what it finished before."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted", partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial

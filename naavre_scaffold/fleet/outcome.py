"""What ``update`` reports per subproject, and the options it runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """What happened to one subproject; the value is what reports show."""

    UPDATED = "updated"
    UP_TO_DATE = "up-to-date"
    CONFLICT = "conflict"
    REFUSED = "refused"
    FAILED = "failed"
    SKIPPED = "skipped"  # an interrupt came before its repository was started


# The verdicts that need no person (the exit code is 0 only if every verdict is one).
NEEDS_NOTHING = (Verdict.UPDATED, Verdict.UP_TO_DATE)


@dataclass
class Outcome:
    """What happened to one subproject (a repository, or a flavor folder inside one).

    ``branch`` is set only to a branch that exists when ``update`` returns;
    ``patch`` only in a dry run: the changes as ``git diff --binary`` output,
    relative to the repository's top folder, which ``git apply`` there accepts.
    """

    path: str
    verdict: Verdict
    from_version: str | None = None
    to_version: str | None = None
    files: list[str] = field(default_factory=list)
    message: str = ""
    branch: str | None = None
    pull_request: str | None = None
    source: str | None = None
    folder: str = "."  # the subproject's folder inside its git repository
    patch: str | None = None


@dataclass(frozen=True)
class Options:
    """How ``update`` runs; ``template_source`` (a checkout or git URL) stands in for every ``_src_path``.

    Each delivery step implies the ones before it, as the command line's options do:
    ``pull_request`` implies ``push``, and ``push`` implies ``commit`` (a branch is
    committed to be pushed, and pushed for a pull request to be opened from it).
    """

    vcs_ref: str | None = None
    template_source: str | None = None
    dry_run: bool = False
    keep_conflicts: bool = False
    commit: bool = False
    push: bool = False
    pull_request: bool = False

    def __post_init__(self) -> None:
        # Implied rather than refused, so that Options(push=True) means what --push means.
        if self.pull_request and not self.push:
            object.__setattr__(self, "push", True)
        if self.push and not self.commit:
            object.__setattr__(self, "commit", True)

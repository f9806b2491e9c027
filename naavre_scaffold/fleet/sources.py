"""What ``update`` and ``check`` share about templates: the run's sources and the recorded render.

A fleet run fetches each template source once, into a mirror (``source.mirror``), and
works out the version to move to; a source that cannot be used fails its subprojects
only, with the same message and the same owner in both commands. Both also render a
subproject's template at some version with its recorded answers, never asking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from naavre_scaffold import _copier
from naavre_scaffold._copier import fast
from naavre_scaffold.errors import ScaffoldError, one_line
from naavre_scaffold.fleet.discovery import Subproject
from naavre_scaffold.source.mirror import Mirror, fetch_mirror

UNREACHABLE = "cannot fetch the template"


class Problem(StrEnum):
    """Whose problem a subproject that could not be worked on is; the value is what reports show."""

    # Its answers or .naavre-scaffold.yml are broken, or its template has no --vcs-ref: a person fixes it.
    REPOSITORY = "repository"
    # The template cannot be fetched or rendered at that version: the tool could not do its job.
    TEMPLATE = "template"


class Blocked(Exception):
    """Why a subproject cannot be worked on (its template source cannot be used, its template
    not rendered), and whose problem that is. Internal: ``update`` reports it as the
    subproject's ``failed`` verdict, ``check`` as its error."""

    def __init__(self, message: str, problem: Problem) -> None:
        super().__init__(message, problem)  # both in args: it survives a pickle to another process
        self.problem = problem

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Sources:
    """The template sources of one run, each fetched at its first use and never again.

    ``template_source`` (a checkout or a git URL) is fetched in place of every recorded
    ``_src_path``; ``vcs_ref`` is the version to move to, else each source's newest tag.
    The ref is looked up in each subproject's own source (they can differ from one
    repository to the next), so a source without it fails its subprojects only, and the
    others still run: a person fixes it (the ref, or the repository's source), it is not
    a template the tool could not fetch.
    """

    template_source: str | None = None
    vcs_ref: str | None = None
    mirrors: dict[str, Mirror] = field(default_factory=dict)
    unusable: dict[str, Blocked] = field(default_factory=dict)

    def mirror(self, src: str) -> Mirror:
        """The mirror of the template source ``src``.

        Raises:
            Blocked: it cannot be fetched, or lacks ``vcs_ref``.
        """
        if src not in self.mirrors and src not in self.unusable:
            self._fetch(src)
        if src in self.unusable:
            raise self.unusable[src]
        return self.mirrors[src]

    def target(self, src: str) -> str:
        """The version to move ``src``'s subprojects to (``mirror`` has succeeded for it)."""
        return self.vcs_ref or self.mirrors[src].newest_tag or "HEAD"

    def _fetch(self, src: str) -> None:
        try:
            mirror = fetch_mirror(src, self.template_source)
        except (ScaffoldError, OSError) as error:
            message = f"{UNREACHABLE} {self.template_source or src}: {one_line(str(error))}"
            self.unusable[src] = Blocked(message, Problem.TEMPLATE)
            return
        if self.vcs_ref and not mirror.has_ref(self.vcs_ref):
            message = f"the template {src} has no ref {self.vcs_ref}"
            self.unusable[src] = Blocked(message, Problem.REPOSITORY)
            return
        if not self.vcs_ref:
            mirror.newest_tag  # noqa: B018 -- asked once here, before workers fork: they inherit the answer
        self.mirrors[src] = mirror


def render(
    mirror: Mirror, sub: Subproject, ref: str, into: Path, *, skip_if_exists: Sequence[str] = ()
) -> Callable[[Path], bool]:
    """Render ``sub``'s template at ``ref`` from ``mirror`` into ``into``, with its recorded answers
    and without the paths it excludes.

    Returns the render's matcher of the paths Copier skips when they exist (the
    template's ``_skip_if_exists`` and ``skip_if_exists``).
    """
    worker = fast.run_copy(
        str(mirror.path),
        into,
        data=_copier.public_answers(sub.answers),
        # Copier reads HEAD of a local template with its uncommitted changes, which a bare mirror has not.
        vcs_ref=mirror.commit("HEAD") if ref == "HEAD" else ref,
        defaults=True,
        quiet=True,
        skip_if_exists=list(skip_if_exists),
        exclude=list(sub.exclude),
    )
    return worker.match_skip

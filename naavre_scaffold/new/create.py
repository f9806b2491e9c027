"""``naavre-scaffold new``: create a NaaVRE repository from a template.

Over plain Copier this adds the NaaVRE destination naming, answer checks that
run before anything is written, ``git init`` with a first commit, and an answers
file that names the public template repository. Whatever goes wrong after the
checks, Ctrl-C included, until success is reported, the destination is left as
it was found.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from naavre_scaffold import _copier
from naavre_scaffold.errors import GitError, Interrupted, UsageError
from naavre_scaffold.git import init_and_commit, uncommitted
from naavre_scaffold.new.answers import check_answers, check_flavor_names, merge_answers
from naavre_scaffold.signals import held_signals
from naavre_scaffold.source import TemplateSource, bundled_source, questions_root
from naavre_scaffold.templates import TemplateKind, template_kind

ANSWERS_FILE = ".copier-answers.yml"


@dataclass(frozen=True)
class NewRepo:
    """A repository that ``create`` made (or, for a pretend run, would make)."""

    path: Path
    template: str
    answers: Mapping[str, Any]
    source: TemplateSource
    commit: str  # empty for a pretend run
    files: tuple[str, ...] = ()  # for a pretend run: what would be written
    next_steps: str = ""  # what to do next, when asked for


def _check_destination(dest: Path) -> None:
    """Refuse, before anything is written, a destination that holds something or cannot be made.

    A folder that cannot be made only shows when it is made (``/proc/x``, and for
    root any folder): ``_all_or_nothing`` refuses that one the same way.
    """
    if dest.is_dir():
        try:
            if any(dest.iterdir()):
                raise UsageError("--dest", f"{dest} already exists and is not empty; choose another --dest")
        except OSError as error:
            raise UsageError("--dest", f"cannot read {dest}: {error.strerror}") from None
    elif dest.exists() or dest.is_symlink():
        raise UsageError("--dest", f"{dest} already exists and is not a folder; choose another --dest")
    absolute = dest.absolute()
    base = next(folder for folder in (absolute, *absolute.parents) if folder.exists())
    if not base.is_dir():
        raise UsageError("--dest", f"{base} is not a folder, so {dest} cannot be made in it")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError("--dest", f"{base} is not writable, so {dest} cannot be made in it")


@contextmanager
def _all_or_nothing(dest: Path) -> Iterator[None]:
    """Make ``dest``; if anything below fails or is interrupted, remove what this run made.

    That is ``dest`` and the folders above it that it made; a ``dest`` that existed
    (empty) is emptied again, never removed. Ctrl-C and SIGTERM are held off while
    undoing, so that a second one cannot leave half a repository behind.
    """
    absolute = dest.absolute()
    made = next((p for p in (*reversed(absolute.parents), absolute) if not p.exists()), None)
    try:
        try:
            absolute.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError("--dest", f"cannot make {dest}: {error.strerror}") from None
        yield
    except BaseException as error:
        interrupted = isinstance(error, KeyboardInterrupt)
        try:
            with held_signals():
                _remove(made) if made else _empty(absolute)
        except KeyboardInterrupt:  # one that came during the undoing, after it
            interrupted = True
        if interrupted:
            raise Interrupted("interrupted; nothing was kept, so the same command can be rerun") from None
        raise


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        _remove(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def create(
    template: str,
    name: str,
    *,
    dest: Path | None = None,
    data: Mapping[str, Any] | None = None,
    source: TemplateSource | None = None,
    defaults: bool = True,
    pretend: bool = False,
    next_steps: bool = False,
    announce: Callable[[NewRepo], None] | None = None,
) -> NewRepo:
    """Create a new NaaVRE repository from a template.

    Every answer is checked before anything is written; then the template is
    rendered with Copier, the new folder becomes a git repository on main with
    one commit, and the next steps are printed. Unanswered questions are asked
    when standard input is a terminal; with --defaults, or without a terminal,
    they take their defaults. With --pretend nothing is written: the files that
    would be created are listed. It is all or nothing: if anything fails, Ctrl-C
    included, before the "Created" line is printed, what it made is removed again.

    Args:
        next_steps: add the next steps to the result.
        announce: called with the result last, while a failure still removes the
            new repository: where the CLI reports success.

    Raises:
        UsageError: with nothing written, for an unknown template, a bad or
            unknown answer, or a destination that holds files or cannot be made.
        Interrupted: Ctrl-C or SIGTERM; what it had made is removed.
    """
    kind = template_kind(template)
    answers = merge_answers(template, name, data or {})
    dest = dest if dest is not None else kind.default_destination(name)
    if kind.host_marker:
        _check_host(dest, name, kind.host_marker)
    _check_destination(dest)
    source = source or bundled_source()
    answers = check_answers(questions_root(source), template, answers)
    if kind.host_marker:
        check_flavor_names(dest, answers)
    redirect = _copier.git_redirect(source.path, source.fetch_from) if source.fetch_from else nullcontext()
    if pretend:
        with redirect:
            repo = _listed(kind, source, dest, answers, defaults)
        if announce is not None:
            announce(repo)
        return repo
    with _all_or_nothing(dest):
        with redirect:
            repo = _make(kind, source, dest, answers, defaults)
        if next_steps:
            repo = replace(repo, next_steps=kind.next_steps(repo.path, repo.answers))
        if announce is not None:
            announce(repo)
    return repo


def _listed(
    kind: TemplateKind, source: TemplateSource, dest: Path, answers: Mapping[str, Any], defaults: bool
) -> NewRepo:
    """What ``--pretend`` reports: the files a render would write, rendered where it cannot matter."""
    with tempfile.TemporaryDirectory(prefix="naavre-pretend-") as tmp:
        rendered = Path(tmp) / dest.name
        recorded = _render(source, rendered, answers, defaults)
        files = sorted(p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file())
    return NewRepo(dest, kind.name, recorded, source, commit="", files=tuple(files))


def _make(
    kind: TemplateKind, source: TemplateSource, dest: Path, answers: Mapping[str, Any], defaults: bool
) -> NewRepo:
    """Render ``kind`` and its companions into ``dest``, and commit it unless it is part of a repository."""
    answers = _render(source, dest, answers, defaults)
    if kind.host_marker:  # again: answers given at the prompts were not known before
        check_flavor_names(dest, answers)
    for companion in kind.companions:
        shared = {key: answers[key] for key in companion.shared}
        extra = {**companion.answers, **shared, "template": companion.template}
        extra = check_answers(questions_root(source), companion.template, extra)
        _render(source, dest / companion.destination, extra, defaults=True)
    if kind.host_marker:  # a part of a repository that is the user's: no commit on their branch
        return NewRepo(dest, kind.name, answers, source, commit="")
    version = source.version or source.vcs_ref or "HEAD"
    commit = init_and_commit(dest, f"Create from naavre-scaffold {kind.name} template {version}")
    return NewRepo(dest, kind.name, answers, source, commit)


def _check_host(dest: Path, name: str, marker: str) -> None:
    """``dest`` must be ``<repository>/flavors/<name>`` of a repository with ``marker``, and that clean."""
    folder = dest.absolute()
    repository = folder.parent.parent
    if folder.name != name or folder.parent.name != "flavors" or not (repository / marker).is_file():
        raise UsageError(
            "--dest",
            f"{dest} is not <flavors repository>/flavors/{name}: run this at the root of a flavors "
            f"repository (the folder with {marker}), or give --dest <flavors repository>/flavors/{name}",
        )
    try:
        dirty = uncommitted(repository)
    except GitError:
        return  # not a git work tree: there is no branch to keep clean
    if dirty:
        first = dirty[0]
        raise UsageError(
            "--dest",
            f"the flavors repository {repository} has uncommitted changes ({first}): commit or stash "
            "them first, so that the new flavor is a change of its own",
        )


def _render(source: TemplateSource, dest: Path, answers: Mapping[str, Any], defaults: bool) -> dict[str, Any]:
    return _copier.copy(source.path, dest, answers, vcs_ref=source.vcs_ref, defaults=defaults)

"""``naavre-scaffold new``: create a NaaVRE repository from a template.

Over plain Copier this adds the NaaVRE destination naming, answer checks that
run before anything is written, ``git init`` with a first commit, and an answers
file that names the public template repository. Whatever goes wrong after the
checks, Ctrl-C included, the destination is left as it was found.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import copier
from copier.errors import DirtyLocalWarning

from naavre_scaffold import _copier
from naavre_scaffold.errors import GitError, ScaffoldError, UsageError
from naavre_scaffold.git import git, init_and_commit
from naavre_scaffold.prompts import readable_prompts
from naavre_scaffold.template_source import TemplateSource, bundled_source, questions_root, read_questions
from naavre_scaffold.templates import template_kind

if TYPE_CHECKING:
    from copier._main import Worker

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


def _check_answers(root: Path, template: str, data: Mapping[str, Any]) -> None:
    """Reject what Copier would ignore or find only later: unknown keys, derived keys, bad types."""
    questions = read_questions(root)
    choices = questions.get("template", {}).get("choices")
    if not choices:
        raise UsageError(
            "--template-source", "not a naavre-scaffold template: its copier.yml asks no 'template'"
        )
    offered = list(choices.values()) if isinstance(choices, dict) else list(choices)
    if template not in offered:
        raise UsageError(
            "template", f"this template source has no {template!r} (it has: {', '.join(offered)})"
        )
    for key, value in data.items():
        question = questions.get(key)
        if question is None:
            known = ", ".join(k for k, q in questions.items() if q.get("when") is not False)
            raise UsageError(key, f"unknown question (the template asks: {known})")
        if question.get("when") is False:
            raise UsageError(key, "is derived from the other answers and cannot be set")
        if question.get("type") == "int" and not isinstance(value, int):
            try:
                int(str(value))
            except ValueError:
                raise UsageError(key, f"must be a whole number (got {value!r})") from None


def _merge_answers(template: str, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The answers, with ``template`` and ``name`` from the arguments; a clash is an error."""
    for key, value in (("template", template), ("name", name)):
        if key in data and str(data[key]) != value:
            raise UsageError(key, f"given twice: {value!r} as an argument and {data[key]!r} as -d {key}=...")
    return {**data, "template": template, "name": name}


@contextmanager
def _undone_on_failure(dest: Path) -> Iterator[None]:
    """Leave ``dest`` as it was (absent, or an empty folder) if anything below fails or is interrupted."""
    existed = dest.exists()
    try:
        yield
    except BaseException:
        if existed:
            for child in dest.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        else:
            shutil.rmtree(dest, ignore_errors=True)
        raise


def create(
    template: str,
    name: str,
    dest: Path | None = None,
    data: Mapping[str, Any] | None = None,
    *,
    source: TemplateSource | None = None,
    defaults: bool = True,
    pretend: bool = False,
) -> NewRepo:
    """Create a new NaaVRE repository from a template.

    Every answer is checked before anything is written; then the template is
    rendered with Copier, the new folder becomes a git repository on main with
    one commit, and the next steps are printed. Unanswered questions are asked
    when standard input is a terminal; with --defaults, or without a terminal,
    they take their defaults. With --pretend nothing is written: the files that
    would be created are listed.

    Raises:
        UsageError: with nothing written, for an unknown template, a bad or
            unknown answer, or a destination that already holds files.
    """
    kind = template_kind(template)
    answers = _merge_answers(template, name, data or {})
    dest = dest if dest is not None else kind.default_destination(name)
    if kind.host_marker:
        _check_host(dest, name, kind.host_marker)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError("dest", f"{dest} already exists and is not empty; choose another --dest")
    source = source or bundled_source()
    _check_answers(questions_root(source), template, answers)
    redirect = _copier.git_redirect(source.path, source.fetch_from) if source.fetch_from else nullcontext()
    if pretend:  # render where it cannot matter, to list what would be written
        with tempfile.TemporaryDirectory(prefix="naavre-pretend-") as tmp, redirect:
            worker = _render(source, Path(tmp) / dest.name, answers, defaults)
            files = sorted(
                p.relative_to(worker.dst_path).as_posix() for p in worker.dst_path.rglob("*") if p.is_file()
            )
        return NewRepo(dest, template, _final_answers(worker), source, commit="", files=tuple(files))
    with _undone_on_failure(dest), redirect:
        worker = _render(source, dest, answers, defaults)
        for companion in kind.companions:
            shared = {key: worker.answers.combined[key] for key in companion.shared}
            extra = {**companion.answers, **shared, "template": companion.template}
            _check_answers(questions_root(source), companion.template, extra)
            _render(source, dest / companion.destination, extra, defaults=True)
        if kind.host_marker:  # a part of a repository that is the user's: no commit on their branch
            return NewRepo(dest, template, _final_answers(worker), source, commit="")
        version = source.version or source.vcs_ref or "HEAD"
        commit = init_and_commit(dest, f"Create from naavre-scaffold {template} template {version}")
    return NewRepo(dest, template, _final_answers(worker), source, commit)


def _check_host(dest: Path, name: str, marker: str) -> None:
    """``dest`` must be ``<repository>/flavors/<name>`` of a repository with ``marker``, and that clean."""
    folder = dest.absolute()
    repository = folder.parent.parent
    if folder.name != name or folder.parent.name != "flavors" or not (repository / marker).is_file():
        raise UsageError(
            "dest",
            f"{dest} is not <flavors repository>/flavors/{name}: run this at the root of a flavors "
            f"repository (the folder with {marker}), or give --dest <flavors repository>/flavors/{name}",
        )
    try:
        dirty = git(repository, "status", "--porcelain", "--untracked-files=all")
    except GitError:
        return  # not a git work tree: there is no branch to keep clean
    if dirty:
        first = dirty.splitlines()[0][3:]
        raise UsageError(
            "dest",
            f"the flavors repository {repository} has uncommitted changes ({first}): commit or stash "
            "them first, so that the new flavor is a change of its own",
        )


def _render(source: TemplateSource, dest: Path, answers: Mapping[str, Any], defaults: bool) -> Worker:
    try:
        with warnings.catch_warnings(), readable_prompts():
            # A checkout's uncommitted changes are rendered on purpose, and the version line says so.
            warnings.simplefilter("ignore", DirtyLocalWarning)
            return copier.run_copy(
                source.path, dest, data=answers, vcs_ref=source.vcs_ref, defaults=defaults, quiet=True
            )
    except ValueError as error:
        raise _copier.usage_error_from(error) or ScaffoldError(f"Copier: {error}") from None


def _final_answers(worker: Worker) -> dict[str, Any]:
    return {k: v for k, v in worker.answers.combined.items() if not k.startswith("_") and not callable(v)}

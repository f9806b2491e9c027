"""``naavre-scaffold new``: create a NaaVRE repository from a template.

Over plain Copier this adds the NaaVRE destination naming, answer checks that
run before anything is written, ``git init`` with a first commit, and an
answers file that names the public template repository.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import yaml

from naavre_scaffold.errors import UsageError
from naavre_scaffold.git import init_and_commit
from naavre_scaffold.template_source import TemplateSource, bundled_source, read_questions
from naavre_scaffold.templates import template_kind

ANSWERS_FILE = ".copier-answers.yml"
# How Copier words a rejected answer (validator failure, or a value not among the choices).
_COPIER_REJECTION = re.compile(
    r"(?:Validation error for question|Invalid choice for) '(?P<field>[^']+)': (?P<rule>.+)", re.S
)


@dataclass(frozen=True)
class NewRepo:
    """A repository that ``create`` made."""

    path: Path
    template: str
    answers: Mapping[str, Any]
    source: TemplateSource
    commit: str


def _check_data(source: TemplateSource, data: Mapping[str, Any]) -> None:
    """Reject keys the template does not ask and values of the wrong type, early and clearly."""
    root = source.local_root
    if root is None:  # a remote source: Copier checks what it can once it has fetched it
        return
    questions = read_questions(root)
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
                raise UsageError(key, f"{key} must be a whole number (got {value!r})") from None


def create(
    template: str,
    name: str,
    dest: Path | None = None,
    data: Mapping[str, Any] | None = None,
    *,
    source: TemplateSource | None = None,
    defaults: bool = True,
) -> NewRepo:
    """Create a new NaaVRE repository from a template.

    Every answer is checked before anything is written; then the template is
    rendered with Copier, the new folder becomes a git repository on main with
    one commit, and the next steps are printed. In a terminal the unanswered
    questions are asked; with --defaults, or without a terminal, they take their
    defaults.

    Raises:
        UsageError: with nothing written, for an unknown template, a bad or
            unknown answer, or a destination that already holds files.
    """
    kind = template_kind(template)
    answers = {**(data or {}), "template": template, "name": name}
    dest = dest if dest is not None else kind.default_destination(name)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError("dest", f"{dest} already exists and is not empty; choose another --dest")
    source = source or bundled_source()
    _check_data(source, answers)
    try:
        worker = copier.run_copy(
            source.path,
            dest,
            data=answers,
            vcs_ref=source.vcs_ref,
            defaults=defaults,
            quiet=True,
        )
    except ValueError as error:
        if match := _COPIER_REJECTION.search(str(error)):
            raise UsageError(match["field"], match["rule"]) from None
        raise
    answers_path = dest / ANSWERS_FILE
    if source.recorded_path:
        _record_source(answers_path, source.recorded_path)
    recorded = yaml.safe_load(answers_path.read_text())
    version = recorded.get("_commit", "unknown version")
    commit = init_and_commit(dest, f"Create from naavre-scaffold {template} template {version}")
    final = {k: v for k, v in worker.answers.combined.items() if not k.startswith("_") and not callable(v)}
    return NewRepo(path=dest, template=template, answers=final, source=source, commit=commit)


def _record_source(answers_path: Path, public: str) -> None:
    """Point ``_src_path`` at the public template instead of the local snapshot it came from."""
    text = answers_path.read_text()
    text, count = re.subn(r"(?m)^_src_path: .*$", f"_src_path: {public}", text)
    if count != 1:
        raise RuntimeError(f"{answers_path} does not record one _src_path")
    answers_path.write_text(text)

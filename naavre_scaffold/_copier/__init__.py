"""What naavre-scaffold takes from Copier, in one place: its renders, and what it has no public API for.

Copier has no public API for reading a template's questions, choosing its newest
tag, or telling a rejected answer apart from other errors. These come from
Copier's own modules, so that naavre-scaffold reads a template exactly as Copier
does (``!include``, merged documents, PEP 440 tags). They are private to Copier:
the package pins the Copier versions they were tested with (9.19), and
a test in ``tests/test_templates.py`` fails loudly if one of them moves.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import copier
from copier._template import filter_config, load_template_config
from copier._vcs import get_latest_tag
from copier.errors import DirtyLocalWarning
from packaging.version import InvalidVersion, Version
from plumbum import local

from naavre_scaffold._copier.prompts import readable_prompts
from naavre_scaffold.errors import ScaffoldError, UsageError, one_line
from naavre_scaffold.git import url_redirects

COPIER_CACHE_VARIABLE = "COPIER_CACHE_DIR"  # where Copier keeps its mirrors of remote templates

# How Copier words a rejected answer: a validator's message, or a value not among the choices.
# Copier raises a plain ValueError for both, so its text is the only handle.
_REJECTION = re.compile(
    r"(?:Validation error for question|Invalid choice for) '(?P<field>[^']+)': (?P<rule>.+)", re.S
)


def public_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers a person gave or could give: no ``_`` keys (Copier's own), no Jinja helpers."""
    return {key: value for key, value in answers.items() if not key.startswith("_") and not callable(value)}


def copy(
    src: str, dest: Path, answers: Mapping[str, Any], *, vcs_ref: str | None, defaults: bool
) -> dict[str, Any]:
    """Render ``src`` into ``dest`` as ``copier.run_copy`` does, with readable prompts; return the answers.

    The render is Copier's, through ``fast`` (which spares Copier's per-file git calls).
    A checkout's uncommitted changes are rendered on purpose (the version line says so), so
    Copier's warning about them is silenced; a rejected answer is a ``UsageError``.
    """
    return copy_with_skips(src, dest, answers, vcs_ref=vcs_ref, defaults=defaults)[0]


def copy_with_skips(
    src: str, dest: Path, answers: Mapping[str, Any], *, vcs_ref: str | None, defaults: bool
) -> tuple[dict[str, Any], Callable[[Path], bool]]:
    """``copy``, and the render's matcher of the paths the template leaves to the project
    once they exist (its ``_skip_if_exists``), as Copier matches them."""
    from naavre_scaffold._copier import fast  # it imports this package's siblings

    try:
        with warnings.catch_warnings(), readable_prompts(), fast.session():
            warnings.simplefilter("ignore", DirtyLocalWarning)
            worker = fast.run_copy(
                src, dest, data=dict(answers), vcs_ref=vcs_ref, defaults=defaults, quiet=True
            )
    except ValueError as error:
        raise usage_error_from(error) or ScaffoldError(f"Copier: {error}") from None
    return public_answers(worker.answers.combined), worker.match_skip


def render_upstream(src: str, dest: Path, answers: Mapping[str, Any], *, vcs_ref: str) -> None:
    """Render another template (the one a repository was first made from) at ``vcs_ref`` with its
    recorded answers, as stock Copier does, asking nothing and running none of its tasks.

    Raises:
        ScaffoldError: Copier could not fetch or render it (the message says why).
    """
    try:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copier.run_copy(
                src, dest, data=dict(answers), vcs_ref=vcs_ref, defaults=True, quiet=True, skip_tasks=True
            )
    except Exception as error:  # any failure (a fetch, a render, an unsafe template): no common base
        raise ScaffoldError(
            f"{src} at {vcs_ref}: {one_line(str(error) or error.__class__.__name__)}"
        ) from None


def load_questions(root: Path) -> dict[str, dict[str, Any]]:
    """The questions of the template in ``root``, as Copier reads them: name -> settings."""
    _, questions = filter_config(load_template_config(root / "copier.yml", quiet=True))
    return questions


def load_settings(root: Path) -> dict[str, Any]:
    """The ``_``-settings of the template in ``root`` (without the underscore), as Copier reads them."""
    settings, _ = filter_config(load_template_config(root / "copier.yml", quiet=True))
    return settings


def latest_tag(url: str) -> str:
    """The tag Copier renders by default: the newest by PEP 440, pre-releases left out; else HEAD."""
    with contextlib.redirect_stderr(io.StringIO()):  # Copier's "no tags, using HEAD" warning
        return get_latest_tag(url)


def describe_version(described: str) -> Version | None:
    """The version Copier reads in a ``_commit``: a tag, or ``<tag>-<n>-g<hash>`` as ``<tag>.post<n>``.

    Copier's own reading (``Template.version``) needs a checkout; for ``git
    describe`` output it falls back to this rule, which orders the same.
    """
    if match := re.fullmatch(r"(?P<base>.+)-(?P<count>\d+)-g(?P<hash>\w+)", described):
        described = f"{match['base']}.post{match['count']}+{match['hash']}"
    try:
        return Version(described)
    except InvalidVersion:
        return None


def usage_error_from(error: ValueError) -> UsageError | None:
    """The UsageError for a ValueError in which Copier rejected an answer; None for other errors."""
    if match := _REJECTION.search(str(error)):
        return UsageError(match["field"], match["rule"])
    return None


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in the environment of this process and of the git that Copier runs.

    plumbum, which Copier runs git through, copies the environment when it is
    imported, so ``os.environ`` alone would not reach it. Processes forked while
    this is active inherit both. On exit, both are as they were.
    """
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        with local.env(**values):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def git_redirect(url: str, to: Path) -> Iterator[None]:
    """While active, git (Copier's too) fetches ``url`` from the local repository ``to``.

    Copier then records ``url`` as ``_src_path``, exactly as if it had fetched from
    there. Copier's own mirror cache is a fresh one for this run: runs sharing it
    race on its checkouts.
    """
    with tempfile.TemporaryDirectory(prefix="naavre-copier-cache-") as cache:
        redirect = {**url_redirects({url: to}), COPIER_CACHE_VARIABLE: cache}
        with environment(redirect):
            yield

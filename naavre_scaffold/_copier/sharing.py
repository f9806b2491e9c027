"""Copier's Worker, sharing its session's template checkouts and compiled code.

Private hooks of Copier 9.19 (see ``fast``): the ``template``, ``subproject`` and
``jinja_env`` cached properties are wrapped, ``_render_template`` and
``_sync_git_index_executable_bit`` are narrowed to what changes, and
``_apply_update`` takes the lean update where it applies.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from copier._main import Worker
from copier._subproject import Subproject
from copier._template import Template

from naavre_scaffold._copier import jinja_cache
from naavre_scaffold._copier.lean_update import LeanUpdate
from naavre_scaffold._copier.session import current
from naavre_scaffold.git import GitError, git


def _shared(template: Template) -> Template:
    session = current()
    assert session is not None, "a SharingWorker runs only inside a session (fast.run_copy, fast.run_update)"
    return session.shared(template)


class SharingWorker(Worker):
    """Copier's Worker, sharing templates and compiled code with the rest of the session."""

    @cached_property
    def template(self) -> Template:
        created = Worker.template.func(self)  # type: ignore[attr-defined]
        self._cleanup_hooks.remove(created._cleanup)  # the session removes its checkouts
        return _shared(created)

    @cached_property
    def subproject(self) -> Subproject:
        subproject = Worker.subproject.func(self)  # type: ignore[attr-defined]
        if (created := subproject.template) is not None:
            subproject._cleanup_hooks.remove(created._cleanup)
            subproject.__dict__["template"] = _shared(created)
        return subproject

    @cached_property
    def jinja_env(self) -> Any:
        env = Worker.jinja_env.func(self)  # type: ignore[attr-defined]
        jinja_cache.share_compiled(env)
        return env

    def _sync_git_index_executable_bit(self, dst_relpath: Path, src_mode: int) -> None:
        # Copier reads core.fileMode for every file it writes; it changes nothing
        # unless the setting is "false", which cannot change during one render.
        if self.file_mode_matters:
            super()._sync_git_index_executable_bit(dst_relpath, src_mode)

    def _render_string(self, string: str, extra_context: dict[str, Any] | None = None) -> str:
        # Copier renders every path part and question text through Jinja, most of them plain
        # text, which Jinja gives back unchanged; the render context alone takes longer to build.
        if self._plain(string):
            return string
        return super()._render_string(string, extra_context)

    @property
    def answers_relpath(self) -> Path:
        # Copier renders the answers file's path with the whole render context, hundreds of
        # times per render; it is almost always plain text, which Jinja gives back as it is.
        path = str(self.answers_file or self.template.answers_relpath)
        return Path(path) if self._plain(path) else super().answers_relpath

    def _plain(self, text: object) -> bool:
        """Whether Jinja would give ``text`` back as it is: one line with no Jinja syntax in it.

        If so, the extensions' state is reset as a render would reset it (Copier's yield tag).
        """
        env = self.jinja_env
        if not isinstance(text, str) or "\n" in text or "\r" in text:
            return False
        if env.line_statement_prefix or env.line_comment_prefix:
            return False
        starts = (env.block_start_string, env.variable_start_string, env.comment_start_string)
        if any(start in text for start in starts):
            return False
        env.preprocess(text)
        return True

    def _render_template(self) -> None:
        # Copier merges every source of answers again for each path part and file
        # it renders (a fifth of an update's time); they cannot change while the
        # tree renders. The render context itself stays fresh per call: Copier
        # edits it.
        answers, remembered = self.answers, self._answers_to_remember()
        self.answers = _SettledAnswers(answers)  # type: ignore[assignment]
        self._answers_to_remember = lambda: dict(remembered)  # type: ignore[method-assign]
        try:
            super()._render_template()
        finally:
            self.answers = answers
            del self._answers_to_remember

    def _apply_update(self) -> None:
        if self.conflict != "inline" or not self.skip_answered or self.template.config_data.get("migrations"):
            super()._apply_update()  # what the lean update does not do: Copier's own
        else:
            LeanUpdate(self).run()

    @cached_property
    def file_mode_matters(self) -> bool:
        """Whether the project's git has ``core.fileMode=false`` (the only value Copier acts on)."""
        try:
            return (
                git(self.subproject.local_abspath, "config", "--type=bool", "--get", "core.fileMode")
                == "false"
            )
        except (GitError, OSError):
            return False


class _SettledAnswers:
    """Copier's answers while a tree renders: merged once, read as often as Copier likes."""

    def __init__(self, answers: Any) -> None:
        self._answers, self._combined = answers, dict(answers.combined)

    @property
    def combined(self) -> dict[str, Any]:
        return dict(self._combined)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._answers, name)

"""Compiled Jinja code shared between environments that compile alike.

Copier builds a fresh Jinja environment for every render, and Jinja compiles
every ``from_string`` again, so one template's sources are compiled thousands of
times in a fleet update. ``share_compiled(env)`` makes ``env`` reuse code that
an environment of the same shape compiled from the same source, for as long as
``clear()`` is not called. Only code generation is shared: each environment
keeps its own filters, globals and template cache at run time.

Its file loader reads each template file once too: a session's template
checkouts do not change while it lasts (``clear()`` ends it).
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import Any, Literal, overload

from jinja2 import Environment, FileSystemLoader, nodes

_compiled: dict[tuple[Any, ...], CodeType | str] = {}
_sources: dict[tuple[Any, ...], tuple[str, str, Callable[[], bool]]] = {}


def clear() -> None:
    _compiled.clear()
    _sources.clear()


def share_compiled(env: Environment) -> None:
    """Make ``env.compile`` reuse code compiled from the same source by an environment of the same shape."""
    shape = (  # every setting that changes the code Jinja generates
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        repr(env.autoescape),
        repr(env.finalize),
        tuple(sorted(env.extensions)),
        frozenset(env.filters),
        frozenset(env.tests),
    )

    # Jinja's own overloads: raw=True gives the generated Python source, raw=False its code object.
    @overload
    def compile(
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: Literal[False] = False,
        defer_init: bool = False,
    ) -> CodeType: ...

    @overload
    def compile(
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: Literal[True] = ...,
        defer_init: bool = False,
    ) -> str: ...

    def compile(
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> CodeType | str:
        if not isinstance(source, str):  # an already parsed tree: nothing to key on
            return _jinja_compile(env, source, name, filename, raw, defer_init)
        key = (shape, source, name, filename, raw, defer_init)
        if key not in _compiled:
            _compiled[key] = _jinja_compile(env, source, name, filename, raw, defer_init)
        else:
            # Extensions reset per-template state while preprocessing (Copier's yield tag does).
            env.preprocess(source, name, filename)
        return _compiled[key]

    env.compile = compile  # type: ignore[method-assign]
    if isinstance(env.loader, FileSystemLoader):
        _share_sources(env.loader)


def _share_sources(loader: FileSystemLoader) -> None:
    """Make ``loader`` give each file's source as read the first time (the loader's checks included)."""
    read = loader.get_source
    where = (type(loader), tuple(loader.searchpath))

    def get_source(environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        key = (*where, template)
        if key not in _sources:
            _sources[key] = read(environment, template)  # a missing or forbidden file raises every time
        return _sources[key]

    loader.get_source = get_source  # type: ignore[method-assign]


def _jinja_compile(
    env: Environment,
    source: str | nodes.Template,
    name: str | None,
    filename: str | None,
    raw: bool,
    defer_init: bool,
) -> CodeType | str:
    """Jinja's ``Environment.compile``, past its overloads (they take ``raw`` only as a literal)."""
    if raw:
        return Environment.compile(env, source, name, filename, True, defer_init)
    return Environment.compile(env, source, name, filename, False, defer_init)

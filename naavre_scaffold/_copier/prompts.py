"""Readable interactive questions for ``naavre-scaffold new``.

Copier asks each question with ``questionary.unsafe_prompt``, imported into
``copier._main``, and questionary shows a rejected answer in prompt_toolkit's
one-line bottom toolbar. At 80 columns that line is cut ("Validation error for
question 'github_org': github_org must be a GitHub account"), and a long question
text is cut at the right edge too. ``readable_prompts()`` replaces that one
function, only while it is active, with ``ask_readably``, which:

- wraps the question text at word boundaries to the terminal's width;
- asks without questionary's ``validate``, runs Copier's validator itself and, for
  a bad answer, prints the whole rule wrapped to the terminal (``github_org: must
  be ...``, without Copier's "Validation error for question" prefix), then asks
  again with what was typed as the default;
- writes the questions to the terminal even when stdout is redirected (``new ... |
  tee log``), so the log gets the result and the person sees the questions.

Everything else (choices, defaults, confirm, Ctrl-C) is questionary's, unchanged.

This reaches into Copier's private module ``copier._main``: all of it is kept here,
and ``tests/test_interactive.py`` fails loudly if the name goes away. If it does,
``readable_prompts()`` changes nothing and Copier's own prompts are used. Tested
with copier 9.19.1, questionary 2.1.1 and prompt_toolkit 3.0.53.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from copy import copy
from typing import Any

import copier._main
from prompt_toolkit import print_formatted_text
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.output import Output, create_output
from prompt_toolkit.utils import get_cwidth
from questionary import Choice

from naavre_scaffold.errors import UsageError

__all__ = ["COPIER_PROMPT", "NO_TERMINAL_NOTICE", "ask_readably", "readable_prompts"]

# The name under which copier._main holds the function that asks a question.
COPIER_PROMPT = "unsafe_prompt"

# Said (after "naavre-scaffold new: ") when stdin is not a terminal and --defaults was not given.
NO_TERMINAL_NOTICE = (
    "no terminal to ask in, so unanswered questions took their defaults (pass --defaults to silence this)"
)

# Question types whose re-asked prompt starts from what the person typed.
_TYPED = {"input", "password", "path"}
# How a typed text that cannot even be read as the question's type is explained.
_TYPE_RULES = {
    "int": "must be a whole number",
    "float": "must be a number",
    "bool": "must be yes or no",
    "json": "must be valid JSON",
    "yaml": "must be valid YAML",
}
_NARROWEST = 20  # below this, wrapping would make one word a line; let the terminal cope


@contextmanager
def readable_prompts() -> Iterator[None]:
    """While active, Copier asks its questions with ``ask_readably``."""
    original = getattr(copier._main, COPIER_PROMPT, None)
    if original is None:  # a Copier that asks differently: its own prompts still work
        yield
        return

    def prompt(questions: Any, answers: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return ask_readably(original, questions, answers, **kwargs)

    setattr(copier._main, COPIER_PROMPT, prompt)
    try:
        yield
    finally:
        setattr(copier._main, COPIER_PROMPT, original)


def ask_readably(
    unsafe_prompt: Callable[..., dict[str, Any]],
    questions: Mapping[str, Any] | Iterable[Mapping[str, Any]],
    answers: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """``questionary.unsafe_prompt(questions, answers)``, with whole rules and wrapped questions.

    ``unsafe_prompt`` asks one question; Ctrl-C and end of input raise from it as before.
    """
    answers = dict(answers or {})
    for question in [questions] if isinstance(questions, Mapping) else questions:
        options = dict(kwargs)
        with ExitStack() as stack:
            output = options.pop("output", None) or _terminal_output(stack)
            answers.update(_ask(unsafe_prompt, dict(question), answers, output, **options))
    return answers


def _ask(
    unsafe_prompt: Callable[..., dict[str, Any]],
    question: dict[str, Any],
    answers: dict[str, Any],
    output: Output,
    **kwargs: Any,
) -> dict[str, Any]:
    name = question["name"]
    output = question.setdefault("output", output)  # the rule goes where the question went
    when = question.pop("when", None)
    if callable(when) and not when(answers):
        return {}
    validate = question.get("validate")
    if not callable(validate):  # none, or a questionary Validator object: questionary applies it
        validate = None
    else:
        del question["validate"]
    # questionary would cast before validating; Copier's validator wants the typed text.
    cast = question.pop("filter", None) if validate else None
    width = output.get_size().columns
    qmark = question.get("qmark", "?")
    question["message"] = _wrap_message(str(question.get("message", name)), qmark, width)
    while True:
        typed = unsafe_prompt([question], answers=answers, **kwargs)[name]
        verdict = validate(typed) if validate else True
        if verdict is True:
            return {name: cast(typed) if cast else typed}
        _show_rule(output, _rule(name, str(verdict), typed, cast), width)
        _start_from(question, typed)


def _start_from(question: dict[str, Any], typed: Any) -> None:
    """Ask ``question`` again starting from the rejected answer, so one slip is one fix."""
    kind = question.get("type", "input")
    if kind in _TYPED:
        question["default"] = typed
    elif kind == "checkbox" and isinstance(typed, list):
        question["choices"] = [_checked(choice, typed) for choice in question.get("choices", [])]


def _checked(choice: Any, typed: list[Any]) -> Any:
    """A copy of a checkbox ``choice``, ticked if it was among the ``typed`` answer."""
    if not isinstance(choice, Choice):
        return choice
    ticked = copy(choice)  # Copier may reuse its Choice objects
    ticked.checked = choice.value in typed
    return ticked


def _terminal_output(stack: ExitStack) -> Output:
    """Where a person sees the questions: stdout, else stderr, else the controlling terminal."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and stream.isatty():
            return create_output(stream)
    try:
        tty = stack.enter_context(open("/dev/tty", "w", encoding="utf-8"))  # noqa: SIM115
    except OSError:  # no terminal at all: questionary writes plain text to stdout
        return create_output()
    return create_output(tty)


def _wrap_message(message: str, qmark: str, width: int) -> str:
    """The question text with its long lines broken at word boundaries, aligned after ``qmark``."""
    indent = " " * (get_cwidth(qmark) + 1)
    room = max(width - len(indent), _NARROWEST)
    lines = []
    for number, line in enumerate(message.split("\n")):
        start = len(indent) if number == 0 else 0
        if start + get_cwidth(line) <= width:
            lines.append(line)
            continue
        # Copier ends the text with spaces before the answer; keep them after the last piece.
        trailing = line[len(line.rstrip()) :]
        pieces = textwrap.wrap(line, room, break_on_hyphens=False)
        pieces[-1] += trailing
        lines.append(pieces[0])
        lines.extend(indent + piece for piece in pieces[1:])
    return "\n".join(lines)


def _rule(name: str, verdict: str, typed: Any, cast: Callable[..., Any] | None) -> str:
    """``name: rule`` from what Copier's validator said about an answer."""
    prefix = f"Validation error for question '{name}': "
    if verdict.startswith(prefix):
        return str(UsageError(name, verdict[len(prefix) :]))
    if verdict == "Invalid input":  # Copier's word for a text it cannot read as the type
        question: Any = getattr(cast, "__self__", None)  # the copier Question that ``filter`` belongs to
        type_name = question.get_type_name() if hasattr(question, "get_type_name") else None
        rule = _TYPE_RULES.get(type_name or "", "is not a valid answer")
        return f"{name}: {rule} (got {typed!r})"
    return str(UsageError(name, verdict))


def _show_rule(output: Output, rule: str, width: int) -> None:
    """The whole rule, wrapped at word boundaries to the terminal, in red."""
    lines = textwrap.wrap(rule, max(width, _NARROWEST), break_on_hyphens=False)
    print_formatted_text(FormattedText([("fg:ansired", "\n".join(lines))]), output=output)

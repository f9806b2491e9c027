"""The answers ``new`` takes, checked before anything is written.

Copier would ignore an answer to a question the template does not ask, take
any text as a yes, and find a clash of flavor names only when the flavors
repository's own script runs; each is refused here, naming the question.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from naavre_scaffold.errors import UsageError
from naavre_scaffold.source import read_questions

FLAVOR_CONFIG = "flavor_config.yaml"
# The spellings of a yes/no answer: YAML's booleans as Copier documents them, and 1/0.
YES = frozenset({"true", "yes", "y", "on", "1"})
NO = frozenset({"false", "no", "n", "off", "0"})
# A question's `when`, rendered in a sandbox as Copier does: a template from a URL is not trusted.
_WHEN = SandboxedEnvironment(undefined=jinja2.StrictUndefined)


def check_answers(root: Path, template: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as Copier is to get them, yes/no ones as booleans.

    Refuses what Copier would ignore or find only later: unknown keys, derived keys,
    another template's questions, and values of the wrong type.
    """
    questions = read_questions(root)
    offered = _offered_templates(questions, template)
    checked = {}
    for key, value in data.items():
        question = questions.get(key)
        if question is None or not template_asks(question, template):
            raise _not_asked(key, questions, template, offered)
        checked[key] = _typed(key, question, value)
    return checked


def _offered_templates(questions: Mapping[str, Any], template: str) -> list[str]:
    """The templates the source offers; ``template`` must be one of them."""
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
    return offered


def template_asks(question: Mapping[str, Any], template: str) -> bool:
    """Whether ``template`` asks ``question``: its ``when`` rendered for that template.

    A ``when`` that needs other answers counts as asked: Copier decides it once they are known.
    """
    when = question.get("when", True)
    if not isinstance(when, str):
        return bool(when)
    try:
        rendered = _WHEN.from_string(when).render(template=template)
    except jinja2.TemplateError:
        return True
    return rendered.strip().lower() == "true"


def _not_asked(key: str, questions: Mapping[str, Any], template: str, offered: list[str]) -> UsageError:
    """Why ``template`` takes no answer ``key``: derived, another template's question, or unknown."""
    question = questions.get(key)
    if question is not None and question.get("when") is False:
        return UsageError(key, "is derived from the other answers and cannot be set")
    owners = [other for other in offered if question is not None and template_asks(question, other)]
    if owners:
        whose = f"the {' and '.join(owners)} template{'s' if len(owners) > 1 else ''}"
        return UsageError(key, f"is a question of {whose}, not of the {template} template")
    # template and name are the command's arguments, not answers one looks for.
    asked = [k for k, q in questions.items() if k not in ("template", "name") and template_asks(q, template)]
    return UsageError(key, f"unknown question (the {template} template asks: {', '.join(asked)})")


def _typed(key: str, question: Mapping[str, Any], value: Any) -> Any:
    """``value`` checked against the question's type; a yes/no answer becomes a boolean.

    Other values go to Copier as given: it parses them itself, and parsing twice
    could change a value (YAML ``'1'`` is a string, reparsed it is a number).
    """
    kind = question.get("type")
    if kind == "bool":
        return _yes_no(key, value)
    if kind == "int" and not isinstance(value, int):
        try:
            int(str(value))
        except ValueError:
            raise UsageError(key, f"must be a whole number (got {value!r})") from None
    if kind == "yaml" and isinstance(value, str):
        try:
            yaml.safe_load(value)
        except yaml.YAMLError:
            raise UsageError(key, f"must be valid YAML, such as [a, b] for a list (got {value!r})") from None
    return value


def _yes_no(key: str, value: Any) -> bool:
    """A clear yes or no as a boolean; anything else is refused.

    Copier would take any text ('maybe' as yes, an empty answer as no), so a typo
    would silently flip a setting.
    """
    if isinstance(value, bool):
        return value
    spelled = str(value).strip().lower() if isinstance(value, str | int) else None
    if spelled in YES:
        return True
    if spelled in NO:
        return False
    raise UsageError(key, f"must be true or false (got {value!r})")


def merge_answers(template: str, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The answers, with ``template`` and ``name`` from the arguments; a clash is an error."""
    for key, value in (("template", template), ("name", name)):
        if key in data and str(data[key]) != value:
            raise UsageError(key, f"given twice: {value!r} as an argument and {data[key]!r} as -d {key}=...")
    return {**data, "template": template, "name": name}


def check_flavor_names(dest: Path, answers: Mapping[str, Any]) -> None:
    """Refuse a flavor name or alias that another flavor of the repository has as its name or alias.

    The repository's scripts/base_image_tags.py makes each name and alias a key of
    base_image_tags.json, and fails on one that two flavors share.
    """
    taken = _flavor_names(dest.absolute().parent, dest.name)
    for key, words in (("name", [answers["name"]]), ("aliases", _yaml_list(answers.get("aliases")))):
        for word in words:
            if isinstance(word, str) and word in taken:
                raise UsageError(key, f"{word} is already a name or alias of flavor {taken[word]}")


def _flavor_names(flavors: Path, new: str) -> dict[str, str]:
    """Each name and alias of the flavors in ``flavors`` (but ``new``) -> the flavor that has it.

    Every folder there is a flavor, as base_image_tags.py reads them; the aliases
    come from its flavor_config.yaml (one it cannot read, it reports itself).
    """
    taken: dict[str, str] = {}
    for folder in sorted(flavors.glob("*")):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name != new:
            taken.setdefault(folder.name, folder.name)
            try:
                config = yaml.safe_load((folder / FLAVOR_CONFIG).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            aliases = config.get("aliases") if isinstance(config, dict) else None
            for alias in aliases if isinstance(aliases, list) else []:
                taken.setdefault(str(alias), folder.name)
    return taken


def _yaml_list(value: Any) -> list[Any]:
    """A ``yaml`` answer as Copier reads it, if that is a list; else empty (its validator says why)."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return []
    return value if isinstance(value, list) else []

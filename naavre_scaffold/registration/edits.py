"""The text edits that add a component to a NaaVRE-helm checkout's files.

Each function takes a file's text and returns it with the component's lines added in
the file's own style (quoting, indentation, blank lines); nothing else changes. Plain
YAML files are checked with a parser afterwards (``yaml_text.checked_addition``); the
JupyterHub values template is not YAML until Helm renders it, so its edit is checked
by reading back the JSON it holds.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from naavre_scaffold.registration import naavre_helm
from naavre_scaffold.registration.yaml_text import (
    LayoutError,
    blocks,
    checked_addition,
    child_indent,
    find,
    indent_step,
    insert_lines,
    quote_like,
    sequence_items,
)

_SCALAR = re.compile(r"^(?P<lead> *(?:- )?)(?P<key>[\w-]+):(?P<space> *)(?P<value>.*)$")


def add_dependency(text: str, dependency: dict[str, str]) -> str:
    """``naavre/Chart.yaml`` with ``dependency`` at the end of ``dependencies:``, written like the entries."""
    lines = text.splitlines()
    items = sequence_items(lines, find(lines, ("dependencies",)))
    last = lines[items[-1].start : items[-1].end]
    styles = {m["key"]: m["value"] for m in map(_SCALAR.match, last) if m}
    first = _SCALAR.match(last[0])
    inner = " " * (len(first["lead"]) if first else 4)
    new = []
    for index, (key, value) in enumerate(dependency.items()):
        lead = first["lead"] if index == 0 and first else inner
        new.append(f"{lead}{key}: {quote_like(styles.get(key, ''), value)}")
    after = insert_lines(text, items[-1].end, new)

    def expected(chart: Any) -> Any:
        chart = copy.deepcopy(chart)
        chart["dependencies"].append(dependency)
        return chart

    return checked_addition(text, after, expected, naavre_helm.UMBRELLA_CHART)


def add_list_item(text: str, path: tuple[str, ...], item: str, after_prefix: str, where: str) -> str:
    """``text`` with the scalar ``item`` in the block list at ``path``, after the last item starting
    with ``after_prefix`` (else at the end), written like the items there."""
    lines = text.splitlines()
    items = sequence_items(lines, find(lines, path))
    values = [lines[i.start].split("- ", 1)[1].strip() for i in items]
    anchors = [i for i, value in zip(items, values, strict=True) if value.lower().startswith(after_prefix)]
    anchor = (anchors or items)[-1]
    lead = lines[anchor.start][: lines[anchor.start].index("- ") + 2]
    after = insert_lines(text, anchor.end, [f"{lead}{quote_like(values[items.index(anchor)], item)}"])

    def expected(document: Any) -> Any:
        document = copy.deepcopy(document)
        target = document
        for key in path:
            target = target[key]
        target.insert(items.index(anchor) + 1, item)
        return document

    return checked_addition(text, after, expected, where)


def add_top_level_block(text: str, key: str, value: dict[str, Any], after_prefix: str, where: str) -> str:
    """``text`` with a new top-level block ``key: value`` after the last key starting with ``after_prefix``.

    Without such a key, the block goes at the end. One blank line separates it from the
    block before, as the files' blocks are.
    """
    lines = text.splitlines()
    top = blocks(lines)
    anchors = [b for b in top if b.key.startswith(after_prefix)]
    at = (anchors or top)[-1].end if top else len(lines)
    step = indent_step(text)
    new = ["", *_block_lines(key, value, step)]
    after = insert_lines(text, at, new)

    def expected(document: Any) -> Any:
        document = dict(document or {})
        document[key] = value
        return document

    return checked_addition(text, after, expected, where)


def _block_lines(key: str, value: Any, step: int, depth: int = 0) -> list[str]:
    pad = " " * (step * depth)
    if isinstance(value, dict):
        lines = [f"{pad}{key}:"]
        for child, child_value in value.items():
            lines += _block_lines(child, child_value, step, depth + 1)
        return lines
    scalar = "true" if value is True else "false" if value is False else str(value)
    return [f"{pad}{key}: {scalar}"]


# Where JupyterHub's values live in a values/ template: its own chart's, or inside BinderHub's.
OVERRIDES_PATHS = {
    naavre_helm.JUPYTERHUB_TEMPLATE: ("jupyterhub", "singleuser", "extraFiles", "overrides.json"),
    naavre_helm.BINDERHUB_TEMPLATE: ("binderhub", "jupyterhub", "singleuser", "extraFiles", "overrides.json"),
}


def has_overrides(text: str, where: str) -> bool:
    """Whether the values template ``where`` writes JupyterLab's overrides.json."""
    try:
        find(text.splitlines(), OVERRIDES_PATHS[where])
    except LayoutError:
        return False
    return True


def add_override(text: str, plugin_id: str, setting: str, camel: str, where: str) -> str:
    """The values template ``where`` with an extension's ``<service>ServiceUrl`` in overrides.json."""
    lines = text.splitlines()
    files = find(lines, OVERRIDES_PATHS[where])
    inner = child_indent(lines, files)
    data = next((b for b in blocks(lines, inner, files.start + 1, files.end) if b.key == "stringData"), None)
    if data is None or not lines[data.start].rstrip().endswith("|"):
        raise LayoutError(f"{where}: overrides.json has no 'stringData: |' block")
    body = [n for n in range(data.start + 1, data.end) if lines[n].strip()]
    closing = body[-1]
    if lines[closing].strip() != "}":
        raise LayoutError(f"{where}: overrides.json does not end with '}}'")
    if f'"{plugin_id}"' in "\n".join(lines[data.start : data.end]):
        raise AlreadyThere(where, f"overrides.json already has {plugin_id}")
    outer = lines[closing][: len(lines[closing]) - len(lines[closing].lstrip())]
    entry_indent = _json_entry_indent(lines, body, outer)
    unit = " " * max(len(entry_indent) - len(outer), 2)
    new = [
        f'{entry_indent}"{plugin_id}": {{',
        f"{entry_indent}{unit}{naavre_helm.url_setting(setting, camel)}",
        f"{entry_indent}}}",
    ]
    previous = body[-2] if len(body) > 1 else None
    if previous is not None and lines[previous].strip() not in ("{", ""):
        lines[previous] = lines[previous].rstrip() + ","
    edited = "\n".join(lines[:closing] + new + lines[closing:])
    return edited + ("\n" if text.endswith("\n") else "")


def _json_entry_indent(lines: list[str], body: list[int], outer: str) -> str:
    for number in body[1:-1]:
        line = lines[number]
        indent = line[: len(line) - len(line.lstrip())]
        if line.lstrip().startswith('"') and len(indent) > len(outer):
            return indent
    return outer + "  "


# setup_virtual_lab.sh's loop over the short names of the extensions it gives virtualLab.
_LAB_LOOP = re.compile(r'^(?P<head>\s*for ext in )(?P<names>(?:"[\w-]+" ?)+)(?P<tail>; do\s*)$', re.M)


def lab_extensions(text: str) -> list[str] | None:
    """The short names ``setup_virtual_lab.sh`` (in ``text``) gives ``virtualLab``; None without its loop."""
    match = _LAB_LOOP.search(text)
    return None if match is None else [name.strip('"') for name in match["names"].split()]


def add_lab_extension(text: str, extension: str) -> str:
    """``setup_virtual_lab.sh`` (in ``jupyterhub.yaml``) also writing ``virtualLab`` for ``extension``.

    The script loops over the short names of the ``@naavre/<name>-jupyterlab``
    extensions; a file without that loop is left as it is (returned unchanged).
    """
    match = _LAB_LOOP.search(text)
    if match is None or f'"{extension}"' in match["names"].split():
        return text
    names = f'{match["names"].rstrip()} "{extension}"'
    return text[: match.start()] + f"{match['head']}{names}{match['tail']}" + text[match.end() :]


class AlreadyThere(LayoutError):
    """The component is already in this file (internal: ``plan.edit`` raises ``AlreadyRegistered`` for it)."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path

"""Additions to YAML files as text, so that everything already there stays byte for byte.

A YAML round trip (even ruamel.yaml's) re-flows some of what people write: quoting,
indentation of lists, blank lines, comment spacing. A registration must add its
lines and change nothing else, so it inserts text at a place found in the file's own
lines, in the file's own style, and ``checked_addition`` then proves with a parser
that the result means exactly the old content plus the addition.

Only block-style YAML is handled (what NaaVRE-helm writes); anything else raises
``LayoutError`` with the reason, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

_KEY = re.compile(r"""^(?P<indent> *)(?P<key>[^\s#'"\-][^:#]*?|"[^"]*"|'[^']*'):(?:\s|$)""")
_ITEM = re.compile(r"^(?P<indent> *)- ")


class LayoutError(Exception):
    """The file is not laid out as the edit expects; the message says how.

    Internal to registration, never shown as it is: ``plan.edit`` turns it into a
    ``ScaffoldError`` that names the file (exit 3), and its ``AlreadyThere`` into
    ``AlreadyRegistered`` (exit 1). Not a ``ValueError``, so that no ``except ValueError``
    on the way (one meant for a parser's error) takes it for something else.
    """


@dataclass(frozen=True)
class Block:
    """A key's lines: ``start`` is the key's line, ``end`` the line after its last content line."""

    key: str
    start: int
    end: int


def _is_content(line: str) -> bool:
    """Neither blank, nor a comment, nor a document marker (``---``, ``...``)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#") and stripped not in ("---", "...")


def _is_directive(line: str) -> bool:
    """A Helm template's own line (``{{- if ... }}``), which is not YAML until rendered."""
    return line.lstrip().startswith("{{")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" and key[-1:] == key[:1] else key.strip()


def blocks(lines: list[str], indent: int = 0, start: int = 0, stop: int | None = None) -> list[Block]:
    """The keys at ``indent`` between lines ``start`` and ``stop``, each with its content lines."""
    stop = len(lines) if stop is None else stop
    found: list[Block] = []
    for number in range(start, stop):
        line = lines[number]
        if not _is_content(line) or _is_directive(line) or _indent(line) > indent:
            continue
        if _indent(line) < indent:
            break
        if _ITEM.match(line):
            continue  # an item of a list written flush with its key ("key:" then "- item")
        match = _KEY.match(line)
        if match is None:
            raise LayoutError(f"line {number + 1}: expected a 'key:' at indentation {indent}")
        found.append(Block(_unquote(match["key"]), number, number + 1))
    # Each block runs to its last content line before the next key (comments and blank
    # lines between two keys belong to the next one, as people write them).
    result = []
    for index, block in enumerate(found):
        limit = found[index + 1].start if index + 1 < len(found) else stop
        end = block.end
        for number in range(block.start + 1, limit):
            line = lines[number]
            flush_item = _indent(line) == indent and _ITEM.match(line)
            if _is_content(line) and _indent(line) <= indent and not _is_directive(line) and not flush_item:
                break
            if _is_content(line):
                end = number + 1
        result.append(Block(block.key, block.start, end))
    return result


def find(lines: list[str], path: tuple[str, ...]) -> Block:
    """The block of the key at ``path`` (top-level key first)."""
    indent, start, stop = 0, 0, len(lines)
    block: Block | None = None
    for depth, key in enumerate(path):
        block = next((b for b in blocks(lines, indent, start, stop) if b.key == key), None)
        if block is None:
            raise LayoutError(f"no key {'.'.join(path[: depth + 1])}")
        start, stop = block.start + 1, block.end
        indent = child_indent(lines, block)
    assert block is not None
    return block


def child_indent(lines: list[str], block: Block) -> int:
    """Indentation of the first content line inside ``block``."""
    for number in range(block.start + 1, block.end):
        if _is_content(lines[number]):
            return _indent(lines[number])
    raise LayoutError(
        f"line {block.start + 1}: {block.key} has nothing indented below it (empty, or flow style)"
    )


def indent_step(text: str) -> int:
    """The file's indentation step: the smallest indentation of a content line (2 when flat)."""
    indents = {_indent(line) for line in text.splitlines() if _is_content(line) and _indent(line)}
    return min(indents) if indents else 2


def insert_lines(text: str, at: int, new_lines: list[str]) -> str:
    """``text`` with ``new_lines`` inserted before line ``at`` (0-based)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines[:at] + [line + "\n" for line in new_lines] + lines[at:])


def sequence_items(lines: list[str], block: Block) -> list[Block]:
    """The items (``- ...``) of a block-style sequence under ``block``."""
    items: list[Block] = []
    item_indent = None
    for number in range(block.start + 1, block.end):
        line = lines[number]
        match = _ITEM.match(line)
        if match and (item_indent is None or _indent(line) == item_indent):
            item_indent = _indent(line)
            items.append(Block("-", number, number + 1))
        elif _is_content(line) and items:
            items[-1] = Block("-", items[-1].start, number + 1)
    if not items:
        raise LayoutError(f"line {block.start + 1}: {block.key} is not a block-style list")
    return items


def quote_like(example: str, value: str) -> str:
    """``value`` quoted the way ``example`` (a scalar as written) is."""
    example = example.split(" #", 1)[0].strip()
    if example.startswith('"'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if example.startswith("'"):
        return "'" + value.replace("'", "''") + "'"
    return value


def checked_addition(before: str, after: str, expected: Callable[[Any], Any], where: str) -> str:
    """``after``, once a parser agrees that it is ``before`` changed by ``expected`` and nothing else."""
    try:
        old, new = yaml.safe_load(before), yaml.safe_load(after)
    except yaml.YAMLError as error:
        raise LayoutError(f"{where}: not YAML that can be parsed ({one_line(error)})") from None
    if new != expected(old):
        raise LayoutError(
            f"{where}: the addition would not mean what it should; the file's layout is unusual"
        )
    return after


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())

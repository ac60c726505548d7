"""JSON log events and the ``$.a.b[0]`` selectors that point into them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipetrail.logs.filter_pattern.cursor import Cursor

KEY_EXTRA = frozenset("_-")
DIGITS = "0123456789"


@dataclass(frozen=True)
class Num:
    """A JSON number with the text it was written as (``1``, ``1.0`` and ``1e0`` differ)."""

    value: float
    text: str


class _Wildcard:
    def __repr__(self) -> str:
        return "*"


WILDCARD = _Wildcard()
Step = str | int | _Wildcard


def _number(text: str) -> Num:
    return Num(float(text), text)


def _no_constants(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


_DECODER = json.JSONDecoder(parse_float=_number, parse_int=_number, parse_constant=_no_constants)


def parse_document(message: str) -> dict[str, Any] | None:
    """The JSON object a log event holds, or None when it is not a JSON object.

    Numbers become :class:`Num`; a repeated key keeps its last value.
    """
    stripped = message.strip()
    if not stripped.startswith("{"):
        return None
    try:
        document = _DECODER.decode(stripped)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


@dataclass(frozen=True)
class Selector:
    """``$`` followed by steps: keys, array indexes and at most one ``*`` wildcard."""

    text: str
    steps: tuple[Step, ...]

    @property
    def wildcards(self) -> int:
        return sum(1 for step in self.steps if step is WILDCARD)

    def resolve(self, document: Any) -> list[Any]:
        """Every value the selector reaches (none when the path does not exist)."""
        return list(_walk(document, self.steps, 0))


def _walk(node: Any, steps: tuple[Step, ...], index: int) -> Iterator[Any]:
    if index == len(steps):
        yield node
        return
    step = steps[index]
    if step is WILDCARD:
        if isinstance(node, dict):
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            return
        for child in children:
            yield from _walk(child, steps, index + 1)
    elif isinstance(step, int):
        if isinstance(node, list) and step < len(node):
            yield from _walk(node[step], steps, index + 1)
    elif isinstance(node, dict) and step in node:
        yield from _walk(node[step], steps, index + 1)


def read_selector(cur: Cursor, *, max_wildcards: int = 1) -> Selector:
    """Read ``$.key``, ``.*``, ``[0]``, ``[*]``, ``['dotted.key']`` steps at the cursor."""
    start = cur.pos
    if cur.peek() != "$":
        raise cur.error("expected a selector starting with '$', such as $.field")
    cur.pos += 1
    steps: list[Step] = []
    wildcards = 0
    while not cur.eof():
        char = cur.peek()
        step_at = cur.pos
        if char == ".":
            cur.pos += 1
            nxt = cur.peek()
            if nxt == "*":
                cur.pos += 1
                steps.append(WILDCARD)
            elif nxt == "[":
                steps.append(_read_bracket(cur))
            else:
                key = _read_key(cur)
                if not key:
                    raise cur.error(
                        "expected a property name, '*' or '[' after '.' in the selector"
                    )
                steps.append(key)
        elif char == "[":
            steps.append(_read_bracket(cur))
        else:
            break
        if steps[-1] is WILDCARD:
            wildcards += 1
            if wildcards > max_wildcards:
                problem = (f"a selector may hold at most {max_wildcards} wildcard"
                           if max_wildcards else "wildcards are not allowed in this selector")
                raise cur.error(problem, step_at)
    if not steps:
        raise cur.error("a selector needs at least one step after '$', such as $.field", start)
    return Selector(cur.text[start:cur.pos], tuple(steps))


def _read_key(cur: Cursor) -> str:
    start = cur.pos
    while not cur.eof():
        char = cur.peek()
        if char.isalnum() or char in KEY_EXTRA:
            cur.pos += 1
        else:
            break
    return cur.text[start:cur.pos]


def _read_bracket(cur: Cursor) -> Step:
    open_at = cur.pos
    cur.pos += 1
    char = cur.peek()
    step: Step
    if char == "*":
        cur.pos += 1
        step = WILDCARD
    elif char in ("'", '"'):
        quote = char
        close = cur.text.find(quote, cur.pos + 1, cur.end)
        if close < 0:
            raise cur.error("this quoted property name is never closed", cur.pos)
        step = cur.text[cur.pos + 1:close]
        cur.pos = close + 1
    elif char and char in DIGITS:
        start = cur.pos
        while cur.peek() and cur.peek() in DIGITS:
            cur.pos += 1
        step = int(cur.text[start:cur.pos])
    else:
        raise cur.error(
            "expected an array index (a non-negative integer), '*' or a quoted name after '['"
        )
    if cur.peek() != "]":
        raise cur.error(f"expected ']' to close the '[' at column {open_at + 1}")
    cur.pos += 1
    return step

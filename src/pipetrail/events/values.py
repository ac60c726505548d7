"""JSON values as event patterns see them: numbers keep the text they were written with.

EventBridge compares an exact number in a pattern with the event's number by its string
form (``300``, ``300.0`` and ``3.0e2`` are three different values), and compares numbers
numerically only inside ``numeric`` (and numeric ``anything-but``), with six digits after
the decimal point, between -5.0e9 and +5.0e9. So a JSON number is read into a
:class:`JsonNumber` that keeps its text and knows its comparable key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Context, Decimal, InvalidOperation
from typing import Any

from pipetrail.model.errors import ValidationError

NUMERIC_LIMIT = Decimal("5e9")
"""Numeric matching works on values between -5.0e9 and +5.0e9 inclusive."""

NUMERIC_SCALE = 10**6
"""Numeric matching keeps six digits to the right of the decimal point."""

_CONTEXT = Context(prec=40, rounding=ROUND_FLOOR, traps=[])
_UNSET: Any = object()


class JsonNumber:
    """A JSON number as written: ``text`` for exact matching, ``key`` for numeric matching."""

    __slots__ = ("_key", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._key: int | None = _UNSET

    @property
    def key(self) -> int | None:
        """The value times 10**6, rounded down; None outside the numeric-matching range."""
        if self._key is _UNSET:
            self._key = numeric_key(self.text)
        return self._key

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JsonNumber):
            return self.text == other.text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("JsonNumber", self.text))

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"


Leaf = str | JsonNumber | bool | None
"""A leaf value of an event or pattern: string, number, true, false or null."""


def numeric_key(text: str) -> int | None:
    """``text`` as an integer count of millionths (rounded down), or None when out of range."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < -NUMERIC_LIMIT or value > NUMERIC_LIMIT:
        return None
    scaled = _CONTEXT.multiply(value, NUMERIC_SCALE)
    return int(scaled.to_integral_value(rounding=ROUND_FLOOR, context=_CONTEXT))


def decimal_of(number: JsonNumber) -> Decimal:
    """The exact decimal value of a JSON number."""
    return Decimal(number.text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(source: str | bytes, what: str) -> Any:
    """Parse JSON text, keeping numbers as :class:`JsonNumber`.

    Raises ValidationError naming ``what`` and the line, column and offset of the fault.
    """
    try:
        return json.loads(
            source,
            parse_int=JsonNumber,
            parse_float=JsonNumber,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno} (offset {exc.pos})"
        ) from None
    except RecursionError:
        raise ValidationError(f"{what} is nested too deeply to read") from None
    except ValueError as exc:  # undecodable bytes, NaN/Infinity
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None


MAX_DEPTH = 10_000
"""Deepest nesting accepted from Python objects (JSON text is limited by the reader)."""


def from_python(value: Any, what: str) -> Any:
    """A copy of a Python JSON-like value with numbers as :class:`JsonNumber`.

    Dicts (string keys), lists and tuples, strings, ints, finite floats, booleans and
    None are accepted; anything else raises ValidationError.
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        item, container, slot, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationError(f"{what} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, JsonNumber) or item is None or isinstance(item, (str, bool)):
            container[slot] = item
        elif isinstance(item, int):
            try:
                container[slot] = JsonNumber(str(item))
            except ValueError:  # more digits than Python will print
                raise ValidationError(f"{what} holds an integer too large to use") from None
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValidationError(f"{what} holds {item!r}, which is not a JSON number")
            container[slot] = JsonNumber(repr(item))
        elif isinstance(item, Mapping):
            copy: dict[str, Any] = {}
            container[slot] = copy
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ValidationError(f"{what} has a non-string key {key!r}")
                copy[key] = None
                stack.append((child, copy, key, depth + 1))
        elif isinstance(item, (list, tuple)):
            items: list[Any] = [None] * len(item)
            container[slot] = items
            for index, child in enumerate(item):
                stack.append((child, items, index, depth + 1))
        else:
            raise ValidationError(f"{what} holds a {type(item).__name__}, which is not JSON")
    return root[0]


def describe(value: Any) -> str:
    """A short JSON-ish rendering of a value for error messages."""
    if isinstance(value, JsonNumber):
        return value.text
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + '..."'

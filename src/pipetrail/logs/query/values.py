"""How query values compare, sort, calculate and print.

Values are None (missing), bool, int, float, str, or :class:`Timestamp` (epoch
milliseconds that print as ``2026-11-25 10:00:00.000``, as Logs Insights prints them).
Text that reads as a number takes part in arithmetic and in comparisons with numbers.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*\Z", re.ASCII)
_BIG = 2**63
_INTEGER = re.compile(r"[+-]?\d{1,18}\Z", re.ASCII)


class Timestamp(int):
    """Epoch milliseconds; prints as ``YYYY-MM-DD HH:MM:SS.mmm`` (UTC)."""

    def __str__(self) -> str:
        return format_timestamp(int(self))


def format_timestamp(ms: int) -> str:
    try:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return str(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def as_number(value: Any) -> int | float | None:
    """The number a value stands for, or None (booleans and non-numeric text are not)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if abs(value) <= _BIG:
            return value
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, float):
        return value
    if isinstance(value, str) and _NUMBER.match(value):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text)
        number = float(text)
        return number if math.isfinite(number) else None
    return None


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    return bool(value != "")


def compare(op: str, left: Any, right: Any) -> bool:
    """``= != < <= > >=``; numeric when both sides are numbers, else on the text."""
    if left is None or right is None:
        return False
    a: Any = as_number(left)
    b: Any = as_number(right)
    if a is None or b is None:
        a, b = as_text(left), as_text(right)
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def arithmetic(op: str, left: Any, right: Any) -> int | float | None:
    a = as_number(left)
    b = as_number(right)
    if a is None or b is None:
        return None
    try:
        if op == "+":
            result: int | float = a + b
        elif op == "-":
            result = a - b
        elif op == "*":
            result = a * b
        elif op == "/":
            if b == 0:
                return None
            result = a / b
        elif op == "%":
            if b == 0:
                return None
            result = math.fmod(a, b)
        else:
            result = float(a) ** float(b)
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    if isinstance(result, complex):
        return None
    if isinstance(result, int) and abs(result) > _BIG:
        try:
            result = float(result)
        except OverflowError:
            return None
    if isinstance(result, float) and not math.isfinite(result):
        return None
    return result


class _Descending:
    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def sort_key(value: Any, descending: bool) -> tuple[bool, Any]:
    """The Logs Insights sort order; missing values sort last in either direction.

    Ascending: every text comes before every number; numbers by value; texts split into
    runs of digits and runs of other characters, digit runs ordered by length and then
    value, other runs by code point (``5A < 111A < 2345_ < @ < A < a1``).
    """
    if value is None:
        return (True, 0)
    number = as_number(value)
    key: tuple[Any, ...]
    if number is not None:
        key = (1, number, as_text(value) or "")
    else:
        key = (0, _natural_chunks(as_text(value) or ""))
    return (False, _Descending(key) if descending else key)


_CHUNKS = re.compile(r"\d+|\D+", re.ASCII)
_ZERO = ord("0")


def _natural_chunks(text: str) -> tuple[tuple[Any, ...], ...]:
    chunks: list[tuple[Any, ...]] = []
    for chunk in _CHUNKS.findall(text):
        if chunk[0] in "0123456789":
            chunks.append((_ZERO, 0, len(chunk), chunk))
        else:
            chunks.append((ord(chunk[0]), 1, chunk))
    return tuple(chunks)


def group_key(value: Any) -> Any:
    """A hashable stand-in for a value; numbers and numeric text group together."""
    if value is None or isinstance(value, bool):
        return value
    number = as_number(value)
    if number is not None:
        return float(number)
    return as_text(value)


def to_output(value: Any) -> Any:
    """A value as it appears in results (timestamps as text)."""
    if isinstance(value, Timestamp):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value

"""Space-delimited filter patterns: ``[ip, user, ..., status = 4*, bytes > 1000]``.

Semantics (checked against CloudWatch Logs' own TestMetricFilter answers):

- The event splits at runs of whitespace; text between ``"..."`` or ``[...]`` at the start
  of a field is one field, without its quotes or brackets. An unclosed quote or bracket is
  ordinary text.
- Without ``...`` the event needs at least as many fields as the pattern; extra text goes
  to the last field (as written, from that field on).
- ``...`` stands for any number (zero or more) of fields; the fields before it bind from
  the start, the fields after it from the end. Fields under ``...`` are extracted as
  ``$1``, ``$2``... by position; ``[]`` extracts every field that way.
- Conditions: ``= != `` against text with ``*`` wildcards, a number or a ``%regex%``;
  ``< <= > >=`` against a number (only numeric fields match); ``&&``, ``||`` and
  parentheses combine them.
- An empty field (``[w1=ERROR, w2,]``: the trailing comma) is an unnamed field, extracted
  by its position like the fields under ``...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipetrail.logs.filter_pattern.cursor import MAX_NESTING, Cursor
from pipetrail.logs.filter_pattern.values import (
    MAX_REGEXES,
    RELATIONAL,
    Literal,
    parse_number,
    read_value,
)

ELLIPSIS = "..."
UNNAMED = ""
NAME_EXTRA = frozenset("_-.")
OPERATORS = ("!=", "<=", ">=", "=", "<", ">")

Condition = Callable[[dict[str, str]], bool]


@dataclass(frozen=True)
class _Slot:
    name: str  # ELLIPSIS for "...", UNNAMED for an empty field
    condition: Condition | None
    offset: int


class DelimitedPattern:
    """A compiled space-delimited pattern."""

    def __init__(self, slots: list[_Slot]) -> None:
        self.slots = slots
        names = [slot.name for slot in slots]
        self.ellipsis = names.index(ELLIPSIS) if ELLIPSIS in names else None
        self.conditions = [slot.condition for slot in slots if slot.condition is not None]

    def extract(self, message: str) -> dict[str, str] | None:
        """The field values by ``$name`` when the event matches, else None."""
        tokens = split_fields(message)
        slots = self.slots
        # (slot name or None for positional fields, text) for each field bound.
        bound: list[tuple[str | None, str]] = []
        if self.ellipsis is None:
            count = len(slots)
            if len(tokens) < count:
                return None
            if not count:
                bound = [(None, value) for value, _ in tokens]
            else:
                bound = [(slots[index].name, tokens[index][0]) for index in range(count)]
                if len(tokens) > count:
                    bound[-1] = (slots[-1].name, message[tokens[count - 1][1]:].rstrip())
        else:
            left = self.slots[:self.ellipsis]
            right = self.slots[self.ellipsis + 1:]
            if len(tokens) < len(left) + len(right):
                return None
            middle_end = len(tokens) - len(right)
            for index, (value, _) in enumerate(tokens):
                if index < len(left):
                    name: str | None = left[index].name
                elif index >= middle_end:
                    name = right[index - middle_end].name
                else:
                    name = None
                bound.append((name, value))
        values = {name: value for name, value in bound if name}
        for check in self.conditions:
            if not check(values):
                return None
        return {f"${name}" if name else f"${position}": value
                for position, (name, value) in enumerate(bound, start=1)}


_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')


def split_fields(message: str) -> list[tuple[str, int]]:
    """Split an event into ``(field, offset)`` at whitespace, keeping ``"..."`` and
    ``[...]`` whole (without the quotes or brackets)."""
    return [(found[found.lastindex or 0], found.start()) for found in _FIELD.finditer(message)]


def parse_delimited_pattern(text: str, start: int, end: int) -> DelimitedPattern:
    """Parse the fields between the brackets ``text[start:end]``."""
    cur = Cursor(text, start, end)
    slots: list[_Slot] = []
    regexes = [0]
    references: list[tuple[str, int]] = []
    cur.skip_ws()
    while not cur.eof():
        offset = cur.pos
        if cur.peek() == ",":
            slots.append(_Slot(UNNAMED, None, offset))
        elif cur.startswith(ELLIPSIS):
            cur.pos += len(ELLIPSIS)
            slots.append(_Slot(ELLIPSIS, None, offset))
        else:
            names: list[tuple[str, int]] = []
            condition = _parse_or(cur, names, regexes, 0)
            references.extend(names)
            first = names[0][0]
            has_condition = condition is not None
            slots.append(_Slot(first, condition if has_condition else None, offset))
        cur.skip_ws()
        if cur.eof():
            break
        if cur.peek() != ",":
            raise cur.error("expected ',' between fields (or the closing ']')")
        cur.pos += 1
        cur.skip_ws()
        if cur.eof():
            slots.append(_Slot(UNNAMED, None, cur.pos))
    seen: set[str] = set()
    for slot in slots:
        if slot.name == UNNAMED:
            continue
        if slot.name in seen:
            raise cur.error(f"duplicate field {slot.name!r}", slot.offset)
        seen.add(slot.name)
    for name, offset in references:
        if name not in seen:
            raise cur.error(f"the condition refers to {name!r}, which is not a field of this "
                            "pattern", offset)
    return DelimitedPattern(slots)


def _parse_or(cur: Cursor, names: list[tuple[str, int]], regexes: list[int],
              depth: int) -> Condition | None:
    terms = [_parse_and(cur, names, regexes, depth)]
    while True:
        cur.skip_ws()
        if not cur.startswith("||"):
            break
        cur.pos += 2
        terms.append(_parse_and(cur, names, regexes, depth))
    return _combine(terms, any_of=True)


def _parse_and(cur: Cursor, names: list[tuple[str, int]], regexes: list[int],
               depth: int) -> Condition | None:
    terms = [_parse_primary(cur, names, regexes, depth)]
    while True:
        cur.skip_ws()
        if not cur.startswith("&&"):
            break
        cur.pos += 2
        terms.append(_parse_primary(cur, names, regexes, depth))
    return _combine(terms, any_of=False)


def _combine(terms: list[Condition | None], *, any_of: bool) -> Condition | None:
    if len(terms) == 1:
        return terms[0]
    # A bare name inside && / || has no condition of its own: it always holds.
    checks = [term if term is not None else (lambda values: True) for term in terms]
    if any_of:
        return lambda values: any(check(values) for check in checks)
    return lambda values: all(check(values) for check in checks)


def _parse_primary(cur: Cursor, names: list[tuple[str, int]], regexes: list[int],
                   depth: int) -> Condition | None:
    cur.skip_ws()
    if cur.peek() == "(":
        if depth >= MAX_NESTING:
            raise cur.error(f"parentheses nest deeper than {MAX_NESTING} levels")
        open_at = cur.pos
        cur.pos += 1
        inner = _parse_or(cur, names, regexes, depth + 1)
        cur.skip_ws()
        if cur.peek() != ")":
            raise cur.error(f"expected ')' to close the '(' at column {open_at + 1}")
        cur.pos += 1
        return inner
    name_at = cur.pos
    name = cur.read_while(stop="")
    name = _leading_name(name)
    cur.pos = name_at + len(name)
    if not name:
        if cur.eof() or cur.peek() in ",":
            raise cur.error("expected a field name")
        raise cur.error(f"{cur.peek()!r} cannot start a field name")
    names.append((name, name_at))
    cur.skip_ws()
    for op in OPERATORS:
        if cur.startswith(op):
            op_at = cur.pos
            cur.pos += len(op)
            if op == "=" and cur.peek() == "=":
                raise cur.error("use '=' to compare, not '=='", op_at)
            cur.skip_ws()
            value_at = cur.pos
            literal = read_value(cur, stop=",()")
            if literal.pattern is not None:
                regexes[0] += 1
                if regexes[0] > MAX_REGEXES:
                    raise cur.error(
                        f"a filter pattern may hold at most {MAX_REGEXES} regular expressions",
                        value_at,
                    )
            return _comparison(cur, name, op, literal, value_at)
    if not cur.eof() and cur.peek() not in ",)" and not cur.startswith("&&") \
            and not cur.startswith("||"):
        raise cur.error("expected ',' or a comparison (=, !=, <, <=, >, >=) after the "
                        f"field name {name!r}")
    return None


def _leading_name(word: str) -> str:
    for index, char in enumerate(word):
        if not (char.isalnum() or char in NAME_EXTRA):
            return word[:index]
    return word


def _comparison(cur: Cursor, name: str, op: str, literal: Literal, value_at: int) -> Condition:
    if op in ("=", "!="):
        want = op == "="
        number = literal.number

        def equality(values: dict[str, str]) -> bool:
            value = values.get(name)
            if value is None:
                return False
            if number is not None:
                parsed = parse_number(value)
                equal = parsed == number if parsed is not None else value == literal.text
            else:
                equal = literal.matches_text(value)
            return equal is want
        return equality
    if literal.number is None:
        raise cur.error(f"{op} compares numbers; the value must be a number", value_at)
    bound = literal.number
    compare = RELATIONAL[op]

    def relational(values: dict[str, str]) -> bool:
        value = values.get(name)
        parsed = parse_number(value) if value is not None else None
        if parsed is None:
            return False
        return compare(parsed, bound)
    return relational

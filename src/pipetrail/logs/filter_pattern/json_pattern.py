"""JSON filter patterns: ``{ $.level = "ERROR" && ($.latency > 500 || $.retry IS TRUE) }``.

Semantics (checked against CloudWatch Logs' own TestMetricFilter answers):

- The event must be a JSON object; anything else never matches.
- ``=`` / ``!=`` compare strings and numbers only (true, false, null, objects and arrays
  never match either). An unquoted number compares numerically with JSON numbers and as
  exact text with JSON strings (``= 1`` matches ``1``, ``1.0``, ``1e0`` and ``"1"``).
  Text values (quoted or bare words) compare with the value's text, with ``*`` wildcards;
  a JSON number's text is the number as written (``= "1"`` matches ``1`` but not ``1.0``).
- ``< <= > >=`` need a number on the right and only ever match JSON numbers.
- ``IS NULL`` matches null (and, as CloudWatch does, an array holding a null),
  ``IS TRUE`` / ``IS FALSE`` the booleans, ``NOT EXISTS`` a path that is not there.
- A selector with a wildcard matches when any value it reaches matches.
- Precedence: parentheses, then ``&&``, then ``||``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipetrail.logs.filter_pattern.cursor import MAX_NESTING, Cursor
from pipetrail.logs.filter_pattern.json_path import Num, Selector, read_selector
from pipetrail.logs.filter_pattern.values import MAX_REGEXES, RELATIONAL, Literal, read_value

MAX_WILDCARD_SELECTORS = 3
OPERATORS = ("!=", "<=", ">=", "=", "<", ">")

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class _Budget:
    wildcard_selectors: int = 0
    regexes: int = 0


def parse_json_pattern(text: str, start: int, end: int) -> Predicate:
    """Parse the pattern between the braces ``text[start:end]`` into a predicate."""
    cur = Cursor(text, start, end)
    cur.skip_ws()
    if cur.eof():
        raise cur.error("the JSON pattern between '{' and '}' is empty", start)
    budget = _Budget()
    predicate = _parse_or(cur, budget, 0)
    cur.skip_ws()
    if not cur.eof():
        if cur.startswith("and") or cur.startswith("AND") or cur.startswith("or") \
                or cur.startswith("OR"):
            raise cur.error("join conditions with && or ||, not words")
        raise cur.error("expected && or || or the closing '}'")
    return predicate


def _parse_or(cur: Cursor, budget: _Budget, depth: int) -> Predicate:
    terms = [_parse_and(cur, budget, depth)]
    while True:
        cur.skip_ws()
        if not cur.startswith("||"):
            break
        cur.pos += 2
        terms.append(_parse_and(cur, budget, depth))
    if len(terms) == 1:
        return terms[0]
    return lambda doc: any(term(doc) for term in terms)


def _parse_and(cur: Cursor, budget: _Budget, depth: int) -> Predicate:
    terms = [_parse_unary(cur, budget, depth)]
    while True:
        cur.skip_ws()
        if not cur.startswith("&&"):
            break
        cur.pos += 2
        terms.append(_parse_unary(cur, budget, depth))
    if len(terms) == 1:
        return terms[0]
    return lambda doc: all(term(doc) for term in terms)


def _parse_unary(cur: Cursor, budget: _Budget, depth: int) -> Predicate:
    cur.skip_ws()
    char = cur.peek()
    if char == "(":
        if depth >= MAX_NESTING:
            raise cur.error(f"parentheses nest deeper than {MAX_NESTING} levels")
        open_at = cur.pos
        cur.pos += 1
        inner = _parse_or(cur, budget, depth + 1)
        cur.skip_ws()
        if cur.peek() != ")":
            raise cur.error(f"expected ')' to close the '(' at column {open_at + 1}")
        cur.pos += 1
        return inner
    if char == "$":
        return _parse_condition(cur, budget)
    if char == "!":
        raise cur.error("'!' is not an operator here; use != in a comparison")
    if not char:
        raise cur.error("expected a condition such as $.field = value")
    raise cur.error("expected a selector such as $.field, or '('")


def _parse_condition(cur: Cursor, budget: _Budget) -> Predicate:
    selector = read_selector(cur)
    if selector.wildcards:
        budget.wildcard_selectors += 1
        if budget.wildcard_selectors > MAX_WILDCARD_SELECTORS:
            raise cur.error(
                f"a filter pattern may hold at most {MAX_WILDCARD_SELECTORS} "
                "selectors with wildcards",
                cur.pos - len(selector.text),
            )
    if not cur.eof() and not cur.peek().isspace() and cur.peek() not in "=!<>)":
        raise cur.error(f"{cur.peek()!r} cannot appear in a selector")
    cur.skip_ws()
    op_at = cur.pos
    for op in OPERATORS:
        if cur.startswith(op):
            cur.pos += len(op)
            if op == "=" and cur.peek() == "=":
                raise cur.error("use '=' to compare, not '=='", op_at)
            cur.skip_ws()
            value_at = cur.pos
            literal = read_value(cur, stop="()")
            if literal.pattern is not None:
                budget.regexes += 1
                if budget.regexes > MAX_REGEXES:
                    raise cur.error(
                        f"a filter pattern may hold at most {MAX_REGEXES} regular expressions",
                        value_at,
                    )
            return _comparison(cur, selector, op, literal, value_at)
    word_at = cur.pos
    word = cur.read_letters().upper()
    if word == "IS":
        cur.skip_ws()
        kind_at = cur.pos
        kind = cur.read_letters().upper()
        if kind == "NULL":
            return lambda doc: any(_is_null(v) for v in selector.resolve(doc))
        if kind == "TRUE":
            return lambda doc: any(v is True for v in selector.resolve(doc))
        if kind == "FALSE":
            return lambda doc: any(v is False for v in selector.resolve(doc))
        if kind == "NOT":
            raise cur.error("IS NOT is not supported; use != or NOT EXISTS", kind_at)
        raise cur.error("expected NULL, TRUE or FALSE after IS", kind_at)
    if word == "NOT":
        cur.skip_ws()
        kind_at = cur.pos
        if cur.read_letters().upper() != "EXISTS":
            raise cur.error("expected EXISTS after NOT", kind_at)
        return lambda doc: not selector.resolve(doc)
    if word == "EXISTS":
        raise cur.error("EXISTS alone is not supported; use NOT EXISTS or $.field = *", word_at)
    raise cur.error("expected =, !=, <, <=, >, >=, IS NULL/TRUE/FALSE or NOT EXISTS", op_at)


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, list) and any(item is None for item in value))


def _comparison(cur: Cursor, selector: Selector, op: str, literal: Literal,
                value_at: int) -> Predicate:
    if op in RELATIONAL:
        if literal.number is None:
            raise cur.error(f"{op} compares numbers; the value must be a number", value_at)
        compare = RELATIONAL[op]
        bound = literal.number

        def relational(doc: dict[str, Any]) -> bool:
            return any(isinstance(v, Num) and compare(v.value, bound)
                       for v in selector.resolve(doc))
        return relational
    want = op == "="

    def equality(doc: dict[str, Any]) -> bool:
        for value in selector.resolve(doc):
            if isinstance(value, str):
                if literal.matches_text(value) is want:
                    return True
            elif isinstance(value, Num):
                if literal.number is not None:
                    if (value.value == literal.number) is want:
                        return True
                elif literal.matches_text(value.text) is want:
                    return True
        return False
    return equality

"""The right-hand side of a comparison: a number, a text with ``*`` wildcards, or a regex."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import regex

from pipetrail.logs.bounded_regex import BoundedRegex
from pipetrail.logs.filter_pattern.cursor import Cursor

RELATIONAL: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")

# Characters a CloudWatch filter-pattern regex may contain (the current documentation):
# letters, digits, the symbols _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \ * + .
REGEX_SYMBOLS = frozenset("_#=@/;,-")
REGEX_OPERATORS = frozenset("^$?[]{}|\\*+.")
REGEX_TIMEOUT_SECONDS = 0.25
MAX_REGEXES = 2
# Characters an unquoted value may hold; anything else must be quoted.
BARE_VALUE_EXTRA = frozenset("_.*+-:/")


def parse_number(text: str) -> float | None:
    """The value of a number written as CloudWatch allows (sign, decimals, exponent)."""
    if NUMBER.match(text) is None:
        return None
    return float(text)


@dataclass(frozen=True)
class Glob:
    """Text where ``*`` matches any run of characters; everything else is literal."""

    parts: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Glob:
        return cls(tuple(text.split("*")))

    def match(self, text: str) -> bool:
        parts = self.parts
        if len(parts) == 1:
            return text == parts[0]
        head, tail = parts[0], parts[-1]
        if len(text) < len(head) + len(tail):
            return False
        if not text.startswith(head) or not text.endswith(tail):
            return False
        pos, limit = len(head), len(text) - len(tail)
        for middle in parts[1:-1]:
            found = text.find(middle, pos, limit)
            if found < 0:
                return False
            pos = found + len(middle)
        return True


class PatternRegex(BoundedRegex):
    """A ``%...%`` regular expression, restricted to the characters CloudWatch accepts."""

    def __init__(self, source: str, compiled: regex.Pattern[str]) -> None:
        super().__init__(source, compiled, REGEX_TIMEOUT_SECONDS, f"%{source}%")


def read_regex(cur: Cursor) -> PatternRegex:
    """Read ``%...%`` at the cursor, check its characters and compile it."""
    start = cur.pos
    close = cur.text.find("%", start + 1, cur.end)
    if close < 0:
        raise cur.error("this regular expression has no closing '%'", start)
    cur.pos = close + 1
    return compile_regex(cur.text, start + 1, close)


def compile_regex(text: str, start: int, end: int) -> PatternRegex:
    body = text[start:end]
    cur = Cursor(text, start, end)
    if not body:
        raise cur.error("the regular expression between the '%' signs is empty", start)
    for index in range(start, end):
        char = text[index]
        if char.isascii() and char.isalnum():
            continue
        if char in REGEX_SYMBOLS or char in REGEX_OPERATORS:
            continue
        if char.isspace():
            problem = "spaces are not allowed in a filter-pattern regex; use \\s"
        elif char in "()":
            problem = "'(' and ')' are not allowed in a filter-pattern regex (no groups)"
        elif not char.isascii():
            problem = (f"{char!r} is not allowed: filter-pattern regexes take no "
                       "multi-byte characters")
        else:
            problem = (
                f"{char!r} is not allowed in a filter-pattern regex (allowed: letters, digits, "
                "_ # = @ / ; , - and the operators ^ $ ? [ ] { } | \\ * + .)"
            )
        raise cur.error(problem, index)
    try:
        compiled = regex.compile(body)
    except regex.error as exc:
        at = start + int(getattr(exc, "pos", None) or 0)
        message = getattr(exc, "msg", None) or str(exc)
        raise cur.error(f"failed to compile the regular expression: {message}", at) from None
    return PatternRegex(body, compiled)


@dataclass(frozen=True)
class Literal:
    """A comparison value as written: ``number`` is set when it was an unquoted number."""

    text: str
    number: float | None = None
    glob: Glob | None = None
    pattern: PatternRegex | None = None

    def matches_text(self, text: str) -> bool:
        """Equality against a text: wildcard text, exact number text, or regex search."""
        if self.pattern is not None:
            return self.pattern.search(text)
        if self.glob is not None:
            return self.glob.match(text)
        return text == self.text


def read_value(cur: Cursor, *, stop: str) -> Literal:
    """A quoted string, a ``%regex%``, or a bare word ending at whitespace or ``stop``."""
    start = cur.pos
    char = cur.peek()
    if char == '"':
        text = cur.read_quoted()
        return Literal(text, glob=Glob.of(text))
    if char == "%":
        pattern = read_regex(cur)
        return Literal(cur.text[start:cur.pos], pattern=pattern)
    word = _read_word(cur, stop)
    if not word:
        raise cur.error("expected a value (a number, a word, a \"quoted text\" or a %regex%)")
    for index, letter in enumerate(word):
        if not (letter.isalnum() or letter in BARE_VALUE_EXTRA):
            raise cur.error(
                f"{letter!r} cannot appear in an unquoted value; put the value in double quotes",
                start + index,
            )
    if word.lower() == "null":
        raise cur.error("null is not a comparison value; use IS NULL", start)
    number = parse_number(word)
    if number is not None:
        return Literal(word, number=number)
    return Literal(word, glob=Glob.of(word))


def _read_word(cur: Cursor, stop: str) -> str:
    start = cur.pos
    while not cur.eof():
        char = cur.peek()
        if char.isspace() or char in stop:
            break
        if cur.startswith("&&") or cur.startswith("||"):
            break
        cur.pos += 1
    return cur.text[start:cur.pos]

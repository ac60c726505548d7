"""Tokens of the Logs-Insights-style query language.

Regular expressions (``/.../``) are read on request, because a ``/`` alone is division:
the parser asks for a regex where one may stand (after ``like``, ``=~`` and in ``parse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipetrail.logs.syntax import SyntaxProblem

LANGUAGE = "query"

IDENT = "ident"  # a bare name: field, function, keyword
FIELD = "field"  # a `backticked` name
NUMBER = "number"
STRING = "string"
DURATION = "duration"
OP = "op"
REGEX = "regex"
EOF = "eof"

OPERATORS = ("=~", "!=", "<=", ">=", "=", "<", ">", "|", ",", "(", ")", "[", "]", "+", "-", "*",
             "/", "%", "^")
NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_@")
NAME_REST = NAME_START | frozenset("0123456789.")
DIGITS = frozenset("0123456789")

# Duration units: fixed lengths in milliseconds, or calendar units (months).
FIXED_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
               "w": 604_800_000}
CALENDAR_UNITS = {"mo": 1, "q": 3, "y": 12}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Duration:
    """``5m`` is ``Duration(300000, 0)``; ``2mo`` is ``Duration(0, 2)`` (calendar months)."""

    millis: int
    months: int


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == IDENT and self.text.lower() in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.text in ops


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._ahead: list[Token] = []

    def error(self, problem: str, at: int) -> SyntaxProblem:
        return SyntaxProblem(LANGUAGE, self.text, at, problem)

    def peek(self, ahead: int = 0) -> Token:
        while len(self._ahead) <= ahead:
            self._ahead.append(self._scan())
        return self._ahead[ahead]

    def next(self) -> Token:
        token = self.peek()
        self._ahead.pop(0)
        return token

    def read_regex(self) -> Token:
        """Read ``/.../`` starting at the next token, which must be a ``/``."""
        token = self.peek()
        if not token.is_op("/"):
            raise self.error("expected a regular expression in slashes, like /ERROR/",
                             token.start)
        start = token.start
        index = start + 1
        text = self.text
        chars: list[str] = []
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text) and text[index + 1] == "/":
                chars.append("/")
                index += 2
                continue
            if char == "\\" and index + 1 < len(text):
                chars.append(text[index:index + 2])
                index += 2
                continue
            if char == "/":
                self.pos = index + 1
                self._ahead = []
                return Token(REGEX, text[start:index + 1], "".join(chars), start, index + 1)
            if char == "\n":
                break
            chars.append(char)
            index += 1
        raise self.error("this regular expression has no closing '/'", start)

    def _skip_space_and_comments(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char == "#":
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline + 1
            else:
                break

    def _scan(self) -> Token:
        self._skip_space_and_comments()
        text = self.text
        start = self.pos
        if start >= len(text):
            return Token(EOF, "", None, start, start)
        char = text[start]
        if char in NAME_START:
            end = start + 1
            while end < len(text) and text[end] in NAME_REST:
                end += 1
            self.pos = end
            word = text[start:end]
            return Token(IDENT, word, word, start, end)
        if char in DIGITS or (char == "." and start + 1 < len(text) and text[start + 1] in DIGITS):
            return self._number(start)
        if char in "\"'":
            return self._string(start, char)
        if char == "`":
            close = text.find("`", start + 1)
            if close < 0:
                raise self.error("this `backticked` field name is never closed", start)
            if close == start + 1:
                raise self.error("a `backticked` field name cannot be empty", start)
            self.pos = close + 1
            return Token(FIELD, text[start:close + 1], text[start + 1:close], start, close + 1)
        for op in OPERATORS:
            if text.startswith(op, start):
                self.pos = start + len(op)
                return Token(OP, op, op, start, self.pos)
        if char == "!":
            raise self.error("'!' is not an operator; use != or not", start)
        raise self.error(f"unexpected character {char!r}", start)

    def _number(self, start: int) -> Token:
        text = self.text
        end = start
        while end < len(text) and text[end] in DIGITS:
            end += 1
        is_float = False
        if end < len(text) and text[end] == "." and end + 1 < len(text) \
                and text[end + 1] in DIGITS:
            is_float = True
            end += 1
            while end < len(text) and text[end] in DIGITS:
                end += 1
        if end < len(text) and text[end] in "eE":
            exp = end + 1
            if exp < len(text) and text[exp] in "+-":
                exp += 1
            if exp < len(text) and text[exp] in DIGITS:
                is_float = True
                end = exp
                while end < len(text) and text[end] in DIGITS:
                    end += 1
        number_text = text[start:end]
        unit_end = end
        while unit_end < len(text) and text[unit_end].isalpha():
            unit_end += 1
        if unit_end > end:
            unit = text[end:unit_end]
            if is_float or not number_text.isdigit():
                raise self.error("a duration is a whole number and a unit, like 5m", start)
            count = int(number_text)
            if count <= 0:
                raise self.error("a duration must be greater than zero", start)
            self.pos = unit_end
            if unit in FIXED_UNITS:
                value = Duration(count * FIXED_UNITS[unit], 0)
            elif unit in CALENDAR_UNITS:
                value = Duration(0, count * CALENDAR_UNITS[unit])
            else:
                raise self.error(
                    f"unknown time unit {unit!r}; use ms, s, m, h, d, w, mo, q or y", end)
            return Token(DURATION, text[start:unit_end], value, start, unit_end)
        self.pos = end
        number: int | float = float(number_text) if is_float else int(number_text)
        return Token(NUMBER, number_text, number, start, end)

    def _string(self, start: int, quote: str) -> Token:
        text = self.text
        index = start + 1
        chars: list[str] = []
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                nxt = text[index + 1]
                chars.append(ESCAPES.get(nxt, nxt))
                index += 2
                continue
            if char == quote:
                self.pos = index + 1
                return Token(STRING, text[start:index + 1], "".join(chars), start, index + 1)
            chars.append(char)
            index += 1
        raise self.error("this string is never closed", start)

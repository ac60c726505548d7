"""Compiling a filter pattern of any kind, matching events, and reading matched values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipetrail.logs.filter_pattern.cursor import Cursor
from pipetrail.logs.filter_pattern.delimited import NAME_EXTRA, parse_delimited_pattern
from pipetrail.logs.filter_pattern.json_path import Num, Selector, parse_document, read_selector
from pipetrail.logs.filter_pattern.json_pattern import parse_json_pattern
from pipetrail.logs.filter_pattern.terms import parse_terms
from pipetrail.logs.filter_pattern.values import compile_regex

MAX_PATTERN_LENGTH = 1024

PatternKind = Literal["all", "terms", "regex", "json", "delimited"]


@dataclass
class PatternMatch:
    """What a matching event yields: CloudWatch's ``extractedValues`` and the JSON document.

    ``extracted`` maps ``$name`` (space-delimited fields, ``$1``... for positional ones) to
    the field's text; ``document`` is the event's JSON object when it is one.
    """

    message: str
    extracted: Mapping[str, str] = field(default_factory=dict)
    _document: Any = None
    _parsed: bool = False

    @property
    def document(self) -> dict[str, Any] | None:
        if not self._parsed:
            self._document = parse_document(self.message)
            self._parsed = True
        return self._document  # type: ignore[no-any-return]

    def value(self, selector: ValueSelector) -> str | float | None:
        """The value a ``$.path`` or ``$field`` selector names in this event, if any.

        JSON numbers come back as floats, JSON strings as text; anything else (missing,
        null, booleans, objects, arrays) is None.
        """
        leaf = self._leaf(selector)
        return leaf.value if isinstance(leaf, Num) else leaf

    def text(self, selector: ValueSelector) -> str | None:
        """Like :meth:`value`, but a JSON number comes back as written (``7``, ``1.50``)."""
        leaf = self._leaf(selector)
        return leaf.text if isinstance(leaf, Num) else leaf

    def _leaf(self, selector: ValueSelector) -> Num | str | None:
        if selector.json is None:
            return self.extracted.get(selector.text)
        document = self.document
        if document is None:
            return None
        found = selector.json.resolve(document)
        if len(found) != 1:
            return None
        value = found[0]
        return value if isinstance(value, (Num, str)) else None


class FilterPattern:
    """A compiled filter pattern. ``match`` returns a :class:`PatternMatch` or None."""

    def __init__(self, text: str, kind: PatternKind,
                 matcher: Callable[[str], PatternMatch | None],
                 test: Callable[[str], bool] | None = None) -> None:
        self.text = text
        self.kind = kind
        self._matcher = matcher
        self._test = test

    def match(self, message: str) -> PatternMatch | None:
        return self._matcher(message)

    def matches(self, message: str) -> bool:
        if self._test is not None:
            return self._test(message)
        return self._matcher(message) is not None

    def __repr__(self) -> str:
        return f"FilterPattern({self.text!r}, kind={self.kind!r})"


def compile_pattern(text: str) -> FilterPattern:
    """Compile CloudWatch Logs filter-pattern text; bad text raises ``SyntaxProblem``."""
    if len(text) > MAX_PATTERN_LENGTH:
        raise Cursor(text).error(
            f"a filter pattern is at most {MAX_PATTERN_LENGTH} characters", MAX_PATTERN_LENGTH)
    start = 0
    end = len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return FilterPattern(text, "all", lambda message: PatternMatch(message),
                             lambda message: True)
    first, last = text[start], text[end - 1]
    if first == "{":
        if last != "}" or end - start < 2:
            raise Cursor(text).error("a JSON pattern must end with '}'", end)
        predicate = parse_json_pattern(text, start + 1, end - 1)

        def match_json(message: str) -> PatternMatch | None:
            document = parse_document(message)
            if document is None or not predicate(document):
                return None
            return PatternMatch(message, _document=document, _parsed=True)

        def test_json(message: str) -> bool:
            document = parse_document(message)
            return document is not None and predicate(document)
        return FilterPattern(text, "json", match_json, test_json)
    if first == "[":
        if last != "]" or end - start < 2:
            raise Cursor(text).error("a space-delimited pattern must end with ']'", end)
        pattern = parse_delimited_pattern(text, start + 1, end - 1)

        def match_delimited(message: str) -> PatternMatch | None:
            extracted = pattern.extract(message)
            return None if extracted is None else PatternMatch(message, extracted)
        return FilterPattern(text, "delimited", match_delimited)
    if first == "%":
        if last != "%" or end - start < 2:
            raise Cursor(text).error("a regular expression pattern must end with '%'", end)
        regex = compile_regex(text, start + 1, end - 1)
        return FilterPattern(
            text, "regex",
            lambda message: PatternMatch(message) if regex.search(message) else None,
            regex.search)
    terms = parse_terms(text)
    return FilterPattern(
        text, "terms", lambda message: PatternMatch(message) if terms(message) else None,
        terms)


@dataclass(frozen=True)
class ValueSelector:
    """``$.path`` into a JSON event, or ``$name`` of a space-delimited field."""

    text: str
    json: Selector | None = None


def parse_value_selector(text: str) -> ValueSelector:
    """Parse a metric value or dimension selector (no wildcards)."""
    cur = Cursor(text)
    if not text.startswith("$"):
        raise cur.error("a selector starts with '$': $.path for JSON, $name for a field", 0)
    if text.startswith(("$.", "$[")):
        selector = read_selector(cur, max_wildcards=0)
        if not cur.eof():
            raise cur.error(f"{cur.peek()!r} cannot appear in a selector")
        return ValueSelector(text, selector)
    name = text[1:]
    if not name:
        raise cur.error("expected a field name after '$'", 1)
    for index, char in enumerate(name, start=1):
        if not (char.isalnum() or char in NAME_EXTRA):
            raise cur.error(f"{char!r} cannot appear in a field name", index)
    return ValueSelector(text)

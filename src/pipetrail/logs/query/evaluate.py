"""Turning expression nodes into functions of a row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import regex

from pipetrail.logs.bounded_regex import BoundedRegex
from pipetrail.logs.query import ast
from pipetrail.logs.query.functions import FUNCTIONS
from pipetrail.logs.query.rows import Row
from pipetrail.logs.query.values import arithmetic, as_number, as_text, compare, truthy

Evaluator = Callable[[Row], Any]


class Compiler:
    """Compiles expressions; ``aggregate_slots`` maps aggregate calls to row fields."""

    def __init__(self, regex_timeout: float,
                 aggregate_slots: Mapping[int, str] | None = None) -> None:
        self.regex_timeout = regex_timeout
        self.aggregate_slots = aggregate_slots or {}

    def compile(self, node: ast.Node) -> Evaluator:
        method = getattr(self, f"_{type(node).__name__}")
        result: Evaluator = method(node)
        return result

    def _FieldRef(self, node: ast.FieldRef) -> Evaluator:
        name = node.name
        return lambda row: row.get(name)

    def _Literal(self, node: ast.Literal) -> Evaluator:
        value = node.value
        return lambda row: value

    def _DurationLit(self, node: ast.DurationLit) -> Evaluator:
        duration = node.duration
        return lambda row: duration

    def _RegexLit(self, node: ast.RegexLit) -> Evaluator:
        source = node.source
        return lambda row: source

    def _Star(self, node: ast.Star) -> Evaluator:
        return lambda row: None

    def _Unary(self, node: ast.Unary) -> Evaluator:
        operand = self.compile(node.operand)
        if node.op == "not":
            return lambda row: not truthy(operand(row))

        def negate(row: Row) -> Any:
            number = as_number(operand(row))
            return None if number is None else -number
        return negate

    def _Binary(self, node: ast.Binary) -> Evaluator:
        left = self.compile(node.left)
        right = self.compile(node.right)
        op = node.op
        if op == "and":
            return lambda row: truthy(left(row)) and truthy(right(row))
        if op == "or":
            return lambda row: truthy(left(row)) or truthy(right(row))
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return lambda row: compare(op, left(row), right(row))
        return lambda row: arithmetic(op, left(row), right(row))

    def _Like(self, node: ast.Like) -> Evaluator:
        operand = self.compile(node.operand)
        negated = node.negated
        pattern = node.pattern
        if isinstance(pattern, ast.RegexLit):
            search = self._searcher(pattern.compiled, pattern.source)

            def like_regex(row: Row) -> bool:
                text = as_text(operand(row))
                if text is None:
                    return False
                return search(text) is not negated
            return like_regex
        part = str(pattern.value) if isinstance(pattern, ast.Literal) else ""

        def like_text(row: Row) -> bool:
            text = as_text(operand(row))
            if text is None:
                return False
            return (part in text) is not negated
        return like_text

    def _searcher(self, pattern: regex.Pattern[str], source: str) -> Callable[[str], bool]:
        return BoundedRegex(source, pattern, self.regex_timeout, f"/{source}/").search

    def _InList(self, node: ast.InList) -> Evaluator:
        operand = self.compile(node.operand)
        items = [self.compile(item) for item in node.items]
        negated = node.negated

        def member(row: Row) -> bool:
            value = operand(row)
            if value is None:
                return False
            found = any(compare("=", value, item(row)) for item in items)
            return found is not negated
        return member

    def _Call(self, node: ast.Call) -> Evaluator:
        impl = FUNCTIONS[node.name].impl
        args = [self.compile(arg) for arg in node.args]
        return lambda row: impl([arg(row) for arg in args])

    def _AggCall(self, node: ast.AggCall) -> Evaluator:
        slot = self.aggregate_slots[id(node)]
        return lambda row: row.get(slot)

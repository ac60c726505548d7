"""The parsed form of a query: expressions and commands, each with its place in the text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex

from pipetrail.logs.query.lexer import Duration


@dataclass(frozen=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True)
class FieldRef(Node):
    name: str


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class DurationLit(Node):
    duration: Duration


@dataclass(frozen=True)
class RegexLit(Node):
    source: str
    compiled: regex.Pattern[str]


@dataclass(frozen=True)
class Star(Node):
    """``*`` in ``count(*)``."""


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / % ^ and or = != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class Like(Node):
    operand: Node
    pattern: Node  # RegexLit, or Literal holding a substring
    negated: bool


@dataclass(frozen=True)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class Call(Node):
    name: str  # lower-cased
    args: tuple[Node, ...]


@dataclass(frozen=True)
class AggCall(Node):
    name: str  # lower-cased
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Projection:
    """An expression and the column name it produces (its alias, or its text)."""

    expr: Node
    name: str


@dataclass(frozen=True)
class SortKey:
    expr: Node
    descending: bool


@dataclass(frozen=True)
class Command:
    start: int
    end: int


@dataclass(frozen=True)
class FieldsCmd(Command):
    items: tuple[Projection, ...]


@dataclass(frozen=True)
class DisplayCmd(Command):
    names: tuple[str, ...]


@dataclass(frozen=True)
class FilterCmd(Command):
    expr: Node


@dataclass(frozen=True)
class ParseCmd(Command):
    """``parse``: ``names[i]`` takes the text of group number ``groups[i]``."""

    source: Node
    pattern: regex.Pattern[str]
    names: tuple[str, ...]
    groups: tuple[int, ...]


@dataclass(frozen=True)
class StatsCmd(Command):
    aggregates: tuple[Projection, ...]
    by: tuple[Projection, ...]


@dataclass(frozen=True)
class SortCmd(Command):
    keys: tuple[SortKey, ...]


@dataclass(frozen=True)
class LimitCmd(Command):
    count: int


@dataclass(frozen=True)
class DedupCmd(Command):
    names: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    text: str
    commands: tuple[Command, ...]

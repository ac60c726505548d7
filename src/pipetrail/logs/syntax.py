"""Errors that point at the place in a pattern or query where it stops making sense."""

from __future__ import annotations

from pipetrail.model.errors import ValidationError

_CONTEXT = 60


class SyntaxProblem(ValidationError):
    """Bad pattern or query text; ``offset`` is the 0-based character offset of the problem.

    The message names the language, the problem, the line and column, and shows the
    offending line with a caret under the problem.
    """

    def __init__(self, language: str, source: str, offset: int, problem: str) -> None:
        offset = max(0, min(offset, len(source)))
        self.language = language
        self.source = source
        self.offset = offset
        self.problem = problem
        super().__init__(_render(language, source, offset, problem))


class QueryLimitError(ValidationError):
    """A query or pattern ran into one of the documented limits (rows, groups, time)."""


def line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``source``."""
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _render(language: str, source: str, offset: int, problem: str) -> str:
    line, column = line_and_column(source, offset)
    where = f"column {column}" if "\n" not in source else f"line {line}, column {column}"
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    text = source[start:] if end < 0 else source[start:end]
    col = offset - start
    lo = max(0, col - _CONTEXT)
    hi = min(len(text), col + _CONTEXT)
    prefix = "..." if lo > 0 else ""
    suffix = "..." if hi < len(text) else ""
    shown = prefix + text[lo:hi] + suffix
    caret = " " * (len(prefix) + col - lo) + "^"
    shown = shown.replace("\t", " ")
    return f"invalid {language} at {where}: {problem}\n  {shown}\n  {caret}"
